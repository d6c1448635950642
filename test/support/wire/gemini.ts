/**
 * The Gemini API wire for tests: `streamGenerateContent?alt=sse` bodies (`data: {candidates...}` + CRLF CRLF, as the
 * API frames them) and Google error bodies (`{"error": {code, message, status, details}}`).
 */
import * as Redacted from "effect/Redacted"
import { layer } from "../../../src/providers/gemini/GeminiProvider.js"
import type { RecordedRequest, Reply } from "../WireServer.js"
import type { ProviderWire, ScriptedFailure, ScriptedResponse } from "./types.js"

/** Frame chunks as the API does: `data: <json>\r\n\r\n`. */
export const geminiSse = (chunks: ReadonlyArray<unknown>): Array<string> =>
  chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`)

export const MODEL = "gemini-2.5-flash"

/** The chunks of one scripted response (one part per chunk; usage and finish on the last). */
export const scriptChunks = (script: ScriptedResponse, model = MODEL): Array<Record<string, unknown>> => {
  const parts: Array<Record<string, unknown>> = []
  const reasoning = script.reasoning?.text ?? []
  reasoning.forEach((text, i) => {
    parts.push({
      text,
      thought: true,
      ...(i === reasoning.length - 1 && script.reasoning?.signature !== undefined
        ? { thoughtSignature: script.reasoning.signature }
        : {})
    })
  })
  for (const text of script.text ?? []) parts.push({ text })
  for (const call of script.toolCalls ?? []) {
    const joined = call.args.join("")
    parts.push({ functionCall: { id: call.id, name: call.name, args: joined === "" ? {} : JSON.parse(joined) } })
  }
  const stop = script.stop ?? "end_turn"
  const finishReason = stop === "max_tokens" ? "MAX_TOKENS" : "STOP"
  const usageMetadata =
    script.usage === undefined
      ? undefined
      : {
          promptTokenCount: script.usage.inputTokens,
          candidatesTokenCount: script.usage.outputTokens,
          totalTokenCount: script.usage.inputTokens + script.usage.outputTokens
        }
  const base = { modelVersion: model, responseId: "resp-scripted" }
  if (parts.length === 0) parts.push({ text: "" })
  return parts.map((part, i) => ({
    candidates: [
      {
        content: { role: "model", parts: [part] },
        ...(i === parts.length - 1 ? { finishReason } : {}),
        index: 0
      }
    ],
    ...(i === parts.length - 1 && usageMetadata !== undefined ? { usageMetadata } : {}),
    ...base
  }))
}

/** A Google error body. */
export const googleError = (code: number, status: string, message: string, details: ReadonlyArray<unknown> = []) => ({
  error: { code, message, status, ...(details.length === 0 ? {} : { details }) }
})

export const failureReply = (failure: ScriptedFailure): Reply => {
  switch (failure.kind) {
    case "rate_limit":
      return {
        kind: "error",
        status: 429,
        body: googleError(
          429,
          "RESOURCE_EXHAUSTED",
          "Resource has been exhausted (e.g. check quota).",
          failure.retryAfterSeconds === undefined
            ? [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "1s" }]
            : [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${failure.retryAfterSeconds}s` }]
        )
      }
    case "quota":
      return {
        kind: "error",
        status: 429,
        body: googleError(
          429,
          "RESOURCE_EXHAUSTED",
          "You exceeded your current quota, please check your plan and billing details.",
          [
            {
              "@type": "type.googleapis.com/google.rpc.QuotaFailure",
              violations: [
                {
                  quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                  quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
                }
              ]
            }
          ]
        )
      }
    case "overloaded":
      return {
        kind: "error",
        status: 503,
        body: googleError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
      }
    case "auth":
      return {
        kind: "error",
        status: 400,
        body: googleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
          { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID", domain: "googleapis.com" }
        ])
      }
    case "invalid_request":
      return { kind: "error", status: 400, body: googleError(400, "INVALID_ARGUMENT", failure.message) }
    case "context_length":
      return {
        kind: "error",
        status: 400,
        body: googleError(
          400,
          "INVALID_ARGUMENT",
          "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."
        )
      }
    case "server":
      return {
        kind: "error",
        status: 500,
        body: googleError(500, "INTERNAL", "An internal error has occurred. Please retry or report.")
      }
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null

/** The texts of a recorded request's contents: text parts and function-response outputs / errors, in order. */
export const sentText = (request: RecordedRequest): ReadonlyArray<string> => {
  const body = request.body
  if (!isObject(body) || !Array.isArray(body.contents)) return []
  const out: Array<string> = []
  for (const content of body.contents) {
    if (!isObject(content) || !Array.isArray(content.parts)) continue
    for (const part of content.parts) {
      if (!isObject(part)) continue
      if (typeof part.text === "string" && part.thought !== true) out.push(part.text)
      const fr = part.functionResponse
      if (isObject(fr) && isObject(fr.response)) {
        const value = fr.response.output ?? fr.response.error
        if (typeof value === "string") out.push(value)
      }
    }
  }
  return out
}

export const wire: ProviderWire = {
  id: "gemini",
  model: MODEL,
  reply: (script) => ({ kind: "stream", chunks: geminiSse(scriptChunks(script)) }),
  failure: failureReply,
  layer: (baseURL) =>
    layer({ apiKey: Redacted.make("gemini-test-key"), baseURL, model: MODEL, retry: { maxRetries: 0 } }),
  sentText
}

export default wire
