/**
 * What every provider's test wire module (`test/support/wire/<provider>.ts`) exports, so one `LLMClient` contract
 * suite (test/providers/contract.test.ts) can run the same scripts against every provider over its real wire
 * format, served by the real local HTTP server in `test/support/WireServer.ts`.
 */
import type * as Layer from "effect/Layer"
import type { ConfigError } from "../../../src/errors/ConfigError.js"
import type { ProviderId } from "../../../src/providers/registry.js"
import type { LLMClient } from "../../../src/services/LLMClient.js"
import type { RecordedRequest, Reply } from "../WireServer.js"

/** One scripted model response, in provider-neutral terms. */
export interface ScriptedResponse {
  /** Reasoning first (when the provider streams reasoning), each string one delta; `signature` closes it. */
  readonly reasoning?: { readonly text: ReadonlyArray<string>; readonly signature?: string }
  /** Text deltas. */
  readonly text?: ReadonlyArray<string>
  /** Tool calls; `args` are the JSON argument fragments in arrival order (providers that send whole calls join them). */
  readonly toolCalls?: ReadonlyArray<{
    readonly id: string
    readonly name: string
    readonly args: ReadonlyArray<string>
  }>
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number }
  /** Default: `tool_use` when there are tool calls, else `end_turn`. */
  readonly stop?: "end_turn" | "tool_use" | "max_tokens"
}

/** Provider-neutral failures every provider must map to the `LLMError` tags. */
export type ScriptedFailure =
  | { readonly kind: "rate_limit"; readonly retryAfterSeconds?: number }
  | { readonly kind: "quota" }
  | { readonly kind: "overloaded" }
  | { readonly kind: "auth" }
  | { readonly kind: "invalid_request"; readonly message: string }
  | { readonly kind: "context_length" }
  | { readonly kind: "server" }

export interface ProviderWire {
  readonly id: ProviderId
  /** The model the contract suite asks for. */
  readonly model: string
  /** The streamed body (status 200) for one response. */
  readonly reply: (script: ScriptedResponse) => Reply
  /** The HTTP error reply (or in-stream error) for a failure. */
  readonly failure: (failure: ScriptedFailure) => Reply
  /** This provider's client layer pointed at the local server (retries off or as given by the suite). */
  readonly layer: (baseURL: string) => Layer.Layer<LLMClient, ConfigError>
  /** The messages of a recorded request in a neutral shape, so the suite can check what was sent back. */
  readonly sentText: (request: RecordedRequest) => ReadonlyArray<string>
}
