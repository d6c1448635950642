/**
 * Translation between Sage and the OpenAI Chat Completions wire format (also spoken by OpenAI-compatible
 * servers: OpenRouter, DeepSeek, Groq, vLLM, ...). Pure: no I/O and no SDK runtime import (types only).
 *
 * Decisions:
 * - Only choice index 0 is used; chunks of other choices (`n > 1`) are ignored.
 * - Usage: `inputTokens` EXCLUDES the cached part (`prompt_tokens - cached_tokens`) and `cacheReadTokens` is the
 *   cached part, so `Usage.totalTokens` does not count cached tokens twice (the Anthropic convention).
 *   `outputTokens` is `completion_tokens` (which includes reasoning); `reasoningTokens` is the breakdown.
 * - Refusals (`delta.refusal`) stream as text and turn the stop reason into `refusal` (raw reason kept).
 * - `finish_reason: "stop"` with tool calls (some compatible servers) becomes `tool_use`.
 * - Tool calls are completed when choice 0 reports its finish reason, or at stream end.
 * - The `finish` part is emitted at stream end (after the usage chunk); a stream that ends without a finish
 *   reason gets no `finish` part (the fold then defaults to `end_turn` / `tool_use`).
 * - Request: thinking blocks are dropped; tool-result images become a text placeholder in the `tool` message plus
 *   one `user` message with the images right after the tool messages (tool messages accept text only).
 *   A reasoning effort is sent as `reasoning_effort`; a thinking budget alone maps to one (< 4096 tokens `low`,
 *   < 16384 `medium`, else `high`). `cacheKey` is `prompt_cache_key`; `responseFormat` is
 *   `response_format: {type: "json_schema", ...}`, `strict` only when the schema meets strict mode's rules.
 */
import type {
  ChatCompletionContentPart,
  ChatCompletionContentPartImage,
  ChatCompletionContentPartText,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption
} from "openai/resources/chat/completions"
import type { ReasoningEffort } from "openai/resources/shared"
import type { ResponseFormat } from "../../services/LLMClient.js"
import type { LLMRequest, ToolChoice } from "../../services/LLMClient.js"
import type { ContentBlock, ImageSource, Message, ToolResultBlock } from "../../streams/Message.js"
import { completeToolCall, type StreamPart } from "../../streams/StreamPart.js"
import { type StopReason, Usage } from "../../streams/Usage.js"
import { effortFromBudget, requestEffort } from "../Reasoning.js"

// ---------------------------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------------------------

export interface RequestOptions {
  readonly model: string
  /** Which field carries `maxTokens` (default `max_completion_tokens`; older compatible servers want `max_tokens`). */
  readonly maxTokensParam?: "max_completion_tokens" | "max_tokens"
}

const imageUrl = (source: ImageSource): string =>
  source.type === "base64" ? `data:${source.mediaType};base64,${source.data}` : source.url

const imagePart = (source: ImageSource): ChatCompletionContentPartImage => ({
  type: "image_url",
  image_url: { url: imageUrl(source) }
})

const textOf = (blocks: ReadonlyArray<ContentBlock>): string =>
  blocks.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("")

export const IMAGE_PLACEHOLDER = "[image: sent in the next user message]"

/** One `tool` message per result, then (if any result had images) one `user` message carrying them. */
const toolResultMessages = (results: ReadonlyArray<ToolResultBlock>): Array<ChatCompletionMessageParam> => {
  const out: Array<ChatCompletionMessageParam> = []
  const images: Array<ChatCompletionContentPart> = []
  for (const result of results) {
    const text = result.content.map((c) => (c.type === "text" ? c.text : IMAGE_PLACEHOLDER)).join("\n")
    out.push({ role: "tool", tool_call_id: result.toolUseId, content: result.isError ? `[error] ${text}` : text })
    const own = result.content.flatMap((c) => (c.type === "image" ? [imagePart(c.source)] : []))
    if (own.length > 0) images.push({ type: "text", text: `Images returned by tool call ${result.toolUseId}:` }, ...own)
  }
  if (images.length > 0) out.push({ role: "user", content: images })
  return out
}

const userContent = (blocks: ReadonlyArray<ContentBlock>): string | Array<ChatCompletionContentPart> | undefined => {
  const parts: Array<ChatCompletionContentPartText | ChatCompletionContentPartImage> = []
  for (const b of blocks) {
    if (b.type === "text") parts.push({ type: "text", text: b.text })
    else if (b.type === "image") parts.push(imagePart(b.source))
  }
  if (parts.length === 0) return undefined
  return parts.every((p) => p.type === "text") ? textOf(blocks) : parts
}

const messageParams = (message: Message): Array<ChatCompletionMessageParam> => {
  switch (message.role) {
    case "system":
      return [{ role: "system", content: textOf(message.content) }]
    case "assistant": {
      const text = textOf(message.content)
      const calls: Array<ChatCompletionMessageFunctionToolCall> = message.content.flatMap((b) =>
        b.type === "tool_use"
          ? [
              {
                id: b.id,
                type: "function" as const,
                function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) }
              }
            ]
          : []
      )
      if (calls.length === 0) return [{ role: "assistant", content: text }]
      return [{ role: "assistant", content: text === "" ? null : text, tool_calls: calls }]
    }
    case "tool":
    case "user": {
      const results = message.content.filter((b): b is ToolResultBlock => b.type === "tool_result")
      const content = userContent(message.content)
      return [...toolResultMessages(results), ...(content === undefined ? [] : [{ role: "user" as const, content }])]
    }
  }
}

const toolChoice = (choice: ToolChoice): ChatCompletionToolChoiceOption =>
  choice.type === "tool" ? { type: "function", function: { name: choice.name } } : choice.type

/** The thinking budget as a reasoning effort. */
export const reasoningEffort = (budgetTokens: number): ReasoningEffort => effortFromBudget(budgetTokens)

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * Whether OpenAI's strict mode accepts `schema`: every object lists all its properties as required and has
 * `additionalProperties: false` (checked through nested properties, items, `anyOf` and `$defs`). A schema that
 * does not is sent with `strict: false` (the answer is still validated by the agent).
 */
export const isStrictSchema = (schema: unknown): boolean => {
  if (Array.isArray(schema)) return schema.every(isStrictSchema)
  if (!isRecord(schema)) return true
  const properties = schema.properties
  if (schema.type === "object" || isRecord(properties)) {
    if (schema.additionalProperties !== false) return false
    const keys = isRecord(properties) ? Object.keys(properties) : []
    const required = Array.isArray(schema.required) ? schema.required : []
    if (!keys.every((key) => required.includes(key))) return false
  }
  return Object.entries(schema).every(([key, value]) =>
    key === "properties" || key === "$defs" || key === "definitions"
      ? isRecord(value) && Object.values(value).every(isStrictSchema)
      : key === "items" || key === "anyOf" || key === "allOf" || key === "oneOf"
        ? isStrictSchema(value)
        : true
  )
}

export const toResponseFormat = (format: ResponseFormat) => ({
  type: "json_schema" as const,
  json_schema: { name: format.name, schema: { ...format.schema }, strict: isStrictSchema(format.schema) }
})

/** The streaming Chat Completions request for an `LLMRequest`. */
export const toChatRequest = (request: LLMRequest, options: RequestOptions): ChatCompletionCreateParamsStreaming => {
  const messages: Array<ChatCompletionMessageParam> = []
  if (request.system !== undefined && request.system !== "") messages.push({ role: "system", content: request.system })
  for (const message of request.messages) messages.push(...messageParams(message))
  const tools: Array<ChatCompletionTool> = (request.tools ?? []).map((t) => ({
    type: "function",
    function: { name: t.name, description: t.description, parameters: { ...t.inputSchema } }
  }))
  const effort = requestEffort(request)
  return {
    model: request.model ?? options.model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    ...(tools.length === 0 ? {} : { tools }),
    ...(tools.length > 0 && request.toolChoice !== undefined ? { tool_choice: toolChoice(request.toolChoice) } : {}),
    ...(request.maxTokens === undefined
      ? {}
      : { [options.maxTokensParam ?? "max_completion_tokens"]: request.maxTokens }),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.stopSequences === undefined || request.stopSequences.length === 0
      ? {}
      : { stop: [...request.stopSequences] }),
    ...(effort === undefined ? {} : { reasoning_effort: effort }),
    ...(request.cacheKey === undefined ? {} : { prompt_cache_key: request.cacheKey }),
    ...(request.responseFormat === undefined ? {} : { response_format: toResponseFormat(request.responseFormat) })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Response stream
// ---------------------------------------------------------------------------------------------------------------

/** The parts of a chunk Sage reads; every field is checked at runtime (compatible servers vary). */
export interface WireToolCallDelta {
  readonly index?: number | null
  readonly id?: string | null
  readonly function?: { readonly name?: string | null; readonly arguments?: string | null } | null
}
export interface WireDelta {
  readonly content?: string | null
  readonly refusal?: string | null
  readonly reasoning_content?: string | null
  readonly reasoning?: string | null
  readonly tool_calls?: ReadonlyArray<WireToolCallDelta> | null
}
export interface WireChoice {
  readonly index?: number | null
  readonly delta?: WireDelta | null
  readonly finish_reason?: string | null
}
export interface WireUsage {
  readonly prompt_tokens?: number | null
  readonly completion_tokens?: number | null
  readonly prompt_tokens_details?: { readonly cached_tokens?: number | null } | null
  readonly completion_tokens_details?: { readonly reasoning_tokens?: number | null } | null
  /** DeepSeek's name for cached prompt tokens. */
  readonly prompt_cache_hit_tokens?: number | null
}
export interface WireChunk {
  readonly id?: string | null
  readonly model?: string | null
  readonly choices?: ReadonlyArray<WireChoice | null> | null
  readonly usage?: WireUsage | null
}

const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0)
const str = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined)
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

export const toUsage = (usage: WireUsage): Usage => {
  const prompt = num(usage.prompt_tokens)
  const cached = num(usage.prompt_tokens_details?.cached_tokens) || num(usage.prompt_cache_hit_tokens)
  return new Usage({
    inputTokens: Math.max(0, prompt - cached),
    outputTokens: num(usage.completion_tokens),
    cacheReadTokens: cached,
    reasoningTokens: num(usage.completion_tokens_details?.reasoning_tokens)
  })
}

export const toStopReason = (raw: string): StopReason => {
  switch (raw) {
    case "stop":
      return "end_turn"
    case "tool_calls":
    case "function_call":
      return "tool_use"
    case "length":
      return "max_tokens"
    case "content_filter":
      return "content_filter"
    default:
      return "other"
  }
}

interface PendingCall {
  readonly id: string
  name: string
  args: string
  done: boolean
}

export interface ChunkMapper {
  readonly onChunk: (chunk: WireChunk) => ReadonlyArray<StreamPart>
  readonly onEnd: () => ReadonlyArray<StreamPart>
}

/** A stateful mapper for one response: chunks in, `StreamPart`s out. */
export const makeChunkMapper = (): ChunkMapper => {
  let metadataSent = false
  let finishRaw: string | undefined
  let refused = false
  const calls = new Map<number, PendingCall>()

  const completeCalls = (): Array<StreamPart> => {
    const out: Array<StreamPart> = []
    for (const index of [...calls.keys()].sort((a, b) => a - b)) {
      const call = calls.get(index)!
      if (call.done) continue
      call.done = true
      out.push(completeToolCall(call.id, call.name, call.args))
    }
    return out
  }

  const onToolCall = (delta: WireToolCallDelta, out: Array<StreamPart>): void => {
    const id = str(delta.id)
    const lastIndex = calls.size === 0 ? -1 : Math.max(...calls.keys())
    // A missing index (some compatible servers) means: a new call when it brings a new id, else the last call.
    const index =
      typeof delta.index === "number"
        ? delta.index
        : id !== undefined && ![...calls.values()].some((c) => c.id === id)
          ? lastIndex + 1
          : Math.max(lastIndex, 0)
    const name = str(delta.function?.name)
    let call = calls.get(index)
    if (call === undefined || call.done) {
      if (call?.done) return
      call = { id: id ?? `call_${index}`, name: name ?? "", args: "", done: false }
      calls.set(index, call)
      out.push({ type: "tool-call-start", id: call.id, name: call.name, index })
    } else if (call.name === "" && name !== undefined) {
      call.name = name
    }
    const args = str(delta.function?.arguments)
    if (args !== undefined) {
      call.args += args
      out.push({ type: "tool-call-delta", id: call.id, argumentsDelta: args })
    }
  }

  const onChoice = (choice: WireChoice, out: Array<StreamPart>): void => {
    const delta: WireDelta = isObject(choice.delta) ? choice.delta : {}
    const reasoning = str(delta.reasoning_content) ?? str(delta.reasoning)
    if (reasoning !== undefined) out.push({ type: "reasoning-delta", text: reasoning })
    const content = str(delta.content)
    if (content !== undefined) out.push({ type: "text-delta", text: content })
    const refusal = str(delta.refusal)
    if (refusal !== undefined) {
      refused = true
      out.push({ type: "text-delta", text: refusal })
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls) if (isObject(call)) onToolCall(call, out)
    }
    const finish = str(choice.finish_reason)
    if (finish !== undefined && finishRaw === undefined) {
      finishRaw = finish
      out.push(...completeCalls())
    }
  }

  return {
    onChunk: (chunk) => {
      const out: Array<StreamPart> = []
      if (!metadataSent) {
        const responseId = str(chunk.id)
        const model = str(chunk.model)
        if (responseId !== undefined || model !== undefined) {
          metadataSent = true
          out.push({
            type: "metadata",
            ...(responseId === undefined ? {} : { responseId }),
            ...(model === undefined ? {} : { model })
          })
        }
      }
      if (Array.isArray(chunk.choices)) {
        for (const choice of chunk.choices) {
          if (isObject(choice) && (choice.index ?? 0) === 0) onChoice(choice, out)
        }
      }
      if (isObject(chunk.usage)) out.push({ type: "usage", usage: toUsage(chunk.usage) })
      return out
    },
    onEnd: () => {
      const hadCalls = calls.size > 0
      const out = completeCalls()
      if (finishRaw !== undefined) {
        const mapped = toStopReason(finishRaw)
        const stopReason: StopReason = refused ? "refusal" : mapped === "end_turn" && hadCalls ? "tool_use" : mapped
        out.push({ type: "finish", stopReason, raw: finishRaw })
      } else if (refused) {
        out.push({ type: "finish", stopReason: "refusal" })
      }
      return out
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/** What an error body (`{ error: {...} }` or the SDK's `APIError.error`) tells us. */
export interface WireErrorInfo {
  /** A numeric `code` (OpenRouter puts the HTTP status there). */
  readonly status?: number
  /** A string `code`, else `type` (`context_length_exceeded`, `rate_limit_exceeded`, `server_error`, ...). */
  readonly errorType?: string
  readonly message?: string
}

export const errorInfo = (error: unknown): WireErrorInfo => {
  if (!isObject(error)) return {}
  const code = error.code
  const type = str(error.type)
  const message = typeof error.message === "string" ? error.message : undefined
  const errorType = str(code) ?? type
  return {
    ...(typeof code === "number" && Number.isInteger(code) && code >= 100 && code < 600 ? { status: code } : {}),
    ...(errorType === undefined ? {} : { errorType }),
    ...(message === undefined ? {} : { message })
  }
}

/** The innermost error message of a cause chain (`fetch failed` -> `connect ECONNREFUSED ...`). */
export const rootMessage = (error: unknown): string => {
  const messages: Array<string> = []
  let current: unknown = error
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current.message !== "") messages.push(current.message)
    current = current.cause
  }
  return messages.length === 0 ? String(error) : messages[messages.length - 1]!
}
