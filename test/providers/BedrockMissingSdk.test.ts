/**
 * `@aws-sdk/client-bedrock-runtime` is an optional peer dependency: without it, `--provider bedrock` fails with a
 * ConfigError that says what to install. The package is installed here, so its absence is simulated by making its
 * import fail (the one thing no real component can stand in for).
 */
import { describe, expect, it, vi } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

vi.doMock("@aws-sdk/client-bedrock-runtime", () => {
  throw new Error("Cannot find package '@aws-sdk/client-bedrock-runtime' imported from sage")
})

describe("bedrock without its SDK", () => {
  it.effect("building the layer fails with a ConfigError naming the package to install", () =>
    Effect.gen(function* () {
      const Bedrock = yield* Effect.promise(() => import("../../src/providers/bedrock/BedrockProvider.js"))
      const error = yield* Effect.flip(Layer.build(Bedrock.layerConfig({ region: "us-east-1" })).pipe(Effect.scoped))
      expect(error._tag).toBe("ConfigError")
      expect(error.message).toContain("install @aws-sdk/client-bedrock-runtime to use --provider bedrock")
    })
  )
})
