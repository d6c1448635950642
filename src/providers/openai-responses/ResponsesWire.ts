/**
 * Translation between Sage and the OpenAI Responses API (`POST /responses`, streamed). Pure: no I/O and no SDK runtime
 * import (types only).
 *
 * Decisions:
 * - Stateless: every request is `store: false` and carries the whole conversation as input items. Reasoning items come
 *   back with `encrypted_content` (asked for with `include: ["reasoning.encrypted_content"]` for reasoning models or
 *   when an effort is set) and are kept in the transcript as a `thinking` block whose `openaiReasoning` holds the item
 *   id, the encrypted content and the summary parts; the next request sends that item back exactly, before the
 *   assistant text and function calls that followed it (a reasoning item that ends an assistant message, with no
 *   output after it, is left out: the API rejects one without its following item; so is one without encrypted content,
 *   which the API would look up by id in its store). Reasoning from other providers (signed or redacted) is dropped.
 * - Reasoning summaries stream as `reasoning-delta` parts; summary parts after the first are separated by a blank line.
 *   Raw reasoning text (`response.reasoning_text.delta`, open-weight models) streams the same way.
 * - Function calls: Sage's tool-call id is the `call_id` (what `function_call_output` answers), not the item id. A call
 *   starts at `output_item.added`, streams its argument deltas, and completes at `output_item.done` with the item's
 *   final `arguments` (the accumulated deltas when the item has none). Parallel calls are told apart by item id.
 * - Usage: `inputTokens` EXCLUDES the cached part (as for Chat Completions); `outputTokens` includes reasoning tokens,
 *   `reasoningTokens` is the breakdown.
 * - Stop reasons: `response.completed` is `end_turn` (or `tool_use` when calls were made); `response.incomplete` maps
 *   `max_output_tokens` to `max_tokens` and `content_filter` to `content_filter`. Refusals stream as text and stop with
 *   `refusal`.
 * - Failures inside the stream (`response.failed`, a flat `error` event) are returned as the error object, for the
 *   provider to map like an HTTP error; a body that ends without a terminal event is a dropped connection.
 * - Request: `request.system` is `instructions`; system messages stay in place as `system` input messages. Tool
 *   results are `function_call_output` items (images as `input_image` parts of the output; errors prefixed `[error]`).
 *   Stop sequences are not supported by the API and are not sent. Function tools are sent with `strict: false`;
 *   `responseFormat` is `text.format = {type: "json_schema", ...}`, strict when the schema meets strict mode's rules.
 */
import type {
  EasyInputMessage,
  FunctionTool,
  ResponseCreateParamsStreaming,
  ResponseFunctionCallOutputItem,
  ResponseInputItem,
  ResponseInputMessageContentList,
  ToolChoiceFunction,
  ToolChoiceOptions
} from "openai/resources/responses/responses"
import type { LLMRequest, ToolChoice } from "../../services/LLMClient.js"
import type { ContentBlock, ImageSource, Message } from "../../streams/Message.js"
import { completeToolCall, type StreamPart } from "../../streams/StreamPart.js"
import { type StopReason, Usage } from "../../streams/Usage.js"
import { isStrictSchema } from "../openai/OpenAIWire.js"
import { requestEffort } from "../Reasoning.js"

// ---------------------------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------------------------

export interface RequestOptions {
  readonly model: string
}

/** Models that reason (and so return reasoning items worth keeping). */
export const isReasoningModel = (model: string): boolean => /^(o\d|gpt-5|gpt-oss|codex)/i.test(model)

const imageUrl = (source: ImageSource): string =>
  source.type === "base64" ? `data:${source.mediaType};base64,${source.data}` : source.url

const textOf = (blocks: ReadonlyArray<ContentBlock>): string =>
  blocks.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("")

/** A user message's text and images as an input message (none when it has neither). */
const userInput = (blocks: ReadonlyArray<ContentBlock>): EasyInputMessage | undefined => {
  const parts: ResponseInputMessageContentList = []
  for (const b of blocks) {
    if (b.type === "text" && b.text !== "") parts.push({ type: "input_text", text: b.text })
    else if (b.type === "image") parts.push({ type: "input_image", image_url: imageUrl(b.source), detail: "auto" })
  }
  if (parts.length === 0) return undefined
  return { role: "user", content: parts.every((p) => p.type === "input_text") ? textOf(blocks) : parts }
}

const messageItems = (message: Message): Array<ResponseInputItem> => {
  switch (message.role) {
    case "system":
      return [{ role: "system", content: textOf(message.content) }]
    case "assistant": {
      const out: Array<ResponseInputItem> = []
      let text = ""
      const flushText = () => {
        if (text !== "") out.push({ role: "assistant", content: text })
        text = ""
      }
      for (const block of message.content) {
        switch (block.type) {
          case "text":
            text += block.text
            break
          case "thinking": {
            // Without its encrypted content (`store: false`) the API would look the id up and fail: not sent.
            const item = block.openaiReasoning
            if (item?.encryptedContent === undefined) break
            flushText()
            out.push({
              type: "reasoning",
              id: item.id,
              summary: item.summary.map((s) => ({ type: "summary_text" as const, text: s })),
              encrypted_content: item.encryptedContent
            })
            break
          }
          case "tool_use":
            flushText()
            out.push({
              type: "function_call",
              call_id: block.id,
              name: block.name,
              arguments: JSON.stringify(block.input ?? {})
            })
            break
          default:
            break
        }
      }
      flushText()
      // A reasoning item must be followed by the output it led to; one that ends the message (the response was cut
      // off while reasoning, or interrupted) is not sent.
      while (out.at(-1)?.type === "reasoning") out.pop()
      return out
    }
    case "tool":
    case "user": {
      const out: Array<ResponseInputItem> = []
      for (const block of message.content) {
        if (block.type !== "tool_result") continue
        const hasImage = block.content.some((c) => c.type === "image")
        const prefix = block.isError ? "[error] " : ""
        if (!hasImage) {
          const text = block.content.map((c) => (c.type === "text" ? c.text : "")).join("\n")
          out.push({ type: "function_call_output", call_id: block.toolUseId, output: `${prefix}${text}` })
          continue
        }
        const output: Array<ResponseFunctionCallOutputItem> = []
        if (prefix !== "") output.push({ type: "input_text", text: "[error]" })
        for (const c of block.content) {
          output.push(
            c.type === "text"
              ? { type: "input_text", text: c.text }
              : { type: "input_image", image_url: imageUrl(c.source), detail: "auto" }
          )
        }
        out.push({ type: "function_call_output", call_id: block.toolUseId, output })
      }
      const input = userInput(message.content)
      if (input !== undefined) out.push(input)
      return out
    }
  }
}

/** Every message of the conversation as input items, in order. */
export const toInputItems = (messages: ReadonlyArray<Message>): Array<ResponseInputItem> =>
  messages.flatMap(messageItems)

const toolChoice = (choice: ToolChoice): ToolChoiceOptions | ToolChoiceFunction =>
  choice.type === "tool" ? { type: "function", name: choice.name } : choice.type

/** The streaming Responses request for an `LLMRequest`. */
export const toResponsesRequest = (request: LLMRequest, options: RequestOptions): ResponseCreateParamsStreaming => {
  const model = request.model ?? options.model
  const tools: Array<FunctionTool> = (request.tools ?? []).map((t) => ({
    type: "function",
    name: t.name,
    description: t.description,
    parameters: { ...t.inputSchema },
    strict: false
  }))
  const effort = requestEffort(request)
  const keepReasoning = effort !== undefined || isReasoningModel(model)
  return {
    model,
    input: toInputItems(request.messages),
    stream: true,
    store: false,
    ...(request.system === undefined || request.system === "" ? {} : { instructions: request.system }),
    ...(tools.length === 0 ? {} : { tools }),
    ...(tools.length > 0 && request.toolChoice !== undefined ? { tool_choice: toolChoice(request.toolChoice) } : {}),
    ...(request.maxTokens === undefined ? {} : { max_output_tokens: request.maxTokens }),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(effort === undefined ? {} : { reasoning: { effort, summary: "auto" as const } }),
    ...(keepReasoning ? { include: ["reasoning.encrypted_content" as const] } : {}),
    ...(request.cacheKey === undefined ? {} : { prompt_cache_key: request.cacheKey }),
    ...(request.responseFormat === undefined
      ? {}
      : {
          text: {
            format: {
              type: "json_schema" as const,
              name: request.responseFormat.name,
              schema: { ...request.responseFormat.schema },
              strict: isStrictSchema(request.responseFormat.schema)
            }
          }
        })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Response stream
// ---------------------------------------------------------------------------------------------------------------

const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0)
const str = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined)
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null
const field = (value: unknown, key: string): unknown => (isObject(value) ? value[key] : undefined)

/** The `usage` object of a response. */
export const toUsage = (usage: unknown): Usage => {
  const input = num(field(usage, "input_tokens"))
  const cached = num(field(field(usage, "input_tokens_details"), "cached_tokens"))
  return new Usage({
    inputTokens: Math.max(0, input - cached),
    outputTokens: num(field(usage, "output_tokens")),
    cacheReadTokens: cached,
    reasoningTokens: num(field(field(usage, "output_tokens_details"), "reasoning_tokens"))
  })
}

/** An error the stream reported (`response.failed`, an `error` event), as the API's error object. */
export interface StreamError {
  readonly code?: string
  readonly type?: string
  readonly message: string
}

export type MapResult =
  | { readonly _tag: "parts"; readonly parts: ReadonlyArray<StreamPart> }
  | { readonly _tag: "error"; readonly error: StreamError }
  /** The body ended before a terminal event (`response.completed` / `incomplete` / `failed`). */
  | { readonly _tag: "ended" }

interface PendingCall {
  readonly id: string
  readonly name: string
  args: string
  done: boolean
}

interface PendingReasoning {
  /** Summary index of the last delta seen (-1 before any). */
  lastSummary: number
  streamed: boolean
}

export interface EventMapper {
  readonly onEvent: (event: unknown) => MapResult
  /** At the end of the body: the stream must have ended with a terminal event. */
  readonly onEnd: () => MapResult
}

const parts = (ps: ReadonlyArray<StreamPart>): MapResult => ({ _tag: "parts", parts: ps })
const NONE: MapResult = parts([])

const streamError = (error: unknown, fallback: string): StreamError => {
  const code = str(field(error, "code"))
  const type = str(field(error, "type"))
  const message = str(field(error, "message")) ?? fallback
  return { ...(code === undefined ? {} : { code }), ...(type === undefined ? {} : { type }), message }
}

const summaryTexts = (item: unknown): Array<string> => {
  const summary = field(item, "summary")
  if (!Array.isArray(summary)) return []
  return summary.flatMap((s) => {
    const text = field(s, "text")
    return typeof text === "string" ? [text] : []
  })
}

const messageText = (item: unknown): string => {
  const content = field(item, "content")
  if (!Array.isArray(content)) return ""
  return content
    .flatMap((c) => {
      const text = field(c, "text")
      const refusal = field(c, "refusal")
      return typeof text === "string" ? [text] : typeof refusal === "string" ? [refusal] : []
    })
    .join("")
}

/** A stateful mapper for one response: decoded SSE events in, `StreamPart`s (or the stream's failure) out. */
export const makeEventMapper = (): EventMapper => {
  let metadataSent = false
  let finished = false
  let refused = false
  const calls = new Map<string, PendingCall>()
  const reasoning = new Map<string, PendingReasoning>()
  /** Message items whose text streamed as deltas. */
  const streamedMessages = new Set<string>()

  const metadata = (response: unknown, out: Array<StreamPart>): void => {
    if (metadataSent) return
    const responseId = str(field(response, "id"))
    const model = str(field(response, "model"))
    if (responseId === undefined && model === undefined) return
    metadataSent = true
    out.push({
      type: "metadata",
      ...(responseId === undefined ? {} : { responseId }),
      ...(model === undefined ? {} : { model })
    })
  }

  const startCall = (item: unknown, out: Array<StreamPart>): PendingCall | undefined => {
    const itemId = str(field(item, "id")) ?? str(field(item, "call_id"))
    if (itemId === undefined) return undefined
    const existing = calls.get(itemId)
    if (existing !== undefined) return existing
    const call: PendingCall = {
      id: str(field(item, "call_id")) ?? itemId,
      name: str(field(item, "name")) ?? "",
      args: "",
      done: false
    }
    out.push({ type: "tool-call-start", id: call.id, name: call.name, index: calls.size })
    calls.set(itemId, call)
    return call
  }

  const reasoningOf = (itemId: string): PendingReasoning => {
    let r = reasoning.get(itemId)
    if (r === undefined) {
      r = { lastSummary: -1, streamed: false }
      reasoning.set(itemId, r)
    }
    return r
  }

  const finish = (response: unknown, out: Array<StreamPart>, incomplete: boolean): void => {
    finished = true
    metadata(response, out)
    const usage = field(response, "usage")
    if (isObject(usage)) out.push({ type: "usage", usage: toUsage(usage) })
    if (incomplete) {
      const reason = str(field(field(response, "incomplete_details"), "reason")) ?? "incomplete"
      const stopReason: StopReason =
        reason === "max_output_tokens" ? "max_tokens" : reason === "content_filter" ? "content_filter" : "other"
      out.push({ type: "finish", stopReason, raw: reason })
      return
    }
    const stopReason: StopReason = refused ? "refusal" : calls.size > 0 ? "tool_use" : "end_turn"
    out.push({ type: "finish", stopReason, raw: str(field(response, "status")) ?? "completed" })
  }

  const onEvent = (event: unknown): MapResult => {
    if (finished) return NONE
    const type = str(field(event, "type"))
    const out: Array<StreamPart> = []
    switch (type) {
      case "response.created":
      case "response.in_progress":
      case "response.queued":
        metadata(field(event, "response"), out)
        return parts(out)
      case "response.output_item.added": {
        const item = field(event, "item")
        const itemType = field(item, "type")
        if (itemType === "function_call") startCall(item, out)
        else if (itemType === "reasoning") {
          const id = str(field(item, "id"))
          if (id !== undefined) reasoningOf(id)
        }
        return parts(out)
      }
      case "response.output_text.delta":
      case "response.refusal.delta": {
        const delta = str(field(event, "delta"))
        const itemId = str(field(event, "item_id"))
        if (itemId !== undefined) streamedMessages.add(itemId)
        if (type === "response.refusal.delta") refused = true
        return parts(delta === undefined ? [] : [{ type: "text-delta", text: delta }])
      }
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_text.delta": {
        const delta = str(field(event, "delta"))
        if (delta === undefined) return NONE
        const itemId = str(field(event, "item_id"))
        if (itemId === undefined) return parts([{ type: "reasoning-delta", text: delta }])
        const r = reasoningOf(itemId)
        const index = num(field(event, type === "response.reasoning_text.delta" ? "content_index" : "summary_index"))
        const separator = r.streamed && index !== r.lastSummary ? "\n\n" : ""
        r.streamed = true
        r.lastSummary = index
        return parts([{ type: "reasoning-delta", text: separator + delta }])
      }
      case "response.function_call_arguments.delta": {
        const itemId = str(field(event, "item_id"))
        const delta = str(field(event, "delta"))
        const call = itemId === undefined ? undefined : calls.get(itemId)
        if (call === undefined || call.done || delta === undefined) return NONE
        call.args += delta
        return parts([{ type: "tool-call-delta", id: call.id, argumentsDelta: delta }])
      }
      case "response.output_item.done": {
        const item = field(event, "item")
        const itemType = field(item, "type")
        const itemId = str(field(item, "id"))
        if (itemType === "function_call") {
          const call = startCall(item, out)
          if (call === undefined || call.done) return parts(out)
          call.done = true
          const final = field(item, "arguments")
          const args = typeof final === "string" && final !== "" ? final : call.args
          if (call.args === "" && args !== "") out.push({ type: "tool-call-delta", id: call.id, argumentsDelta: args })
          out.push(completeToolCall(call.id, call.name, args))
        } else if (itemType === "reasoning" && itemId !== undefined) {
          const summary = summaryTexts(item)
          if (!reasoningOf(itemId).streamed && summary.length > 0)
            out.push({ type: "reasoning-delta", text: summary.join("\n\n") })
          const encryptedContent = str(field(item, "encrypted_content"))
          out.push({
            type: "reasoning-item",
            id: itemId,
            ...(encryptedContent === undefined ? {} : { encryptedContent }),
            summary
          })
        } else if (itemType === "message" && (itemId === undefined || !streamedMessages.has(itemId))) {
          const text = messageText(item)
          if (text !== "") out.push({ type: "text-delta", text })
        }
        return parts(out)
      }
      case "response.completed":
        finish(field(event, "response"), out, false)
        return parts(out)
      case "response.incomplete":
        finish(field(event, "response"), out, true)
        return parts(out)
      case "response.failed": {
        finished = true
        const response = field(event, "response")
        return { _tag: "error", error: streamError(field(response, "error"), "the response failed") }
      }
      case "error": {
        finished = true
        const nested = field(event, "error")
        return { _tag: "error", error: streamError(isObject(nested) ? nested : event, "the stream reported an error") }
      }
      default:
        return NONE
    }
  }

  return {
    onEvent,
    onEnd: () => (finished ? NONE : { _tag: "ended" })
  }
}
