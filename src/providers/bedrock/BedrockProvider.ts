/**
 * The Amazon Bedrock provider: ConverseStream through `@aws-sdk/client-bedrock-runtime` (an optional peer dependency,
 * imported on the first request; a missing module is a `ConfigError`). The SDK's retries are off (`maxAttempts: 1`,
 * Sage retries with `withRetry`) and interrupting the stream aborts the HTTP request (`abortSignal`).
 *
 * Credentials and region: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (/ `AWS_SESSION_TOKEN`), a Bedrock API key
 * (`AWS_BEARER_TOKEN_BEDROCK` or the `apiKey` option), `AWS_PROFILE`, and `AWS_REGION` / `AWS_DEFAULT_REGION` are read
 * through Effect `Config`; whatever is not set there is left to the SDK's default chain (shared config and credentials
 * files, SSO, container and instance roles). `baseURL` is the SDK `endpoint` (a VPC endpoint, a proxy, a test server).
 *
 * Requests go over HTTP/1.1 (the SDK's `NodeHttpHandler`, which the SDK itself depends on) rather than the SDK's
 * default HTTP/2 handler, so plain-HTTP endpoints (proxies, local servers) work too.
 * Mapping details are documented in BedrockWire.ts.
 */
import type * as BedrockSdk from "@aws-sdk/client-bedrock-runtime"
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Pull from "effect/Pull"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { ConfigError } from "../../errors/ConfigError.js"
import { ConnectionError, InvalidRequestError, type LLMError } from "../../errors/LLMError.js"
import { type Capabilities, LLMClient, type LLMProvider, type LLMRequest } from "../../services/LLMClient.js"
import type { StreamPart } from "../../streams/StreamPart.js"
import { connectionError, makeLLMClient } from "../ProviderSupport.js"
import { defaultRetryPolicy, type RetryPolicy, withRetry } from "../Retry.js"
import {
  anthropicId,
  BedrockStreamDecoder,
  CREDENTIALS_HINT,
  exceptionError,
  exceptionName,
  PROVIDER,
  supportsThinking,
  toConverseInput
} from "./BedrockWire.js"
import { lookupModel } from "../ModelCatalog.js"

/** A cross-region inference profile: recent Claude models on Bedrock are invoked through one. */
export const DEFAULT_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
export const DEFAULT_MAX_TOKENS = 8_192
const SDK_PACKAGE = "@aws-sdk/client-bedrock-runtime"

export interface BedrockCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: Redacted.Redacted<string>
  readonly sessionToken?: Redacted.Redacted<string>
}

export interface BedrockOptions {
  /** Default model id or inference profile (default `us.anthropic.claude-sonnet-4-5-20250929-v1:0`). */
  readonly model?: string
  /** AWS region; default: the SDK's (profile config). */
  readonly region?: string
  /** The SDK `endpoint` (default: the regional Bedrock runtime endpoint). */
  readonly baseURL?: string
  /** Static credentials; default: the SDK's credential chain. */
  readonly credentials?: BedrockCredentials
  /** A Bedrock API key (bearer token), used instead of SigV4 credentials. */
  readonly apiKey?: Redacted.Redacted<string>
  /** Named profile of the shared AWS config files. */
  readonly profile?: string
  /** `maxTokens` for requests that do not set it (default 8192). */
  readonly maxTokens?: number
  readonly retry?: Partial<RetryPolicy>
}

interface Sdk {
  readonly main: typeof BedrockSdk
  /** `NodeHttpHandler` when its module (a dependency of the SDK) can be loaded; else the SDK's default handler. */
  readonly httpHandler: (() => object) | undefined
}

let sdkPromise: Promise<Sdk> | undefined

const loadHttpHandler = (): Promise<(() => object) | undefined> =>
  import("@smithy/node-http-handler").then(
    (module) => () => new module.NodeHttpHandler(),
    () => undefined
  )

/** The SDK, imported once on first use; a missing package is a `ConfigError` that says what to install. */
const loadSdk: Effect.Effect<Sdk, ConfigError> = Effect.tryPromise({
  try: () => {
    sdkPromise ??= Promise.all([import("@aws-sdk/client-bedrock-runtime"), loadHttpHandler()]).then(
      ([main, httpHandler]) => ({ main, httpHandler }),
      (error: unknown) => {
        sdkPromise = undefined
        throw error
      }
    )
    return sdkPromise
  },
  catch: (cause) =>
    new ConfigError({
      message: `install ${SDK_PACKAGE} to use --provider bedrock (npm install ${SDK_PACKAGE})${
        cause instanceof Error ? `: ${cause.message}` : ""
      }`,
      source: "provider"
    })
})

/** The SDK is an optional dependency: a run that cannot load it fails at the first request with this error. */
const missingSdk = (error: ConfigError): LLMError =>
  new InvalidRequestError({ provider: PROVIDER, message: error.message })

/** Abort reason shared by every request (see AnthropicProvider for why it is one constant). */
const ABORTED: DOMException = new DOMException("the model response is no longer read", "AbortError")

const isNonEmpty = <A>(parts: ReadonlyArray<A>): parts is NonEmptyReadonlyArray<A> => parts.length > 0

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

/** The fields of an SDK error Sage reads: its name, message, HTTP status, response headers and request id. */
interface SdkFailure {
  readonly name: string
  readonly message: string
  readonly status?: number
  readonly headers?: Record<string, string>
  readonly requestId?: string
  readonly service: boolean
}

const sdkFailure = (cause: unknown): SdkFailure => {
  if (!(cause instanceof Error)) return { name: "", message: String(cause), service: false }
  const metadata = "$metadata" in cause && isRecord(cause.$metadata) ? cause.$metadata : {}
  const response = "$response" in cause && isRecord(cause.$response) ? cause.$response : {}
  const status = typeof metadata.httpStatusCode === "number" ? metadata.httpStatusCode : undefined
  const requestId = typeof metadata.requestId === "string" ? metadata.requestId : undefined
  const headers: Record<string, string> = {}
  if (isRecord(response.headers))
    for (const [key, value] of Object.entries(response.headers))
      if (typeof value === "string") headers[key.toLowerCase()] = value
  const fault = "$fault" in cause
  const errortype = headers["x-amzn-errortype"]
  return {
    name: errortype !== undefined && cause.name === "Error" ? exceptionName(errortype) : cause.name,
    message: cause.message,
    ...(status === undefined ? {} : { status }),
    ...(Object.keys(headers).length === 0 ? {} : { headers }),
    ...(requestId === undefined ? {} : { requestId }),
    service: fault || status !== undefined
  }
}

const rootMessage = (error: unknown): string => {
  let current: unknown = error
  let message = String(error)
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current.message !== "") message = current.message
    current = current.cause
  }
  return message
}

/** A Bedrock client (no retries, no requests until `stream` runs) built from `options`. */
export const make = (options: BedrockOptions): LLMClient.Service => {
  const model = options.model ?? DEFAULT_MODEL
  const endpoint = options.baseURL ?? "the Bedrock runtime endpoint"
  const defaults = { model, maxTokens: options.maxTokens ?? DEFAULT_MAX_TOKENS }
  const info = lookupModel(anthropicId(model))
  const capabilities: Capabilities = {
    streaming: true,
    tools: true,
    vision: true,
    thinking: supportsThinking(model),
    contextWindow: info.known ? info.contextWindow : 128_000
  }
  let client: BedrockSdk.BedrockRuntimeClient | undefined

  const clientFor = (sdk: Sdk): BedrockSdk.BedrockRuntimeClient => {
    const credentials = options.credentials
    client ??= new sdk.main.BedrockRuntimeClient({
      maxAttempts: 1,
      ...(sdk.httpHandler === undefined ? {} : { requestHandler: sdk.httpHandler() }),
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.baseURL === undefined ? {} : { endpoint: options.baseURL }),
      ...(options.profile === undefined ? {} : { profile: options.profile }),
      ...(options.apiKey === undefined
        ? {}
        : { token: { token: Redacted.value(options.apiKey) }, authSchemePreference: ["httpBearerAuth"] }),
      ...(credentials === undefined || options.apiKey !== undefined
        ? {}
        : {
            credentials: {
              accessKeyId: credentials.accessKeyId,
              secretAccessKey: Redacted.value(credentials.secretAccessKey),
              ...(credentials.sessionToken === undefined
                ? {}
                : { sessionToken: Redacted.value(credentials.sessionToken) })
            }
          })
    })
    return client
  }

  /** A failed `send` or read, as a typed error. */
  const failure = (cause: unknown, requestModel: string, now: number, midStream: boolean): LLMError => {
    const f = sdkFailure(cause)
    if (f.name === "CredentialsProviderError")
      return exceptionError(
        { name: f.name, message: `no AWS credentials found: ${f.message}` },
        { model: requestModel, endpoint, now }
      )
    if (/region is missing/i.test(f.message))
      return new InvalidRequestError({
        provider: PROVIDER,
        message: `no AWS region: set AWS_REGION (${CREDENTIALS_HINT})`
      })
    if (f.service)
      return exceptionError(
        { name: f.name, message: f.message },
        {
          model: requestModel,
          endpoint,
          ...(f.status === undefined ? {} : { status: f.status }),
          ...(f.headers === undefined ? {} : { headers: f.headers }),
          ...(f.requestId === undefined ? {} : { requestId: f.requestId }),
          now
        }
      )
    if (f.name === "TimeoutError") return connectionError(PROVIDER, endpoint, cause, true)
    if (midStream)
      return new ConnectionError({
        provider: PROVIDER,
        timeout: false,
        message: `the connection to ${PROVIDER} was lost mid-response (${rootMessage(cause)}); check the network`
      })
    return connectionError(PROVIDER, endpoint, new Error(rootMessage(cause)))
  }

  const stream = (request: LLMRequest): Stream.Stream<StreamPart, LLMError> =>
    Stream.unwrap(
      Effect.gen(function* () {
        const sdk = yield* Effect.mapError(loadSdk, missingSdk)
        const bedrock = clientFor(sdk)
        const input = toConverseInput(request, defaults)
        const requestModel = input.modelId ?? model
        const fail = (cause: unknown, midStream: boolean) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fail(failure(cause, requestModel, now, midStream)))
        // Aborted when the stream's scope closes: at the end, on failure, and on interruption.
        const controller = yield* Effect.acquireRelease(
          Effect.sync(() => new AbortController()),
          (c) => Effect.sync(() => c.abort(ABORTED))
        )
        const output = yield* Effect.tryPromise({
          try: (signal) => {
            signal.addEventListener("abort", () => controller.abort(ABORTED), { once: true })
            return bedrock.send(new sdk.main.ConverseStreamCommand(input), { abortSignal: controller.signal })
          },
          catch: (cause) => cause
        }).pipe(
          Effect.catch((cause) => fail(cause, false)),
          Effect.withSpan("BedrockProvider.request", { attributes: { model: requestModel } })
        )
        const events = output.stream
        if (events === undefined)
          return Stream.fail(failure(new Error("the response has no event stream"), requestModel, 0, false))
        const iterator = events[Symbol.asyncIterator]()
        const requestId = output.$metadata.requestId
        const decoder = new BedrockStreamDecoder({
          model: requestModel,
          ...(requestId === undefined ? {} : { requestId })
        })
        let done = false
        const pull: Pull.Pull<NonEmptyReadonlyArray<StreamPart>, LLMError> = Effect.suspend(() => {
          if (done) return Cause.done()
          return Effect.tryPromise({ try: () => iterator.next(), catch: (cause) => cause }).pipe(
            Effect.catch((cause) => {
              done = true
              return fail(cause, true)
            }),
            Effect.flatMap((next) => {
              if (next.done === true) {
                done = true
                const end = decoder.end()
                if (end === undefined)
                  return Effect.fail(
                    new ConnectionError({
                      provider: PROVIDER,
                      timeout: false,
                      message: `${PROVIDER} stream ended before the message was complete`,
                      ...(requestId === undefined ? {} : { requestId })
                    })
                  )
                return isNonEmpty(end) ? Effect.succeed(end) : Cause.done()
              }
              const step = decoder.event(next.value)
              if (step._tag === "exception") {
                done = true
                return Effect.flatMap(Clock.currentTimeMillis, (now) =>
                  Effect.fail(
                    exceptionError(step.exception, {
                      model: requestModel,
                      endpoint,
                      now,
                      ...(requestId === undefined ? {} : { requestId })
                    })
                  )
                )
              }
              return isNonEmpty(step.parts) ? Effect.succeed(step.parts) : pull
            })
          )
        })
        return Stream.make(...decoder.start()).pipe(Stream.concat(Stream.fromPull(Effect.succeed(pull))))
      })
    ).pipe(Stream.withSpan("BedrockProvider.stream", { attributes: { model: request.model ?? model } }))

  return makeLLMClient({ provider: PROVIDER, model, capabilities, stream })
}

/** `LLMClient` for Bedrock, retried under `options.retry` (default `defaultRetryPolicy`). */
export const layer = (options: BedrockOptions): Layer.Layer<LLMClient> =>
  Layer.succeed(LLMClient, withRetry(make(options), { ...defaultRetryPolicy, ...options.retry }))

const optionalString = (name: string): Effect.Effect<string | undefined, ConfigError> =>
  Config.option(Config.String(name)).pipe(
    Effect.map((value) => Option.getOrUndefined(Option.filter(value, (v) => v.trim() !== ""))),
    Effect.mapError((error) => new ConfigError({ message: `invalid ${name}: ${error.toString()}`, source: name }))
  )

/**
 * The options from configuration: region (`AWS_REGION`, `AWS_DEFAULT_REGION`), static keys (`AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), a Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`), `AWS_PROFILE`;
 * `overrides` first. The SDK module is loaded here, so a missing package fails the layer with a clear `ConfigError`.
 */
export const optionsFromConfig: (overrides?: Partial<BedrockOptions>) => Effect.Effect<BedrockOptions, ConfigError> =
  Effect.fn("BedrockProvider.optionsFromConfig")(function* (overrides: Partial<BedrockOptions> = {}) {
    yield* loadSdk
    const region =
      overrides.region ?? (yield* optionalString("AWS_REGION")) ?? (yield* optionalString("AWS_DEFAULT_REGION"))
    const accessKeyId = yield* optionalString("AWS_ACCESS_KEY_ID")
    const secretAccessKey = yield* optionalString("AWS_SECRET_ACCESS_KEY")
    const sessionToken = yield* optionalString("AWS_SESSION_TOKEN")
    const bearer = yield* optionalString("AWS_BEARER_TOKEN_BEDROCK")
    const profile = overrides.profile ?? (yield* optionalString("AWS_PROFILE"))
    const apiKey = overrides.apiKey ?? (bearer === undefined ? undefined : Redacted.make(bearer))
    const credentials: BedrockCredentials | undefined =
      overrides.credentials ??
      (accessKeyId === undefined || secretAccessKey === undefined
        ? undefined
        : {
            accessKeyId,
            secretAccessKey: Redacted.make(secretAccessKey),
            ...(sessionToken === undefined ? {} : { sessionToken: Redacted.make(sessionToken) })
          })
    const options: BedrockOptions = {
      ...overrides,
      ...(region === undefined ? {} : { region }),
      ...(profile === undefined || credentials !== undefined ? {} : { profile }),
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(credentials === undefined ? {} : { credentials })
    }
    return options
  })

/** `layer` with options read from Effect `Config` (the environment by default), `overrides` taking precedence. */
export const layerConfig = (overrides?: Partial<BedrockOptions>): Layer.Layer<LLMClient, ConfigError> =>
  Layer.unwrap(Effect.map(optionsFromConfig(overrides), layer))

export const BedrockProvider: LLMProvider<BedrockOptions> = {
  id: PROVIDER,
  defaultModel: DEFAULT_MODEL,
  layer,
  layerConfig
}
