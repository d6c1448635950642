/** The model catalog: lookup (snapshots, aliases, unknown models), overrides from settings and options, cost math. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as ModelCatalogLive from "../../src/layers/ModelCatalogLive.js"
import * as SettingsLive from "../../src/layers/SettingsLive.js"
import { loadRuleSet } from "../../src/permissions/Settings.js"
import {
  BUILTIN_MODELS,
  costOf,
  lookupModel,
  UNKNOWN_CONTEXT_WINDOW,
  UNKNOWN_MAX_OUTPUT_TOKENS
} from "../../src/providers/ModelCatalog.js"
import { ModelCatalog } from "../../src/services/ModelCatalog.js"
import { Usage } from "../../src/streams/Usage.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-catalog-")))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

const writeSettings = (dir: string, name: string, value: unknown | string) => {
  fs.mkdirSync(path.join(dir, ".sage"), { recursive: true })
  fs.writeFileSync(
    path.join(dir, ".sage", name),
    typeof value === "string" ? value : `${JSON.stringify(value, null, 2)}\n`
  )
}

describe("model catalog", () => {
  it("knows the current Anthropic and OpenAI models with prices, windows and capabilities", () => {
    const sonnet = lookupModel("claude-sonnet-4-6")
    expect(sonnet).toMatchObject({
      provider: "anthropic",
      contextWindow: 200_000,
      maxOutputTokens: 64_000,
      pricing: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
      capabilities: { tools: true, vision: true, reasoning: true },
      known: true
    })
    expect(lookupModel("claude-opus-4-1").pricing).toEqual({ input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 })
    expect(lookupModel("claude-opus-4-5").pricing?.input).toBe(5)
    expect(lookupModel("claude-haiku-4-5").pricing).toEqual({ input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 })
    expect(lookupModel("claude-3-5-haiku").pricing?.output).toBe(4)
    expect(lookupModel("gpt-5")).toMatchObject({
      contextWindow: 400_000,
      maxInputTokens: 272_000,
      pricing: { input: 1.25 }
    })
    expect(lookupModel("gpt-5-nano").pricing).toEqual({ input: 0.05, output: 0.4, cacheRead: 0.005, cacheWrite: 0.05 })
    expect(lookupModel("gpt-4.1").contextWindow).toBe(1_047_576)
    expect(lookupModel("gpt-4o-mini")).toMatchObject({ contextWindow: 128_000, pricing: { input: 0.15, output: 0.6 } })
    expect(lookupModel("o4-mini").capabilities.reasoning).toBe(true)
    expect(lookupModel("gpt-4o").capabilities.reasoning).toBe(false)
    // Every entry is self-consistent.
    for (const [id, entry] of Object.entries(BUILTIN_MODELS)) {
      expect(entry.maxOutputTokens, id).toBeLessThanOrEqual(entry.contextWindow)
      expect(entry.pricing.output, id).toBeGreaterThanOrEqual(entry.pricing.input)
      expect(entry.pricing.cacheRead, id).toBeLessThanOrEqual(entry.pricing.input)
    }
  })

  it("resolves dated snapshots, -latest, vendor aliases and routing prefixes, never a neighbouring model", () => {
    expect(lookupModel("claude-sonnet-4-5-20250929")).toMatchObject({ id: "claude-sonnet-4-5-20250929", known: true })
    expect(lookupModel("claude-sonnet-4-5-20250929").pricing?.input).toBe(3)
    expect(lookupModel("claude-opus-4-20250514").pricing?.input).toBe(15)
    expect(lookupModel("claude-opus-4-0").pricing?.input).toBe(15)
    expect(lookupModel("claude-3-5-haiku-latest").pricing?.input).toBe(0.8)
    expect(lookupModel("gpt-4o-2024-08-06").pricing?.input).toBe(2.5)
    expect(lookupModel("anthropic/claude-sonnet-4.5").pricing?.input).toBe(3)
    expect(lookupModel("gpt-4o-mini-2024-07-18").pricing?.input).toBe(0.15)
    // Not a prefix match: an unlisted model is unknown, not priced like its neighbour.
    expect(lookupModel("claude-opus-4-9").known).toBe(false)
    expect(lookupModel("gpt-5-pro").known).toBe(false)
  })

  it("an unknown model has no price (not 0) and a conservative window", () => {
    const unknown = lookupModel("llama-3-70b")
    expect(unknown).toEqual({
      id: "llama-3-70b",
      provider: "unknown",
      contextWindow: UNKNOWN_CONTEXT_WINDOW,
      maxOutputTokens: UNKNOWN_MAX_OUTPUT_TOKENS,
      capabilities: { tools: true, vision: false, reasoning: false },
      known: false
    })
    expect(unknown.pricing).toBeUndefined()
    const catalog = ModelCatalogLive.fromOverrides()
    expect(catalog.costUsd("llama-3-70b", new Usage({ inputTokens: 1000 }))).toBeUndefined()
  })

  it("overrides change fields one by one; a price needs input and output; cache prices default to input", () => {
    const overrides = {
      "claude-sonnet-4-6": { contextWindow: 1_000_000, pricing: { cacheRead: 0.25 } },
      "my-model": { contextWindow: 32_000, pricing: { input: 0.5, output: 1.5 } },
      "half-priced": { pricing: { input: 1 } }
    }
    const sonnet = lookupModel("claude-sonnet-4-6", overrides)
    expect(sonnet.contextWindow).toBe(1_000_000)
    expect(sonnet.pricing).toEqual({ input: 3, output: 15, cacheRead: 0.25, cacheWrite: 3.75 })
    // The override of the canonical id applies to its snapshots too.
    expect(lookupModel("claude-sonnet-4-6-20260217", overrides).contextWindow).toBe(1_000_000)
    expect(lookupModel("my-model", overrides)).toMatchObject({
      known: true,
      contextWindow: 32_000,
      maxOutputTokens: UNKNOWN_MAX_OUTPUT_TOKENS,
      pricing: { input: 0.5, output: 1.5, cacheRead: 0.5, cacheWrite: 0.5 }
    })
    expect(lookupModel("half-priced", overrides).pricing).toBeUndefined()
  })

  it("costs every kind of token at its own price", () => {
    const usage = new Usage({
      inputTokens: 1_000_000,
      outputTokens: 100_000,
      cacheReadTokens: 2_000_000,
      cacheWriteTokens: 400_000,
      reasoningTokens: 50_000 // part of outputTokens: not charged twice
    })
    // Sonnet 4.6: 3 + 1.5 + 0.6 + 1.5
    expect(costOf(usage, { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 })).toBeCloseTo(6.6, 10)
    const catalog = ModelCatalogLive.fromOverrides()
    expect(catalog.costUsd("claude-sonnet-4-6", usage)).toBeCloseTo(6.6, 10)
    // GPT-4o: 2.5 + 1.0 + 2.5 + 1.0 (no cache write surcharge)
    expect(catalog.costUsd("gpt-4o", usage)).toBeCloseTo(7, 10)
    expect(catalog.costUsd("claude-haiku-4-5", new Usage({ inputTokens: 10, outputTokens: 5 }))).toBeCloseTo(
      0.000035,
      12
    )
    expect(catalog.costUsd("gpt-5", Usage.empty)).toBe(0)
  })

  it.effect("settings files set models and compaction; higher precedence wins field by field", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const project = yield* tempDir
      writeSettings(home, "settings.json", {
        models: { "my-model": { contextWindow: 16_000, pricing: { input: 1, output: 2 } } },
        compaction: { threshold: 0.5, auto: false }
      })
      writeSettings(project, "settings.json", {
        models: { "my-model": { pricing: { output: 4 } }, "claude-haiku-4-5": { maxOutputTokens: 8_000 } },
        compaction: { auto: true }
      })
      const rules = yield* loadRuleSet({ cwd: project, homeDir: home })
      expect(rules.compaction).toEqual({ auto: true, threshold: 0.5 })
      expect(rules.models?.["my-model"]).toEqual({ contextWindow: 16_000, pricing: { input: 1, output: 4 } })
      const catalog = yield* ModelCatalog.pipe(
        Effect.provide(ModelCatalogLive.layer({ "my-model": { maxOutputTokens: 1_000 } })),
        Effect.provide(SettingsLive.layer({ cwd: project, homeDir: home }))
      )
      expect(catalog.lookup("my-model")).toMatchObject({
        contextWindow: 16_000,
        maxOutputTokens: 1_000,
        pricing: { input: 1, output: 4, cacheRead: 1, cacheWrite: 1 }
      })
      expect(catalog.lookup("claude-haiku-4-5").maxOutputTokens).toBe(8_000)
      expect(catalog.costUsd("my-model", new Usage({ inputTokens: 1_000_000, outputTokens: 1_000_000 }))).toBe(5)
      // Without a Settings service the layer still builds (built-ins and code overrides only).
      const bare = yield* ModelCatalog.pipe(Effect.provide(ModelCatalogLive.layer()))
      expect(bare.lookup("my-model").known).toBe(false)
    })
  )

  it.effect("a mistake in models or compaction is an error naming the file, line and column", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const cases: ReadonlyArray<readonly [string, string, RegExp]> = [
        [
          '{\n  "models": {\n    "m": { "contextWindw": 1000 }\n  }\n}\n',
          'unknown key "contextWindw"',
          /settings\.json:3:12: .*expected one of: provider, contextWindow.*did you mean "contextWindow"/
        ],
        [
          '{\n  "models": { "m": { "pricing": { "input": -1 } } }\n}\n',
          "models.m.pricing.input",
          /settings\.json:2:44: invalid settings at models\.m\.pricing\.input: expected a price in USD per million tokens/
        ],
        [
          '{\n  "models": { "m": { "contextWindow": 1.5 } }\n}\n',
          "contextWindow",
          /settings\.json:2:39: invalid settings at models\.m\.contextWindow: expected a whole number of tokens >= 1, found a number 1\.5/
        ],
        [
          '{\n  "compaction": { "threshold": 80 }\n}\n',
          "threshold",
          /settings\.json:2:32: invalid settings at compaction\.threshold: expected a fraction of the context window in \(0, 1\]/
        ],
        [
          '{\n  "compaction": { "atuo": true }\n}\n',
          "atuo",
          /settings\.json:2:19: unknown key "atuo" in compaction; expected one of: auto, threshold/
        ],
        ['{\n  "models": []\n}\n', "models", /settings\.json:2:13: invalid settings at models: expected an object/]
      ]
      for (const [text, what, pattern] of cases) {
        writeSettings(dir, "settings.json", text)
        const error = yield* Effect.flip(loadRuleSet({ cwd: dir, homeDir: dir }))
        expect(error._tag, what).toBe("PermissionError")
        expect(error.message, what).toMatch(pattern)
      }
    })
  )
})
