/** The Ollama wire for tests: `/api/chat` NDJSON bodies (one JSON object per line) and `{"error": "..."}` errors. */
import { layer } from "../../../src/providers/ollama/OllamaProvider.js"
import type { RecordedRequest, Reply } from "../WireServer.js"
import type { ProviderWire, ScriptedFailure, ScriptedResponse } from "./types.js"

export const NDJSON = "application/x-ndjson"
export const MODEL = "qwen3"

export const ndjson = (chunks: ReadonlyArray<unknown>): Array<string> => chunks.map((c) => `${JSON.stringify(c)}\n`)

const at = "2025-05-27T22:54:57.641643Z"

/** The chunks of one scripted response: thinking, text, one chunk with all tool calls, then the `done` chunk. */
export const scriptChunks = (script: ScriptedResponse, model = MODEL): Array<Record<string, unknown>> => {
  const chunk = (message: Record<string, unknown>) => ({
    model,
    created_at: at,
    message: { role: "assistant", content: "", ...message },
    done: false
  })
  const out: Array<Record<string, unknown>> = []
  for (const thinking of script.reasoning?.text ?? []) out.push(chunk({ thinking }))
  for (const content of script.text ?? []) out.push(chunk({ content }))
  if (script.toolCalls !== undefined && script.toolCalls.length > 0)
    out.push(
      chunk({
        tool_calls: script.toolCalls.map((c) => {
          const joined = c.args.join("")
          return { function: { name: c.name, arguments: joined === "" ? {} : JSON.parse(joined) } }
        })
      })
    )
  out.push({
    model,
    created_at: at,
    message: { role: "assistant", content: "" },
    done: true,
    done_reason: script.stop === "max_tokens" ? "length" : "stop",
    total_duration: 1000,
    prompt_eval_count: script.usage?.inputTokens ?? 0,
    eval_count: script.usage?.outputTokens ?? 0
  })
  return out
}

export const failureReply = (failure: ScriptedFailure): Reply => {
  switch (failure.kind) {
    case "rate_limit":
      return {
        kind: "error",
        status: 429,
        body: { error: "too many requests" },
        ...(failure.retryAfterSeconds === undefined
          ? {}
          : { headers: { "retry-after": String(failure.retryAfterSeconds) } })
      }
    case "quota":
      return {
        kind: "error",
        status: 429,
        body: { error: "you have reached your weekly usage limit (insufficient_quota)" }
      }
    case "overloaded":
      return { kind: "error", status: 503, body: { error: "server overloaded, please retry later" } }
    case "auth":
      return { kind: "error", status: 401, body: { error: "unauthorized" } }
    case "invalid_request":
      return { kind: "error", status: 400, body: { error: failure.message } }
    case "context_length":
      return { kind: "error", status: 400, body: { error: "the input is too long for the model's context length" } }
    case "server":
      return { kind: "error", status: 500, body: { error: "llama runner process has terminated: exit status 2" } }
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null

export const sentText = (request: RecordedRequest): ReadonlyArray<string> => {
  const body = request.body
  if (!isObject(body) || !Array.isArray(body.messages)) return []
  return body.messages.flatMap((m) =>
    isObject(m) && typeof m.content === "string" && m.content !== "" && m.role !== "system" ? [m.content] : []
  )
}

export const wire: ProviderWire = {
  id: "ollama",
  model: MODEL,
  reply: (script) => ({ kind: "stream", chunks: ndjson(scriptChunks(script)), contentType: NDJSON }),
  failure: failureReply,
  layer: (baseURL) => layer({ baseURL, model: MODEL, retry: { maxRetries: 0 } }),
  sentText
}

export default wire
