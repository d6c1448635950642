import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as EventBusLive from "../../src/layers/EventBusLive.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"

const delta = (i: number): AgentEvent => ({
  type: "text.delta",
  v: 1,
  sessionId: "s",
  agentId: "main",
  timestamp: i,
  turnId: "t",
  text: String(i)
})

describe("EventBus", () => {
  it.effect("delivers every event to every subscriber", () =>
    Effect.gen(function* () {
      const bus = yield* EventBusLive.make(16)
      const a = yield* bus.subscribe
      const b = yield* bus.subscribe
      const fa = yield* Effect.forkChild(Stream.runCollect(Stream.take(a, 3)))
      const fb = yield* Effect.forkChild(Stream.runCollect(Stream.take(b, 3)))
      for (let i = 0; i < 3; i++) yield* bus.publish(delta(i))
      expect([...(yield* Fiber.join(fa))].map((e) => e.timestamp)).toEqual([0, 1, 2])
      expect([...(yield* Fiber.join(fb))].map((e) => e.timestamp)).toEqual([0, 1, 2])
    })
  )

  it.effect("a subscriber that never reads does not stall publishing; it keeps the newest events", () =>
    Effect.gen(function* () {
      const bus = yield* EventBusLive.make(4)
      const slow = yield* bus.subscribe
      for (let i = 0; i < 1000; i++) yield* bus.publish(delta(i))
      const kept = yield* Stream.runCollect(Stream.take(slow, 4))
      expect([...kept].map((e) => e.timestamp)).toEqual([996, 997, 998, 999])
    })
  )
})
