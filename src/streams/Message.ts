import * as Schema from "effect/Schema"
import { typed } from "./Tagged.js"

/**
 * `signature`: an opaque provider token that arrived with this block (Gemini `thoughtSignature`) and must be sent back
 * unchanged on the same block; other providers ignore it.
 */
export const TextBlock = typed("text", { text: Schema.String, signature: Schema.optional(Schema.String) })
export type TextBlock = typeof TextBlock.Type

export const ImageSource = Schema.Union([
  typed("base64", { mediaType: Schema.String, data: Schema.String }),
  typed("url", { url: Schema.String })
])
export type ImageSource = typeof ImageSource.Type

export const ImageBlock = typed("image", { source: ImageSource })
export type ImageBlock = typeof ImageBlock.Type

/** A tool call as it appears in an assistant message; `signature` as on `TextBlock` (Gemini `thoughtSignature`). */
export const ToolUseBlock = typed("tool_use", {
  id: Schema.String,
  name: Schema.String,
  input: Schema.Unknown,
  signature: Schema.optional(Schema.String)
})
export type ToolUseBlock = typeof ToolUseBlock.Type

/**
 * An OpenAI Responses API reasoning item: its id, encrypted content (with `store: false`) and summary parts, sent back
 * unchanged to that API only. It is never a `signature`, so providers that replay signed thinking never see it.
 */
export const OpenAIReasoningItem = Schema.Struct({
  id: Schema.String,
  encryptedContent: Schema.optional(Schema.String),
  summary: Schema.Array(Schema.String)
})
export type OpenAIReasoningItem = typeof OpenAIReasoningItem.Type

/**
 * Model reasoning; `signature` must be sent back unchanged on the next request (Anthropic); `openaiReasoning` is the
 * OpenAI Responses reasoning item this text summarizes.
 */
export const ThinkingBlock = typed("thinking", {
  thinking: Schema.String,
  signature: Schema.optional(Schema.String),
  openaiReasoning: Schema.optional(OpenAIReasoningItem)
})
export type ThinkingBlock = typeof ThinkingBlock.Type

/** Encrypted reasoning the provider would not show; kept opaque for the round trip. */
export const RedactedThinkingBlock = typed("redacted_thinking", { data: Schema.String })
export type RedactedThinkingBlock = typeof RedactedThinkingBlock.Type

/** The answer to one tool_use, sent back to the model. */
export const ToolResultBlock = typed("tool_result", {
  toolUseId: Schema.String,
  content: Schema.Array(Schema.Union([TextBlock, ImageBlock])),
  isError: Schema.Boolean
})
export type ToolResultBlock = typeof ToolResultBlock.Type

export const ContentBlock = Schema.Union([
  TextBlock,
  ImageBlock,
  ToolUseBlock,
  ToolResultBlock,
  ThinkingBlock,
  RedactedThinkingBlock
])
export type ContentBlock = typeof ContentBlock.Type

export const Role = Schema.Literals(["system", "user", "assistant", "tool"])
export type Role = typeof Role.Type

/** One conversation message. `tool` messages hold the tool_result blocks answering the previous assistant turn. */
export const Message = Schema.Struct({
  role: Role,
  content: Schema.Array(ContentBlock)
})
export type Message = typeof Message.Type

export const text = (value: string): TextBlock => ({ type: "text", text: value })

export const userMessage = (value: string): Message => ({ role: "user", content: [text(value)] })

/** The concatenated text blocks of a message. */
export const messageText = (message: Message): string =>
  message.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("")
