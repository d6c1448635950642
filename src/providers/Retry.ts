/**
 * Retrying model requests with a `Schedule`: exponential backoff with jitter, `retry-after` honoured, only for
 * retryable errors, and only while the stream has emitted no content (a retry never duplicates output).
 * Each wait is announced first as a `retry` part (attempt, delay, reason).
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import * as Stream from "effect/Stream"
import { type LLMError, retryAfterMs } from "../errors/LLMError.js"
import type { LLMClient, LLMRequest } from "../services/LLMClient.js"
import type { StreamPart } from "../streams/StreamPart.js"
import { makeLLMClient } from "./ProviderSupport.js"

export interface RetryPolicy {
  /** Retries after the first attempt (default 3; 0 turns retrying off). */
  readonly maxRetries: number
  /** First backoff delay (default 500 ms), doubled each attempt. */
  readonly baseDelay: Duration.DurationInput
  /** Cap on one backoff delay (default 30 s). */
  readonly maxDelay: Duration.DurationInput
  /** Randomize each delay by 0.8-1.2x (default true). */
  readonly jitter: boolean
  /** A server `retry-after` longer than this fails at once instead of waiting (default 120 s). */
  readonly maxRetryAfter: Duration.DurationInput
}

export const defaultRetryPolicy: RetryPolicy = {
  maxRetries: 3,
  baseDelay: "500 millis",
  maxDelay: "30 seconds",
  jitter: true,
  maxRetryAfter: "120 seconds"
}

/** The backoff schedule of a policy; its input is the failure. */
export const retrySchedule = (policy: RetryPolicy): Schedule.Schedule<unknown, LLMError> => {
  const maxDelay = Duration.decode(policy.maxDelay)
  const backoff = Schedule.exponential(policy.baseDelay, 2)
  const jittered = policy.jitter ? Schedule.jittered(backoff) : backoff
  return jittered.pipe(
    Schedule.modifyDelay((_, delay) => Duration.min(delay, maxDelay)),
    Schedule.intersect(Schedule.recurs(policy.maxRetries)),
    Schedule.whileInput((error: LLMError) => error.retryable)
  )
}

/** Parts that are output: once one of these was emitted, the request is never retried. */
const isOutput = (part: StreamPart): boolean =>
  part.type !== "metadata" && part.type !== "usage" && part.type !== "retry"

/** Retry `attempt` (a fresh request each time) under `policy`. */
export const retryStream = (
  attempt: () => Stream.Stream<StreamPart, LLMError>,
  policy: RetryPolicy
): Stream.Stream<StreamPart, LLMError> => {
  const schedule = retrySchedule(policy)
  const maxRetryAfter = Duration.toMillis(Duration.decode(policy.maxRetryAfter))
  const loop = (state: unknown, n: number): Stream.Stream<StreamPart, LLMError> =>
    Stream.suspend(() => {
      let emitted = false
      return attempt().pipe(
        Stream.tap((part) =>
          Effect.sync(() => {
            if (isOutput(part)) emitted = true
          })
        ),
        Stream.catchAll((error) =>
          emitted
            ? Stream.fail(error)
            : Stream.unwrap(
                Effect.gen(function* () {
                  const now = yield* Clock.currentTimeMillis
                  const [next, , decision] = yield* schedule.step(now, error, state)
                  const serverWait = retryAfterMs(error)
                  if (ScheduleDecision.isDone(decision) || (serverWait !== undefined && serverWait > maxRetryAfter)) {
                    return Stream.fail(error)
                  }
                  const backoff = Math.max(0, Intervals.start(decision.intervals) - now)
                  const delayMs = Math.round(Math.max(backoff, serverWait ?? 0))
                  const announce: StreamPart = {
                    type: "retry",
                    attempt: n,
                    delayMs,
                    reason: error._tag,
                    message: error.message
                  }
                  yield* Effect.logDebug("retrying model request", announce)
                  return Stream.make(announce).pipe(
                    Stream.concat(Stream.drain(Stream.fromEffect(Effect.sleep(Duration.millis(delayMs))))),
                    Stream.concat(loop(next, n + 1))
                  )
                })
              )
        )
      )
    })
  return loop(schedule.initial, 1)
}

/** The same client, with every `stream` / `generate` retried under `policy`. */
export const withRetry = (client: LLMClient.Service, policy: RetryPolicy = defaultRetryPolicy): LLMClient.Service =>
  makeLLMClient({
    provider: client.provider,
    model: client.model,
    capabilities: client.capabilities,
    stream: (request: LLMRequest) => retryStream(() => client.stream(request), policy)
  })
