/** The CLI's text mode shows the hooks that blocked, failed or timed out, on one line each; successes stay quiet. */
import { describe, expect, it } from "@effect/vitest"
import { makeTextPrinter } from "../../src/cli/TextPrinter.js"
import { type AgentEvent, agentEventToJson, decodeAgentEventJson } from "../../src/streams/AgentEvent.js"
import * as Effect from "effect/Effect"

const hook = (outcome: "success" | "blocked" | "error" | "timeout", message?: string): AgentEvent => ({
  v: 1,
  sessionId: "s",
  agentId: "main",
  timestamp: 0,
  type: "hook",
  turnId: "t",
  event: "PreToolUse",
  hook: "./check.sh --strict",
  outcome,
  durationMs: 12,
  ...(outcome === "blocked" ? { exitCode: 2 } : {}),
  ...(message === undefined ? {} : { message })
})

describe("hook events", () => {
  it("text mode: one stderr line for a blocked, failed or timed-out hook; nothing for a success", () => {
    const print = makeTextPrinter()
    expect(print(hook("success"))).toEqual([])
    expect(print(hook("blocked", "no rm\nsecond line"))).toEqual([
      { to: "stderr", text: "\nsage: PreToolUse hook (./check.sh --strict) blocked: no rm\n" }
    ])
    expect(print(hook("timeout", "the hook did not finish within 1 s and was killed"))[0]?.text).toContain(
      "timed out: the hook did not finish"
    )
    expect(print(hook("error", "\u001b[31mboom\u001b[0m"))[0]?.text).toBe(
      "\nsage: PreToolUse hook (./check.sh --strict) failed: boom\n"
    )
  })

  it.effect("the event round-trips through its JSON (stream-json, session logs)", () =>
    Effect.gen(function* () {
      const event = hook("blocked", "why")
      expect(yield* decodeAgentEventJson(agentEventToJson(event))).toEqual(event)
    })
  )
})
