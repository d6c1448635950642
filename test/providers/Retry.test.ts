import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import {
  AuthenticationError,
  type LLMError,
  OverloadedError,
  RateLimitedError,
  ServerError
} from "../../src/errors/LLMError.js"
import { makeLLMClient } from "../../src/providers/ProviderSupport.js"
import { type RetryPolicy, retryStream, withRetry } from "../../src/providers/Retry.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"

const policy: RetryPolicy = {
  maxRetries: 3,
  baseDelay: "1 second",
  maxDelay: "30 seconds",
  jitter: false,
  maxRetryAfter: "60 seconds"
}

/** Attempts scripted in order: each is the parts to emit, then optionally an error. */
const scripted = (attempts: ReadonlyArray<{ parts: ReadonlyArray<StreamPart>; error?: LLMError }>) => {
  let calls = 0
  const attempt = () => {
    const script = attempts[Math.min(calls, attempts.length - 1)]!
    calls++
    const parts = Stream.fromIterable(script.parts)
    return script.error === undefined ? parts : Stream.concat(parts, Stream.fail(script.error))
  }
  return { attempt, calls: () => calls }
}

const text = (t: string): StreamPart => ({ type: "text-delta", text: t })
const overloaded = new OverloadedError({ provider: "p", message: "overloaded" })

describe("retryStream", () => {
  it.effect("retries a retryable failure with exponential backoff and announces each wait", () =>
    Effect.gen(function* () {
      const s = scripted([{ parts: [], error: overloaded }, { parts: [], error: overloaded }, { parts: [text("ok")] }])
      const fiber = yield* Effect.fork(Stream.runCollect(retryStream(s.attempt, policy)))
      yield* TestClock.adjust(Duration.seconds(1))
      expect(s.calls()).toBe(2)
      yield* TestClock.adjust(Duration.seconds(2))
      const parts = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      expect(s.calls()).toBe(3)
      expect(parts).toEqual([
        { type: "retry", attempt: 1, delayMs: 1000, reason: "OverloadedError", message: "overloaded" },
        { type: "retry", attempt: 2, delayMs: 2000, reason: "OverloadedError", message: "overloaded" },
        text("ok")
      ])
    })
  )

  it.effect("honours retry-after when it is longer than the backoff", () =>
    Effect.gen(function* () {
      const limited = new RateLimitedError({ provider: "p", message: "429", status: 429, retryAfterMs: 7000 })
      const s = scripted([{ parts: [], error: limited }, { parts: [text("ok")] }])
      const fiber = yield* Effect.fork(Stream.runCollect(retryStream(s.attempt, policy)))
      yield* TestClock.adjust(Duration.seconds(6))
      expect(s.calls()).toBe(1)
      yield* TestClock.adjust(Duration.seconds(1))
      const parts = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      expect(parts[0]).toMatchObject({ type: "retry", delayMs: 7000, reason: "RateLimitedError" })
    })
  )

  it.effect("gives up after maxRetries with the last error", () =>
    Effect.gen(function* () {
      const s = scripted([{ parts: [], error: new ServerError({ provider: "p", message: "500", status: 500 }) }])
      const fiber = yield* Effect.fork(Stream.runCollect(retryStream(s.attempt, policy)))
      yield* TestClock.adjust(Duration.minutes(1))
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag).toBe("ServerError")
      expect(s.calls()).toBe(4)
    })
  )

  it.effect("never retries after output was emitted, and never retries non-retryable errors", () =>
    Effect.gen(function* () {
      const afterText = scripted([{ parts: [text("partial")], error: overloaded }, { parts: [text("dup")] }])
      const e1 = yield* Effect.flip(Stream.runCollect(retryStream(afterText.attempt, policy)))
      expect(e1._tag).toBe("OverloadedError")
      expect(afterText.calls()).toBe(1)
      const auth = scripted([{ parts: [], error: new AuthenticationError({ provider: "p", message: "bad key" }) }])
      const e2 = yield* Effect.flip(Stream.runCollect(retryStream(auth.attempt, policy)))
      expect(e2._tag).toBe("AuthenticationError")
      expect(auth.calls()).toBe(1)
    })
  )

  it.effect("retries when only metadata was emitted, and fails at once on a retry-after beyond the limit", () =>
    Effect.gen(function* () {
      const meta: StreamPart = { type: "metadata", responseId: "r1" }
      const s = scripted([{ parts: [meta], error: overloaded }, { parts: [text("ok")] }])
      const fiber = yield* Effect.fork(Stream.runCollect(retryStream(s.attempt, policy)))
      yield* TestClock.adjust(Duration.seconds(1))
      expect(Chunk.toReadonlyArray(yield* Fiber.join(fiber)).map((p) => p.type)).toEqual([
        "metadata",
        "retry",
        "text-delta"
      ])
      const long = new RateLimitedError({ provider: "p", message: "429", retryAfterMs: 3_600_000 })
      const l = scripted([{ parts: [], error: long }])
      expect((yield* Effect.flip(Stream.runCollect(retryStream(l.attempt, policy))))._tag).toBe("RateLimitedError")
      expect(l.calls()).toBe(1)
    })
  )

  it.effect("withRetry wraps a client's stream and generate", () =>
    Effect.gen(function* () {
      const s = scripted([{ parts: [], error: overloaded }, { parts: [text("a"), text("b")] }])
      const client = withRetry(
        makeLLMClient({
          provider: "p",
          model: "m",
          capabilities: { streaming: true, tools: true, vision: false, thinking: false, contextWindow: 1000 },
          stream: () => s.attempt()
        }),
        policy
      )
      const fiber = yield* Effect.fork(client.generate({ messages: [] }))
      yield* TestClock.adjust(Duration.seconds(1))
      const response = yield* Fiber.join(fiber)
      expect(response.message.content).toEqual([{ type: "text", text: "ab" }])
      expect(response.stopReason).toBe("end_turn")
    })
  )
})
