/**
 * The provider-neutral parts a model stream yields. Providers translate their wire events into these;
 * the agent loop never sees vendor types.
 */
import * as Schema from "effect/Schema"
import { typed } from "./Tagged.js"
import { StopReason, Usage } from "./Usage.js"

/** Response id and model, as soon as the provider reports them. */
export const MetadataPart = typed("metadata", {
  responseId: Schema.optional(Schema.String),
  model: Schema.optional(Schema.String)
})
/**
 * `signature`: an opaque token (Gemini `thoughtSignature`) that closes the text streamed so far into one block carrying
 * it; send it back unchanged on that block.
 */
export const TextDeltaPart = typed("text-delta", { text: Schema.String, signature: Schema.optional(Schema.String) })
/** Visible reasoning text. */
export const ReasoningDeltaPart = typed("reasoning-delta", { text: Schema.String })
/** The signature that closes the current reasoning block; send it back unchanged. */
export const ReasoningSignaturePart = typed("reasoning-signature", { signature: Schema.String })
/** A whole redacted (encrypted) reasoning block. */
export const ReasoningRedactedPart = typed("reasoning-redacted", { data: Schema.String })
/**
 * An OpenAI Responses reasoning item is complete: it closes the current reasoning block (whose text is its summary)
 * and must be sent back unchanged to that API.
 */
export const ReasoningItemPart = typed("reasoning-item", {
  id: Schema.String,
  encryptedContent: Schema.optional(Schema.String),
  summary: Schema.Array(Schema.String)
})
/** A tool call began; `index` is its position among this response's tool calls. */
export const ToolCallStartPart = typed("tool-call-start", {
  id: Schema.String,
  name: Schema.String,
  index: Schema.Number
})
/** A fragment of a tool call's JSON arguments. */
export const ToolCallDeltaPart = typed("tool-call-delta", { id: Schema.String, argumentsDelta: Schema.String })
/**
 * A tool call is complete. `input` is the parsed arguments (`{}` for none). When the arguments were not valid
 * JSON, `input` is `{}`, `rawArguments` holds what arrived and `parseError` says what was wrong, so the loop can
 * answer the call with an error result instead of failing the stream.
 */
export const ToolCallCompletePart = typed("tool-call-complete", {
  id: Schema.String,
  name: Schema.String,
  input: Schema.Unknown,
  rawArguments: Schema.optional(Schema.String),
  parseError: Schema.optional(Schema.String),
  /** An opaque token (Gemini `thoughtSignature`) to send back unchanged with this call. */
  signature: Schema.optional(Schema.String)
})
/** Cumulative usage of this response so far; the last one wins. */
export const UsagePart = typed("usage", { usage: Usage })
/** The response ended. `raw` is the provider's own stop reason. */
export const FinishPart = typed("finish", { stopReason: StopReason, raw: Schema.optional(Schema.String) })
/** The request failed with a retryable error before any output and will be retried after `delayMs`. */
export const RetryPart = typed("retry", {
  attempt: Schema.Number,
  delayMs: Schema.Number,
  reason: Schema.String,
  message: Schema.String
})

export const StreamPart = Schema.Union([
  MetadataPart,
  TextDeltaPart,
  ReasoningDeltaPart,
  ReasoningSignaturePart,
  ReasoningRedactedPart,
  ReasoningItemPart,
  ToolCallStartPart,
  ToolCallDeltaPart,
  ToolCallCompletePart,
  UsagePart,
  FinishPart,
  RetryPart
])
export type StreamPart = typeof StreamPart.Type
export type StreamPartOf<T extends StreamPart["type"]> = Extract<StreamPart, { readonly type: T }>

/** Parse accumulated tool arguments the way every provider must: empty means `{}`, bad JSON is reported. */
export const parseToolArguments = (raw: string): { readonly input: unknown; readonly parseError?: string } => {
  if (raw.trim() === "") return { input: {} }
  try {
    return { input: JSON.parse(raw) }
  } catch (error) {
    return { input: {}, parseError: `tool arguments are not valid JSON: ${(error as Error).message}` }
  }
}

/** Build a tool-call-complete part from accumulated raw arguments. */
export const completeToolCall = (id: string, name: string, raw: string): StreamPartOf<"tool-call-complete"> => {
  const parsed = parseToolArguments(raw)
  return parsed.parseError === undefined
    ? { type: "tool-call-complete", id, name, input: parsed.input }
    : { type: "tool-call-complete", id, name, input: parsed.input, rawArguments: raw, parseError: parsed.parseError }
}
