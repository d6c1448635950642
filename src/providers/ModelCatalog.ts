/**
 * The built-in model catalog: context windows, output limits, list prices and capabilities of the current Anthropic
 * and OpenAI models, and the pure functions that look a model up (with overrides from settings and options) and
 * price a `Usage`. No I/O.
 *
 * Prices are list prices in USD per million tokens, standard (not batch, not priority) tier, as published on
 * platform.claude.com/docs/en/about-claude/pricing and platform.openai.com/docs/pricing, checked 2026-12-02.
 * Anthropic's `cacheWrite` is the 5-minute cache write price (1.25x input; Sage does not ask for the 1-hour cache).
 * OpenAI has no cache write surcharge (and reports no cache writes): `cacheWrite` is the input price.
 * Output prices apply to reasoning tokens too: both vendors count them in the output tokens Sage reports.
 * Context windows are the default ones (no long-context beta header is sent): where a vendor offers 1M tokens only
 * behind a beta flag or at a surcharge, the catalog says 200,000. Override any of it with the `models` settings key.
 */
import type {
  ModelCapabilities,
  ModelInfo,
  ModelOverride,
  ModelOverrides,
  ModelPricing
} from "../services/ModelCatalog.js"
import type { Usage } from "../streams/Usage.js"

/** Context window assumed for a model nobody described (conservative: compaction starts early rather than late). */
export const UNKNOWN_CONTEXT_WINDOW = 128_000
/** Output limit assumed for a model nobody described. */
export const UNKNOWN_MAX_OUTPUT_TOKENS = 8_192

interface Entry {
  readonly provider: "anthropic" | "openai"
  readonly contextWindow: number
  readonly maxInputTokens?: number
  readonly maxOutputTokens: number
  readonly pricing: ModelPricing
  readonly capabilities: ModelCapabilities
  /** Other ids of the same model (vendor aliases). Dated snapshots (`-20250929`) and `-latest` resolve by themselves. */
  readonly aliases?: ReadonlyArray<string>
}

const price = (input: number, output: number, cacheRead: number, cacheWrite: number): ModelPricing => ({
  input,
  output,
  cacheRead,
  cacheWrite
})

const REASONING: ModelCapabilities = { tools: true, vision: true, reasoning: true }
const PLAIN: ModelCapabilities = { tools: true, vision: true, reasoning: false }

const claude = (
  contextWindow: number,
  maxOutputTokens: number,
  pricing: ModelPricing,
  capabilities: ModelCapabilities = REASONING,
  aliases?: ReadonlyArray<string>
): Entry => ({
  provider: "anthropic",
  contextWindow,
  maxOutputTokens,
  pricing,
  capabilities,
  ...(aliases === undefined ? {} : { aliases })
})

const openai = (
  contextWindow: number,
  maxOutputTokens: number,
  pricing: ModelPricing,
  capabilities: ModelCapabilities,
  maxInputTokens?: number
): Entry => ({
  provider: "openai",
  contextWindow,
  maxOutputTokens,
  pricing,
  capabilities,
  ...(maxInputTokens === undefined ? {} : { maxInputTokens })
})

const OPUS_4_5 = price(5, 25, 0.5, 6.25)
const OPUS_4 = price(15, 75, 1.5, 18.75)
const SONNET_4 = price(3, 15, 0.3, 3.75)
const GPT_5 = price(1.25, 10, 0.125, 1.25)

/** The built-in entries, by canonical id. */
export const BUILTIN_MODELS: Readonly<Record<string, Entry>> = {
  // Anthropic
  "claude-opus-5": claude(1_000_000, 128_000, OPUS_4_5),
  "claude-opus-4-8": claude(200_000, 64_000, OPUS_4_5),
  "claude-opus-4-7": claude(200_000, 64_000, OPUS_4_5),
  "claude-opus-4-6": claude(200_000, 64_000, OPUS_4_5),
  "claude-opus-4-5": claude(200_000, 64_000, OPUS_4_5),
  "claude-opus-4-1": claude(200_000, 32_000, OPUS_4),
  "claude-opus-4": claude(200_000, 32_000, OPUS_4, REASONING, ["claude-opus-4-0"]),
  "claude-sonnet-5": claude(1_000_000, 128_000, price(2, 10, 0.2, 2.5)),
  "claude-sonnet-4-6": claude(200_000, 64_000, SONNET_4),
  "claude-sonnet-4-5": claude(200_000, 64_000, SONNET_4),
  "claude-sonnet-4": claude(200_000, 64_000, SONNET_4, REASONING, ["claude-sonnet-4-0"]),
  "claude-3-7-sonnet": claude(200_000, 64_000, SONNET_4),
  "claude-haiku-4-5": claude(200_000, 64_000, price(1, 5, 0.1, 1.25)),
  "claude-3-5-haiku": claude(200_000, 8_192, price(0.8, 4, 0.08, 1), { tools: true, vision: false, reasoning: false }),
  "claude-3-haiku": claude(200_000, 4_096, price(0.25, 1.25, 0.03, 0.3), PLAIN),
  // OpenAI (GPT-5 family: 400,000-token window of which at most 272,000 input)
  "gpt-5.1": openai(400_000, 128_000, GPT_5, REASONING, 272_000),
  "gpt-5": openai(400_000, 128_000, GPT_5, REASONING, 272_000),
  "gpt-5-mini": openai(400_000, 128_000, price(0.25, 2, 0.025, 0.25), REASONING, 272_000),
  "gpt-5-nano": openai(400_000, 128_000, price(0.05, 0.4, 0.005, 0.05), REASONING, 272_000),
  "gpt-4.1": openai(1_047_576, 32_768, price(2, 8, 0.5, 2), PLAIN),
  "gpt-4.1-mini": openai(1_047_576, 32_768, price(0.4, 1.6, 0.1, 0.4), PLAIN),
  "gpt-4.1-nano": openai(1_047_576, 32_768, price(0.1, 0.4, 0.025, 0.1), PLAIN),
  "gpt-4o": openai(128_000, 16_384, price(2.5, 10, 1.25, 2.5), PLAIN),
  "gpt-4o-mini": openai(128_000, 16_384, price(0.15, 0.6, 0.075, 0.15), PLAIN),
  o1: openai(200_000, 100_000, price(15, 60, 7.5, 15), REASONING),
  o3: openai(200_000, 100_000, price(2, 8, 0.5, 2), REASONING),
  "o3-mini": openai(200_000, 100_000, price(1.1, 4.4, 0.55, 1.1), { tools: true, vision: false, reasoning: true }),
  "o4-mini": openai(200_000, 100_000, price(1.1, 4.4, 0.275, 1.1), REASONING)
}

const ALIASES: ReadonlyMap<string, string> = new Map(
  Object.entries(BUILTIN_MODELS).flatMap(([id, entry]) => (entry.aliases ?? []).map((alias) => [alias, id] as const))
)

const SNAPSHOT = /-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$/

/**
 * The catalog key `model` resolves to: the id itself, a vendor alias, or the id without its snapshot date or
 * `-latest` (`claude-sonnet-4-5-20250929`, `gpt-4o-2024-08-06`); a routing prefix (`anthropic/claude-sonnet-4.5`,
 * OpenRouter's spelling) is dropped, and so is Bedrock's (`us.anthropic.claude-sonnet-4-5-20250929-v1:0`). Never a
 * neighbouring model: `claude-opus-4-9` does not resolve to `claude-opus-4`.
 */
export const canonicalId = (model: string, known: (id: string) => boolean): string | undefined => {
  const candidates = [model]
  const bare = model.includes("/") ? model.slice(model.lastIndexOf("/") + 1) : model
  if (bare !== model) candidates.push(bare)
  if (bare.startsWith("claude-") && bare.includes(".")) candidates.push(bare.replaceAll(".", "-"))
  // Bedrock: `us.anthropic.claude-sonnet-4-5-20250929-v1:0` (inference profile prefix, version suffix).
  const bedrock = /(?:^|\.)anthropic\.(claude-[a-z0-9-]+?)(?:-v\d+(?::\d+)?)?$/.exec(bare)?.[1]
  if (bedrock !== undefined) candidates.push(bedrock)
  for (const id of [...candidates]) {
    const undated = id.replace(SNAPSHOT, "")
    if (undated !== id) candidates.push(undated)
  }
  for (const id of candidates) {
    if (known(id)) return id
    const alias = ALIASES.get(id)
    if (alias !== undefined) return alias
  }
  return undefined
}

const withPricing = (base: ModelPricing | undefined, patch: Partial<ModelPricing> | undefined) => {
  if (patch === undefined) return base
  const input = patch.input ?? base?.input
  const output = patch.output ?? base?.output
  // Without both an input and an output price there is no price: a cost is not made up.
  if (input === undefined || output === undefined) return undefined
  return {
    input,
    output,
    cacheRead: patch.cacheRead ?? base?.cacheRead ?? input,
    cacheWrite: patch.cacheWrite ?? base?.cacheWrite ?? input
  }
}

/** `info` with the override's fields on top (prices field by field). */
export const applyOverride = (info: ModelInfo, override: ModelOverride | undefined): ModelInfo => {
  if (override === undefined) return info
  const pricing = withPricing(info.pricing, override.pricing)
  const maxInputTokens = override.maxInputTokens ?? info.maxInputTokens
  return {
    id: info.id,
    provider: override.provider ?? info.provider,
    contextWindow: override.contextWindow ?? info.contextWindow,
    ...(maxInputTokens === undefined ? {} : { maxInputTokens }),
    maxOutputTokens: override.maxOutputTokens ?? info.maxOutputTokens,
    ...(pricing === undefined ? {} : { pricing }),
    capabilities: { ...info.capabilities, ...override.capabilities },
    known: true
  }
}

/** What a model nobody described gets: a conservative window, no price. */
export const unknownModel = (id: string): ModelInfo => ({
  id,
  provider: "unknown",
  contextWindow: UNKNOWN_CONTEXT_WINDOW,
  maxOutputTokens: UNKNOWN_MAX_OUTPUT_TOKENS,
  capabilities: { tools: true, vision: false, reasoning: false },
  known: false
})

/**
 * What is known about `model`: the built-in entry it resolves to (see `canonicalId`), with the override for the
 * exact id (else for the resolved id) on top. An override for an unknown id makes it known.
 */
export const lookupModel = (model: string, overrides: ModelOverrides = {}): ModelInfo => {
  const key = canonicalId(model, (id) => id in BUILTIN_MODELS || id in overrides)
  const entry = key === undefined ? undefined : BUILTIN_MODELS[key]
  const base: ModelInfo =
    entry === undefined
      ? unknownModel(model)
      : {
          id: model,
          provider: entry.provider,
          contextWindow: entry.contextWindow,
          ...(entry.maxInputTokens === undefined ? {} : { maxInputTokens: entry.maxInputTokens }),
          maxOutputTokens: entry.maxOutputTokens,
          pricing: entry.pricing,
          capabilities: entry.capabilities,
          known: true
        }
  return applyOverride(base, overrides[model] ?? (key === undefined ? undefined : overrides[key]))
}

/** The cost of `usage` at `pricing`, in USD. */
export const costOf = (usage: Usage, pricing: ModelPricing): number =>
  (usage.inputTokens * pricing.input +
    usage.outputTokens * pricing.output +
    usage.cacheReadTokens * pricing.cacheRead +
    usage.cacheWriteTokens * pricing.cacheWrite) /
  1_000_000

/** The input tokens a request to `info` may carry: its input limit, else its context window. */
export const inputBudget = (info: ModelInfo): number => info.maxInputTokens ?? info.contextWindow
