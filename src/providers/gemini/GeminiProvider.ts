/**
 * The Gemini provider (`gemini`: the Gemini API; `vertex`: Vertex AI) through the official `@google/genai` SDK,
 * `ai.models.generateContentStream` (SSE, `alt=sse`).
 *
 * - The SDK is an optional peer dependency, imported on first use; `layerConfig` loads it, so a missing package fails
 *   the layer with a `ConfigError` that says what to install.
 * - SDK retries are off (no `httpOptions.retryOptions`), and so are its automatic function calling and its automatic
 *   continuation (which re-sends dropped requests); the layer retries with `withRetry` (see Retry.ts).
 * - Cancellation: each request gets an `AbortController` tied to the stream's scope, passed as `config.abortSignal`.
 * - The SDK reads the environment when an option is missing; every option it would read (key, project, location,
 *   base URL, API version, backend) is passed explicitly, from Effect `Config`.
 * - Each request goes through a small `fetch` wrapper that keeps the response headers and the tail of the body, so an
 *   error object the API appends to a streamed body without SSE framing (a mid-stream failure) is still mapped to its
 *   typed error instead of the SDK's "Incomplete JSON segment".
 *
 * Mapping details (thought signatures, call ids, streamed arguments, usage, finish reasons) are in GeminiWire.ts.
 */
import type * as Genai from "@google/genai"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { ConfigError } from "../../errors/ConfigError.js"
import { ConnectionError, InvalidRequestError, type LLMError, ResponseDecodeError } from "../../errors/LLMError.js"
import { type Capabilities, LLMClient, type LLMProvider, type LLMRequest } from "../../services/LLMClient.js"
import type { StreamPart } from "../../streams/StreamPart.js"
import { rootMessage } from "../openai/OpenAIWire.js"
import { connectionError, httpError, makeLLMClient, streamChunks } from "../ProviderSupport.js"
import { defaultRetryPolicy, type RetryPolicy, withRetry } from "../Retry.js"
import {
  errorInfo,
  errorType,
  makeChunkMapper,
  makeJsonArrayReframer,
  toGenerateRequest,
  trailingError,
  type WireErrorInfo
} from "./GeminiWire.js"

export const DEFAULT_MODEL = "gemini-2.5-flash"
export const DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
const SDK_PACKAGE = "@google/genai"

export interface VertexTarget {
  /** Google Cloud project (`GOOGLE_CLOUD_PROJECT`); absent with an API key: Vertex express mode. */
  readonly project?: string
  /** Google Cloud location (`GOOGLE_CLOUD_LOCATION`, default `global`). */
  readonly location?: string
}

export interface GeminiOptions {
  /** The Gemini API key; for Vertex optional (express mode), else the SDK's credential chain (ADC) is used. */
  readonly apiKey?: Redacted.Redacted<string>
  /** Base URL (default: the Gemini API, or the Vertex endpoint of the location). */
  readonly baseURL?: string
  /** Default model (default `gemini-2.5-flash`); a request's `model` overrides it. */
  readonly model?: string
  /** Retry policy of the layer; fields left out come from `defaultRetryPolicy`. */
  readonly retry?: Partial<RetryPolicy>
  /** Use Vertex AI instead of the Gemini API. */
  readonly vertex?: VertexTarget
  /** Provider name in errors and `LLMClient.provider` (default `gemini`, or `vertex`). */
  readonly providerName?: string
  /** The env var named when the key is missing or rejected (default `GEMINI_API_KEY`). */
  readonly apiKeyVar?: string
  /** API version (default `v1beta`, Vertex `v1beta1`). */
  readonly apiVersion?: string
  readonly headers?: Record<string, string>
  /** Per-request timeout (default none). */
  readonly timeout?: Duration.Input
  /** Overrides the context window guessed from the model name. */
  readonly contextWindow?: number
  /** Ask Vertex to stream function-call arguments (`streamFunctionCallArguments`, Gemini 3 on Vertex). */
  readonly streamFunctionCallArguments?: boolean
}

type GenaiModule = typeof import("@google/genai")

/** One reason for every abort (see OpenAIProvider for why it is one constant). */
const ABORTED: DOMException = new DOMException("the model response is no longer read", "AbortError")

let sdkModule: Promise<GenaiModule> | undefined

/** The SDK, imported once on first use; a missing package is a `ConfigError` that says what to install. */
export const loadSdk = (provider: string): Effect.Effect<GenaiModule, ConfigError> =>
  Effect.tryPromise({
    try: () => {
      sdkModule ??= import("@google/genai").catch((error: unknown) => {
        sdkModule = undefined
        throw error
      })
      return sdkModule
    },
    catch: (cause) =>
      new ConfigError({
        message: `install ${SDK_PACKAGE} to use --provider ${provider} (npm install ${SDK_PACKAGE})${
          cause instanceof Error ? `: ${cause.message}` : ""
        }`,
        source: "provider"
      })
  })

/** A best guess of the context window from the model name. */
export const contextWindowFor = (model: string): number => (/gemini-1\.0|gemma/i.test(model) ? 32_768 : 1_048_576)

/** What one request's `fetch` saw: the response headers and the last 64 KiB of the body text. */
interface Tap {
  headers: Headers | undefined
  tail: string
}

const TAIL_LIMIT = 65_536

/** `fetch` that records into `tap` and otherwise passes everything through. */
const tapFetch =
  (tap: Tap): Genai.Fetch =>
  async (input, init) => {
    const response = await fetch(input, init)
    tap.headers = response.headers
    if (!response.ok || response.body === null) return response
    const decoder = new TextDecoder()
    const encoder = new TextEncoder()
    // A JSON-array stream (a gateway that ignored `alt=sse`) is re-framed as the SSE events the SDK reads.
    const reframer = /^application\/json/i.test(response.headers.get("content-type") ?? "")
      ? makeJsonArrayReframer()
      : undefined
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, controller) => {
          if (reframer === undefined) {
            tap.tail = (tap.tail + decoder.decode(chunk, { stream: true })).slice(-TAIL_LIMIT)
            controller.enqueue(chunk)
            return
          }
          const events = reframer.push(decoder.decode(chunk, { stream: true }))
          tap.tail = (tap.tail + events).slice(-TAIL_LIMIT)
          if (events !== "") controller.enqueue(encoder.encode(events))
        }
      })
    )
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
  }

/** The text after the last complete SSE event. */
const afterLastEvent = (tail: string): string => {
  const cut = Math.max(tail.lastIndexOf("\n\n") + 2, tail.lastIndexOf("\r\r") + 2, tail.lastIndexOf("\r\n\r\n") + 4)
  return tail.slice(Math.max(0, cut))
}

interface ErrorContext {
  readonly provider: string
  readonly apiKeyVar: string
  readonly model: string
  readonly baseURL: string
  readonly now: number
  readonly midStream: boolean
  readonly headers: Headers | undefined
}

const fromInfo = (info: WireErrorInfo, status: number | undefined, fallback: string, ctx: ErrorContext): LLMError => {
  const type = errorType(info)
  return httpError({
    provider: ctx.provider,
    apiKeyVar: ctx.apiKeyVar,
    model: ctx.model,
    status: status ?? info.code,
    message: [info.status, info.message ?? fallback].filter((s) => s !== undefined && s !== "").join(": "),
    ...(type === undefined ? {} : { errorType: type }),
    // The RetryInfo delay of the body, else the headers' retry-after.
    headers: info.retryDelayMs === undefined ? ctx.headers : { "retry-after-ms": String(info.retryDelayMs) },
    now: ctx.now
  })
}

/** Any failure of the SDK call or of reading its stream, as a typed `LLMError`. */
export const toLLMError = (sdk: GenaiModule, cause: unknown, ctx: ErrorContext, tail: string): LLMError => {
  if (cause instanceof sdk.ApiError) {
    const info = errorInfo(cause.message) ?? {}
    return fromInfo(info, cause.status, cause.message, ctx)
  }
  const message = cause instanceof Error ? cause.message : String(cause)
  if (/Incomplete JSON segment/i.test(message)) {
    const info = trailingError(afterLastEvent(tail))
    if (info !== undefined) return fromInfo(info, info.code, message, ctx)
    return new ResponseDecodeError({
      provider: ctx.provider,
      message: `${ctx.provider} ended the stream with data that is not an SSE event (${afterLastEvent(tail).trim().slice(0, 80)}); the response was abandoned`
    })
  }
  if (/exception parsing stream chunk/i.test(message) || cause instanceof SyntaxError)
    return new ResponseDecodeError({
      provider: ctx.provider,
      message: `${ctx.provider} sent a stream chunk that is not valid JSON; the response was abandoned`
    })
  if (cause instanceof Error && cause.name === "TimeoutError")
    return connectionError(ctx.provider, ctx.baseURL, new Error(rootMessage(cause)), true)
  if (ctx.midStream)
    return new ConnectionError({
      provider: ctx.provider,
      timeout: false,
      message: `the connection to ${ctx.provider} at ${ctx.baseURL} dropped mid-response (${rootMessage(cause)}); retry the request`
    })
  return connectionError(ctx.provider, ctx.baseURL, new Error(rootMessage(cause)))
}

/** The Gemini / Vertex `LLMClient` without retries (the layer adds them). */
export const make = (options: GeminiOptions): LLMClient.Service => {
  const vertex = options.vertex
  const provider = options.providerName ?? (vertex === undefined ? "gemini" : "vertex")
  const model = options.model ?? DEFAULT_MODEL
  const apiKeyVar = options.apiKeyVar ?? (vertex === undefined ? "GEMINI_API_KEY" : "GOOGLE_API_KEY")
  const baseURL =
    options.baseURL ??
    (vertex === undefined
      ? DEFAULT_BASE_URL
      : `https://${vertex.location === undefined || vertex.location === "global" ? "" : `${vertex.location}-`}aiplatform.googleapis.com`)
  const capabilities: Capabilities = {
    streaming: true,
    tools: true,
    vision: true,
    thinking: /gemini-(2\.5|[3-9])/i.test(model),
    structuredOutput: true,
    contextWindow: options.contextWindow ?? contextWindowFor(model)
  }

  let client: Genai.GoogleGenAI | undefined
  const getClient = Effect.map(loadSdk(provider), (sdk) => {
    client ??= new sdk.GoogleGenAI({
      vertexai: vertex !== undefined,
      ...(options.apiKey === undefined ? {} : { apiKey: Redacted.value(options.apiKey) }),
      ...(vertex?.project === undefined ? {} : { project: vertex.project }),
      ...(vertex === undefined || (vertex.project === undefined && options.apiKey !== undefined)
        ? {}
        : { location: vertex.location ?? "global" }),
      apiVersion: options.apiVersion ?? (vertex === undefined ? "v1beta" : "v1beta1"),
      httpOptions: {
        ...(options.baseURL !== undefined || vertex === undefined ? { baseUrl: baseURL } : {}),
        ...(options.headers === undefined ? {} : { headers: options.headers }),
        ...(options.timeout === undefined ? {} : { timeout: Duration.toMillis(options.timeout) })
      }
    })
    return { sdk, client }
  })

  const stream = (request: LLMRequest): Stream.Stream<StreamPart, LLMError> =>
    Stream.unwrap(
      Effect.gen(function* () {
        const { sdk, client } = yield* getClient.pipe(
          Effect.mapError((error) => new InvalidRequestError({ provider, message: error.message }))
        )
        const params = toGenerateRequest(request, {
          model,
          enums: sdk,
          ...(options.streamFunctionCallArguments === true ? { streamFunctionCallArguments: true } : {})
        })
        const tap: Tap = { headers: undefined, tail: "" }
        let midStream = false
        const fail = (cause: unknown) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.fail(
              toLLMError(
                sdk,
                cause,
                { provider, apiKeyVar, model: params.model, baseURL, now, midStream, headers: tap.headers },
                tap.tail
              )
            )
          )
        // Aborted when the stream's scope closes: at the end, on failure, and on interruption.
        const controller = yield* Effect.acquireRelease(
          Effect.sync(() => new AbortController()),
          (c) => Effect.sync(() => c.abort(ABORTED))
        )
        const fallbackId = (yield* Random.nextIntBetween(0, 0x7fffffff)).toString(36)
        const chunks = yield* Effect.tryPromise({
          try: (signal) => {
            signal.addEventListener("abort", () => controller.abort(ABORTED), { once: true })
            return client.models.generateContentStream({
              ...params,
              config: { ...params.config, abortSignal: controller.signal, httpOptions: { fetch: tapFetch(tap) } }
            })
          },
          catch: identity
        }).pipe(Effect.catch((cause) => fail(cause)))
        midStream = true
        return streamChunks(chunks, makeChunkMapper(fallbackId), fail)
      })
    ).pipe(Stream.withSpan("GeminiProvider.stream", { attributes: { provider, model: request.model ?? model } }))

  return makeLLMClient({ provider, model, capabilities, stream })
}

/** `LLMClient` backed by Gemini (or Vertex AI), with retries. */
export const layer = (options: GeminiOptions): Layer.Layer<LLMClient> =>
  Layer.succeed(LLMClient, withRetry(make(options), { ...defaultRetryPolicy, ...options.retry }))

const optionalString = (name: string): Effect.Effect<string | undefined, ConfigError> =>
  Config.option(Config.String(name)).pipe(
    Effect.map((value) => Option.getOrUndefined(Option.filter(value, (s) => s.trim() !== ""))),
    Effect.mapError((error) => new ConfigError({ message: `invalid ${name}: ${error.toString()}`, source: name }))
  )

const optionalSecret = (name: string): Effect.Effect<Redacted.Redacted<string> | undefined, ConfigError> =>
  Effect.map(optionalString(name), (value) => (value === undefined ? undefined : Redacted.make(value)))

/**
 * `layer` for the Gemini API: the key from `GEMINI_API_KEY`, else `GOOGLE_API_KEY`; the base URL from
 * `GOOGLE_GEMINI_BASE_URL` (optional). `overrides` win. The SDK is loaded here (a missing package: `ConfigError`).
 */
export const layerConfig = (overrides: Partial<GeminiOptions> = {}): Layer.Layer<LLMClient, ConfigError> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const provider = overrides.providerName ?? "gemini"
      yield* loadSdk(provider)
      const fromGemini = yield* optionalSecret("GEMINI_API_KEY")
      const fromGoogle = yield* optionalSecret("GOOGLE_API_KEY")
      const apiKey = overrides.apiKey ?? fromGemini ?? fromGoogle
      if (apiKey === undefined || Redacted.value(apiKey).trim() === "")
        return yield* new ConfigError({
          message: `no ${provider} API key: set GEMINI_API_KEY (or GOOGLE_API_KEY)`,
          source: "GEMINI_API_KEY"
        })
      const apiKeyVar = fromGemini !== undefined || fromGoogle === undefined ? "GEMINI_API_KEY" : "GOOGLE_API_KEY"
      const baseURL = overrides.baseURL ?? (yield* optionalString("GOOGLE_GEMINI_BASE_URL"))
      return layer({ apiKeyVar, ...overrides, apiKey, ...(baseURL === undefined ? {} : { baseURL }) })
    })
  )

/**
 * `layer` for Vertex AI: `GOOGLE_CLOUD_PROJECT` and `GOOGLE_CLOUD_LOCATION` (default `global`) with the SDK's
 * credential chain (Application Default Credentials), or, without a project, Vertex express mode with the key from
 * `GOOGLE_API_KEY`. The base URL from `GOOGLE_VERTEX_BASE_URL` (optional). `overrides` win.
 */
export const vertexLayerConfig = (overrides: Partial<GeminiOptions> = {}): Layer.Layer<LLMClient, ConfigError> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const provider = overrides.providerName ?? "vertex"
      yield* loadSdk(provider)
      const project = overrides.vertex?.project ?? (yield* optionalString("GOOGLE_CLOUD_PROJECT"))
      const location = overrides.vertex?.location ?? (yield* optionalString("GOOGLE_CLOUD_LOCATION"))
      const apiKey = overrides.apiKey ?? (yield* optionalSecret("GOOGLE_API_KEY"))
      if (project === undefined && apiKey === undefined)
        return yield* new ConfigError({
          message:
            "no Vertex AI project: set GOOGLE_CLOUD_PROJECT (and GOOGLE_CLOUD_LOCATION; credentials come from gcloud / GOOGLE_APPLICATION_CREDENTIALS), or GOOGLE_API_KEY for Vertex express mode",
          source: "GOOGLE_CLOUD_PROJECT"
        })
      const baseURL = overrides.baseURL ?? (yield* optionalString("GOOGLE_VERTEX_BASE_URL"))
      return layer({
        apiKeyVar: "GOOGLE_API_KEY",
        ...overrides,
        providerName: provider,
        vertex: {
          ...(project === undefined ? {} : { project }),
          ...(location === undefined ? {} : { location })
        },
        ...(apiKey === undefined ? {} : { apiKey }),
        ...(baseURL === undefined ? {} : { baseURL })
      })
    })
  )

export const GeminiProvider: LLMProvider<GeminiOptions> = {
  id: "gemini",
  defaultModel: DEFAULT_MODEL,
  layer,
  layerConfig
}

export const VertexProvider: LLMProvider<GeminiOptions> = {
  id: "vertex",
  defaultModel: DEFAULT_MODEL,
  layer: (options) => layer({ vertex: {}, ...options }),
  layerConfig: vertexLayerConfig
}
