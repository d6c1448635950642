/**
 * Retries through the real provider (SDK + HTTP) with TestClock: HTTP I/O runs in real time, backoff sleeps on the
 * TestClock. Each step waits for the provider's `retry` part (announced when the wait starts; the wait runs from
 * then), then advances the clock.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as Anthropic from "../../src/providers/anthropic/AnthropicProvider.js"
import type { RetryPolicy } from "../../src/providers/Retry.js"
import { LLMClient, type LLMRequest } from "../../src/services/LLMClient.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"
import { anthropicErrorBody, anthropicEvents } from "../support/anthropicSse.js"
import * as WireServer from "../support/WireServer.js"

const policy: RetryPolicy = {
  maxRetries: 3,
  baseDelay: "1 second",
  maxDelay: "30 seconds",
  jitter: false,
  maxRetryAfter: "60 seconds"
}
const hello: LLMRequest = { messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] }
const ok = anthropicEvents({ steps: [{ text: ["recovered"] }] })

/** Real-time pause, independent of the TestClock. */
const realPause = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 10)))

type RetryPart = Extract<StreamPart, { readonly type: "retry" }>

/**
 * A retried client against `wire`, consumed in a fiber. `nextRetry` waits (in real time: the HTTP I/O is real)
 * until the provider announces its next backoff wait, and returns that `retry` part.
 */
const start = (wire: WireServer.WireServer) =>
  Effect.gen(function* () {
    const client = yield* Effect.provide(
      LLMClient,
      Anthropic.layer({ apiKey: Redacted.make("k"), baseURL: wire.url, model: "claude-test", retry: policy })
    )
    const parts: Array<StreamPart> = []
    const retryParts = yield* Queue.unbounded<RetryPart>()
    const fiber = yield* Effect.forkChild(
      client.stream(hello).pipe(
        Stream.runForEach((part) =>
          Effect.andThen(
            Effect.sync(() => parts.push(part)),
            part.type === "retry" ? Queue.offer(retryParts, part) : Effect.void
          )
        ),
        Effect.as(parts)
      )
    )
    const nextRetry = Queue.take(retryParts).pipe(
      Effect.timeoutOrElse({
        duration: "20 seconds",
        orElse: () => Effect.die(new Error("timed out waiting for a retry announcement"))
      }),
      TestClock.withLive
    )
    return { fiber, parts, nextRetry }
  })

const retries = (parts: ReadonlyArray<StreamPart>) => parts.filter((p) => p.type === "retry")
const text = (parts: ReadonlyArray<StreamPart>) =>
  parts.flatMap((p) => (p.type === "text-delta" ? [p.text] : [])).join("")

describe("AnthropicProvider retries (TestClock)", () => {
  it.effect("429 with retry-after: 2 waits 2 s, then succeeds", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(
        {
          kind: "error",
          status: 429,
          body: anthropicErrorBody("rate_limit_error", "slow down"),
          headers: { "retry-after": "2" }
        },
        { kind: "stream", chunks: ok }
      )
      const { fiber, nextRetry } = yield* start(wire)
      expect((yield* nextRetry).delayMs).toBe(2000)
      expect(wire.requests).toHaveLength(1)
      yield* TestClock.adjust("1999 millis")
      // the server asked for 2 s: one ms early, the wait is still pending and no second request was made
      yield* realPause
      expect(fiber.pollUnsafe()).toBeUndefined()
      expect(wire.requests).toHaveLength(1)
      yield* TestClock.adjust("1 millis")
      const parts = yield* Fiber.join(fiber)
      expect(wire.requests).toHaveLength(2)
      expect(retries(parts)).toEqual([
        {
          type: "retry",
          attempt: 1,
          delayMs: 2000,
          reason: "RateLimitedError",
          message: expect.stringContaining("slow down")
        }
      ])
      expect(text(parts)).toBe("recovered")
    })
  )

  it.effect("529 overloaded, then 500, then success: exponential backoff 1 s, 2 s", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(
        { kind: "error", status: 529, body: anthropicErrorBody("overloaded_error", "Overloaded") },
        { kind: "error", status: 500, body: anthropicErrorBody("api_error", "Internal server error") },
        { kind: "stream", chunks: ok }
      )
      const { fiber, nextRetry } = yield* start(wire)
      yield* nextRetry
      yield* TestClock.adjust("1 second")
      yield* nextRetry
      expect(wire.requests).toHaveLength(2)
      yield* TestClock.adjust("2 seconds")
      const parts = yield* Fiber.join(fiber)
      expect(wire.requests).toHaveLength(3)
      expect(retries(parts).map((p) => p.type === "retry" && [p.attempt, p.delayMs, p.reason])).toEqual([
        [1, 1000, "OverloadedError"],
        [2, 2000, "ServerError"]
      ])
      expect(text(parts)).toBe("recovered")
    })
  )

  it.effect("an overloaded_error inside a 200 stream before any content is retried", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(
        {
          kind: "stream",
          chunks: anthropicEvents({
            steps: [{ error: { type: "overloaded_error", message: "Overloaded" } }],
            noEnd: true
          })
        },
        { kind: "file", path: WireServer.fixture("anthropic/error-overloaded-docs-example.sse") },
        { kind: "stream", chunks: ok }
      )
      const { fiber, nextRetry } = yield* start(wire)
      yield* nextRetry
      yield* TestClock.adjust("1 second")
      yield* nextRetry
      expect(wire.requests).toHaveLength(2)
      yield* TestClock.adjust("2 seconds")
      const parts = yield* Fiber.join(fiber)
      expect(wire.requests).toHaveLength(3)
      expect(retries(parts).map((p) => p.type === "retry" && p.reason)).toEqual(["OverloadedError", "OverloadedError"])
      // metadata of the failed attempt came through but no output: the retry is safe
      expect(parts.filter((p) => p.type === "text-delta")).toEqual([{ type: "text-delta", text: "recovered" }])
    })
  )

  it.effect("a failure after content has streamed is not retried", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(
        {
          kind: "stream",
          chunks: anthropicEvents({
            steps: [{ text: ["half an ans"] }, { error: { type: "overloaded_error", message: "Overloaded" } }],
            noEnd: true
          })
        },
        { kind: "stream", chunks: ok }
      )
      const { fiber, parts } = yield* start(wire)
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag).toBe("OverloadedError")
      expect(wire.requests).toHaveLength(1)
      expect(text(parts)).toBe("half an ans")
      expect(retries(parts)).toEqual([])
    })
  )

  it.effect("a non-retryable error is not retried", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(
        { kind: "error", status: 401, body: anthropicErrorBody("authentication_error", "invalid x-api-key") },
        { kind: "stream", chunks: ok }
      )
      const { fiber, parts } = yield* start(wire)
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag).toBe("AuthenticationError")
      expect(wire.requests).toHaveLength(1)
      expect(retries(parts)).toEqual([])
    })
  )

  it.effect("gives up after maxRetries with the last error", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.setHandler(() => ({
        kind: "error",
        status: 529,
        body: anthropicErrorBody("overloaded_error", "Overloaded")
      }))
      const { fiber, parts, nextRetry } = yield* start(wire)
      for (const [n, delay] of [
        [1, 1000],
        [2, 2000],
        [3, 4000]
      ] as const) {
        const retry = yield* nextRetry
        expect([retry.attempt, retry.delayMs]).toEqual([n, delay])
        expect(wire.requests).toHaveLength(n)
        yield* TestClock.adjust(delay)
      }
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag).toBe("OverloadedError")
      expect(wire.requests).toHaveLength(4)
      expect(retries(parts)).toHaveLength(3)
    })
  )
})
