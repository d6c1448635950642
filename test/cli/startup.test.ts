/** The end of start-up: `sage -p` switches to the compact heap once, when the first model response arrives. */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { startupWatcher } from "../../src/cli/startup.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import * as WireServer from "../support/WireServer.js"
import { answer, anthropicEnv, callTools, runInProcess, tempDir } from "./support.js"

const envelope = { v: 1, sessionId: "s", agentId: "main", timestamp: 0 } as const

describe("startupWatcher", () => {
  it("fires once, at the first event of a model response", () => {
    let calls = 0
    const watch = startupWatcher(() => calls++)
    const started: AgentEvent = { ...envelope, type: "turn.started", turnId: "t1", prompt: "hi" }
    watch(started)
    expect(calls).toBe(0)
    const delta: AgentEvent = { ...envelope, type: "text.delta", turnId: "t1", text: "a" }
    watch(delta)
    watch(delta)
    expect(calls).toBe(1)
  })

  it("does nothing without a callback", () => {
    const watch = startupWatcher(undefined)
    expect(() => watch({ ...envelope, type: "text.delta", turnId: "t1", text: "a" })).not.toThrow()
  })
})

describe("sage -p and the end of start-up", () => {
  it.live("calls compactHeap once, after the first request reached the model", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(callTools([{ id: "t1", name: "LS", input: { path: "." } }]), answer("done"))
      const seen: Array<number> = []
      const run = yield* runInProcess(["-p", "hi", "--cwd", cwd], anthropicEnv(wire.url, cwd), {
        compactHeap: () => seen.push(wire.requests.length)
      })
      expect(run.code).toBe(0)
      expect(wire.requests).toHaveLength(2)
      expect(seen).toEqual([1])
    })
  )
})
