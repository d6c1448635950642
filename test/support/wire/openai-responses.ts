/**
 * The OpenAI Responses API over its real wire format: `event: <type>` / `data: <json>` SSE frames as api.openai.com
 * sends them (response.created, response.output_item.added, response.output_text.delta,
 * response.reasoning_summary_text.delta, response.function_call_arguments.delta, response.output_item.done,
 * response.completed / incomplete / failed, error), and the API's HTTP error bodies.
 */
import * as Redacted from "effect/Redacted"
import * as ResponsesProvider from "../../../src/providers/openai-responses/ResponsesProvider.js"
import type { RecordedRequest, Reply } from "../WireServer.js"
import type { ProviderWire, ScriptedFailure, ScriptedResponse } from "./types.js"

/** One SSE frame for a Responses event (`type` doubles as the SSE event name, as the API does). */
export const frame = (event: { readonly type: string } & Record<string, unknown>): string =>
  `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`

export type Item =
  /** A reasoning item: each summary part is a list of deltas; `encrypted` is its `encrypted_content`. */
  | {
      readonly reasoning: {
        readonly id: string
        readonly summary?: ReadonlyArray<ReadonlyArray<string>>
        readonly encrypted?: string
      }
    }
  | { readonly text: ReadonlyArray<string>; readonly id?: string }
  | { readonly refusal: ReadonlyArray<string>; readonly id?: string }
  /** A function call: `id` is the item id (`fc_...`), `callId` the call id (`call_...`). */
  | {
      readonly call: {
        readonly id: string
        readonly callId: string
        readonly name: string
        readonly args: ReadonlyArray<string>
      }
    }

export interface ResponseScript {
  readonly items: ReadonlyArray<Item>
  readonly id?: string
  readonly model?: string
  readonly usage?: {
    readonly input: number
    readonly output: number
    readonly cached?: number
    readonly reasoning?: number
  }
  /** End with `response.incomplete` for this reason instead of `response.completed`. */
  readonly incomplete?: "max_output_tokens" | "content_filter"
  /** Leave out the terminal event (a truncated body). */
  readonly truncate?: boolean
}

/** The frames of a scripted response. */
export const responseFrames = (script: ResponseScript): ReadonlyArray<string> => {
  const id = script.id ?? "resp_test"
  const model = script.model ?? "gpt-5-test"
  const base = { id, object: "response", created_at: 1_764_000_000, model, store: false }
  let seq = 0
  const out: Array<string> = []
  const emit = (event: { readonly type: string } & Record<string, unknown>) =>
    out.push(frame({ ...event, sequence_number: seq++ }))
  emit({ type: "response.created", response: { ...base, status: "in_progress", output: [], usage: null } })
  emit({ type: "response.in_progress", response: { ...base, status: "in_progress", output: [], usage: null } })
  const output: Array<unknown> = []
  script.items.forEach((item, outputIndex) => {
    if ("reasoning" in item) {
      const r = item.reasoning
      const encrypted = r.encrypted === undefined ? {} : { encrypted_content: r.encrypted }
      emit({
        type: "response.output_item.added",
        output_index: outputIndex,
        item: { id: r.id, type: "reasoning", summary: [], ...encrypted }
      })
      const summary: Array<{ type: "summary_text"; text: string }> = []
      ;(r.summary ?? []).forEach((deltas, summaryIndex) => {
        const part = { item_id: r.id, output_index: outputIndex, summary_index: summaryIndex }
        emit({ type: "response.reasoning_summary_part.added", ...part, part: { type: "summary_text", text: "" } })
        for (const delta of deltas) emit({ type: "response.reasoning_summary_text.delta", ...part, delta })
        const text = deltas.join("")
        emit({ type: "response.reasoning_summary_text.done", ...part, text })
        emit({ type: "response.reasoning_summary_part.done", ...part, part: { type: "summary_text", text } })
        summary.push({ type: "summary_text", text })
      })
      const done = { id: r.id, type: "reasoning", summary, ...encrypted }
      emit({ type: "response.output_item.done", output_index: outputIndex, item: done })
      output.push(done)
    } else if ("call" in item) {
      const c = item.call
      const call = { id: c.id, type: "function_call", call_id: c.callId, name: c.name }
      emit({
        type: "response.output_item.added",
        output_index: outputIndex,
        item: { ...call, arguments: "", status: "in_progress" }
      })
      for (const delta of c.args)
        emit({ type: "response.function_call_arguments.delta", item_id: c.id, output_index: outputIndex, delta })
      const args = c.args.join("")
      emit({ type: "response.function_call_arguments.done", item_id: c.id, output_index: outputIndex, arguments: args })
      const done = { ...call, arguments: args, status: "completed" }
      emit({ type: "response.output_item.done", output_index: outputIndex, item: done })
      output.push(done)
    } else {
      const itemId = item.id ?? `msg_${outputIndex}`
      const refusal = "refusal" in item
      const deltas = refusal ? item.refusal : item.text
      const kind = refusal ? "refusal" : "output_text"
      const part = { item_id: itemId, output_index: outputIndex, content_index: 0 }
      emit({
        type: "response.output_item.added",
        output_index: outputIndex,
        item: { id: itemId, type: "message", status: "in_progress", role: "assistant", content: [] }
      })
      const empty = refusal ? { type: "refusal", refusal: "" } : { type: "output_text", text: "", annotations: [] }
      emit({ type: "response.content_part.added", ...part, part: empty })
      for (const delta of deltas) emit({ type: `response.${kind}.delta`, ...part, delta })
      const text = deltas.join("")
      const full = refusal ? { type: "refusal", refusal: text } : { type: "output_text", text, annotations: [] }
      emit({ type: `response.${kind}.done`, ...part, ...(refusal ? { refusal: text } : { text }) })
      emit({ type: "response.content_part.done", ...part, part: full })
      const done = { id: itemId, type: "message", status: "completed", role: "assistant", content: [full] }
      emit({ type: "response.output_item.done", output_index: outputIndex, item: done })
      output.push(done)
    }
  })
  if (script.truncate === true) return out
  const u = script.usage ?? { input: 10, output: 5 }
  const usage = {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cached ?? 0 },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning ?? 0 },
    total_tokens: u.input + u.output
  }
  if (script.incomplete !== undefined)
    emit({
      type: "response.incomplete",
      response: { ...base, status: "incomplete", incomplete_details: { reason: script.incomplete }, output, usage }
    })
  else emit({ type: "response.completed", response: { ...base, status: "completed", output, usage } })
  return out
}

export const stream = (frames: ReadonlyArray<string>): Reply => ({ kind: "stream", chunks: frames })

/** A response that fails in the stream after starting (`response.failed` with `response.error`). */
export const failedFrames = (code: string, message: string): ReadonlyArray<string> => {
  const base = { id: "resp_failed", object: "response", created_at: 1_764_000_000, model: "gpt-5-test" }
  return [
    frame({ type: "response.created", sequence_number: 0, response: { ...base, status: "in_progress", output: [] } }),
    frame({
      type: "response.failed",
      sequence_number: 1,
      response: { ...base, status: "failed", error: { code, message }, output: [], usage: null }
    })
  ]
}

/** A flat `error` event (the documented form: code, message, param at the top level). */
export const errorEventFrames = (code: string | null, message: string): ReadonlyArray<string> => [
  frame({
    type: "response.created",
    sequence_number: 0,
    response: { id: "resp_err", object: "response", status: "in_progress", model: "gpt-5-test", output: [] }
  }),
  frame({ type: "error", sequence_number: 1, code, message, param: null })
]

/** An HTTP error the way api.openai.com sends it. */
export const httpFailure = (
  status: number,
  error: { readonly message: string; readonly type: string; readonly code: string | null },
  headers: Record<string, string> = {}
): Reply => ({
  kind: "error",
  status,
  headers: { "x-request-id": "req_responses_test", ...headers },
  body: { error: { ...error, param: null } }
})

export const failure = (f: ScriptedFailure): Reply => {
  switch (f.kind) {
    case "rate_limit":
      return httpFailure(
        429,
        { message: "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded" },
        f.retryAfterSeconds === undefined ? {} : { "retry-after": String(f.retryAfterSeconds) }
      )
    case "quota":
      return httpFailure(429, {
        message: "You exceeded your current quota, please check your plan and billing details.",
        type: "insufficient_quota",
        code: "insufficient_quota"
      })
    case "overloaded":
      return httpFailure(503, {
        message: "The server is overloaded or not ready yet.",
        type: "server_error",
        code: null
      })
    case "auth":
      return httpFailure(401, {
        message: "Incorrect API key provided: sk-test.",
        type: "invalid_request_error",
        code: "invalid_api_key"
      })
    case "invalid_request":
      return httpFailure(400, { message: f.message, type: "invalid_request_error", code: null })
    case "context_length":
      return httpFailure(400, {
        message: "Your input exceeds the context window of this model. Please adjust your input and try again.",
        type: "invalid_request_error",
        code: "context_length_exceeded"
      })
    case "server":
      return httpFailure(500, {
        message: "The server had an error while processing your request.",
        type: "server_error",
        code: null
      })
  }
}

/** A provider-neutral script as Responses frames (reasoning gets an item id and, with a signature, encrypted content). */
export const scriptFrames = (script: ScriptedResponse): ReadonlyArray<string> => {
  const items: Array<Item> = []
  if (script.reasoning !== undefined)
    items.push({
      reasoning: {
        id: "rs_scripted",
        summary: [script.reasoning.text],
        ...(script.reasoning.signature === undefined ? {} : { encrypted: script.reasoning.signature })
      }
    })
  if (script.text !== undefined) items.push({ text: script.text })
  for (const call of script.toolCalls ?? [])
    items.push({ call: { id: `fc_${call.id}`, callId: call.id, name: call.name, args: call.args } })
  return responseFrames({
    items,
    ...(script.usage === undefined
      ? {}
      : { usage: { input: script.usage.inputTokens, output: script.usage.outputTokens } }),
    ...(script.stop === "max_tokens" ? { incomplete: "max_output_tokens" as const } : {})
  })
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null
const arrayOf = (value: unknown): ReadonlyArray<unknown> => (Array.isArray(value) ? value : [])

const textsOf = (content: unknown): ReadonlyArray<string> =>
  typeof content === "string"
    ? [content]
    : arrayOf(content).flatMap((part) => (isRecord(part) && typeof part.text === "string" ? [part.text] : []))

/** Every text in the request's input items: message texts and function call outputs, in order. */
export const sentText = (request: RecordedRequest): ReadonlyArray<string> =>
  arrayOf(isRecord(request.body) ? request.body.input : undefined).flatMap((item): ReadonlyArray<string> => {
    if (!isRecord(item)) return []
    if (item.type === "function_call_output") return textsOf(item.output)
    if (item.type === undefined || item.type === "message") return textsOf(item.content)
    return []
  })

export const wire: ProviderWire = {
  id: "openai-responses",
  model: "gpt-5-test",
  reply: (script) => stream(scriptFrames(script)),
  failure,
  layer: (baseURL) =>
    ResponsesProvider.layerConfig({
      apiKey: Redacted.make("sk-responses-test"),
      baseURL,
      model: "gpt-5-test",
      retry: { maxRetries: 0 }
    }),
  sentText
}
