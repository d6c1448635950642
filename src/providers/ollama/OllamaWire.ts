/**
 * Translation between Sage and Ollama's native `/api/chat` (NDJSON streaming). Pure: no I/O, SDK types only.
 *
 * Decisions:
 * - Tool calls arrive whole (arguments as an object, no id): each gets `ollama_<n>` (prefix + response-local index
 *   + a per-response suffix) and one `tool-call-delta` with the JSON of its arguments. Ids are not sent back: tool
 *   results are `tool` messages with `tool_name` (matched by name and order).
 * - `message.thinking` streams as reasoning; thinking is not sent back (Ollama does not need it). A requested budget
 *   or effort sends `think`: the effort level for gpt-oss (minimal -> low), `true` for other models.
 * - Usage: `prompt_eval_count` -> input, `eval_count` -> output, from the final (`done`) chunk.
 * - `done_reason`: stop -> end_turn (tool_use when calls were made), length -> max_tokens, others -> other.
 * - Images: base64 sources go in the message's `images`; URL sources cannot be sent (Ollama takes bytes only) and
 *   become a text note.
 */
import type { ChatRequest, Message as OllamaMessage, Tool } from "ollama"
import type { LLMRequest, ReasoningEffort } from "../../services/LLMClient.js"
import type { ContentBlock, Message } from "../../streams/Message.js"
import { completeToolCall, type StreamPart } from "../../streams/StreamPart.js"
import { type StopReason, Usage } from "../../streams/Usage.js"
import { requestEffort } from "../Reasoning.js"

export interface RequestOptions {
  readonly model: string
}

const textOf = (blocks: ReadonlyArray<ContentBlock>): string =>
  blocks.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("")

const imagesOf = (blocks: ReadonlyArray<ContentBlock>): { readonly images: Array<string>; readonly notes: string } => {
  const images: Array<string> = []
  const notes: Array<string> = []
  for (const b of blocks) {
    if (b.type !== "image") continue
    if (b.source.type === "base64") images.push(b.source.data)
    else notes.push(`[image not sent: ${b.source.url} (Ollama takes image bytes only)]`)
  }
  return { images, notes: notes.join("\n") }
}

const join = (...texts: ReadonlyArray<string>): string => texts.filter((t) => t !== "").join("\n")

const messageParams = (message: Message, callNames: ReadonlyMap<string, string>): Array<OllamaMessage> => {
  switch (message.role) {
    case "system":
      return [{ role: "system", content: textOf(message.content) }]
    case "assistant": {
      const calls = message.content.flatMap((b) =>
        b.type === "tool_use"
          ? [
              {
                function: {
                  name: b.name,
                  arguments:
                    typeof b.input === "object" && b.input !== null && !Array.isArray(b.input) ? { ...b.input } : {}
                }
              }
            ]
          : []
      )
      return [
        { role: "assistant", content: textOf(message.content), ...(calls.length === 0 ? {} : { tool_calls: calls }) }
      ]
    }
    case "tool":
    case "user": {
      const out: Array<OllamaMessage> = []
      for (const b of message.content) {
        if (b.type !== "tool_result") continue
        const text = b.content.flatMap((c) => (c.type === "text" ? [c.text] : [])).join("\n")
        const { images, notes } = imagesOf(b.content)
        out.push({
          role: "tool",
          tool_name: callNames.get(b.toolUseId) ?? b.toolUseId,
          content: join(b.isError ? `[error] ${text}` : text, notes),
          ...(images.length === 0 ? {} : { images })
        })
      }
      const text = textOf(message.content)
      const { images, notes } = imagesOf(message.content)
      if (text !== "" || images.length > 0 || notes !== "")
        out.push({ role: "user", content: join(text, notes), ...(images.length === 0 ? {} : { images }) })
      return out
    }
  }
}

/** gpt-oss takes a level; other thinking models take `true` (a level means nothing to them). */
const think = (effort: ReasoningEffort, model: string): boolean | "low" | "medium" | "high" =>
  /gpt-oss/i.test(model) ? (effort === "minimal" ? "low" : effort) : true

/** The streaming `/api/chat` request for an `LLMRequest`. */
export const toChatRequest = (request: LLMRequest, options: RequestOptions): ChatRequest & { stream: true } => {
  const callNames = new Map<string, string>()
  for (const m of request.messages) for (const b of m.content) if (b.type === "tool_use") callNames.set(b.id, b.name)
  const messages: Array<OllamaMessage> = []
  if (request.system !== undefined && request.system !== "") messages.push({ role: "system", content: request.system })
  for (const m of request.messages) messages.push(...messageParams(m, callNames))
  const tools: Array<Tool> = (request.tools ?? []).map((t) => ({
    type: "function",
    function: { name: t.name, description: t.description, parameters: { ...t.inputSchema } }
  }))
  const effort = requestEffort(request)
  const model = request.model ?? options.model
  const opts = {
    ...(request.maxTokens === undefined ? {} : { num_predict: request.maxTokens }),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.stopSequences === undefined || request.stopSequences.length === 0
      ? {}
      : { stop: [...request.stopSequences] })
  }
  return {
    model,
    messages,
    stream: true,
    ...(tools.length === 0 ? {} : { tools }),
    ...(effort === undefined ? {} : { think: think(effort, model) }),
    ...(request.responseFormat === undefined ? {} : { format: { ...request.responseFormat.schema } }),
    ...(Object.keys(opts).length === 0 ? {} : { options: opts })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Response stream
// ---------------------------------------------------------------------------------------------------------------

export interface WireChunk {
  readonly model?: string
  readonly message?: {
    readonly content?: string
    readonly thinking?: string
    readonly tool_calls?: ReadonlyArray<{
      readonly function?: { readonly name?: string; readonly arguments?: unknown }
    }>
  }
  readonly done?: boolean
  readonly done_reason?: string
  readonly prompt_eval_count?: number
  readonly eval_count?: number
}

const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0)
const str = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined)

export const toStopReason = (raw: string): StopReason => {
  switch (raw) {
    case "stop":
      return "end_turn"
    case "length":
      return "max_tokens"
    default:
      return "other"
  }
}

export interface ChunkMapper {
  readonly onChunk: (chunk: WireChunk) => ReadonlyArray<StreamPart>
  readonly onEnd: () => ReadonlyArray<StreamPart>
}

/** Prefix of the tool-call ids Sage makes up for Ollama calls. */
export const ID_PREFIX = "ollama_"

/** A stateful mapper for one response; `suffix` makes its call ids unique across responses. */
export const makeChunkMapper = (suffix: string): ChunkMapper => {
  let metadataSent = false
  let calls = 0
  let finish: StreamPart | undefined
  let usage: StreamPart | undefined
  return {
    onChunk: (chunk) => {
      const out: Array<StreamPart> = []
      const model = str(chunk.model)
      if (!metadataSent && model !== undefined) {
        metadataSent = true
        out.push({ type: "metadata", model })
      }
      const message = chunk.message
      const thinking = str(message?.thinking)
      if (thinking !== undefined) out.push({ type: "reasoning-delta", text: thinking })
      const content = str(message?.content)
      if (content !== undefined) out.push({ type: "text-delta", text: content })
      for (const call of Array.isArray(message?.tool_calls) ? (message?.tool_calls ?? []) : []) {
        const name = str(call.function?.name)
        if (name === undefined) continue
        const id = `${ID_PREFIX}${suffix}_${calls}`
        const args = call.function?.arguments
        const raw = typeof args === "string" ? args : JSON.stringify(args ?? {})
        out.push(
          { type: "tool-call-start", id, name, index: calls },
          { type: "tool-call-delta", id, argumentsDelta: raw },
          completeToolCall(id, name, raw)
        )
        calls++
      }
      if (chunk.done === true) {
        usage = {
          type: "usage",
          usage: new Usage({ inputTokens: num(chunk.prompt_eval_count), outputTokens: num(chunk.eval_count) })
        }
        const raw = str(chunk.done_reason) ?? "stop"
        const mapped = toStopReason(raw)
        finish = { type: "finish", stopReason: mapped === "end_turn" && calls > 0 ? "tool_use" : mapped, raw }
      }
      return out
    },
    onEnd: () => [...(usage === undefined ? [] : [usage]), ...(finish === undefined ? [] : [finish])]
  }
}
