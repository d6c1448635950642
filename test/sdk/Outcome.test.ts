import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Outcome from "../../src/agent/Outcome.js"
import { ConfigError } from "../../src/errors/ConfigError.js"
import { AuthenticationError, RateLimitedError } from "../../src/errors/LLMError.js"

const result = (stopReason: string) => ({ stopReason, text: "hi", steps: 1 })

describe("Outcome", () => {
  it("a finished turn is done with exit code 0 and its result, whatever the stop reason but interrupted", () => {
    for (const stopReason of ["end_turn", "max_steps", "refusal"]) {
      expect(Outcome.fromExit(Exit.succeed(result(stopReason)))).toEqual({
        status: "done",
        exitCode: 0,
        result: result(stopReason)
      })
    }
  })

  it("a turn the loop ended on an interrupt is interrupted (130) and keeps its result", () => {
    expect(Outcome.fromExit(Exit.succeed(result("interrupted")))).toEqual({
      status: "interrupted",
      exitCode: 130,
      result: result("interrupted")
    })
  })

  it.effect("an interrupted fiber is interrupted (130) without a result", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(Effect.never, { startImmediately: true })
      yield* Fiber.interrupt(fiber)
      const exit = yield* Fiber.await(fiber)
      expect(Outcome.fromExit(exit)).toEqual({ status: "interrupted", exitCode: 130 })
    })
  )

  it("a typed failure is failed (1) with the error as plain JSON: tag, message, retryable and its fields", () => {
    const error = new RateLimitedError({ provider: "anthropic", message: "slow down", status: 429, retryAfterMs: 1500 })
    const outcome = Outcome.fromExit(Exit.fail(error))
    expect(outcome).toEqual({
      status: "failed",
      exitCode: 1,
      error: {
        tag: "RateLimitedError",
        message: "slow down",
        retryable: true,
        details: { provider: "anthropic", status: 429, retryAfterMs: 1500 }
      }
    })
    // It survives a JSON round trip unchanged.
    expect(JSON.parse(JSON.stringify(outcome))).toEqual(outcome)
    expect(Outcome.errorInfo(new ConfigError({ message: "no key", source: "ANTHROPIC_API_KEY" }))).toEqual({
      tag: "ConfigError",
      message: "no key",
      details: { source: "ANTHROPIC_API_KEY" }
    })
    expect(Outcome.errorInfo(new AuthenticationError({ provider: "openai", message: "bad key" }))).toEqual({
      tag: "AuthenticationError",
      message: "bad key",
      retryable: false,
      details: { provider: "openai" }
    })
  })

  it("a failure wins over interruptions in the same cause; a defect is failed and marked", () => {
    const error = new ConfigError({ message: "bad" })
    const both = Cause.combine(Cause.fail(error), Cause.interrupt())
    expect(Outcome.fromExit(Exit.failCause(both))).toMatchObject({ status: "failed", error: { tag: "ConfigError" } })
    expect(Outcome.fromExit(Exit.die(new TypeError("boom")))).toEqual({
      status: "failed",
      exitCode: 1,
      error: { tag: "TypeError", message: "boom", defect: true }
    })
  })

  it("errorInfo describes anything thrown", () => {
    expect(Outcome.errorInfo("plain")).toEqual({ tag: "UnknownError", message: "plain" })
    expect(Outcome.errorInfo(42)).toEqual({ tag: "UnknownError", message: "42" })
    expect(Outcome.errorInfo(null)).toEqual({ tag: "UnknownError", message: "null" })
    expect(Outcome.errorInfo({ _tag: "Custom", message: "m", nested: { a: 1 }, n: Number.NaN, ok: true })).toEqual({
      tag: "Custom",
      message: "m",
      details: { ok: true }
    })
  })
})
