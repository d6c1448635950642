/**
 * The model catalog contract: what Sage knows about a model (context window, output limit, list prices,
 * capabilities), so that the agent can price a turn, stop at a budget and compact before the context runs out.
 * Plain data; the built-in entries live in `providers/ModelCatalog.ts` and the layer in `layers/ModelCatalogLive.ts`.
 */
import * as Context from "effect/Context"
import type { Usage } from "../streams/Usage.js"

/** List prices in USD per million tokens. */
export interface ModelPricing {
  /** Input tokens that were neither read from nor written to the prompt cache. */
  readonly input: number
  readonly output: number
  /** Input tokens read from the prompt cache. */
  readonly cacheRead: number
  /** Input tokens written to the prompt cache (Anthropic's 5-minute cache write price). */
  readonly cacheWrite: number
}

export interface ModelCapabilities {
  readonly tools: boolean
  readonly vision: boolean
  /** Extended thinking / reasoning. */
  readonly reasoning: boolean
}

export interface ModelInfo {
  /** The id the model was looked up by. */
  readonly id: string
  /** `anthropic`, `openai`, or `unknown`. */
  readonly provider: string
  /** Context window in tokens (input and output together). */
  readonly contextWindow: number
  /** The most input tokens one request may carry, when it is less than the context window (e.g. GPT-5: 272,000). */
  readonly maxInputTokens?: number
  /** The most output tokens one response may have. */
  readonly maxOutputTokens: number
  /** Absent when the price is not known: a cost is then not computed (never reported as 0). */
  readonly pricing?: ModelPricing
  readonly capabilities: ModelCapabilities
  /** False for a model neither the built-in catalog nor an override knows (conservative defaults, no price). */
  readonly known: boolean
}

/** What settings (`models` key) and options may set for a model id: any field, prices field by field. */
export interface ModelOverride {
  readonly provider?: string
  readonly contextWindow?: number
  readonly maxInputTokens?: number
  readonly maxOutputTokens?: number
  readonly pricing?: Partial<ModelPricing>
  readonly capabilities?: Partial<ModelCapabilities>
}

export type ModelOverrides = Readonly<Record<string, ModelOverride>>

export declare namespace ModelCatalog {
  interface Service {
    /** What is known about `model` (unknown models get conservative defaults and no price). */
    readonly lookup: (model: string) => ModelInfo
    /** The cost of `usage` on `model` in USD; `undefined` when its price is not known. */
    readonly costUsd: (model: string, usage: Usage) => number | undefined
  }
}

export class ModelCatalog extends Context.Service<ModelCatalog, ModelCatalog.Service>()("sage/ModelCatalog") {}
