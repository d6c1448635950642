/** The SDK's cost, budget and compaction surface: `costUsd`, `maxBudgetUsd`, `models`, `compact()`. */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { validateCallOptions, validateOptions } from "../../src/sdk/options.js"
import { CompactionError, ConfigError, isSageError, type SageAgentSDKOptions } from "../../src/sdk/SageAgentSDK.js"
import { answer, callTools, reply, tempDir } from "../agent/harness.js"
import { anthropicErrorBody } from "../support/anthropicSse.js"
import { sdkFor as baseSdkFor } from "../support/sdk.js"
import * as WireServer from "../support/WireServer.js"

const rejection = (f: () => unknown): Error => {
  try {
    f()
  } catch (error) {
    if (error instanceof Error) return error
  }
  throw new Error("accepted, or threw a non-Error")
}

/** The SDK with a price for the test model, so that every run has a cost. */
const sdkFor = (wire: WireServer.WireServer, cwd: string, extra: Partial<SageAgentSDKOptions> = {}) =>
  baseSdkFor(wire, cwd, { models: { "claude-test": { pricing: { input: 100, output: 100 } } }, ...extra })

describe("SageAgentSDK cost and compaction", () => {
  it.live("run() reports costUsd from the models option; maxBudgetUsd (per call too) stops with max_budget", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(answer("hi"))
      const sdk = yield* sdkFor(wire, cwd)
      const first = yield* Effect.promise(() => sdk.run("hello"))
      // 10 input + 5 output tokens at $100/M
      expect(first.costUsd).toBeCloseTo(0.0015, 12)

      wire.enqueue(callTools([{ id: "l1", name: "LS", input: { path: "." } }]), answer("never"))
      const stopped = yield* Effect.promise(() => sdk.run("list", { maxBudgetUsd: 0.001 }))
      expect(stopped.stopReason).toBe("max_budget")
      expect(wire.requests).toHaveLength(2)
    })
  )

  it.live("a built-in model is priced without any configuration (layerNode provides the catalog)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(
        reply({ inputTokens: 1_000, cacheReadTokens: 2_000, cacheWriteTokens: 400, steps: [{ text: ["hi"] }] })
      )
      const sdk = yield* sdkFor(wire, cwd, { model: "claude-sonnet-4-6", models: {} })
      const result = yield* Effect.promise(() => sdk.run("hello"))
      // Sonnet 4.6: 1,000 x $3 + 5 x $15 + 2,000 x $0.30 + 400 x $3.75, per million
      expect(result.costUsd).toBeCloseTo((3_000 + 75 + 600 + 1_500) / 1e6, 12)
      expect((wire.requests[0]?.body as { model?: string } | undefined)?.model).toBe("claude-sonnet-4-6")
    })
  )

  it.live("compact() returns the history to continue from; failures reject with CompactionError", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(answer("The answer is 4."))
      const sdk = yield* sdkFor(wire, cwd)
      const first = yield* Effect.promise(() => sdk.run("2+2?"))
      wire.enqueue(reply({ inputTokens: 50, steps: [{ text: ["<summary>User asked 2+2; it is 4.</summary>"] }] }))
      const compacted = yield* Effect.promise(() => sdk.compact(first.messages, { instructions: "Keep the numbers" }))
      expect(compacted.summary).toBe("User asked 2+2; it is 4.")
      expect(compacted.messages).toHaveLength(1)
      expect(compacted.costUsd).toBeCloseTo((50 + 5) * 100e-6, 12)
      expect(JSON.stringify(wire.requests[1]?.body)).toContain("Keep the numbers")
      wire.enqueue(answer("Still 4."))
      const next = yield* Effect.promise(() => sdk.run("and now?", { history: compacted.messages }))
      expect(next.messages.map((m) => m.role)).toEqual(["user", "user", "assistant"])

      wire.enqueue({ kind: "error", status: 400, body: anthropicErrorBody("invalid_request_error", "nope") })
      const error = yield* Effect.promise(() => sdk.compact(first.messages).catch((e: unknown) => e))
      expect(error).toBeInstanceOf(CompactionError)
      expect(isSageError(error)).toBe(true)
      expect(error).toMatchObject({ reason: "request_failed", errorTag: "InvalidRequestError" })
      const empty = yield* Effect.promise(() => sdk.compact([]).catch((e: unknown) => e))
      expect(empty).toMatchObject({ _tag: "CompactionError", reason: "empty" })
    })
  )

  it("the new options are checked like the others", () => {
    const ok = { maxBudgetUsd: 0.5, autoCompact: false, compactThreshold: 0.7, models: { m: { contextWindow: 1000 } } }
    expect(validateOptions(ok)).toBe(ok)
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [{ maxBudgetUsd: 0 }, "maxBudgetUsd is 0; expected a number of USD > 0"],
      [{ maxBudgetUsd: "1" }, 'maxBudgetUsd is "1"; expected a number of USD > 0'],
      [{ compactThreshold: 1.5 }, "compactThreshold is 1.5; expected a fraction of the context window in (0, 1]"],
      [{ autoCompact: "yes" }, 'autoCompact is "yes"; expected true or false'],
      [{ models: { m: { contextWindow: 0 } } }, "models.m.contextWindow is 0"],
      [{ models: { m: { pricing: { inptu: 1 } } } }, 'unknown option "models.m.pricing.inptu"']
    ]
    for (const [input, message] of cases) {
      const error = rejection(() => validateOptions(input))
      expect(error).toBeInstanceOf(ConfigError)
      expect(error.message).toContain(message)
    }
    expect(validateCallOptions("run", { maxBudgetUsd: 2 })).toEqual({ maxBudgetUsd: 2 })
    expect(rejection(() => validateCallOptions("run", { maxBudgetUsd: -1 })).message).toContain("maxBudgetUsd is -1")
  })
})
