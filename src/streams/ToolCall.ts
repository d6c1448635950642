import * as Schema from "effect/Schema"
import { typed } from "./Tagged.js"

/** A complete tool call requested by the model. */
export const ToolCall = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  input: Schema.Unknown
})
export type ToolCall = typeof ToolCall.Type

export const ToolResultStatus = Schema.Literals(["success", "error", "timeout", "cancelled", "denied"])
export type ToolResultStatus = typeof ToolResultStatus.Type

/** One piece of tool output: text, a JSON value, or an image for vision models. */
export const ToolOutput = Schema.Union([
  typed("text", { text: Schema.String }),
  typed("json", { value: Schema.Unknown }),
  typed("image", { mediaType: Schema.String, data: Schema.String })
])
export type ToolOutput = typeof ToolOutput.Type

/** The outcome of one tool call. */
export const ToolResult = Schema.Struct({
  toolCallId: Schema.String,
  toolName: Schema.String,
  status: ToolResultStatus,
  output: Schema.Array(ToolOutput),
  durationMs: Schema.Number
})
export type ToolResult = typeof ToolResult.Type

/** The JSON-Schema description of a tool that the model sees. */
export const ToolDefinition = Schema.Struct({
  name: Schema.String,
  description: Schema.String,
  inputSchema: Schema.Record(Schema.String, Schema.Unknown)
})
export type ToolDefinition = typeof ToolDefinition.Type

export const textOutput = (text: string): ToolOutput => ({ type: "text", text })

/** All output rendered as text (JSON stringified, images as a placeholder). */
export const toolOutputText = (output: ReadonlyArray<ToolOutput>): string =>
  output
    .map((o) => (o.type === "text" ? o.text : o.type === "json" ? JSON.stringify(o.value) : `[image ${o.mediaType}]`))
    .join("\n")
