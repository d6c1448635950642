/**
 * The OpenAI Responses provider (`--provider openai-responses`): `POST /responses` streamed through the official
 * `openai` SDK (v6), stateless (`store: false`, the whole conversation sent each time, reasoning items round-tripped
 * with their encrypted content). Wire mapping: ResponsesWire.ts.
 *
 * - The SDK is loaded lazily (dynamic import, cached); its retries are off (`maxRetries: 0`), the layer retries with
 *   `withRetry` (Retry.ts).
 * - Cancellation: the request gets an `AbortController` tied to the stream's scope; interrupting the stream aborts the
 *   HTTP request.
 * - Errors: HTTP failures and in-stream failures (`response.failed`, `error` events) go through OpenAIProvider's
 *   `toLLMError`, so both map exactly like Chat Completions errors.
 * - `streamSdk` is the streaming core shared with the Azure provider (which also streams Chat Completions through it).
 */
import type OpenAI from "openai"
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Pull from "effect/Pull"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { ConfigError } from "../../errors/ConfigError.js"
import { ConnectionError, type LLMError } from "../../errors/LLMError.js"
import { type Capabilities, LLMClient, type LLMProvider, type LLMRequest } from "../../services/LLMClient.js"
import type { StreamPart } from "../../streams/StreamPart.js"
import { contextWindowFor, toLLMError } from "../openai/OpenAIProvider.js"
import { makeLLMClient } from "../ProviderSupport.js"
import { defaultRetryPolicy, type RetryPolicy, withRetry } from "../Retry.js"
import { isReasoningModel, type MapResult, makeEventMapper, toResponsesRequest } from "./ResponsesWire.js"

export const PROVIDER = "openai-responses"
export const DEFAULT_MODEL = "gpt-5"
export const DEFAULT_BASE_URL = "https://api.openai.com/v1"
const API_KEY_VAR = "OPENAI_API_KEY"
const BASE_URL_VAR = "OPENAI_BASE_URL"

export interface ResponsesOptions {
  readonly apiKey: Redacted.Redacted<string>
  /** Default `https://api.openai.com/v1`. */
  readonly baseURL?: string
  /** Default model (default `gpt-5`); a request's `model` overrides it. */
  readonly model?: string
  /** Retry policy of the layer; fields left out come from `defaultRetryPolicy`. */
  readonly retry?: Partial<RetryPolicy>
  readonly organization?: string
  readonly project?: string
  /** Extra headers on every request. */
  readonly headers?: Record<string, string>
  /** How long to wait for the response to start (default: the SDK's 10 minutes). */
  readonly timeout?: Duration.Input
  /** Overrides the context window guessed from the model name. */
  readonly contextWindow?: number
}

export type OpenAIModule = typeof import("openai")

/** The one reason every abort here carries (see OpenAIProvider: a fresh reason would keep the fiber's stack alive). */
const ABORTED: DOMException = new DOMException("the model response is no longer read", "AbortError")

let sdkModule: Promise<OpenAIModule> | undefined

/** The SDK module, imported on first use and cached (a failed import is tried again next time). */
export const loadSdk: Effect.Effect<OpenAIModule> = Effect.promise(() => {
  sdkModule ??= import("openai").catch((error: unknown) => {
    sdkModule = undefined
    throw error
  })
  return sdkModule
})

const isNonEmpty = <A>(parts: ReadonlyArray<A>): parts is NonEmptyReadonlyArray<A> => parts.length > 0

/** What one streamed request needs, whichever API it calls. */
export interface SdkCall<Event> {
  readonly provider: string
  readonly apiKeyVar: string
  /** The model (or Azure deployment) of the request, named in errors. */
  readonly model: string
  /** Where the client points, named in connection errors. */
  readonly baseURL: string
  readonly client: Effect.Effect<{ readonly sdk: OpenAIModule; readonly client: OpenAI }>
  /** Start the request; the SDK's stream of decoded events. */
  readonly create: (
    client: OpenAI,
    signal: AbortSignal
  ) => Promise<AsyncIterable<Event> & { controller: AbortController }>
  readonly mapper: { readonly onEvent: (event: Event) => MapResult; readonly onEnd: () => MapResult }
}

/**
 * One streamed SDK request as `StreamPart`s: the request is aborted when the stream's scope closes, events are read
 * one at a time, and failures (HTTP, in-stream, a dropped connection) become typed `LLMError`s.
 */
export const streamSdk = <Event>(call: SdkCall<Event>): Stream.Stream<StreamPart, LLMError> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const { sdk, client } = yield* call.client
      const ctx = { provider: call.provider, apiKeyVar: call.apiKeyVar, model: call.model, baseURL: call.baseURL }
      const fail = (cause: unknown, midStream = false) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.fail(toLLMError(sdk, cause, { ...ctx, now, midStream }))
        )
      // Aborted when the stream's scope closes: at the end, on failure, and on interruption.
      const controller = yield* Effect.acquireRelease(
        Effect.sync(() => new AbortController()),
        (c) => Effect.sync(() => c.abort(ABORTED))
      )
      const events = yield* Effect.tryPromise({
        try: (signal) => {
          signal.addEventListener("abort", () => controller.abort(ABORTED), { once: true })
          return call.create(client, controller.signal)
        },
        catch: identity
      }).pipe(Effect.catch((cause) => fail(cause)))
      // The SDK's own request controller first, with the constant reason (see OpenAIProvider).
      yield* Effect.addFinalizer(() => Effect.sync(() => events.controller.abort(ABORTED)))
      const iterator = events[Symbol.asyncIterator]()
      let done = false
      const settle = (result: MapResult): Effect.Effect<ReadonlyArray<StreamPart>, LLMError> => {
        switch (result._tag) {
          case "parts":
            return Effect.succeed(result.parts)
          case "error":
            done = true
            // An in-stream failure maps exactly like the same error object in an HTTP error body.
            return fail(new sdk.APIError(undefined, result.error, result.error.message, undefined), true)
          case "ended":
            done = true
            return Effect.fail(
              new ConnectionError({
                provider: call.provider,
                timeout: false,
                message: `the ${call.provider} stream ended before the response was complete; retry the request`
              })
            )
        }
      }
      // Reads events until one yields parts; at the end of the body, whatever `onEnd` says.
      const pull: Pull.Pull<NonEmptyReadonlyArray<StreamPart>, LLMError> = Effect.suspend(() => {
        if (done) return Cause.done()
        return Effect.tryPromise({ try: () => iterator.next(), catch: identity }).pipe(
          Effect.catch((cause) => {
            done = true
            return fail(cause, true)
          }),
          Effect.flatMap((result) => {
            if (result.done === true) done = true
            return settle(result.done === true ? call.mapper.onEnd() : call.mapper.onEvent(result.value))
          }),
          Effect.flatMap((parts) => (isNonEmpty(parts) ? Effect.succeed(parts) : pull))
        )
      })
      return Stream.fromPull(Effect.succeed(pull))
    })
  )

/** The capabilities of a Responses client for `model`. */
export const capabilitiesFor = (model: string, contextWindow?: number): Capabilities => ({
  streaming: true,
  tools: true,
  vision: true,
  thinking: isReasoningModel(model),
  structuredOutput: true,
  contextWindow: contextWindow ?? contextWindowFor(model)
})

/** A Responses `LLMClient` (no retries) over any client the SDK builds (OpenAI, Azure, a compatible server). */
export const makeWith = (config: {
  readonly provider: string
  readonly apiKeyVar: string
  readonly model: string
  readonly baseURL: string
  readonly capabilities: Capabilities
  readonly newClient: (sdk: OpenAIModule) => OpenAI
}): LLMClient.Service => {
  let client: OpenAI | undefined
  const getClient = Effect.map(loadSdk, (sdk) => {
    client ??= config.newClient(sdk)
    return { sdk, client }
  })
  const stream = (request: LLMRequest): Stream.Stream<StreamPart, LLMError> => {
    const body = toResponsesRequest(request, { model: config.model })
    return streamSdk({
      provider: config.provider,
      apiKeyVar: config.apiKeyVar,
      model: body.model ?? config.model,
      baseURL: config.baseURL,
      client: getClient,
      create: (c, signal) => c.responses.create(body, { signal }),
      mapper: makeEventMapper()
    }).pipe(
      Stream.withSpan("ResponsesProvider.stream", {
        attributes: { provider: config.provider, model: body.model ?? config.model }
      })
    )
  }
  return makeLLMClient({ provider: config.provider, model: config.model, capabilities: config.capabilities, stream })
}

/** The OpenAI Responses `LLMClient` without retries (the layer adds them). */
export const make = (options: ResponsesOptions): LLMClient.Service => {
  const model = options.model ?? DEFAULT_MODEL
  const baseURL = options.baseURL ?? DEFAULT_BASE_URL
  return makeWith({
    provider: PROVIDER,
    apiKeyVar: API_KEY_VAR,
    model,
    baseURL,
    capabilities: capabilitiesFor(model, options.contextWindow),
    newClient: (sdk) =>
      new sdk.OpenAI({
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
  })
}

/** `LLMClient` backed by the OpenAI Responses API, with retries. */
export const layer = (options: ResponsesOptions): Layer.Layer<LLMClient> =>
  Layer.succeed(LLMClient, withRetry(make(options), { ...defaultRetryPolicy, ...options.retry }))

/**
 * `layer` with the key from `OPENAI_API_KEY` and the base URL from `OPENAI_BASE_URL` (optional), read through Effect
 * `Config`; `overrides` win over the environment.
 */
export const layerConfig = (overrides: Partial<ResponsesOptions> = {}): Layer.Layer<LLMClient, ConfigError> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const missing = new ConfigError({
        message: `no OpenAI API key for --provider ${PROVIDER}: set ${API_KEY_VAR}`,
        source: API_KEY_VAR
      })
      const apiKey = overrides.apiKey ?? (yield* Config.Redacted(API_KEY_VAR).pipe(Effect.mapError(() => missing)))
      if (Redacted.value(apiKey).trim() === "") return yield* missing
      const fromEnv = yield* Config.option(Config.String(BASE_URL_VAR)).pipe(
        Effect.mapError(
          (error) => new ConfigError({ message: `invalid ${BASE_URL_VAR}: ${error}`, source: BASE_URL_VAR })
        )
      )
      const baseURL = overrides.baseURL ?? Option.getOrUndefined(Option.filter(fromEnv, (url) => url.trim() !== ""))
      return layer({ ...overrides, apiKey, ...(baseURL === undefined ? {} : { baseURL }) })
    })
  )

export const ResponsesProvider: LLMProvider<ResponsesOptions> = {
  id: PROVIDER,
  defaultModel: DEFAULT_MODEL,
  layer,
  layerConfig
}
