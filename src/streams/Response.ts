/**
 * Folding a model stream into a complete response. Pure: used by `LLMClient.generate` and by the agent loop
 * to rebuild the assistant message (text, reasoning with signatures, tool calls) from the parts it streamed.
 */
import type { ContentBlock, Message, OpenAIReasoningItem, ThinkingBlock } from "./Message.js"
import type { StreamPart } from "./StreamPart.js"
import type { ToolCall } from "./ToolCall.js"
import { type StopReason, Usage } from "./Usage.js"

/** A tool call as the model sent it, with the argument parse error if its JSON was bad. */
export interface ResponseToolCall extends ToolCall {
  readonly parseError?: string
}

export interface LLMResponse {
  readonly message: Message
  readonly toolCalls: ReadonlyArray<ResponseToolCall>
  readonly usage: Usage
  readonly stopReason: StopReason
  readonly responseId?: string
  readonly model?: string
}

export interface ResponseState {
  readonly blocks: ReadonlyArray<ContentBlock>
  readonly toolCalls: ReadonlyArray<ResponseToolCall>
  readonly usage: Usage
  readonly stopReason: StopReason | undefined
  readonly responseId?: string
  readonly model?: string
}

export const emptyResponse: ResponseState = { blocks: [], toolCalls: [], usage: Usage.empty, stopReason: undefined }

const appendText = (blocks: ReadonlyArray<ContentBlock>, text: string): ReadonlyArray<ContentBlock> => {
  const last = blocks[blocks.length - 1]
  return last?.type === "text" && last.signature === undefined
    ? [...blocks.slice(0, -1), { type: "text", text: last.text + text }]
    : [...blocks, { type: "text", text }]
}

/** Close the text streamed so far (the open, unsigned text block) with `signature`, or add an empty signed block. */
const signText = (
  blocks: ReadonlyArray<ContentBlock>,
  text: string,
  signature: string
): ReadonlyArray<ContentBlock> => {
  const last = blocks[blocks.length - 1]
  return last?.type === "text" && last.signature === undefined
    ? [...blocks.slice(0, -1), { type: "text", text: last.text + text, signature }]
    : [...blocks, { type: "text", text, signature }]
}

/** Whether the last block is reasoning still streaming (not closed by a signature or a reasoning item). */
const openThinking = (block: ContentBlock | undefined): block is ThinkingBlock =>
  block?.type === "thinking" && block.signature === undefined && block.openaiReasoning === undefined

const appendThinking = (blocks: ReadonlyArray<ContentBlock>, text: string): ReadonlyArray<ContentBlock> => {
  const last = blocks[blocks.length - 1]
  return openThinking(last)
    ? [...blocks.slice(0, -1), { type: "thinking", thinking: last.thinking + text }]
    : [...blocks, { type: "thinking", thinking: text }]
}

const signThinking = (blocks: ReadonlyArray<ContentBlock>, signature: string): ReadonlyArray<ContentBlock> => {
  const last = blocks[blocks.length - 1]
  return openThinking(last)
    ? [...blocks.slice(0, -1), { type: "thinking", thinking: last.thinking, signature }]
    : [...blocks, { type: "thinking", thinking: "", signature }]
}

/** Close the current reasoning block with its OpenAI Responses item (a new block when none is open). */
const attachReasoningItem = (
  blocks: ReadonlyArray<ContentBlock>,
  openaiReasoning: OpenAIReasoningItem
): ReadonlyArray<ContentBlock> => {
  const last = blocks[blocks.length - 1]
  return openThinking(last)
    ? [...blocks.slice(0, -1), { type: "thinking", thinking: last.thinking, openaiReasoning }]
    : [...blocks, { type: "thinking", thinking: openaiReasoning.summary.join("\n\n"), openaiReasoning }]
}

/** Apply one part. Deltas of tool arguments are ignored: the complete part carries the parsed input. */
export const applyPart = (state: ResponseState, part: StreamPart): ResponseState => {
  switch (part.type) {
    case "metadata":
      return {
        ...state,
        responseId: part.responseId ?? state.responseId,
        model: part.model ?? state.model
      }
    case "text-delta":
      if (part.signature !== undefined) return { ...state, blocks: signText(state.blocks, part.text, part.signature) }
      return part.text === "" ? state : { ...state, blocks: appendText(state.blocks, part.text) }
    case "reasoning-delta":
      return part.text === "" ? state : { ...state, blocks: appendThinking(state.blocks, part.text) }
    case "reasoning-signature":
      return { ...state, blocks: signThinking(state.blocks, part.signature) }
    case "reasoning-redacted":
      return { ...state, blocks: [...state.blocks, { type: "redacted_thinking", data: part.data }] }
    case "reasoning-item": {
      const item: OpenAIReasoningItem = {
        id: part.id,
        ...(part.encryptedContent === undefined ? {} : { encryptedContent: part.encryptedContent }),
        summary: part.summary
      }
      return { ...state, blocks: attachReasoningItem(state.blocks, item) }
    }
    case "tool-call-complete": {
      const call: ResponseToolCall =
        part.parseError === undefined
          ? { id: part.id, name: part.name, input: part.input }
          : { id: part.id, name: part.name, input: part.input, parseError: part.parseError }
      return {
        ...state,
        blocks: [
          ...state.blocks,
          {
            type: "tool_use",
            id: part.id,
            name: part.name,
            input: part.input,
            ...(part.signature === undefined ? {} : { signature: part.signature })
          }
        ],
        toolCalls: [...state.toolCalls, call]
      }
    }
    case "usage":
      return { ...state, usage: part.usage }
    case "finish":
      return { ...state, stopReason: part.stopReason }
    case "tool-call-start":
    case "tool-call-delta":
    case "retry":
      return state
  }
}

/** The finished response. A stream that ended without a finish part but with tool calls stopped for tool use. */
export const toResponse = (state: ResponseState): LLMResponse => ({
  message: { role: "assistant", content: state.blocks },
  toolCalls: state.toolCalls,
  usage: state.usage,
  stopReason: state.stopReason ?? (state.toolCalls.length > 0 ? "tool_use" : "end_turn"),
  ...(state.responseId === undefined ? {} : { responseId: state.responseId }),
  ...(state.model === undefined ? {} : { model: state.model })
})
