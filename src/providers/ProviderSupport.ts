/** Pieces every provider shares: building the client from a stream function and mapping HTTP failures. */
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import type * as Pull from "effect/Pull"
import * as Stream from "effect/Stream"
import {
  AuthenticationError,
  ConnectionError,
  ContextLengthExceededError,
  InvalidRequestError,
  type LLMError,
  ModelNotFoundError,
  OverloadedError,
  ProviderPermissionError,
  RateLimitedError,
  ServerError
} from "../errors/LLMError.js"
import type { Capabilities, LLMClient, LLMRequest } from "../services/LLMClient.js"
import { type ContentBlock, type Message, messageText } from "../streams/Message.js"
import { applyPart, emptyResponse, toResponse } from "../streams/Response.js"
import type { StreamPart } from "../streams/StreamPart.js"

/**
 * Conversation messages as the alternating user and assistant turns the Anthropic-style APIs want: `system` messages
 * are left for the system prompt (`systemPrompt`), each block becomes `blocks(block)` (a `tool` message is the
 * user's), messages left empty are dropped and consecutive messages of one role merged.
 */
export const alternatingTurns = <B>(
  messages: ReadonlyArray<Message>,
  blocks: (block: ContentBlock) => ReadonlyArray<B>
): Array<{ readonly role: "user" | "assistant"; readonly content: Array<B> }> => {
  const out: Array<{ readonly role: "user" | "assistant"; readonly content: Array<B> }> = []
  for (const message of messages) {
    if (message.role === "system") continue
    const role = message.role === "assistant" ? "assistant" : "user"
    const content = message.content.flatMap(blocks)
    if (content.length === 0) continue
    const last = out[out.length - 1]
    if (last !== undefined && last.role === role) last.content.push(...content)
    else out.push({ role, content: [...content] })
  }
  return out
}

/** The system prompt: `request.system` followed by the text of every `system` message (undefined when all blank). */
export const systemPrompt = (request: LLMRequest): string | undefined => {
  const parts = [request.system ?? "", ...request.messages.filter((m) => m.role === "system").map(messageText)].filter(
    (s) => s.trim() !== ""
  )
  return parts.length === 0 ? undefined : parts.join("\n\n")
}

/** Build an `LLMClient` service from its `stream`; `generate` folds the same stream. */
export const makeLLMClient = (options: {
  readonly provider: string
  readonly model: string
  readonly capabilities: Capabilities
  readonly stream: (request: LLMRequest) => Stream.Stream<StreamPart, LLMError>
}): LLMClient.Service => ({
  provider: options.provider,
  model: options.model,
  capabilities: options.capabilities,
  stream: options.stream,
  generate: Effect.fn("LLMClient.generate")(function* (request: LLMRequest) {
    const state = yield* Stream.runFold(options.stream(request), () => emptyResponse, applyPart)
    return toResponse(state)
  })
})

/** Header lookup that works for `Headers`, plain records and missing headers. */
export type HeaderSource = Headers | Record<string, string | ReadonlyArray<string> | undefined> | undefined | null

const header = (headers: HeaderSource, name: string): string | undefined => {
  if (headers === undefined || headers === null) return undefined
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined
  const value = (headers as Record<string, string | ReadonlyArray<string> | undefined>)[name]
  return typeof value === "string" ? value : value?.[0]
}

/**
 * The server's requested wait in milliseconds: `retry-after-ms`, else `retry-after` as seconds or an HTTP date
 * (relative to `now`, epoch ms). Absent or unparsable gives `undefined`.
 */
export const retryAfterFromHeaders = (headers: HeaderSource, now: number): number | undefined => {
  const ms = header(headers, "retry-after-ms")
  if (ms !== undefined && ms.trim() !== "" && Number.isFinite(Number(ms))) return Math.max(0, Number(ms))
  const after = header(headers, "retry-after")
  if (after === undefined || after.trim() === "") return undefined
  const seconds = Number(after)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(after)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

export interface HttpFailure {
  readonly provider: string
  /** The provider's env var for the key, named in authentication errors. */
  readonly apiKeyVar: string
  readonly model: string
  readonly status: number | undefined
  readonly message: string
  /** The provider's error type (`overloaded_error`, `rate_limit_exceeded`, ...), when known. */
  readonly errorType?: string
  readonly headers?: HeaderSource
  readonly requestId?: string
  /** Epoch ms, for HTTP-date `retry-after`. */
  readonly now: number
}

const CONTEXT_PATTERNS = [
  /context[ _-]?length/i,
  /context window/i,
  /prompt is too long/i,
  /maximum context/i,
  /too many tokens/i,
  /input is too long/i
]

/** Map an HTTP status (or an in-stream error type) to the typed error, with a message that says what to do. */
export const httpError = (f: HttpFailure): LLMError => {
  const base = {
    provider: f.provider,
    ...(f.status === undefined ? {} : { status: f.status }),
    ...(f.requestId === undefined ? {} : { requestId: f.requestId })
  }
  const retryAfterMs = retryAfterFromHeaders(f.headers, f.now)
  const retry = retryAfterMs === undefined ? {} : { retryAfterMs }
  const detail = f.message.trim() === "" ? "" : `: ${f.message}`
  const type = f.errorType ?? ""
  if (type === "insufficient_quota" || type === "billing_error")
    return new ProviderPermissionError({
      ...base,
      message: `${f.provider} says the account has no quota left; check the plan and billing (retrying will not help)${detail}`
    })
  if (type === "overloaded_error" || f.status === 529 || (f.status === 503 && /overload/i.test(f.message)))
    return new OverloadedError({ ...base, ...retry, message: `${f.provider} is overloaded; retry later${detail}` })
  if (f.status === 429 || type === "rate_limit_error" || type === "rate_limit_exceeded")
    return new RateLimitedError({
      ...base,
      ...retry,
      message: `${f.provider} rate limit reached; wait and retry, or lower the request rate${detail}`
    })
  if (f.status === 401 || type === "authentication_error" || type === "invalid_api_key")
    return new AuthenticationError({
      ...base,
      message: `${f.provider} rejected the API key; set ${f.apiKeyVar} to a valid key${detail}`
    })
  if (f.status === 403 || type === "permission_error")
    return new ProviderPermissionError({
      ...base,
      message: `${f.provider} refused access to model ${f.model} with this key${detail}`
    })
  if (f.status === 404 || type === "not_found_error" || type === "model_not_found")
    return new ModelNotFoundError({
      ...base,
      model: f.model,
      message: `model ${f.model} not found at ${f.provider}; check --model / SAGE_MODEL${detail}`
    })
  if (CONTEXT_PATTERNS.some((p) => p.test(f.message)) || type === "context_length_exceeded")
    return new ContextLengthExceededError({
      ...base,
      message: `the conversation no longer fits model ${f.model}'s context window; start a new session or compact it${detail}`
    })
  if (f.status !== undefined && f.status >= 500)
    return new ServerError({ ...base, ...retry, message: `${f.provider} server error ${f.status}${detail}` })
  if (type === "api_error" || type === "server_error")
    return new ServerError({ ...base, ...retry, message: `${f.provider} server error${detail}` })
  if (f.status === 408)
    return new ConnectionError({ ...base, timeout: true, message: `${f.provider} request timed out${detail}` })
  return new InvalidRequestError({
    ...base,
    message: `${f.provider} rejected the request${f.status === undefined ? "" : ` (HTTP ${f.status})`}${detail}`
  })
}

/** A network failure: refused, reset, DNS, or timeout. */
export const connectionError = (provider: string, baseURL: string, cause: unknown, timeout = false): ConnectionError =>
  new ConnectionError({
    provider,
    timeout,
    message: `${timeout ? "timed out talking to" : "could not reach"} ${provider} at ${baseURL}${
      cause instanceof Error && cause.message !== "" ? `: ${cause.message}` : ""
    }; check the network and the base URL`
  })

/** Turns a vendor SDK's chunks into parts: one chunk at a time, and the parts that complete at the end. */
export interface ChunkMapper<C> {
  readonly onChunk: (chunk: C) => ReadonlyArray<StreamPart>
  readonly onEnd: () => ReadonlyArray<StreamPart>
}

const isNonEmpty = <A>(parts: ReadonlyArray<A>): parts is NonEmptyReadonlyArray<A> => parts.length > 0

/**
 * The parts of a vendor SDK's chunk iterator: chunks are read until one yields parts; at the end of the body, the
 * parts `onEnd` completes (if any). A failure of the iterator goes through `fail` and ends the stream.
 */
export const streamChunks = <C>(
  chunks: AsyncIterable<C>,
  mapper: ChunkMapper<C>,
  fail: (cause: unknown) => Effect.Effect<never, LLMError>
): Stream.Stream<StreamPart, LLMError> => {
  const iterator = chunks[Symbol.asyncIterator]()
  let done = false
  const pull: Pull.Pull<NonEmptyReadonlyArray<StreamPart>, LLMError> = Effect.suspend(() => {
    if (done) return Cause.done()
    return Effect.tryPromise({ try: () => iterator.next(), catch: identity }).pipe(
      Effect.catch((cause) => {
        done = true
        return fail(cause)
      }),
      Effect.flatMap((result) => {
        if (result.done === true) done = true
        const parts = result.done === true ? mapper.onEnd() : mapper.onChunk(result.value)
        return isNonEmpty(parts) ? Effect.succeed(parts) : pull
      })
    )
  })
  return Stream.fromPull(Effect.succeed(pull))
}
