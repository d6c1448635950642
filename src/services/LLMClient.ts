/**
 * The model contract. A provider layer (Anthropic, OpenAI, ...) provides `LLMClient`; the agent loop only
 * speaks `LLMRequest` and `StreamPart`.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Stream from "effect/Stream"
import type { ConfigError } from "../errors/ConfigError.js"
import type { LLMError } from "../errors/LLMError.js"
import type { Message } from "../streams/Message.js"
import type { LLMResponse } from "../streams/Response.js"
import type { StreamPart } from "../streams/StreamPart.js"
import type { ToolDefinition } from "../streams/ToolCall.js"

export type ToolChoice =
  | { readonly type: "auto" }
  | { readonly type: "none" }
  | { readonly type: "required" }
  | { readonly type: "tool"; readonly name: string }

export interface LLMRequest {
  /** Overrides the client's default model for this request. */
  readonly model?: string
  readonly system?: string
  readonly messages: ReadonlyArray<Message>
  readonly tools?: ReadonlyArray<ToolDefinition>
  readonly maxTokens?: number
  readonly temperature?: number
  readonly stopSequences?: ReadonlyArray<string>
  readonly toolChoice?: ToolChoice
  /** Extended thinking / reasoning budget in tokens, when the model supports it. */
  readonly thinking?: { readonly budgetTokens: number }
  /**
   * Reasoning effort, for providers that take an effort rather than a budget. A provider given only one of
   * `thinking` / `reasoningEffort` maps it to its own (`providers/Reasoning.ts`).
   */
  readonly reasoningEffort?: ReasoningEffort
  /**
   * Constrain the answer to JSON matching this JSON Schema, with the provider's native structured-output mode.
   * Only sent to clients whose `capabilities.structuredOutput` is true.
   */
  readonly responseFormat?: ResponseFormat
  /** A stable key for the provider's prompt cache (OpenAI `prompt_cache_key`), e.g. the session id. */
  readonly cacheKey?: string
}

export type ReasoningEffort = "minimal" | "low" | "medium" | "high"

export interface ResponseFormat {
  /** A short identifier (letters, digits, `_`, `-`). */
  readonly name: string
  readonly schema: Readonly<Record<string, unknown>>
}

export interface Capabilities {
  readonly streaming: boolean
  readonly tools: boolean
  readonly vision: boolean
  readonly thinking: boolean
  /** Whether `LLMRequest.responseFormat` is honoured natively (absent: no). */
  readonly structuredOutput?: boolean
  /** Context window in tokens. */
  readonly contextWindow: number
}

export declare namespace LLMClient {
  interface Service {
    /** Provider id, e.g. `anthropic`. */
    readonly provider: string
    /** The default model of this client. */
    readonly model: string
    readonly capabilities: Capabilities
    /** Stream one response. Interrupting the stream aborts the HTTP request. */
    readonly stream: (request: LLMRequest) => Stream.Stream<StreamPart, LLMError>
    /** The same as `stream`, collected. */
    readonly generate: (request: LLMRequest) => Effect.Effect<LLMResponse, LLMError>
  }
}

export class LLMClient extends Context.Service<LLMClient, LLMClient.Service>()("sage/LLMClient") {}

/** A named provider and how to build its `LLMClient` layer from configuration. */
export interface LLMProvider<Options = unknown> {
  readonly id: string
  readonly defaultModel: string
  readonly layer: (options: Options) => Layer.Layer<LLMClient>
  readonly layerConfig: (overrides?: Partial<Options>) => Layer.Layer<LLMClient, ConfigError>
}
