/**
 * Builds Anthropic Messages SSE bodies from a short script, for tests that need streams the recorded fixtures do not
 * have: tool calls with fragmented arguments, thinking with signatures, in-stream errors, pings, cut-off streams.
 */

/** One SSE event: `event: <name>` then `data: <json>` then a blank line. */
export const sseEvent = (name: string, data: unknown): string =>
  `event: ${name}\ndata: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`

export type Step =
  /** A text block; each string is one text_delta. */
  | { readonly text: ReadonlyArray<string> }
  /** A thinking block: thinking_deltas then one signature_delta. */
  | { readonly thinking: ReadonlyArray<string>; readonly signature?: string }
  /** A redacted_thinking block. */
  | { readonly redacted: string }
  /** A tool_use block whose input arrives as these input_json_delta fragments. */
  | { readonly tool: { readonly id: string; readonly name: string; readonly json: ReadonlyArray<string> } }
  | { readonly ping: true }
  /** An in-stream error event. */
  | { readonly error: { readonly type: string; readonly message: string } }
  /** Anything, verbatim (malformed lines, unknown events). */
  | { readonly raw: string }

export interface Script {
  readonly id?: string
  readonly model?: string
  readonly inputTokens?: number
  readonly outputTokens?: number
  readonly cacheReadTokens?: number
  readonly cacheWriteTokens?: number
  /** Default end_turn; `null` leaves message_delta's stop_reason null. */
  readonly stopReason?: string | null
  readonly steps: ReadonlyArray<Step>
  /** Leave out message_start (for streams that fail at once). */
  readonly noStart?: boolean
  /** Leave out message_delta and message_stop (a stream cut short). */
  readonly noEnd?: boolean
}

/** The SSE events of a scripted response, one string per event (so WireServer writes them as separate chunks). */
export const anthropicEvents = (script: Script): ReadonlyArray<string> => {
  const out: Array<string> = []
  if (script.noStart !== true) {
    out.push(
      sseEvent("message_start", {
        type: "message_start",
        message: {
          id: script.id ?? "msg_test",
          type: "message",
          role: "assistant",
          model: script.model ?? "claude-test",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: script.inputTokens ?? 10,
            cache_read_input_tokens: script.cacheReadTokens ?? 0,
            cache_creation_input_tokens: script.cacheWriteTokens ?? 0,
            output_tokens: 1
          }
        }
      })
    )
  }
  let index = 0
  const block = (contentBlock: unknown, deltas: ReadonlyArray<unknown>) => {
    out.push(sseEvent("content_block_start", { type: "content_block_start", index, content_block: contentBlock }))
    for (const delta of deltas) out.push(sseEvent("content_block_delta", { type: "content_block_delta", index, delta }))
    out.push(sseEvent("content_block_stop", { type: "content_block_stop", index }))
    index++
  }
  for (const step of script.steps) {
    if ("text" in step) {
      block(
        { type: "text", text: "" },
        step.text.map((text) => ({ type: "text_delta", text }))
      )
    } else if ("thinking" in step) {
      block({ type: "thinking", thinking: "", signature: "" }, [
        ...step.thinking.map((thinking) => ({ type: "thinking_delta", thinking })),
        ...(step.signature === undefined ? [] : [{ type: "signature_delta", signature: step.signature }])
      ])
    } else if ("redacted" in step) {
      block({ type: "redacted_thinking", data: step.redacted }, [])
    } else if ("tool" in step) {
      block(
        { type: "tool_use", id: step.tool.id, name: step.tool.name, input: {} },
        step.tool.json.map((partial_json) => ({ type: "input_json_delta", partial_json }))
      )
    } else if ("ping" in step) {
      out.push(sseEvent("ping", { type: "ping" }))
    } else if ("error" in step) {
      out.push(sseEvent("error", { type: "error", error: step.error }))
    } else {
      out.push(step.raw)
    }
  }
  if (script.noEnd !== true) {
    out.push(
      sseEvent("message_delta", {
        type: "message_delta",
        delta: { stop_reason: script.stopReason === undefined ? "end_turn" : script.stopReason, stop_sequence: null },
        usage: { output_tokens: script.outputTokens ?? 5 }
      })
    )
    out.push(sseEvent("message_stop", { type: "message_stop" }))
  }
  return out
}

/** The whole body of a scripted response. */
export const anthropicSse = (script: Script): string => anthropicEvents(script).join("")

/** An in-stream error as the only event (what the API sends when overloaded after a 200). */
export const anthropicErrorEvents = (type: string, message: string): ReadonlyArray<string> => [
  sseEvent("error", { type: "error", error: { type, message } })
]

/** The JSON body of an HTTP error response. */
export const anthropicErrorBody = (type: string, message: string) => ({
  type: "error",
  error: { type, message }
})
