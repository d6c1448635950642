/** The Anthropic Messages provider over its real SSE wire format (built with test/support/anthropicSse.ts). */
import * as Redacted from "effect/Redacted"
import * as AnthropicProvider from "../../../src/providers/anthropic/AnthropicProvider.js"
import { anthropicErrorBody, anthropicEvents, type Step } from "../anthropicSse.js"
import type { RecordedRequest, Reply } from "../WireServer.js"
import type { ProviderWire, ScriptedFailure, ScriptedResponse } from "./types.js"

export const MODEL = "claude-sonnet-4-5"

export const scriptSteps = (script: ScriptedResponse): ReadonlyArray<Step> => [
  ...(script.reasoning === undefined
    ? []
    : [
        {
          thinking: script.reasoning.text,
          ...(script.reasoning.signature === undefined ? {} : { signature: script.reasoning.signature })
        }
      ]),
  ...(script.text === undefined ? [] : [{ text: script.text }]),
  ...(script.toolCalls ?? []).map((call) => ({ tool: { id: call.id, name: call.name, json: call.args } }))
]

const error = (status: number, type: string, message: string, headers: Record<string, string> = {}): Reply => ({
  kind: "error",
  status,
  headers: { "request-id": "req_contract", ...headers },
  body: anthropicErrorBody(type, message)
})

export const failure = (f: ScriptedFailure): Reply => {
  switch (f.kind) {
    case "rate_limit":
      return error(
        429,
        "rate_limit_error",
        "Number of request tokens has exceeded your per-minute rate limit",
        f.retryAfterSeconds === undefined ? {} : { "retry-after": String(f.retryAfterSeconds) }
      )
    case "quota":
      return error(400, "billing_error", "Your credit balance is too low to access the Anthropic API.")
    case "overloaded":
      return error(529, "overloaded_error", "Overloaded")
    case "auth":
      return error(401, "authentication_error", "invalid x-api-key")
    case "invalid_request":
      return error(400, "invalid_request_error", f.message)
    case "context_length":
      return error(400, "invalid_request_error", "prompt is too long: 208000 tokens > 200000 maximum")
    case "server":
      return error(500, "api_error", "Internal server error")
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null
const texts = (content: unknown): ReadonlyArray<string> =>
  typeof content === "string"
    ? [content]
    : Array.isArray(content)
      ? content.flatMap((block): ReadonlyArray<string> => {
          if (!isRecord(block)) return []
          if (block.type === "text" && typeof block.text === "string") return [block.text]
          if (block.type === "tool_result") return texts(block.content)
          return []
        })
      : []

export const sentText = (request: RecordedRequest): ReadonlyArray<string> =>
  isRecord(request.body) && Array.isArray(request.body.messages)
    ? request.body.messages.flatMap((m) => (isRecord(m) ? texts(m.content) : []))
    : []

export const wire: ProviderWire = {
  id: "anthropic",
  model: MODEL,
  reply: (script) => ({
    kind: "stream",
    chunks: anthropicEvents({
      model: MODEL,
      inputTokens: script.usage?.inputTokens ?? 10,
      outputTokens: script.usage?.outputTokens ?? 5,
      stopReason: script.stop ?? ((script.toolCalls ?? []).length > 0 ? "tool_use" : "end_turn"),
      steps: scriptSteps(script)
    })
  }),
  failure,
  layer: (baseURL) =>
    AnthropicProvider.layerConfig({
      apiKey: Redacted.make("sk-ant-contract"),
      baseURL,
      model: MODEL,
      retry: { maxRetries: 0 }
    }),
  sentText
}

export default wire
