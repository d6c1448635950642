/**
 * The one list of providers `--provider`, `SAGE_PROVIDER` and the SDK's `provider` option accept, and how each one's
 * `LLMClient` layer is loaded: on demand, so a run imports only the chosen provider's module and vendor SDK.
 */
import type * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type { ConfigError } from "../errors/ConfigError.js"
import type { LLMClient } from "../services/LLMClient.js"
import type { RetryPolicy } from "./Retry.js"

/** What every provider takes from the generic options; anything else comes from the vendor's own variables. */
export interface ProviderOverrides {
  readonly model?: string
  readonly baseURL?: string
  readonly retry?: Partial<RetryPolicy>
  readonly apiKey?: Redacted.Redacted<string>
}

export interface ProviderModule {
  /** The client layer: `overrides` first, then the vendor's environment variables (read through `Config`). */
  readonly layerConfig: (overrides: ProviderOverrides) => Layer.Layer<LLMClient, ConfigError>
}

/** Every provider id, in the order help texts list them. */
export const PROVIDERS = [
  "anthropic",
  "openai",
  "openai-responses",
  "azure",
  "bedrock",
  "gemini",
  "vertex",
  "ollama"
] as const
export type ProviderId = (typeof PROVIDERS)[number]

const modules: Record<ProviderId, () => Promise<ProviderModule>> = {
  anthropic: () => import("./anthropic/AnthropicProvider.js"),
  openai: () => import("./openai/OpenAIProvider.js"),
  "openai-responses": () => import("./openai-responses/ResponsesProvider.js"),
  azure: () => import("./azure/AzureProvider.js"),
  bedrock: () => import("./bedrock/BedrockProvider.js"),
  gemini: () => import("./gemini/GeminiProvider.js"),
  vertex: () => import("./gemini/VertexProvider.js"),
  ollama: () => import("./ollama/OllamaProvider.js")
}

export const isProviderId = (value: unknown): value is ProviderId =>
  typeof value === "string" && Object.hasOwn(modules, value)

/** Import the provider's module. */
export const loadProvider = (id: ProviderId): Promise<ProviderModule> => modules[id]()
