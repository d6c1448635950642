/** Scripted models for sub-agent tests: requests are routed by a marker in their first user message. */
import type { RecordedRequest, Reply } from "../support/WireServer.js"

const recordOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === "object" && value !== null ? Object.fromEntries(Object.entries(value)) : undefined

/** The request's messages (Anthropic wire format). */
export const messagesOf = (request: RecordedRequest): ReadonlyArray<unknown> => {
  const messages = recordOf(request.body)?.messages
  return Array.isArray(messages) ? messages : []
}

/** The names of the tools the request offered. */
export const toolNamesOf = (request: RecordedRequest): ReadonlyArray<string> => {
  const tools = recordOf(request.body)?.tools
  return Array.isArray(tools)
    ? tools.flatMap((t) => {
        const name = recordOf(t)?.name
        return typeof name === "string" ? [name] : []
      })
    : []
}

export const modelOf = (request: RecordedRequest): string => String(recordOf(request.body)?.model ?? "")

export const systemText = (request: RecordedRequest): string => JSON.stringify(recordOf(request.body)?.system ?? "")

/** The JSON of the first user message (where the marker of a conversation is). */
export const firstMessage = (request: RecordedRequest): string => JSON.stringify(messagesOf(request)[0] ?? "")

/**
 * A handler answering each conversation (found by a marker in its first message) with its script: the n-th request
 * of a conversation (by its message count: 1, 3, 5 ...) gets `script[n]`.
 */
export const router =
  (routes: ReadonlyArray<{ readonly marker: string; readonly replies: ReadonlyArray<Reply> }>) =>
  (request: RecordedRequest): Reply => {
    const first = firstMessage(request)
    const route = routes.find((r) => first.includes(r.marker))
    const n = Math.floor(messagesOf(request).length / 2)
    const reply = route?.replies[n]
    return (
      reply ?? {
        kind: "error",
        status: 500,
        body: { error: { type: "api_error", message: `no scripted reply for request ${n} of ${first.slice(0, 80)}` } }
      }
    )
  }
