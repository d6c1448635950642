import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import {
  AuthenticationError,
  type LLMError,
  OverloadedError,
  RateLimitedError,
  ServerError
} from "../../src/errors/LLMError.js"
import { makeLLMClient } from "../../src/providers/ProviderSupport.js"
import {
  defaultRetryPolicy,
  type RetryPolicy,
  retrySchedule,
  retryStream,
  withRetry
} from "../../src/providers/Retry.js"
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
      const fiber = yield* Effect.forkChild(Stream.runCollect(retryStream(s.attempt, policy)))
      yield* TestClock.adjust(Duration.seconds(1))
      expect(s.calls()).toBe(2)
      yield* TestClock.adjust(Duration.seconds(2))
      const parts = yield* Fiber.join(fiber)
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
      const fiber = yield* Effect.forkChild(Stream.runCollect(retryStream(s.attempt, policy)))
      yield* TestClock.adjust(Duration.seconds(6))
      expect(s.calls()).toBe(1)
      yield* TestClock.adjust(Duration.seconds(1))
      const parts = yield* Fiber.join(fiber)
      expect(parts[0]).toMatchObject({ type: "retry", delayMs: 7000, reason: "RateLimitedError" })
    })
  )

  it.effect("gives up after maxRetries with the last error", () =>
    Effect.gen(function* () {
      const s = scripted([{ parts: [], error: new ServerError({ provider: "p", message: "500", status: 500 }) }])
      const fiber = yield* Effect.forkChild(Stream.runCollect(retryStream(s.attempt, policy)))
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
      const fiber = yield* Effect.forkChild(Stream.runCollect(retryStream(s.attempt, policy)))
      yield* TestClock.adjust(Duration.seconds(1))
      expect((yield* Fiber.join(fiber)).map((p) => p.type)).toEqual(["metadata", "retry", "text-delta"])
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
      const fiber = yield* Effect.forkChild(client.generate({ messages: [] }))
      yield* TestClock.adjust(Duration.seconds(1))
      const response = yield* Fiber.join(fiber)
      expect(response.message.content).toEqual([{ type: "text", text: "ab" }])
      expect(response.stopReason).toBe("end_turn")
    })
  )
})

/** The delays (ms) the schedule of `policy` gives for `errors` in turn; `undefined` where it stops. */
const delays = (policy: RetryPolicy, errors: ReadonlyArray<LLMError>) =>
  Effect.gen(function* () {
    const step = yield* Schedule.toStep(retrySchedule(policy))
    const out: Array<number | undefined> = []
    for (const error of errors) {
      const result = yield* Effect.result(step(0, error))
      out.push(result._tag === "Success" ? Duration.toMillis(result.success[1]) : undefined)
      if (result._tag === "Failure") break
    }
    return out
  })

describe("retrySchedule", () => {
  it.effect("doubles from baseDelay, caps each wait at maxDelay and stops after maxRetries", () =>
    Effect.gen(function* () {
      const capped: RetryPolicy = { ...policy, maxRetries: 5, maxDelay: "5 seconds" }
      expect(
        yield* delays(
          capped,
          Array.from({ length: 7 }, () => overloaded)
        )
      ).toEqual([1000, 2000, 4000, 5000, 5000, undefined])
    })
  )

  it.effect("maxRetries 0 never retries", () =>
    Effect.gen(function* () {
      expect(yield* delays({ ...policy, maxRetries: 0 }, [overloaded])).toEqual([undefined])
      const s = scripted([{ parts: [], error: overloaded }, { parts: [text("ok")] }])
      const error = yield* Effect.flip(Stream.runCollect(retryStream(s.attempt, { ...policy, maxRetries: 0 })))
      expect(error).toBe(overloaded)
      expect(s.calls()).toBe(1)
    })
  )

  it.effect("jitter keeps each wait within 0.8-1.2x of the backoff", () =>
    Effect.gen(function* () {
      const jittered = { ...policy, jitter: true, maxRetries: 3 }
      const firsts = new Set<number | undefined>()
      for (let run = 0; run < 20; run++) {
        const [a, b, c] = yield* delays(jittered, [overloaded, overloaded, overloaded])
        firsts.add(a)
        expect(a).toBeGreaterThanOrEqual(800)
        expect(a).toBeLessThanOrEqual(1200)
        expect(b).toBeGreaterThanOrEqual(1600)
        expect(b).toBeLessThanOrEqual(2400)
        expect(c).toBeGreaterThanOrEqual(3200)
        expect(c).toBeLessThanOrEqual(4800)
      }
      // randomized: twenty runs do not all wait the same
      expect(firsts.size).toBeGreaterThan(1)
    })
  )

  it.effect("a longer retry-after wins, one beyond maxRetryAfter or a non-retryable error stops", () =>
    Effect.gen(function* () {
      const limited = (ms: number) => new RateLimitedError({ provider: "p", message: "429", retryAfterMs: ms })
      expect(yield* delays(policy, [limited(7000), limited(10), overloaded])).toEqual([7000, 2000, 4000])
      expect(yield* delays(policy, [limited(60_001)])).toEqual([undefined])
      expect(yield* delays(policy, [new AuthenticationError({ provider: "p", message: "bad key" })])).toEqual([
        undefined
      ])
    })
  )

  it("the default policy: 3 retries from 500 ms, jittered, capped at 30 s, retry-after up to 120 s", () => {
    expect(defaultRetryPolicy).toEqual({
      maxRetries: 3,
      baseDelay: "500 millis",
      maxDelay: "30 seconds",
      jitter: true,
      maxRetryAfter: "120 seconds"
    })
  })

  it.effect("the wait runs from its announcement: a consumer slow to take the retry part does not lengthen it", () =>
    Effect.gen(function* () {
      const s = scripted([{ parts: [], error: overloaded }, { parts: [text("ok")] }])
      const seen: Array<StreamPart> = []
      const fiber = yield* Effect.forkChild(
        Stream.runForEach(retryStream(s.attempt, policy), (part) =>
          Effect.andThen(
            Effect.sync(() => seen.push(part)),
            part.type === "retry" ? Effect.sleep("600 millis") : Effect.void
          )
        )
      )
      yield* TestClock.adjust("600 millis")
      expect(s.calls()).toBe(1)
      yield* TestClock.adjust("400 millis")
      yield* Fiber.join(fiber)
      expect(s.calls()).toBe(2)
      expect(seen.map((p) => p.type)).toEqual(["retry", "text-delta"])
    })
  )

  it.effect("interrupting during a wait makes no further attempt", () =>
    Effect.gen(function* () {
      const s = scripted([{ parts: [], error: overloaded }, { parts: [text("ok")] }])
      const fiber = yield* Effect.forkChild(Stream.runCollect(retryStream(s.attempt, policy)))
      yield* TestClock.adjust("500 millis")
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("10 seconds")
      expect(s.calls()).toBe(1)
    })
  )
})
