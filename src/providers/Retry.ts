/**
 * Retrying model requests with a `Schedule`: exponential backoff with jitter, `retry-after` honoured, only for
 * retryable errors, and only while the stream has emitted no content (a retry never duplicates output).
 * Each wait is announced first as a `retry` part (attempt, delay, reason).
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Pull from "effect/Pull"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { type LLMError, retryAfterMs } from "../errors/LLMError.js"
import type { LLMClient, LLMRequest } from "../services/LLMClient.js"
import type { StreamPart } from "../streams/StreamPart.js"
import { makeLLMClient } from "./ProviderSupport.js"

export interface RetryPolicy {
  /** Retries after the first attempt (default 3; 0 turns retrying off). */
  readonly maxRetries: number
  /** First backoff delay (default 500 ms), doubled each attempt. */
  readonly baseDelay: Duration.Input
  /** Cap on one backoff delay (default 30 s). */
  readonly maxDelay: Duration.Input
  /** Randomize each delay by 0.8-1.2x (default true). */
  readonly jitter: boolean
  /** A server `retry-after` longer than this fails at once instead of waiting (default 120 s). */
  readonly maxRetryAfter: Duration.Input
}

export const defaultRetryPolicy: RetryPolicy = {
  maxRetries: 3,
  baseDelay: "500 millis",
  maxDelay: "30 seconds",
  jitter: true,
  maxRetryAfter: "120 seconds"
}

/**
 * The schedule of a policy; its input is the failure, its delay the wait before the next attempt: the (jittered)
 * exponential backoff capped at `maxDelay`, or the server's `retry-after` when that is longer. It stops after
 * `maxRetries`, on a non-retryable error, and on a `retry-after` beyond `maxRetryAfter`.
 */
export const retrySchedule = (policy: RetryPolicy): Schedule.Schedule<Duration.Duration, LLMError> => {
  const maxDelay = Duration.fromInputUnsafe(policy.maxDelay)
  const maxRetryAfter = Duration.toMillis(policy.maxRetryAfter)
  const backoff = Schedule.exponential(policy.baseDelay, 2)
  return (policy.jitter ? Schedule.jittered(backoff) : backoff).pipe(
    Schedule.setInputType<LLMError>(),
    Schedule.modifyDelay(({ duration, input }) =>
      Effect.succeed(Duration.max(Duration.min(duration, maxDelay), Duration.millis(retryAfterMs(input) ?? 0)))
    ),
    Schedule.upTo({ times: policy.maxRetries }),
    Schedule.while(({ input }) => input.retryable && (retryAfterMs(input) ?? 0) <= maxRetryAfter)
  )
}

/** Parts that are output: once one of these was emitted, the request is never retried. */
const isOutput = (part: StreamPart): boolean =>
  part.type !== "metadata" && part.type !== "usage" && part.type !== "retry"

/** Retry `attempt` (a fresh request each time) under `policy`. */
export const retryStream = (
  attempt: () => Stream.Stream<StreamPart, LLMError>,
  policy: RetryPolicy
): Stream.Stream<StreamPart, LLMError> =>
  Stream.unwrap(
    Effect.map(Schedule.toStep(retrySchedule(policy)), (step) => {
      /** The wait before the next attempt (and when it was decided), or none when the schedule is done. */
      const decide = (
        error: LLMError
      ): Effect.Effect<Option.Option<{ readonly now: number; readonly delayMs: number }>> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          step(now, error).pipe(
            Effect.map(([, delay]) => Option.some({ now, delayMs: Math.round(Duration.toMillis(delay)) })),
            Pull.catchDone(() => Effect.succeedNone)
          )
        )
      /**
       * Sleep until `deadline` (epoch ms): the wait runs from its announcement, so a consumer that is slow to take
       * the `retry` part does not lengthen it.
       */
      const sleepUntil = (deadline: number): Effect.Effect<void> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          now >= deadline ? Effect.void : Effect.sleep(Duration.millis(deadline - now))
        )
      const loop = (n: number): Stream.Stream<StreamPart, LLMError> =>
        Stream.suspend(() => {
          let emitted = false
          return attempt().pipe(
            Stream.tap((part) =>
              Effect.sync(() => {
                if (isOutput(part)) emitted = true
              })
            ),
            Stream.catch((error) =>
              emitted
                ? Stream.fail(error)
                : Stream.unwrap(
                    Effect.gen(function* () {
                      const decision = yield* decide(error)
                      if (Option.isNone(decision)) return Stream.fail(error)
                      const { now, delayMs } = decision.value
                      const announce: StreamPart = {
                        type: "retry",
                        attempt: n,
                        delayMs,
                        reason: error._tag,
                        message: error.message
                      }
                      yield* Effect.logDebug("retrying model request", announce)
                      return Stream.make(announce).pipe(
                        Stream.concat(Stream.drain(Stream.fromEffect(sleepUntil(now + delayMs)))),
                        Stream.concat(loop(n + 1))
                      )
                    })
                  )
            )
          )
        })
      return loop(1)
    })
  )

/** The same client, with every `stream` / `generate` retried under `policy`. */
export const withRetry = (client: LLMClient.Service, policy: RetryPolicy = defaultRetryPolicy): LLMClient.Service =>
  makeLLMClient({
    provider: client.provider,
    model: client.model,
    capabilities: client.capabilities,
    stream: (request: LLMRequest) => retryStream(() => client.stream(request), policy)
  })
