/**
 * The transcript of a running turn, and how to close it after an interrupt so that it stays valid to send back
 * to a provider: what the model streamed so far is kept as a partial assistant message, and every tool_use
 * gets a tool_result (the real one when the tool finished, else one saying it was interrupted). Pure.
 */
import { type ContentBlock, type ImageBlock, type Message, messageText, type TextBlock } from "../streams/Message.js"
import { emptyResponse, type ResponseState, toResponse } from "../streams/Response.js"
import { type ToolCall, type ToolResult, textOutput } from "../streams/ToolCall.js"
import { Usage } from "../streams/Usage.js"

/** Where a turn is: the conversation so far, the response being streamed, the step's finished tool results. */
export interface TurnTranscript {
  readonly messages: ReadonlyArray<Message>
  /** The model response of the current step, as far as it has streamed. */
  readonly partial: ResponseState
  /** Results of the current step's tool calls that have finished, by call id. */
  readonly results: ReadonlyMap<string, ToolResult>
  readonly usage: Usage
  readonly steps: number
}

export const initialTranscript = (messages: ReadonlyArray<Message>): TurnTranscript => ({
  messages,
  partial: emptyResponse,
  results: new Map(),
  usage: Usage.empty,
  steps: 0
})

/** The tool_result block the model sees for `result`. */
export const toolResultBlock = (result: ToolResult): ContentBlock => ({
  type: "tool_result",
  toolUseId: result.toolCallId,
  content: result.output.map((o): TextBlock | ImageBlock =>
    o.type === "image"
      ? { type: "image", source: { type: "base64", mediaType: o.mediaType, data: o.data } }
      : { type: "text", text: o.type === "text" ? o.text : JSON.stringify(o.value) }
  ),
  isError: result.status !== "success"
})

/** The message that answers a step's tool calls, in call order. */
export const toolResultsMessage = (results: ReadonlyArray<ToolResult>): Message => ({
  role: "tool",
  content: results.map(toolResultBlock)
})

/** A result the loop makes itself (unknown tool, bad arguments, denial, interruption). */
export const syntheticResult = (call: ToolCall, status: ToolResult["status"], text: string): ToolResult => ({
  toolCallId: call.id,
  toolName: call.name,
  status,
  output: [textOutput(text)],
  durationMs: 0
})

export const INTERRUPTED_TOOL_MESSAGE = "Interrupted by the user before this tool finished."

export interface Repair {
  /** The messages appended to the transcript (a partial assistant message, then the tool results). */
  readonly appended: ReadonlyArray<Message>
  /** Results made up for tool calls that had not finished. */
  readonly cancelled: ReadonlyArray<ToolResult>
  /** The whole repaired conversation. */
  readonly messages: ReadonlyArray<Message>
}

/** Close the transcript after an interrupt: keep what streamed, answer every open tool_use. */
export const repairAfterInterrupt = (transcript: TurnTranscript): Repair => {
  // Unsigned (unfinished) reasoning cannot be sent back to a provider; everything else is kept.
  const content = toResponse(transcript.partial).message.content.filter(
    (block) => !(block.type === "thinking" && block.signature === undefined)
  )
  const partial: ReadonlyArray<Message> = content.length > 0 ? [{ role: "assistant", content }] : []
  const withPartial = [...transcript.messages, ...partial]
  const last = withPartial[withPartial.length - 1]
  const open = last?.role === "assistant" ? last.content.flatMap((b) => (b.type === "tool_use" ? [b] : [])) : []
  if (open.length === 0) return { appended: partial, cancelled: [], messages: withPartial }
  const cancelled: Array<ToolResult> = []
  const results = open.map((block) => {
    const finished = transcript.results.get(block.id)
    if (finished !== undefined) return finished
    const made = syntheticResult(
      { id: block.id, name: block.name, input: block.input },
      "cancelled",
      INTERRUPTED_TOOL_MESSAGE
    )
    cancelled.push(made)
    return made
  })
  const answer = toolResultsMessage(results)
  return { appended: [...partial, answer], cancelled, messages: [...withPartial, answer] }
}

/** The text of the last assistant message (the turn's answer). */
export const finalText = (messages: ReadonlyArray<Message>): string => {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]
    if (message?.role === "assistant") return messageText(message)
  }
  return ""
}
