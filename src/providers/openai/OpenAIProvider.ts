/**
 * The OpenAI provider: Chat Completions streaming through the official `openai` SDK (v6). It also works against
 * any OpenAI-compatible server (OpenRouter, DeepSeek, Groq, vLLM, ...) through `baseURL` / `providerName`.
 *
 * - The SDK is loaded lazily (dynamic import, cached) so that CLI start-up does not pay for it.
 * - SDK retries are off (`maxRetries: 0`); the layer retries with `withRetry` (see Retry.ts).
 * - Cancellation: each request gets an `AbortController` tied to the stream's scope (and to the Effect signal of
 *   the request call), passed to the SDK as `{ signal }`; interrupting the stream aborts the HTTP request.
 * - The SDK never reads the environment: base URL, organization, project and log level are always passed.
 *
 * Mapping details (choice 0 only, usage, refusal, reasoning) are documented in OpenAIWire.ts.
 */
import type OpenAI from "openai"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { ConfigError } from "../../errors/ConfigError.js"
import { ConnectionError, type LLMError, ResponseDecodeError } from "../../errors/LLMError.js"
import { type Capabilities, LLMClient, type LLMProvider, type LLMRequest } from "../../services/LLMClient.js"
import type { StreamPart } from "../../streams/StreamPart.js"
import { errorInfo, makeChunkMapper, rootMessage, toChatRequest, type WireErrorInfo } from "./OpenAIWire.js"
import { connectionError, httpError, makeLLMClient, streamChunks } from "../ProviderSupport.js"
import { defaultRetryPolicy, type RetryPolicy, withRetry } from "../Retry.js"

export const DEFAULT_MODEL = "gpt-4o"
export const DEFAULT_BASE_URL = "https://api.openai.com/v1"

export interface OpenAIOptions {
  readonly apiKey: Redacted.Redacted<string>
  /** Any OpenAI-compatible base URL (default `https://api.openai.com/v1`). */
  readonly baseURL?: string
  /** Default model (default `gpt-4o`); a request's `model` overrides it. */
  readonly model?: string
  /** Retry policy of the layer; fields left out come from `defaultRetryPolicy`. */
  readonly retry?: Partial<RetryPolicy>
  /** Provider name in errors and `LLMClient.provider` (default `openai`; e.g. `openrouter`). */
  readonly providerName?: string
  /** The env var named when the key is missing or rejected (default `OPENAI_API_KEY`). */
  readonly apiKeyVar?: string
  readonly organization?: string
  readonly project?: string
  /** Extra headers on every request (e.g. OpenRouter's `HTTP-Referer`). */
  readonly headers?: Record<string, string>
  /** Field for `maxTokens` (default `max_completion_tokens`; some compatible servers want `max_tokens`). */
  readonly maxTokensParam?: "max_completion_tokens" | "max_tokens"
  /** How long to wait for the response to start (default: the SDK's 10 minutes). */
  readonly timeout?: Duration.Input
  /** Overrides the context window guessed from the model name. */
  readonly contextWindow?: number
}

type OpenAIModule = typeof import("openai")

/**
 * The one reason every abort here carries. `abort()` without a reason makes a fresh `DOMException` whose unformatted
 * stack trace holds the frames that called it (the stream's fiber and everything it references), kept for as long as
 * the aborted signal is.
 */
const ABORTED: DOMException = new DOMException("the model response is no longer read", "AbortError")

let sdkModule: Promise<OpenAIModule> | undefined

/** The SDK module, imported on first use and cached (a failed import is tried again next time). */
const loadSdk: Effect.Effect<OpenAIModule> = Effect.promise(() => {
  sdkModule ??= import("openai").catch((error: unknown) => {
    sdkModule = undefined
    throw error
  })
  return sdkModule
})

const isReasoningModel = (model: string): boolean => /^(o\d|gpt-5)|reasoner|deepseek-r1/i.test(model)

/** A best guess of the context window from the model name. */
export const contextWindowFor = (model: string): number => {
  if (/^gpt-4\.1/.test(model)) return 1_047_576
  if (/^gpt-5/.test(model)) return 400_000
  if (/^o\d/.test(model)) return 200_000
  return 128_000
}

const normalizeErrorType = (type: string | undefined): string | undefined => {
  if (type === undefined) return undefined
  if (/overload/i.test(type)) return "overloaded_error"
  if (/rate_limit|too_many_requests/i.test(type)) return "rate_limit_exceeded"
  if (/server_error|internal/i.test(type)) return "server_error"
  return type
}

interface ErrorContext {
  readonly provider: string
  readonly apiKeyVar: string
  readonly model: string
  readonly baseURL: string
  readonly now: number
  /** Whether the response had started (its headers arrived) when the failure happened. */
  readonly midStream?: boolean
}

/** Any failure of the SDK call or of reading its stream, as a typed `LLMError`. */
export const toLLMError = (sdk: OpenAIModule, cause: unknown, ctx: ErrorContext): LLMError => {
  if (cause instanceof sdk.APIConnectionTimeoutError) return connectionError(ctx.provider, ctx.baseURL, cause, true)
  if (cause instanceof sdk.APIError && !(cause instanceof sdk.APIConnectionError)) {
    // HTTP errors, and a `{"error": {...}}` chunk inside a 200 stream (status undefined, code/type in the body).
    const info: WireErrorInfo = errorInfo(cause.error)
    const errorType = normalizeErrorType(info.errorType)
    const requestId = cause.requestID ?? undefined
    return httpError({
      provider: ctx.provider,
      apiKeyVar: ctx.apiKeyVar,
      model: ctx.model,
      status: cause.status ?? info.status,
      message: info.message ?? cause.message,
      ...(errorType === undefined ? {} : { errorType }),
      headers: cause.headers,
      ...(requestId === undefined ? {} : { requestId }),
      now: ctx.now
    })
  }
  if (cause instanceof SyntaxError)
    return new ResponseDecodeError({
      provider: ctx.provider,
      message: `${ctx.provider} sent a stream chunk that is not valid JSON (${cause.message}); the response was abandoned`
    })
  // Refused / reset, or dropped mid-body (undici's `terminated` / `other side closed`): the connection failed.
  if (ctx.midStream === true)
    return new ConnectionError({
      provider: ctx.provider,
      timeout: false,
      message: `the connection to ${ctx.provider} at ${ctx.baseURL} dropped mid-response (${rootMessage(cause)}); retry the request`
    })
  return connectionError(ctx.provider, ctx.baseURL, new Error(rootMessage(cause)))
}

/** The OpenAI `LLMClient` without retries (the layer adds them). */
export const make = (options: OpenAIOptions): LLMClient.Service => {
  const provider = options.providerName ?? "openai"
  const model = options.model ?? DEFAULT_MODEL
  const baseURL = options.baseURL ?? DEFAULT_BASE_URL
  const apiKeyVar = options.apiKeyVar ?? "OPENAI_API_KEY"
  const capabilities: Capabilities = {
    streaming: true,
    tools: true,
    vision: true,
    thinking: isReasoningModel(model),
    structuredOutput: true,
    contextWindow: options.contextWindow ?? contextWindowFor(model)
  }

  let client: OpenAI | undefined
  const getClient = Effect.map(loadSdk, (sdk) => {
    client ??= new sdk.OpenAI({
      apiKey: Redacted.value(options.apiKey),
      baseURL,
      organization: options.organization ?? null,
      project: options.project ?? null,
      webhookSecret: null,
      maxRetries: 0,
      logLevel: "off",
      ...(options.headers === undefined ? {} : { defaultHeaders: options.headers }),
      ...(options.timeout === undefined ? {} : { timeout: Duration.toMillis(options.timeout) })
    })
    return { sdk, client }
  })

  const stream = (request: LLMRequest): Stream.Stream<StreamPart, LLMError> =>
    Stream.unwrap(
      Effect.gen(function* () {
        const { sdk, client } = yield* getClient
        const body = toChatRequest(request, {
          model,
          ...(options.maxTokensParam === undefined ? {} : { maxTokensParam: options.maxTokensParam })
        })
        const fail = (cause: unknown, midStream = false) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.fail(toLLMError(sdk, cause, { provider, apiKeyVar, model: body.model, baseURL, now, midStream }))
          )
        // Aborted when the stream's scope closes: at the end, on failure, and on interruption.
        const controller = yield* Effect.acquireRelease(
          Effect.sync(() => new AbortController()),
          (c) => Effect.sync(() => c.abort(ABORTED))
        )
        const chunks = yield* Effect.tryPromise({
          try: (signal) => {
            signal.addEventListener("abort", () => controller.abort(ABORTED), { once: true })
            return client.chat.completions.create(body, { signal: controller.signal })
          },
          catch: identity
        }).pipe(Effect.catch((cause) => fail(cause)))
        // The SDK's own request controller first (finalizers run last-added first), with the constant reason: the
        // SDK's listener on `controller` would otherwise abort it with a fresh exception holding this fiber's stack.
        yield* Effect.addFinalizer(() => Effect.sync(() => chunks.controller.abort(ABORTED)))
        return streamChunks(chunks, makeChunkMapper(), (cause: unknown) => fail(cause, true))
      })
    ).pipe(Stream.withSpan("OpenAIProvider.stream", { attributes: { provider, model: request.model ?? model } }))

  return makeLLMClient({ provider, model, capabilities, stream })
}

/** `LLMClient` backed by OpenAI Chat Completions, with retries. */
export const layer = (options: OpenAIOptions): Layer.Layer<LLMClient> =>
  Layer.succeed(LLMClient, withRetry(make(options), { ...defaultRetryPolicy, ...options.retry }))

/**
 * `layer` with the key from `OPENAI_API_KEY` (or `overrides.apiKeyVar`) and the base URL from `OPENAI_BASE_URL`
 * (optional), read through Effect `Config`. `overrides` win over the environment.
 */
export const layerConfig = (overrides: Partial<OpenAIOptions> = {}): Layer.Layer<LLMClient, ConfigError> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const apiKeyVar = overrides.apiKeyVar ?? "OPENAI_API_KEY"
      const provider = overrides.providerName ?? "openai"
      const missing = new ConfigError({
        message: `no ${provider} API key: set ${apiKeyVar}`,
        source: apiKeyVar
      })
      const apiKey = overrides.apiKey ?? (yield* Config.Redacted(apiKeyVar).pipe(Effect.mapError(() => missing)))
      if (Redacted.value(apiKey).trim() === "") return yield* missing
      const fromEnv = yield* Config.option(Config.String("OPENAI_BASE_URL")).pipe(
        Effect.mapError(
          (error) => new ConfigError({ message: `invalid OPENAI_BASE_URL: ${error}`, source: "OPENAI_BASE_URL" })
        )
      )
      const baseURL = overrides.baseURL ?? Option.getOrUndefined(Option.filter(fromEnv, (url) => url.trim() !== ""))
      return layer({ ...overrides, apiKey, ...(baseURL === undefined ? {} : { baseURL }) })
    })
  )

export const OpenAIProvider: LLMProvider<OpenAIOptions> = {
  id: "openai",
  defaultModel: DEFAULT_MODEL,
  layer,
  layerConfig
}
