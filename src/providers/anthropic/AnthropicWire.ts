/**
 * The Anthropic Messages wire format, without I/O: `LLMRequest` to request params, and a decoder that turns the raw
 * SSE events of one streamed response into Sage `StreamPart`s. Only types are imported from the SDK, so loading this
 * module costs nothing at start-up.
 */
import type {
  ContentBlockParam,
  ImageBlockParam,
  MessageCreateParamsStreaming,
  TextBlockParam,
  Tool,
  ToolChoice as WireToolChoice
} from "@anthropic-ai/sdk/resources/messages"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type { LLMRequest, ToolChoice } from "../../services/LLMClient.js"
import type { ContentBlock, ImageBlock, Message } from "../../streams/Message.js"
import { alternatingTurns, systemPrompt } from "../ProviderSupport.js"
import { requestBudget } from "../Reasoning.js"
import { completeToolCall, type StreamPart } from "../../streams/StreamPart.js"
import type { ToolDefinition } from "../../streams/ToolCall.js"
import { type StopReason, Usage } from "../../streams/Usage.js"

// ---------------------------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------------------------

export interface RequestDefaults {
  readonly model: string
  readonly maxTokens: number
  /** Prompt-cache breakpoints (default true). */
  readonly promptCaching?: boolean
}

const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"] as const
type ImageMediaType = (typeof IMAGE_TYPES)[number]
const isImageMediaType = (value: string): value is ImageMediaType =>
  (IMAGE_TYPES as ReadonlyArray<string>).includes(value)

const imageParam = (block: ImageBlock): ImageBlockParam | TextBlockParam => {
  const source = block.source
  if (source.type === "url") return { type: "image", source: { type: "url", url: source.url } }
  return isImageMediaType(source.mediaType)
    ? { type: "image", source: { type: "base64", media_type: source.mediaType, data: source.data } }
    : { type: "text", text: `[image of unsupported type ${source.mediaType} omitted]` }
}

/** One Sage block as Anthropic blocks (none when Anthropic cannot take it, e.g. empty text or unsigned reasoning). */
const blockParams = (block: ContentBlock): ReadonlyArray<ContentBlockParam> => {
  switch (block.type) {
    case "text":
      return block.text === "" ? [] : [{ type: "text", text: block.text }]
    case "image":
      return [imageParam(block)]
    case "tool_use":
      return [{ type: "tool_use", id: block.id, name: block.name, input: block.input ?? {} }]
    case "tool_result": {
      const content = block.content.flatMap(
        (c): ReadonlyArray<TextBlockParam | ImageBlockParam> =>
          c.type === "text" ? (c.text === "" ? [] : [{ type: "text", text: c.text }]) : [imageParam(c)]
      )
      return [
        {
          type: "tool_result",
          tool_use_id: block.toolUseId,
          ...(content.length === 0 ? {} : { content: [...content] }),
          ...(block.isError ? { is_error: true } : {})
        }
      ]
    }
    case "thinking":
      // Anthropic verifies the signature of every thinking block sent back; reasoning without one (from another
      // provider, or cut off before its signature) cannot be replayed, so it is left out.
      return block.signature === undefined
        ? []
        : [{ type: "thinking", thinking: block.thinking, signature: block.signature }]
    case "redacted_thinking":
      return [{ type: "redacted_thinking", data: block.data }]
  }
}

/** A user or assistant message of the request (what `MessageParam` allows there). */
export interface TurnParam {
  readonly role: "user" | "assistant"
  readonly content: Array<ContentBlockParam>
}

/**
 * Conversation messages as Anthropic messages: `system` messages are left for the system prompt, `tool` messages
 * become user messages of tool_result blocks, empty messages are dropped and consecutive same-role messages merged
 * (the API wants user and assistant turns to alternate).
 */
export const toMessageParams = (messages: ReadonlyArray<Message>): Array<TurnParam> =>
  alternatingTurns(messages, blockParams)

/** The system prompt: `request.system` followed by the text of every `system` message. */
export const toSystem = systemPrompt

// ---------------------------------------------------------------------------------------------------------------
// Prompt caching: at most 4 breakpoints per request; Sage sets 3 (`cache_control: {type: "ephemeral"}`, the
// 5-minute cache): the end of the system prompt, the last tool definition (tools come before the system prompt in
// the cache order, so this caches the tool list), and the last block of the latest message (the whole conversation
// so far, read back by the next step of the turn).

const EPHEMERAL = { type: "ephemeral" } as const

/** The block with a cache breakpoint, when Anthropic accepts one on it (not on thinking blocks). */
const cached = (block: ContentBlockParam): ContentBlockParam | undefined => {
  switch (block.type) {
    case "text":
    case "image":
    case "tool_use":
    case "tool_result":
      return { ...block, cache_control: EPHEMERAL }
    default:
      return undefined
  }
}

/** The messages with a breakpoint on the last cacheable block of the latest message. */
export const withMessageBreakpoint = (messages: ReadonlyArray<TurnParam>): Array<TurnParam> => {
  const last = messages[messages.length - 1]
  if (last === undefined) return []
  const content = [...last.content]
  for (let i = content.length - 1; i >= 0; i--) {
    const marked = cached(content[i]!)
    if (marked === undefined) continue
    content[i] = marked
    return [...messages.slice(0, -1), { ...last, content }]
  }
  return [...messages]
}

export const toToolParam = (tool: ToolDefinition): Tool => ({
  name: tool.name,
  description: tool.description,
  input_schema: { ...tool.inputSchema, type: "object" }
})

export const toToolChoice = (choice: ToolChoice): WireToolChoice => {
  switch (choice.type) {
    case "auto":
      return { type: "auto" }
    case "none":
      return { type: "none" }
    case "required":
      return { type: "any" }
    case "tool":
      return { type: "tool", name: choice.name }
  }
}

/**
 * The streaming request body. With a thinking budget (or an effort, mapped to one), `max_tokens` is raised above the
 * budget when it would not exceed it, and `temperature` is left out (the API accepts only the default with
 * thinking). `responseFormat` becomes `output_config.format` (native structured output); prompt-cache breakpoints
 * are set as described above.
 */
export const toRequestParams = (request: LLMRequest, defaults: RequestDefaults): MessageCreateParamsStreaming => {
  const system = toSystem(request)
  const tools = request.tools ?? []
  const maxTokens = request.maxTokens ?? defaults.maxTokens
  // A reasoning effort without a budget becomes one (`providers/Reasoning.ts`).
  const budget = requestBudget(request)
  const stop = request.stopSequences ?? []
  const cache = defaults.promptCaching !== false
  const toolParams = tools.map(toToolParam)
  const lastTool = toolParams[toolParams.length - 1]
  if (cache && lastTool !== undefined) toolParams[toolParams.length - 1] = { ...lastTool, cache_control: EPHEMERAL }
  const messages = toMessageParams(request.messages)
  return {
    model: request.model ?? defaults.model,
    max_tokens: budget !== undefined && maxTokens <= budget ? budget + maxTokens : maxTokens,
    messages: cache ? withMessageBreakpoint(messages) : messages,
    stream: true,
    ...(system === undefined
      ? {}
      : { system: cache ? [{ type: "text" as const, text: system, cache_control: EPHEMERAL }] : system }),
    ...(toolParams.length === 0 ? {} : { tools: toolParams }),
    ...(tools.length === 0 || request.toolChoice === undefined
      ? {}
      : { tool_choice: toToolChoice(request.toolChoice) }),
    ...(stop.length === 0 ? {} : { stop_sequences: [...stop] }),
    ...(request.temperature === undefined || budget !== undefined ? {} : { temperature: request.temperature }),
    ...(budget === undefined ? {} : { thinking: { type: "enabled", budget_tokens: budget } }),
    ...(request.responseFormat === undefined
      ? {}
      : { output_config: { format: { type: "json_schema", schema: { ...request.responseFormat.schema } } } })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Response stream
// ---------------------------------------------------------------------------------------------------------------

/** Anthropic's stop reason as Sage's; unknown ones are `other` (the raw value travels in the finish part). */
export const mapStopReason = (raw: string | null | undefined): StopReason => {
  switch (raw) {
    case "end_turn":
    case "tool_use":
    case "max_tokens":
    case "stop_sequence":
    case "refusal":
    case "pause_turn":
      return raw
    case "model_context_window_exceeded":
      return "max_tokens"
    default:
      return "other"
  }
}

const Count = Schema.optional(Schema.NullOr(Schema.Number))
const WireUsage = Schema.Struct({
  input_tokens: Count,
  output_tokens: Count,
  cache_read_input_tokens: Count,
  cache_creation_input_tokens: Count
})
type WireUsage = typeof WireUsage.Type

const Envelope = Schema.Struct({ type: Schema.String })
/** A typed object whose other fields are kept for the decoder of its type. */
const Open = Schema.StructWithRest(Schema.Struct({ type: Schema.String }), [
  Schema.Record(Schema.String, Schema.Unknown)
])
const MessageStart = Schema.Struct({
  message: Schema.Struct({
    id: Schema.optional(Schema.String),
    model: Schema.optional(Schema.String),
    usage: Schema.optional(Schema.NullOr(WireUsage))
  })
})
const BlockEvent = Schema.Struct({ index: Schema.Number })
const BlockStart = Schema.Struct({ index: Schema.Number, content_block: Open })
const TextStart = Schema.Struct({ text: Schema.optional(Schema.String) })
const ThinkingStart = Schema.Struct({
  thinking: Schema.optional(Schema.String),
  signature: Schema.optional(Schema.NullOr(Schema.String))
})
const RedactedStart = Schema.Struct({ data: Schema.String })
const ToolUseStart = Schema.Struct({ id: Schema.String, name: Schema.String, input: Schema.optional(Schema.Unknown) })
const BlockDelta = Schema.Struct({ index: Schema.Number, delta: Open })
const TextDelta = Schema.Struct({ text: Schema.String })
const ThinkingDelta = Schema.Struct({ thinking: Schema.String })
const SignatureDelta = Schema.Struct({ signature: Schema.String })
const InputJsonDelta = Schema.Struct({ partial_json: Schema.String })
const MessageDelta = Schema.Struct({
  delta: Schema.optional(Schema.Struct({ stop_reason: Schema.optional(Schema.NullOr(Schema.String)) })),
  usage: Schema.optional(Schema.NullOr(WireUsage))
})
const ErrorEvent = Schema.Struct({
  error: Schema.Struct({ type: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })
})

/** Why a stream could not be turned into parts. */
export type WireFailure =
  /** The data was not JSON, or an event lacked a field it must have. */
  | { readonly kind: "decode"; readonly message: string }
  /** An `error` event inside the stream. */
  | { readonly kind: "api"; readonly errorType: string; readonly message: string }
  /** The body ended before the response did. */
  | { readonly kind: "ended"; readonly message: string }

export type WireStep = Result.Result<ReadonlyArray<StreamPart>, WireFailure>

type OpenBlock =
  | { readonly kind: "text" }
  | { readonly kind: "thinking"; readonly startSignature: string; signed: boolean }
  | { readonly kind: "tool"; readonly id: string; readonly name: string; json: string; readonly initial: unknown }
  | { readonly kind: "other" }

class DecodeFailure {
  constructor(readonly message: string) {}
}

class ApiFailure {
  constructor(readonly failure: WireFailure) {}
}

const decoder = <A, I>(schema: Schema.Codec<A, I>, what: string) => {
  const decode = Schema.decodeUnknownResult(schema)
  return (value: unknown): A => {
    const result = decode(value)
    if (Result.isSuccess(result)) return result.success
    throw new DecodeFailure(`${what}: ${result.failure.message}`)
  }
}

const decodeEnvelope = decoder(Envelope, "event")
const decodeMessageStart = decoder(MessageStart, "message_start")
const decodeBlockEvent = decoder(BlockEvent, "content_block_stop")
const decodeBlockStart = decoder(BlockStart, "content_block_start")
const decodeTextStart = decoder(TextStart, "text block")
const decodeThinkingStart = decoder(ThinkingStart, "thinking block")
const decodeRedactedStart = decoder(RedactedStart, "redacted_thinking block")
const decodeToolUseStart = decoder(ToolUseStart, "tool_use block")
const decodeBlockDelta = decoder(BlockDelta, "content_block_delta")
const decodeTextDelta = decoder(TextDelta, "text_delta")
const decodeThinkingDelta = decoder(ThinkingDelta, "thinking_delta")
const decodeSignatureDelta = decoder(SignatureDelta, "signature_delta")
const decodeInputJsonDelta = decoder(InputJsonDelta, "input_json_delta")
const decodeMessageDelta = decoder(MessageDelta, "message_delta")
const decodeErrorEvent = decoder(ErrorEvent, "error")

const isEmptyObject = (value: unknown): boolean =>
  value === undefined ||
  value === null ||
  (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0)

/**
 * The state of one streamed response. Feed it every SSE event with `event`, then call `end` when the body ends.
 * Pings, unknown event types, unknown block types and unknown delta types are skipped (forward compatibility).
 */
export class AnthropicStreamDecoder {
  private readonly blocks = new Map<number, OpenBlock>()
  private toolCalls = 0
  private usage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }
  private finished = false
  private failed = false

  /** Whether the response reached its stop reason. */
  get isFinished(): boolean {
    return this.finished
  }

  event(name: string | null, data: string): WireStep {
    if (this.failed || name === "ping") return Result.succeed([])
    if (data.trim() === "") return Result.succeed([])
    let json: unknown
    try {
      json = JSON.parse(data)
    } catch (error) {
      return this.fail({
        kind: "decode",
        message: `event ${name ?? "(unnamed)"} has data that is not JSON (${error instanceof Error ? error.message : String(error)}): ${data.slice(0, 200)}`
      })
    }
    return this.parsed(name, json)
  }

  /** An event whose data the caller already parsed (the SDK's `Stream` yields parsed events). */
  parsed(name: string | null, json: unknown): WireStep {
    if (this.failed || name === "ping") return Result.succeed([])
    try {
      const type = name === "error" ? "error" : decodeEnvelope(json).type
      return Result.succeed(this.apply(type, json))
    } catch (error) {
      if (error instanceof ApiFailure) return this.fail(error.failure)
      if (error instanceof DecodeFailure) return this.fail({ kind: "decode", message: error.message })
      throw error
    }
  }

  /** The body ended: fine after the stop reason arrived, otherwise the response was cut short. */
  end(): WireStep {
    if (this.failed || this.finished) return Result.succeed([])
    return this.fail({ kind: "ended", message: "the response stream ended before the message was complete" })
  }

  private fail(failure: WireFailure): WireStep {
    this.failed = true
    return Result.fail(failure)
  }

  private usagePart(): StreamPart {
    return {
      type: "usage",
      usage: new Usage({
        inputTokens: this.usage.input,
        outputTokens: this.usage.output,
        cacheReadTokens: this.usage.cacheRead,
        cacheWriteTokens: this.usage.cacheWrite
      })
    }
  }

  private addUsage(usage: WireUsage | null | undefined): void {
    if (usage === null || usage === undefined) return
    this.usage = {
      input: usage.input_tokens ?? this.usage.input,
      output: usage.output_tokens ?? this.usage.output,
      cacheRead: usage.cache_read_input_tokens ?? this.usage.cacheRead,
      cacheWrite: usage.cache_creation_input_tokens ?? this.usage.cacheWrite
    }
  }

  private apply(type: string, json: unknown): ReadonlyArray<StreamPart> {
    switch (type) {
      case "message_start": {
        const { message } = decodeMessageStart(json)
        this.addUsage(message.usage)
        return [
          {
            type: "metadata",
            ...(message.id === undefined ? {} : { responseId: message.id }),
            ...(message.model === undefined ? {} : { model: message.model })
          },
          this.usagePart()
        ]
      }
      case "content_block_start":
        return this.blockStart(json)
      case "content_block_delta":
        return this.blockDelta(json)
      case "content_block_stop":
        return this.blockStop(decodeBlockEvent(json).index)
      case "message_delta": {
        const event = decodeMessageDelta(json)
        this.addUsage(event.usage)
        const raw = event.delta?.stop_reason
        if (raw === undefined || raw === null) return [this.usagePart()]
        this.finished = true
        return [this.usagePart(), { type: "finish", stopReason: mapStopReason(raw), raw }]
      }
      case "message_stop": {
        if (this.finished) return []
        this.finished = true
        return [{ type: "finish", stopReason: "other" }]
      }
      case "error": {
        const { error } = decodeErrorEvent(json)
        throw new ApiFailure({
          kind: "api",
          errorType: error.type ?? "api_error",
          message: error.message ?? "error event in the response stream"
        })
      }
      default:
        return []
    }
  }

  private blockStart(json: unknown): ReadonlyArray<StreamPart> {
    const { index, content_block: block } = decodeBlockStart(json)
    switch (block.type) {
      case "text": {
        const start = decodeTextStart(block)
        this.blocks.set(index, { kind: "text" })
        return start.text === undefined || start.text === "" ? [] : [{ type: "text-delta", text: start.text }]
      }
      case "thinking": {
        const start = decodeThinkingStart(block)
        this.blocks.set(index, { kind: "thinking", startSignature: start.signature ?? "", signed: false })
        return start.thinking === undefined || start.thinking === ""
          ? []
          : [{ type: "reasoning-delta", text: start.thinking }]
      }
      case "redacted_thinking": {
        const start = decodeRedactedStart(block)
        this.blocks.set(index, { kind: "other" })
        return [{ type: "reasoning-redacted", data: start.data }]
      }
      case "tool_use": {
        const start = decodeToolUseStart(block)
        this.blocks.set(index, { kind: "tool", id: start.id, name: start.name, json: "", initial: start.input })
        return [{ type: "tool-call-start", id: start.id, name: start.name, index: this.toolCalls++ }]
      }
      default:
        this.blocks.set(index, { kind: "other" })
        return []
    }
  }

  private blockDelta(json: unknown): ReadonlyArray<StreamPart> {
    const { index, delta } = decodeBlockDelta(json)
    const block = this.blocks.get(index)
    switch (delta.type) {
      case "text_delta": {
        const { text } = decodeTextDelta(delta)
        return text === "" ? [] : [{ type: "text-delta", text }]
      }
      case "thinking_delta": {
        const { thinking } = decodeThinkingDelta(delta)
        return thinking === "" ? [] : [{ type: "reasoning-delta", text: thinking }]
      }
      case "signature_delta": {
        const { signature } = decodeSignatureDelta(delta)
        if (block?.kind === "thinking") block.signed = true
        return [{ type: "reasoning-signature", signature }]
      }
      case "input_json_delta": {
        const { partial_json } = decodeInputJsonDelta(delta)
        if (block?.kind !== "tool" || partial_json === "") return []
        block.json += partial_json
        return [{ type: "tool-call-delta", id: block.id, argumentsDelta: partial_json }]
      }
      default:
        return []
    }
  }

  private blockStop(index: number): ReadonlyArray<StreamPart> {
    const block = this.blocks.get(index)
    this.blocks.delete(index)
    if (block?.kind === "tool") {
      // Streamed tool input always starts as `{}` and arrives in deltas; a block that carried its whole input in
      // content_block_start (no deltas) is taken as it is.
      const raw = block.json === "" && !isEmptyObject(block.initial) ? JSON.stringify(block.initial) : block.json
      return [completeToolCall(block.id, block.name, raw)]
    }
    if (block?.kind === "thinking" && !block.signed && block.startSignature !== "")
      return [{ type: "reasoning-signature", signature: block.startSignature }]
    return []
  }
}
