/**
 * The Ollama provider: the native `/api/chat` NDJSON stream through the official `ollama` package (its browser build:
 * plain `fetch`, no file-system lookups of image strings). No API key; the host comes from `OLLAMA_HOST` or
 * `baseURL` (default `http://127.0.0.1:11434`).
 *
 * - The package is an optional peer dependency, imported on first use; `layerConfig` loads it, so a missing package
 *   fails the layer with a `ConfigError` that says what to install.
 * - Cancellation: the client's `fetch` joins each request's signal with an `AbortController` tied to the stream's
 *   scope (the package itself only aborts a stream once its headers arrived); it also keeps the response headers, so
 *   a 429's `retry-after` is honoured (the package's `ResponseError` carries none).
 * - Errors: HTTP errors by status (404 `model not found` -> ModelNotFoundError naming `ollama pull`), a refused
 *   connection -> ConnectionError asking whether ollama is running, an in-stream `{"error"}` -> ServerError, a body
 *   that ends without its `done` chunk -> ConnectionError.
 *
 * Mapping details are in OllamaWire.ts.
 */
import type { Ollama } from "ollama/browser"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { ConfigError } from "../../errors/ConfigError.js"
import {
  ConnectionError,
  InvalidRequestError,
  type LLMError,
  ModelNotFoundError,
  ServerError
} from "../../errors/LLMError.js"
import { type Capabilities, LLMClient, type LLMProvider, type LLMRequest } from "../../services/LLMClient.js"
import type { StreamPart } from "../../streams/StreamPart.js"
import { rootMessage } from "../openai/OpenAIWire.js"
import { httpError, makeLLMClient, streamChunks } from "../ProviderSupport.js"
import { defaultRetryPolicy, type RetryPolicy, withRetry } from "../Retry.js"
import { makeChunkMapper, toChatRequest } from "./OllamaWire.js"

export const DEFAULT_MODEL = "llama3.2"
export const DEFAULT_HOST = "http://127.0.0.1:11434"
const SDK_PACKAGE = "ollama"
const PROVIDER = "ollama"

export interface OllamaOptions {
  /** The Ollama server (default `http://127.0.0.1:11434`). */
  readonly baseURL?: string
  /** Default model (default `llama3.2`); a request's `model` overrides it. */
  readonly model?: string
  /** Retry policy of the layer; fields left out come from `defaultRetryPolicy`. */
  readonly retry?: Partial<RetryPolicy>
  /** Sent as `Authorization: Bearer` (for a server behind an authenticating proxy, or ollama.com). */
  readonly apiKey?: Redacted.Redacted<string>
  readonly headers?: Record<string, string>
  /** Context window (default 32768: Ollama's own default `num_ctx` is smaller; set it to the model's). */
  readonly contextWindow?: number
  /** Whether the model thinks (`think`) and sees images; by default guessed from the model name. */
  readonly thinking?: boolean
  readonly vision?: boolean
}

type OllamaModule = typeof import("ollama/browser")

const ABORTED: DOMException = new DOMException("the model response is no longer read", "AbortError")

let sdkModule: Promise<OllamaModule> | undefined

/** The package, imported once on first use; a missing package is a `ConfigError` that says what to install. */
export const loadSdk: Effect.Effect<OllamaModule, ConfigError> = Effect.tryPromise({
  try: () => {
    sdkModule ??= import("ollama/browser").catch((error: unknown) => {
      sdkModule = undefined
      throw error
    })
    return sdkModule
  },
  catch: (cause) =>
    new ConfigError({
      message: `install ${SDK_PACKAGE} to use --provider ollama (npm install ${SDK_PACKAGE})${
        cause instanceof Error ? `: ${cause.message}` : ""
      }`,
      source: "provider"
    })
})

const statusOf = (cause: unknown): number | undefined =>
  cause instanceof Error && "status_code" in cause && typeof cause.status_code === "number"
    ? cause.status_code
    : undefined

interface ErrorContext {
  readonly host: string
  readonly model: string
  readonly now: number
  readonly midStream: boolean
  /** The response headers, when a response came (for `retry-after`). */
  readonly headers?: Headers | undefined
}

/** Any failure of the request or of reading its stream, as a typed `LLMError`. */
export const toLLMError = (cause: unknown, ctx: ErrorContext): LLMError => {
  const status = statusOf(cause)
  const message = cause instanceof Error ? cause.message : String(cause)
  if (status !== undefined) {
    if (status === 404 || /model .* not found/i.test(message))
      return new ModelNotFoundError({
        provider: PROVIDER,
        status,
        model: ctx.model,
        message: `model ${ctx.model} not found at ollama (${ctx.host}); pull it with \`ollama pull ${ctx.model}\` or check --model / SAGE_MODEL: ${message}`
      })
    return httpError({
      provider: PROVIDER,
      apiKeyVar: "OLLAMA_API_KEY",
      model: ctx.model,
      status,
      message,
      headers: ctx.headers,
      now: ctx.now
    })
  }
  if (/Did not receive done/i.test(message))
    return new ConnectionError({
      provider: PROVIDER,
      timeout: false,
      message: `the ollama response at ${ctx.host} ended before its final (done) chunk; retry the request`
    })
  if (ctx.midStream && cause instanceof Error && !(cause instanceof TypeError) && cause.name === "Error")
    // An `{"error": "..."}` line inside the stream (the package throws it as a plain Error).
    return new ServerError({ provider: PROVIDER, message: `ollama failed mid-response: ${message}` })
  if (ctx.midStream)
    return new ConnectionError({
      provider: PROVIDER,
      timeout: false,
      message: `the connection to ollama at ${ctx.host} dropped mid-response (${rootMessage(cause)}); retry the request`
    })
  return new ConnectionError({
    provider: PROVIDER,
    timeout: false,
    message: `could not reach ollama at ${ctx.host} (${rootMessage(cause)}); is ollama running? Start it with \`ollama serve\`, or set OLLAMA_HOST`
  })
}

/** Models whose names say they think / see (a guess; `thinking` / `vision` options override it). */
const thinks = (model: string): boolean => /qwen3|deepseek-r1|gpt-oss|magistral|think/i.test(model)
const sees = (model: string): boolean =>
  /llava|vision|gemma3|qwen2\.5vl|qwen.*vl|minicpm-v|moondream|llama4/i.test(model)

/** The Ollama `LLMClient` without retries (the layer adds them). */
export const make = (options: OllamaOptions = {}): LLMClient.Service => {
  const model = options.model ?? DEFAULT_MODEL
  const host = options.baseURL ?? DEFAULT_HOST
  const capabilities: Capabilities = {
    streaming: true,
    tools: true,
    vision: options.vision ?? sees(model),
    thinking: options.thinking ?? thinks(model),
    structuredOutput: true,
    contextWindow: options.contextWindow ?? 32_768
  }
  const stream = (request: LLMRequest): Stream.Stream<StreamPart, LLMError> =>
    Stream.unwrap(
      Effect.gen(function* () {
        const sdk = yield* loadSdk.pipe(
          Effect.mapError((error) => new InvalidRequestError({ provider: PROVIDER, message: error.message }))
        )
        const body = toChatRequest(request, { model })
        let midStream = false
        let headers: Headers | undefined
        const fail = (cause: unknown) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.fail(toLLMError(cause, { host, model: body.model, now, midStream, headers }))
          )
        const controller = yield* Effect.acquireRelease(
          Effect.sync(() => new AbortController()),
          (c) => Effect.sync(() => c.abort(ABORTED))
        )
        const client: Ollama = new sdk.Ollama({
          host,
          headers: {
            ...options.headers,
            ...(options.apiKey === undefined ? {} : { Authorization: `Bearer ${Redacted.value(options.apiKey)}` })
          },
          fetch: async (input, init) => {
            const response = await fetch(input, {
              ...init,
              signal:
                init?.signal === undefined || init.signal === null
                  ? controller.signal
                  : AbortSignal.any([init.signal, controller.signal])
            })
            headers = response.headers
            return response
          }
        })
        const suffix = (yield* Random.nextIntBetween(0, 0x7fffffff)).toString(36)
        const chunks = yield* Effect.tryPromise({
          try: (signal) => {
            signal.addEventListener("abort", () => controller.abort(ABORTED), { once: true })
            return client.chat(body)
          },
          catch: identity
        }).pipe(Effect.catch((cause) => fail(cause)))
        midStream = true
        yield* Effect.addFinalizer(() => Effect.sync(() => chunks.abort()))
        return streamChunks(chunks, makeChunkMapper(suffix), fail)
      })
    ).pipe(
      Stream.withSpan("OllamaProvider.stream", { attributes: { provider: PROVIDER, model: request.model ?? model } })
    )

  return makeLLMClient({ provider: PROVIDER, model, capabilities, stream })
}

/** `LLMClient` backed by Ollama, with retries. */
export const layer = (options: OllamaOptions = {}): Layer.Layer<LLMClient> =>
  Layer.succeed(LLMClient, withRetry(make(options), { ...defaultRetryPolicy, ...options.retry }))

/** Ollama's own `OLLAMA_HOST` forms: `host`, `host:port`, `:port`, or a URL. */
export const hostURL = (value: string): string => {
  const trimmed = value.trim().replace(/\/+$/, "")
  const withScheme = trimmed.startsWith(":")
    ? `http://127.0.0.1${trimmed}`
    : trimmed.includes("://")
      ? trimmed
      : `http://${trimmed}`
  const url = new URL(withScheme)
  if (url.port === "" && !trimmed.includes("://")) url.port = "11434"
  return url.toString().replace(/\/+$/, "")
}

/** `layer` with the host from `OLLAMA_HOST` (optional) read through `Config`; `overrides` win. Loads the package. */
export const layerConfig = (overrides: Partial<OllamaOptions> = {}): Layer.Layer<LLMClient, ConfigError> =>
  Layer.unwrap(
    Effect.gen(function* () {
      yield* loadSdk
      const fromEnv = yield* Config.option(Config.String("OLLAMA_HOST")).pipe(
        Effect.mapError(
          (error) => new ConfigError({ message: `invalid OLLAMA_HOST: ${error.toString()}`, source: "OLLAMA_HOST" })
        )
      )
      const env = Option.getOrUndefined(Option.filter(fromEnv, (v) => v.trim() !== ""))
      let baseURL = overrides.baseURL
      if (baseURL === undefined && env !== undefined) {
        const parsed = yield* Effect.try({
          try: () => hostURL(env),
          catch: () =>
            new ConfigError({
              message: `invalid OLLAMA_HOST: ${JSON.stringify(env)} is not a host or URL`,
              source: "OLLAMA_HOST"
            })
        })
        baseURL = parsed
      }
      return layer({ ...overrides, ...(baseURL === undefined ? {} : { baseURL }) })
    })
  )

export const OllamaProvider: LLMProvider<OllamaOptions> = {
  id: "ollama",
  defaultModel: DEFAULT_MODEL,
  layer,
  layerConfig
}
