/**
 * The Anthropic provider: streams the Messages API through the official `@anthropic-ai/sdk` and translates its raw
 * SSE events into Sage `StreamPart`s. The SDK is imported lazily on the first request (it costs tens of ms to load),
 * its own retries are off (Sage retries with `withRetry`), and interrupting the stream aborts the HTTP request.
 */
import type { RawMessageStreamEvent } from "@anthropic-ai/sdk/resources/messages"
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Pull from "effect/Pull"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import { ConfigError } from "../../errors/ConfigError.js"
import { ConnectionError, type LLMError, ResponseDecodeError } from "../../errors/LLMError.js"
import { type Capabilities, LLMClient, type LLMProvider, type LLMRequest } from "../../services/LLMClient.js"
import type { StreamPart } from "../../streams/StreamPart.js"
import type { MessagesClient } from "./AnthropicSdk.js"
import { AnthropicStreamDecoder, toRequestParams, type WireFailure } from "./AnthropicWire.js"
import { connectionError, httpError, makeLLMClient } from "../ProviderSupport.js"
import { defaultRetryPolicy, type RetryPolicy, withRetry } from "../Retry.js"

export const PROVIDER = "anthropic"
/** Not a model the SDK lists as deprecated: for those it prints a warning on every request. */
export const DEFAULT_MODEL = "claude-sonnet-4-6"
export const DEFAULT_MAX_TOKENS = 16_384
export const DEFAULT_BASE_URL = "https://api.anthropic.com"
const API_KEY_VAR = "ANTHROPIC_API_KEY"
const BASE_URL_VAR = "ANTHROPIC_BASE_URL"

export interface AnthropicOptions {
  readonly apiKey: Redacted.Redacted<string>
  /** Default `https://api.anthropic.com`. */
  readonly baseURL?: string
  /** Default model of the client (default `claude-sonnet-4-6`); a request may name another. */
  readonly model?: string
  /** `max_tokens` for requests that do not set it (default 16384). */
  readonly maxTokens?: number
  /** Retry policy applied by `layer` / `layerConfig`; fields left out come from `defaultRetryPolicy`. */
  readonly retry?: Partial<RetryPolicy>
  /** How long to wait for the response headers (the SDK's request timeout; default the SDK's, 10 minutes). */
  readonly timeout?: Duration.Input
  /**
   * Prompt-cache breakpoints on the system prompt, the last tool and the latest message (default true; cache reads
   * and writes are reported in `Usage` and priced by the model catalog).
   */
  readonly promptCaching?: boolean
}

export const capabilities: Capabilities = {
  streaming: true,
  tools: true,
  vision: true,
  thinking: true,
  structuredOutput: true,
  contextWindow: 200_000
}

/** Claude 3 models have no native structured output (`output_config.format`): the agent falls back to a tool. */
export const capabilitiesFor = (model: string): Capabilities =>
  /^claude-3/.test(model) ? { ...capabilities, structuredOutput: false } : capabilities

interface Sdk {
  readonly main: typeof import("./AnthropicSdk.js")
}

let sdkPromise: Promise<Sdk> | undefined

/** The SDK (the part of it `AnthropicSdk.ts` uses), imported once, on first use. */
const loadSdk: Effect.Effect<Sdk> = Effect.promise(() => {
  sdkPromise ??= import("./AnthropicSdk.js").then(
    (main) => ({ main }),
    (error: unknown) => {
      sdkPromise = undefined
      throw error
    }
  )
  return sdkPromise
})

/**
 * The one reason every Sage abort carries. `abort()` without a reason makes a fresh `DOMException` whose unformatted
 * stack trace holds the frames that called it (the stream's fiber and everything it references); an aborted signal
 * keeps its reason, so a per-request reason kept each finished request's fiber alive for as long as the signal lived.
 */
const ABORTED: DOMException = new DOMException("the model response is no longer read", "AbortError")

/** Abort `controller` when Effect interrupts the promise that `signal` belongs to. */
const linkAbort = (signal: AbortSignal, controller: AbortController): void => {
  const abort = (): void => controller.abort(ABORTED)
  if (signal.aborted) abort()
  else signal.addEventListener("abort", abort, { once: true })
}

const noop = (): void => {}

const isNonEmpty = <A>(parts: ReadonlyArray<A>): parts is NonEmptyReadonlyArray<A> => parts.length > 0

const describe = (cause: unknown): string => {
  if (!(cause instanceof Error)) return String(cause)
  const inner = cause.cause instanceof Error && cause.cause.message !== "" ? ` (${cause.cause.message})` : ""
  return `${cause.message}${inner}`
}

/** An Anthropic client (no retries, no requests until `stream` runs) built from `options`. */
export const make = (options: AnthropicOptions): LLMClient.Service => {
  const model = options.model ?? DEFAULT_MODEL
  const baseURL = options.baseURL ?? DEFAULT_BASE_URL
  const defaults = {
    model,
    maxTokens: options.maxTokens ?? DEFAULT_MAX_TOKENS,
    ...(options.promptCaching === undefined ? {} : { promptCaching: options.promptCaching })
  }
  let client: MessagesClient | undefined

  const clientFor = (sdk: Sdk): MessagesClient => {
    client ??= sdk.main.makeClient({
      apiKey: Redacted.value(options.apiKey),
      baseURL,
      maxRetries: 0,
      logLevel: "off",
      ...(options.timeout === undefined ? {} : { timeout: Duration.toMillis(options.timeout) })
    })
    return client
  }

  const requestFailure = (sdk: Sdk, cause: unknown, requestModel: string, now: number): LLMError => {
    if (cause instanceof sdk.main.APIConnectionTimeoutError) return connectionError(PROVIDER, baseURL, cause, true)
    if (cause instanceof sdk.main.APIConnectionError || cause instanceof sdk.main.APIUserAbortError)
      return connectionError(PROVIDER, baseURL, cause)
    if (cause instanceof sdk.main.APIError)
      return httpError({
        provider: PROVIDER,
        apiKeyVar: API_KEY_VAR,
        model: requestModel,
        status: cause.status,
        message: cause.apiMessage ?? cause.message,
        ...(cause.type === null ? {} : { errorType: cause.type }),
        headers: cause.headers,
        ...(cause.requestID === null || cause.requestID === undefined ? {} : { requestId: cause.requestID }),
        now
      })
    return connectionError(PROVIDER, baseURL, cause)
  }

  const streamFailure = (failure: WireFailure, response: Response, requestModel: string, now: number): LLMError => {
    const requestId = response.headers.get("request-id") ?? undefined
    const ids = requestId === undefined ? {} : { requestId }
    switch (failure.kind) {
      case "api":
        return httpError({
          provider: PROVIDER,
          apiKeyVar: API_KEY_VAR,
          model: requestModel,
          status: undefined,
          message: failure.message,
          errorType: failure.errorType,
          headers: response.headers,
          now,
          ...ids
        })
      case "decode":
        return new ResponseDecodeError({
          provider: PROVIDER,
          message: `${PROVIDER} sent a stream Sage could not read: ${failure.message}`,
          ...ids
        })
      case "ended":
        return new ConnectionError({
          provider: PROVIDER,
          timeout: false,
          message: `${PROVIDER} stream ended early: ${failure.message}`,
          ...ids
        })
    }
  }

  const stream = (request: LLMRequest): Stream.Stream<StreamPart, LLMError> =>
    Stream.unwrap(
      Effect.gen(function* () {
        const sdk = yield* loadSdk
        const anthropic = clientFor(sdk)
        const params = toRequestParams(request, defaults)
        // Aborted when the stream's scope closes: at the end, on failure, and on interruption. The SDK links its own
        // per-request controller to this signal until the response body is released (see `events` below).
        const controller = yield* Effect.acquireRelease(
          Effect.sync(() => new AbortController()),
          (c) => Effect.sync(() => c.abort(ABORTED))
        )
        const { data: sdkStream, response } = yield* Effect.tryPromise({
          try: (signal) => {
            linkAbort(signal, controller)
            return anthropic.messages.create(params, { signal: controller.signal }).withResponse()
          },
          catch: (cause) => cause
        }).pipe(
          Effect.catch((cause) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fail(requestFailure(sdk, cause, params.model, now)))
          ),
          Effect.withSpan("AnthropicProvider.request", { attributes: { model: params.model } })
        )

        // The body is read through the SDK's own `Stream`: its iterator releases the SDK's request controller when it
        // finishes (the end, an error, an abort, or `return`). Reading the raw body ourselves never released it, and the
        // SDK's fallback (a FinalizationRegistry entry holding that controller until the body is collected) never ran,
        // since the body stayed reachable from the aborted controller: every request was kept for good.
        let started = false
        const events = yield* Effect.acquireRelease(
          Effect.sync(() => sdkStream[Symbol.asyncIterator]()),
          (iterator) =>
            Effect.sync(() => {
              // A constant reason first, so the SDK's own `controller.abort()` (on its listener, or when the iterator
              // stops early) finds it aborted and does not record a fresh exception with this fiber in its stack.
              sdkStream.controller.abort(ABORTED)
              // Runs the iterator's cleanup: one that never started gets a first read, which sees the abort and ends.
              const ended = started ? iterator.return?.() : iterator.next()
              ended?.then(noop, noop)
            })
        )
        const decoder = new AnthropicStreamDecoder()
        let done = false
        const lost = (cause: unknown): LLMError =>
          new ConnectionError({
            provider: PROVIDER,
            timeout: false,
            message: `the connection to ${PROVIDER} was lost mid-response: ${describe(cause)}; check the network`
          })
        const failed = (failure: WireFailure) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.fail(streamFailure(failure, response, params.model, now))
          )
        // What a failed read means: an in-stream `error` event (the SDK throws it as an `APIError` without a status),
        // data that is not JSON, or a lost connection.
        const readFailed = (cause: unknown): Effect.Effect<never, LLMError> => {
          done = true
          if (cause instanceof sdk.main.APIError && cause.status === undefined) {
            const step = decoder.parsed("error", cause.error)
            return Result.isFailure(step) ? failed(step.failure) : Effect.fail(lost(cause))
          }
          if (cause instanceof SyntaxError)
            return failed({ kind: "decode", message: `event data that is not JSON (${cause.message})` })
          return Effect.fail(lost(cause))
        }
        // Reads SSE events until one yields parts (pings and other quiet events yield none).
        const pull: Pull.Pull<NonEmptyReadonlyArray<StreamPart>, LLMError> = Effect.suspend(() => {
          if (done) return Cause.done()
          started = true
          // No per-read AbortSignal (allocating and linking one per event was the provider's main cost): an
          // interrupted read stops waiting at once, and closing the scope aborts the request, which ends the read
          // and the connection.
          return Effect.tryPromise({
            try: (): Promise<IteratorResult<RawMessageStreamEvent>> => events.next(),
            catch: (cause) => cause
          }).pipe(
            Effect.catch(readFailed),
            Effect.flatMap((next) => {
              if (next.done === true) done = true
              const step = next.done === true ? decoder.end() : decoder.parsed(null, next.value)
              return Result.match(step, {
                onSuccess: (parts) => (isNonEmpty(parts) ? Effect.succeed(parts) : pull),
                onFailure: (failure) => {
                  done = true
                  return failed(failure)
                }
              })
            })
          )
        })
        return Stream.fromPull(Effect.succeed(pull))
      })
    )

  return makeLLMClient({ provider: PROVIDER, model, capabilities: capabilitiesFor(model), stream })
}

/** `LLMClient` for Anthropic, retried under `options.retry` (default `defaultRetryPolicy`). */
export const layer = (options: AnthropicOptions): Layer.Layer<LLMClient> =>
  Layer.succeed(LLMClient, withRetry(make(options), { ...defaultRetryPolicy, ...options.retry }))

const missingKey = new ConfigError({
  message: `no Anthropic API key: set ${API_KEY_VAR} to your key from console.anthropic.com`,
  source: API_KEY_VAR
})

/** The options from configuration: `ANTHROPIC_API_KEY` (required unless overridden) and `ANTHROPIC_BASE_URL`. */
export const optionsFromConfig: (
  overrides?: Partial<AnthropicOptions>
) => Effect.Effect<AnthropicOptions, ConfigError> = Effect.fn("AnthropicProvider.optionsFromConfig")(function* (
  overrides: Partial<AnthropicOptions> = {}
) {
  const apiKey = overrides.apiKey ?? (yield* Config.Redacted(API_KEY_VAR).pipe(Effect.mapError(() => missingKey)))
  if (Redacted.value(apiKey).trim() === "") return yield* Effect.fail(missingKey)
  const baseURL = yield* Config.option(Config.String(BASE_URL_VAR)).pipe(
    Effect.mapError(
      (error) => new ConfigError({ message: `invalid ${BASE_URL_VAR}: ${error.toString()}`, source: BASE_URL_VAR })
    )
  )
  const envBaseURL = Option.getOrUndefined(Option.filter(baseURL, (url) => url.trim() !== ""))
  const resolvedBaseURL = overrides.baseURL ?? envBaseURL
  const options: AnthropicOptions = {
    ...overrides,
    apiKey,
    ...(resolvedBaseURL === undefined ? {} : { baseURL: resolvedBaseURL })
  }
  return options
})

/** `layer` with options read from Effect `Config` (the environment by default), `overrides` taking precedence. */
export const layerConfig = (overrides?: Partial<AnthropicOptions>): Layer.Layer<LLMClient, ConfigError> =>
  Layer.unwrap(Effect.map(optionsFromConfig(overrides), layer))

export const AnthropicProvider: LLMProvider<AnthropicOptions> = {
  id: PROVIDER,
  defaultModel: DEFAULT_MODEL,
  layer,
  layerConfig
}
