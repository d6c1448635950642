/** The OpenAI Chat Completions provider over its real SSE wire format (built with test/support/openaiSse.ts). */
import * as Redacted from "effect/Redacted"
import * as OpenAIProvider from "../../../src/providers/openai/OpenAIProvider.js"
import { openaiSse, type SseStep } from "../openaiSse.js"
import type { RecordedRequest, Reply } from "../WireServer.js"
import type { ProviderWire, ScriptedFailure, ScriptedResponse } from "./types.js"

export const MODEL = "gpt-4o"

const FINISH = { end_turn: "stop", tool_use: "tool_calls", max_tokens: "length" } as const

/** Chat chunks: reasoning_content deltas (no signature on this API), content deltas, tool-call fragments by index. */
export const scriptSteps = (script: ScriptedResponse): ReadonlyArray<SseStep> => {
  const calls = script.toolCalls ?? []
  const usage = script.usage ?? { inputTokens: 10, outputTokens: 5 }
  return [
    ...(script.reasoning?.text ?? []).map((reasoning) => ({ reasoning })),
    ...(script.text ?? []).map((text) => ({ text })),
    ...calls.flatMap((call, index) =>
      call.args.length === 0
        ? [{ toolCall: { index, id: call.id, name: call.name, args: "" } }]
        : call.args.map((args, i) => ({
            toolCall: i === 0 ? { index, id: call.id, name: call.name, args } : { index, args }
          }))
    ),
    { finish: FINISH[script.stop ?? (calls.length > 0 ? "tool_use" : "end_turn")] },
    { usage: { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens } }
  ]
}

const error = (
  status: number,
  body: { readonly message: string; readonly type: string; readonly code: string | null },
  headers: Record<string, string> = {}
): Reply => ({ kind: "error", status, headers: { "x-request-id": "req_contract", ...headers }, body: { error: body } })

export const failure = (f: ScriptedFailure): Reply => {
  switch (f.kind) {
    case "rate_limit":
      return error(
        429,
        { message: "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded" },
        f.retryAfterSeconds === undefined ? {} : { "retry-after": String(f.retryAfterSeconds) }
      )
    case "quota":
      return error(429, {
        message: "You exceeded your current quota, please check your plan and billing details.",
        type: "insufficient_quota",
        code: "insufficient_quota"
      })
    case "overloaded":
      return error(503, {
        message: "The engine is currently overloaded, please try again later",
        type: "server_error",
        code: null
      })
    case "auth":
      return error(401, {
        message: "Incorrect API key provided: sk-contract.",
        type: "invalid_request_error",
        code: "invalid_api_key"
      })
    case "invalid_request":
      return error(400, { message: f.message, type: "invalid_request_error", code: null })
    case "context_length":
      return error(400, {
        message:
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
        type: "invalid_request_error",
        code: "context_length_exceeded"
      })
    case "server":
      return error(500, {
        message: "The server had an error while processing your request.",
        type: "server_error",
        code: null
      })
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null
const texts = (content: unknown): ReadonlyArray<string> =>
  typeof content === "string"
    ? content === ""
      ? []
      : [content]
    : Array.isArray(content)
      ? content.flatMap((part) => (isRecord(part) && typeof part.text === "string" ? [part.text] : []))
      : []

/** Texts of every non-system message (tool messages carry the tool results). */
export const sentText = (request: RecordedRequest): ReadonlyArray<string> =>
  isRecord(request.body) && Array.isArray(request.body.messages)
    ? request.body.messages.flatMap((m) => (isRecord(m) && m.role !== "system" ? texts(m.content) : []))
    : []

export const wire: ProviderWire = {
  id: "openai",
  model: MODEL,
  reply: (script) => ({ kind: "stream", chunks: openaiSse(scriptSteps(script), { model: MODEL }) }),
  failure,
  layer: (baseURL) =>
    OpenAIProvider.layerConfig({
      apiKey: Redacted.make("sk-contract"),
      baseURL,
      model: MODEL,
      retry: { maxRetries: 0 }
    }),
  sentText
}

export default wire
