/**
 * Recording model responses to a directory and replaying them, so an agent can be tested offline and deterministically.
 *
 * Format: one file per model request, numbered in request order (`0001.jsonl`, `0002.jsonl`, ...), JSON Lines:
 *   1. `{"kind":"request", "version":1, "provider", "model", "capabilities", "request": <RequestSummary>}`
 *   2. `{"kind":"part", "part": <StreamPart>}` for every part the client streamed (`retry` parts left out: they
 *      describe the recording session's transient failures, not the response)
 *   3. the outcome: `{"kind":"end"}`, `{"kind":"error", "error": <LLMError>}` (replayed as the same typed error), or
 *      `{"kind":"interrupted"}` (the reader stopped early; replay then serves the parts and waits, like a model
 *      still streaming, until the reader stops again).
 *
 * Why `StreamPart`s rather than the raw wire stream: recording sits on the `LLMClient` contract, so it wraps ANY
 * client (every provider, a test double, a custom client) and replay needs no provider, SDK, credentials or network.
 * The raw bytes are only visible inside each vendor SDK's HTTP layer, and replaying them would need that provider
 * again. (Wire-level replay of recorded provider bodies is what test/fixtures/providers does for the providers.)
 *
 * What replay compares (a mismatch is an `InvalidRequestError` from provider `replay` naming the file and the field):
 * the model, the number of messages, and the last message's role and content key (its text; for tool results the
 * tool-call ids and error flags, NOT the tool output, which may hold timestamps or temp paths that differ per run).
 * The system prompt (which holds the date and working directory) and earlier messages are not compared.
 */
import * as Schema from "effect/Schema"
import { LLMError } from "../../errors/LLMError.js"
import type { Capabilities, LLMRequest } from "../../services/LLMClient.js"
import type { ContentBlock, Message } from "../../streams/Message.js"
import { StreamPart } from "../../streams/StreamPart.js"

export const FORMAT_VERSION = 1

/** What a recording keeps of a request: enough to recognize it, and to show what it was. */
export interface RequestSummary {
  readonly model: string
  readonly messages: number
  readonly lastRole: string
  /** The content key of the last message (see `contentKey`). */
  readonly last: string
  /** Tool names offered, for information (not compared). */
  readonly tools: ReadonlyArray<string>
}

const blockKey = (block: ContentBlock): string => {
  switch (block.type) {
    case "text":
      return block.text
    case "image":
      return "[image]"
    case "tool_use":
      return `[tool_use ${block.id} ${block.name}]`
    case "tool_result":
      return `[tool_result ${block.toolUseId}${block.isError ? " error" : ""}]`
    case "thinking":
    case "redacted_thinking":
      return ""
  }
}

/** The parts of a message replay compares: texts, tool-call ids, tool-result ids and error flags. */
export const contentKey = (message: Message | undefined): string =>
  message === undefined ? "" : message.content.map(blockKey).join("")

export const summarize = (request: LLMRequest, defaultModel: string): RequestSummary => {
  const last = request.messages[request.messages.length - 1]
  return {
    model: request.model ?? defaultModel,
    messages: request.messages.length,
    lastRole: last?.role ?? "",
    last: contentKey(last),
    tools: (request.tools ?? []).map((tool) => tool.name)
  }
}

/** The first difference between a recorded request and a new one that matters, or `undefined` when they match. */
export const mismatch = (recorded: RequestSummary, actual: RequestSummary): string | undefined => {
  if (recorded.model !== actual.model) return `model: recorded ${recorded.model}, requested ${actual.model}`
  if (recorded.messages !== actual.messages)
    return `message count: recorded ${recorded.messages}, requested ${actual.messages}`
  if (recorded.lastRole !== actual.lastRole)
    return `last message role: recorded ${recorded.lastRole}, requested ${actual.lastRole}`
  if (recorded.last !== actual.last)
    return `last message: recorded ${JSON.stringify(recorded.last.slice(0, 200))}, requested ${JSON.stringify(actual.last.slice(0, 200))}`
  return undefined
}

const Summary = Schema.Struct({
  model: Schema.String,
  messages: Schema.Number,
  lastRole: Schema.String,
  last: Schema.String,
  tools: Schema.Array(Schema.String)
})

const CapabilitiesSchema = Schema.Struct({
  streaming: Schema.Boolean,
  tools: Schema.Boolean,
  vision: Schema.Boolean,
  thinking: Schema.Boolean,
  structuredOutput: Schema.optional(Schema.Boolean),
  contextWindow: Schema.Number
})

export const RequestLine = Schema.Struct({
  kind: Schema.Literal("request"),
  version: Schema.Literal(FORMAT_VERSION),
  provider: Schema.String,
  model: Schema.String,
  capabilities: CapabilitiesSchema,
  request: Summary
})
export type RequestLine = typeof RequestLine.Type

export const Line = Schema.Union([
  RequestLine,
  Schema.Struct({ kind: Schema.Literal("part"), part: StreamPart }),
  Schema.Struct({ kind: Schema.Literal("end") }),
  Schema.Struct({ kind: Schema.Literal("interrupted") }),
  Schema.Struct({ kind: Schema.Literal("error"), error: LLMError })
])
export type Line = typeof Line.Type

const LineJson = Schema.toCodecJson(Line)
const encodeLine = Schema.encodeSync(LineJson)
const decodeLine = Schema.decodeUnknownResult(LineJson)

/** One line of a recording file (without the newline). */
export const formatLine = (line: Line): string => JSON.stringify(encodeLine(line))

/** A recording file's lines, or what is wrong with it. */
export const parseRecording = (
  text: string
):
  | { readonly _tag: "ok"; readonly lines: ReadonlyArray<Line> }
  | { readonly _tag: "bad"; readonly message: string } => {
  const lines: Array<Line> = []
  const raw = text.split("\n").filter((line) => line.trim() !== "")
  for (const [index, source] of raw.entries()) {
    let json: unknown
    try {
      json = JSON.parse(source)
    } catch (error) {
      return {
        _tag: "bad",
        message: `line ${index + 1} is not JSON (${error instanceof Error ? error.message : String(error)})`
      }
    }
    const decoded = decodeLine(json)
    if (decoded._tag === "Failure") return { _tag: "bad", message: `line ${index + 1}: ${decoded.failure.message}` }
    lines.push(decoded.success)
  }
  const first = lines[0]
  if (first === undefined || first.kind !== "request")
    return { _tag: "bad", message: "the first line is not the request line" }
  return { _tag: "ok", lines }
}

/** `0001.jsonl`, `0002.jsonl`, ... */
export const fileName = (index: number): string => `${String(index).padStart(4, "0")}.jsonl`
export const FILE_PATTERN = /^\d{4,}\.jsonl$/

export type { Capabilities }
