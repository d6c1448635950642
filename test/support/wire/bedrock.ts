/**
 * Bedrock ConverseStream over its real wire format: `application/vnd.amazon.eventstream` binary frames (prelude with
 * total and headers length, prelude CRC32, string headers, JSON payload, message CRC32), encoded here with
 * `node:zlib`'s `crc32` (no `@smithy/eventstream-codec` in node_modules: the SDK bundles its codec in `@smithy/core`).
 */
import { crc32 } from "node:zlib"
import * as Redacted from "effect/Redacted"
import * as BedrockProvider from "../../../src/providers/bedrock/BedrockProvider.js"
import type { RecordedRequest, Reply } from "../WireServer.js"
import type { ProviderWire, ScriptedFailure, ScriptedResponse } from "./types.js"

export const EVENT_STREAM = "application/vnd.amazon.eventstream"

const stringHeader = (name: string, value: string): Buffer => {
  const nameBytes = Buffer.from(name, "utf8")
  const valueBytes = Buffer.from(value, "utf8")
  const out = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length)
  let at = out.writeUInt8(nameBytes.length, 0)
  at += nameBytes.copy(out, at)
  at = out.writeUInt8(7, at)
  at = out.writeUInt16BE(valueBytes.length, at)
  valueBytes.copy(out, at)
  return out
}

/** One event-stream message with `headers` (all strings) and `payload`. */
export const frame = (headers: Readonly<Record<string, string>>, payload: Uint8Array): Buffer => {
  const headerBytes = Buffer.concat(Object.entries(headers).map(([name, value]) => stringHeader(name, value)))
  const total = 12 + headerBytes.length + payload.length + 4
  const out = Buffer.alloc(total)
  out.writeUInt32BE(total, 0)
  out.writeUInt32BE(headerBytes.length, 4)
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8)
  headerBytes.copy(out, 12)
  Buffer.from(payload).copy(out, 12 + headerBytes.length)
  out.writeUInt32BE(crc32(out.subarray(0, total - 4)), total - 4)
  return out
}

/** An `event` frame of type `type` (messageStart, contentBlockDelta, ...) with a JSON payload. */
export const eventFrame = (type: string, payload: unknown): Buffer =>
  frame(
    { ":event-type": type, ":content-type": "application/json", ":message-type": "event" },
    Buffer.from(JSON.stringify(payload), "utf8")
  )

/** An in-stream `exception` frame (modelStreamErrorException, throttlingException, ...). */
export const exceptionFrame = (type: string, message: string): Buffer =>
  frame(
    { ":exception-type": type, ":content-type": "application/json", ":message-type": "exception" },
    Buffer.from(JSON.stringify({ message }), "utf8")
  )

/** Frames from the decoded text form, one `{"<event-type>": payload}` object per line (test/fixtures/.../*.ndjson). */
export const framesFromNdjson = (ndjson: string): ReadonlyArray<Buffer> =>
  ndjson
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const parsed: unknown = JSON.parse(line)
      if (typeof parsed !== "object" || parsed === null) throw new Error(`not an event object: ${line}`)
      const [entry] = Object.entries(parsed)
      if (entry === undefined) throw new Error(`empty event object: ${line}`)
      return eventFrame(entry[0], entry[1])
    })

/** Split bytes into pieces of `size` bytes. */
export const splitBytes = (body: Uint8Array, size: number): ReadonlyArray<Uint8Array> => {
  const out: Array<Uint8Array> = []
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size))
  return out
}

export const stream = (frames: ReadonlyArray<Uint8Array>): Reply => ({
  kind: "stream",
  contentType: EVENT_STREAM,
  chunks: frames
})

/** The frames of a scripted response. */
export const bedrockFrames = (script: ScriptedResponse): ReadonlyArray<Buffer> => {
  const out: Array<Buffer> = [eventFrame("messageStart", { role: "assistant" })]
  let index = 0
  if (script.reasoning !== undefined) {
    for (const text of script.reasoning.text)
      out.push(eventFrame("contentBlockDelta", { contentBlockIndex: index, delta: { reasoningContent: { text } } }))
    if (script.reasoning.signature !== undefined)
      out.push(
        eventFrame("contentBlockDelta", {
          contentBlockIndex: index,
          delta: { reasoningContent: { signature: script.reasoning.signature } }
        })
      )
    out.push(eventFrame("contentBlockStop", { contentBlockIndex: index }))
    index++
  }
  if (script.text !== undefined) {
    for (const text of script.text)
      out.push(eventFrame("contentBlockDelta", { contentBlockIndex: index, delta: { text } }))
    out.push(eventFrame("contentBlockStop", { contentBlockIndex: index }))
    index++
  }
  for (const call of script.toolCalls ?? []) {
    out.push(
      eventFrame("contentBlockStart", {
        contentBlockIndex: index,
        start: { toolUse: { toolUseId: call.id, name: call.name } }
      })
    )
    for (const input of call.args)
      out.push(eventFrame("contentBlockDelta", { contentBlockIndex: index, delta: { toolUse: { input } } }))
    out.push(eventFrame("contentBlockStop", { contentBlockIndex: index }))
    index++
  }
  const stop = script.stop ?? ((script.toolCalls ?? []).length > 0 ? "tool_use" : "end_turn")
  out.push(eventFrame("messageStop", { stopReason: stop }))
  const usage = script.usage ?? { inputTokens: 10, outputTokens: 5 }
  out.push(
    eventFrame("metadata", {
      usage: { ...usage, totalTokens: usage.inputTokens + usage.outputTokens },
      metrics: { latencyMs: 12 }
    })
  )
  return out
}

/** An HTTP error the way Bedrock sends it: the status, `x-amzn-errortype`, and a JSON body with `message`. */
export const httpFailure = (
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {}
): Reply => ({
  kind: "error",
  status,
  headers: {
    "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    "x-amzn-requestid": "req-bedrock-test",
    ...headers
  },
  body: { message }
})

const failure = (f: ScriptedFailure): Reply => {
  switch (f.kind) {
    case "rate_limit":
      return httpFailure(
        429,
        "ThrottlingException",
        "Too many requests, please wait before trying again.",
        f.retryAfterSeconds === undefined ? {} : { "retry-after": String(f.retryAfterSeconds) }
      )
    case "quota":
      return httpFailure(400, "ServiceQuotaExceededException", "Your request exceeds the service quota.")
    case "overloaded":
      return httpFailure(503, "ServiceUnavailableException", "Bedrock is unable to process your request.")
    case "auth":
      return httpFailure(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
    case "invalid_request":
      return httpFailure(400, "ValidationException", f.message)
    case "context_length":
      return httpFailure(400, "ValidationException", "Input is too long for requested model.")
    case "server":
      return httpFailure(500, "InternalServerException", "The server encountered an internal error.")
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null
const arrayOf = (value: unknown): ReadonlyArray<unknown> => (Array.isArray(value) ? value : [])

/** Every text in the request's messages: text blocks and tool results' texts, in order. */
export const sentText = (request: RecordedRequest): ReadonlyArray<string> =>
  arrayOf(isRecord(request.body) ? request.body.messages : undefined).flatMap((message) =>
    arrayOf(isRecord(message) ? message.content : undefined).flatMap((block): ReadonlyArray<string> => {
      if (!isRecord(block)) return []
      if (typeof block.text === "string") return [block.text]
      if (isRecord(block.toolResult))
        return arrayOf(block.toolResult.content).flatMap((c) =>
          isRecord(c) && typeof c.text === "string" ? [c.text] : []
        )
      return []
    })
  )

export const wire: ProviderWire = {
  id: "bedrock",
  model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
  reply: (script) => stream(bedrockFrames(script)),
  failure,
  layer: (baseURL) =>
    BedrockProvider.layerConfig({
      baseURL,
      region: "us-east-1",
      credentials: {
        accessKeyId: "AKIDEXAMPLE",
        secretAccessKey: Redacted.make("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
      },
      retry: { maxRetries: 0 }
    }),
  sentText
}

export default wire
