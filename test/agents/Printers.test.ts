import { describe, expect, it } from "@effect/vitest"
import { makeScreen } from "../../src/cli/repl/Screen.js"
import { makeTurnView } from "../../src/cli/repl/TurnView.js"
import { makeTextPrinter } from "../../src/cli/TextPrinter.js"
import { type AgentEvent, decodeAgentEvent } from "../../src/streams/AgentEvent.js"
import * as Effect from "effect/Effect"

const sub = { v: 1, sessionId: "s", agentId: "main/task-1", parentAgentId: "main", timestamp: 0, turnId: "u" }
const main = { v: 1, sessionId: "s", agentId: "main", timestamp: 0, turnId: "t" }
const decode = (raw: unknown): AgentEvent => {
  const event = Effect.runSync(decodeAgentEvent(raw))
  if (event.type === "unknown") throw new Error("unknown event")
  return event
}
const call = { id: "c1", name: "Grep", input: { pattern: "TODO" } }
const events = [
  decode({ ...sub, type: "turn.started", prompt: "find" }),
  decode({ ...sub, type: "text.delta", text: "thinking aloud" }),
  decode({ ...sub, type: "tool_call.completed", call }),
  decode({ ...sub, type: "tool.started", call }),
  decode({
    ...sub,
    type: "tool.completed",
    result: {
      toolCallId: "c1",
      toolName: "Grep",
      status: "success",
      output: [{ type: "text", text: "a\nb\n" }],
      durationMs: 3
    }
  }),
  decode({ ...sub, type: "turn.ended", stopReason: "end_turn", steps: 2, usage: {}, text: "found" })
]

describe("sub-agent lines in the CLI", () => {
  it("text mode: tagged and indented on stderr; its text and its end never reach stdout", () => {
    const print = makeTextPrinter()
    const lines = events.flatMap((e) => print(e))
    expect(lines.filter((l) => l.to === "stdout")).toEqual([])
    expect(lines.map((l) => l.text).join("")).toBe(
      "  [main/task-1] > #1 Grep(TODO)\n  [main/task-1]  #1 Grep: 2 lines (3 ms)\n  [main/task-1] done: 2 steps (end_turn)\n"
    )
  })

  it("interactive mode: tagged status lines; a sub-agent's end is not the turn's end", () => {
    let out = ""
    const screen = makeScreen(
      {
        write: (s: string) => {
          out += s
        },
        columns: () => 100,
        rows: () => 24
      },
      { ansi: false, color: false }
    )
    const view = makeTurnView(screen, { showReasoning: false })
    for (const e of events) view.onEvent(e)
    expect(out).not.toContain("thinking aloud")
    expect(out).toContain("  [main/task-1] - #1 Grep(TODO) running…")
    expect(out).toContain("  [main/task-1] + #1 Grep(TODO) 2 lines · 3 ms")
    expect(view.sawEnd()).toBe(false)
    view.onEvent(decode({ ...main, type: "turn.ended", stopReason: "end_turn", steps: 1, usage: {}, text: "" }))
    expect(view.sawEnd()).toBe(true)
  })
})
