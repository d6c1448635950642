/**
 * The Azure OpenAI provider (`--provider azure`): a deployment of an OpenAI model on an Azure resource, through the
 * official `openai` SDK, speaking either the Responses API (default; ResponsesWire.ts) or Chat Completions
 * (OpenAIWire.ts). The model is the deployment name (`--model my-deployment`).
 *
 * Two URL families, chosen by whether an API version is configured:
 * - With `AZURE_OPENAI_API_VERSION` (or `OPENAI_API_VERSION`): the SDK's `AzureOpenAI` client on `<endpoint>/openai`,
 *   every request with `?api-version=<version>`; Chat Completions go to
 *   `/openai/deployments/<deployment>/chat/completions`, Responses to `/openai/responses` (deployment in `model`).
 * - Without: the v1 API, `<endpoint>/openai/v1/chat/completions` and `<endpoint>/openai/v1/responses`, no api-version
 *   (the deployment in `model`).
 * Either way the key goes in the `api-key` header (never `Authorization`). An endpoint (or `baseURL` option) whose path
 * already holds `/openai` is used as the SDK's base URL unchanged.
 *
 * Environment (read through Effect `Config`; overrides win): `AZURE_OPENAI_API_KEY` (required), `AZURE_OPENAI_ENDPOINT`
 * (required unless `--base-url` / the `baseURL` option is given), `AZURE_OPENAI_API_VERSION` / `OPENAI_API_VERSION`, `AZURE_OPENAI_API`
 * (`responses`, the default, or `chat`), `AZURE_OPENAI_DEPLOYMENT` (when no `--model`).
 */
import type OpenAI from "openai"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { ConfigError } from "../../errors/ConfigError.js"
import type { LLMError } from "../../errors/LLMError.js"
import { type Capabilities, LLMClient, type LLMProvider, type LLMRequest } from "../../services/LLMClient.js"
import type { StreamPart } from "../../streams/StreamPart.js"
import { makeChunkMapper, toChatRequest } from "../openai/OpenAIWire.js"
import { makeLLMClient } from "../ProviderSupport.js"
import { defaultRetryPolicy, type RetryPolicy, withRetry } from "../Retry.js"
import {
  capabilitiesFor,
  loadSdk,
  makeWith,
  type OpenAIModule,
  streamSdk
} from "../openai-responses/ResponsesProvider.js"

export const PROVIDER = "azure"
export const API_KEY_VAR = "AZURE_OPENAI_API_KEY"
export const ENDPOINT_VAR = "AZURE_OPENAI_ENDPOINT"
export const API_VERSION_VAR = "AZURE_OPENAI_API_VERSION"
export const API_VERSION_FALLBACK_VAR = "OPENAI_API_VERSION"
export const API_VAR = "AZURE_OPENAI_API"
export const DEPLOYMENT_VAR = "AZURE_OPENAI_DEPLOYMENT"

export type AzureApi = "responses" | "chat"

export interface AzureOptions {
  readonly apiKey: Redacted.Redacted<string>
  /** `https://<resource>.openai.azure.com` (or a base URL whose path already holds `/openai`). */
  readonly endpoint: string
  /** The deployment name; requests may name another deployment as their `model`. */
  readonly deployment: string
  /** A dated API version (`2025-04-01-preview`); absent: the v1 API. */
  readonly apiVersion?: string
  /** Which API to call (default `responses`). */
  readonly api?: AzureApi
  readonly retry?: Partial<RetryPolicy>
  readonly timeout?: Duration.Input
  readonly contextWindow?: number
}

/** The SDK base URL for an endpoint: `<endpoint>/openai` (dated versions) or `<endpoint>/openai/v1`. */
export const baseURLFor = (endpoint: string, apiVersion: string | undefined): string => {
  const trimmed = endpoint.trim().replace(/\/+$/, "")
  let path = ""
  try {
    path = new URL(trimmed).pathname
  } catch {
    path = ""
  }
  if (/\/openai(\/|$)/.test(path)) return trimmed
  return apiVersion === undefined ? `${trimmed}/openai/v1` : `${trimmed}/openai`
}

/** The SDK client for `options`: `AzureOpenAI` for dated versions, the plain client on the v1 path otherwise. */
const newClient =
  (options: AzureOptions, baseURL: string) =>
  (sdk: OpenAIModule): OpenAI => {
    const apiKey = Redacted.value(options.apiKey)
    const common = {
      baseURL,
      organization: null,
      project: null,
      webhookSecret: null,
      maxRetries: 0,
      logLevel: "off" as const,
      ...(options.timeout === undefined ? {} : { timeout: Duration.toMillis(options.timeout) })
    }
    if (options.apiVersion !== undefined)
      return new sdk.AzureOpenAI({ ...common, apiKey, apiVersion: options.apiVersion })
    // The v1 API takes the same `api-key` header; the bearer header the plain client adds is removed.
    return new sdk.OpenAI({ ...common, apiKey, defaultHeaders: { "api-key": apiKey, authorization: null } })
  }

/** Guessed from the deployment name (often the model's); both APIs take `responseFormat`. */
const capabilities = (options: AzureOptions): Capabilities => capabilitiesFor(options.deployment, options.contextWindow)

/** The Azure `LLMClient` without retries (the layer adds them). */
export const make = (options: AzureOptions): LLMClient.Service => {
  const baseURL = baseURLFor(options.endpoint, options.apiVersion)
  const build = newClient(options, baseURL)
  if (options.api !== "chat")
    return makeWith({
      provider: PROVIDER,
      apiKeyVar: API_KEY_VAR,
      model: options.deployment,
      baseURL,
      capabilities: capabilities(options),
      newClient: build
    })
  let client: OpenAI | undefined
  const getClient = Effect.map(loadSdk, (sdk) => {
    client ??= build(sdk)
    return { sdk, client }
  })
  const stream = (request: LLMRequest): Stream.Stream<StreamPart, LLMError> => {
    const body = toChatRequest(request, { model: options.deployment })
    const mapper = makeChunkMapper()
    return streamSdk({
      provider: PROVIDER,
      apiKeyVar: API_KEY_VAR,
      model: body.model,
      baseURL,
      client: getClient,
      create: (c, signal) => c.chat.completions.create(body, { signal }),
      mapper: {
        onEvent: (chunk) => ({ _tag: "parts", parts: mapper.onChunk(chunk) }),
        onEnd: () => ({ _tag: "parts", parts: mapper.onEnd() })
      }
    }).pipe(Stream.withSpan("AzureProvider.stream", { attributes: { provider: PROVIDER, model: body.model } }))
  }
  return makeLLMClient({ provider: PROVIDER, model: options.deployment, capabilities: capabilities(options), stream })
}

/** `LLMClient` for Azure OpenAI, with retries. */
export const layer = (options: AzureOptions): Layer.Layer<LLMClient> =>
  Layer.succeed(LLMClient, withRetry(make(options), { ...defaultRetryPolicy, ...options.retry }))

/** An optional, non-blank string variable. */
const optional = (name: string): Effect.Effect<string | undefined, ConfigError> =>
  Config.option(Config.String(name)).pipe(
    Effect.map((value) =>
      Option.getOrUndefined(
        Option.filter(
          Option.map(value, (v) => v.trim()),
          (v) => v !== ""
        )
      )
    ),
    Effect.mapError((error) => new ConfigError({ message: `invalid ${name}: ${error}`, source: name }))
  )

/** What the generic provider options (model, base URL, API key, retry) may set. */
export interface AzureOverrides extends Partial<Omit<AzureOptions, "endpoint" | "deployment">> {
  /** The deployment name. */
  readonly model?: string
  /** The generic `baseURL` option (SDK, `layerNode`): replaces `AZURE_OPENAI_ENDPOINT`. */
  readonly baseURL?: string
  readonly endpoint?: string
  readonly deployment?: string
}

/** The options from configuration, `overrides` first; each missing required value is a `ConfigError` naming it. */
export const optionsFromConfig = Effect.fn("AzureProvider.optionsFromConfig")(function* (
  overrides: AzureOverrides = {}
) {
  const missingKey = new ConfigError({
    message: `no Azure OpenAI API key: set ${API_KEY_VAR} to a key of the Azure OpenAI resource`,
    source: API_KEY_VAR
  })
  const apiKey = overrides.apiKey ?? (yield* Config.Redacted(API_KEY_VAR).pipe(Effect.mapError(() => missingKey)))
  if (Redacted.value(apiKey).trim() === "") return yield* missingKey
  const endpoint = overrides.endpoint ?? overrides.baseURL ?? (yield* optional(ENDPOINT_VAR))
  if (endpoint === undefined)
    return yield* new ConfigError({
      message: `no Azure OpenAI endpoint: set ${ENDPOINT_VAR} (https://<resource>.openai.azure.com) or pass --base-url`,
      source: ENDPOINT_VAR
    })
  const deployment = overrides.deployment ?? overrides.model ?? (yield* optional(DEPLOYMENT_VAR))
  if (deployment === undefined)
    return yield* new ConfigError({
      message: `no Azure OpenAI deployment: pass --model <deployment name> (or set ${DEPLOYMENT_VAR})`,
      source: DEPLOYMENT_VAR
    })
  const apiVersion =
    overrides.apiVersion ?? (yield* optional(API_VERSION_VAR)) ?? (yield* optional(API_VERSION_FALLBACK_VAR))
  const apiName = overrides.api ?? (yield* optional(API_VAR))
  if (apiName !== undefined && apiName !== "responses" && apiName !== "chat")
    return yield* new ConfigError({
      message: `invalid ${API_VAR} "${apiName}": expected "responses" or "chat"`,
      source: API_VAR
    })
  const api: AzureApi = apiName ?? "responses"
  const options: AzureOptions = {
    apiKey,
    endpoint,
    deployment,
    api,
    ...(apiVersion === undefined ? {} : { apiVersion }),
    ...(overrides.retry === undefined ? {} : { retry: overrides.retry }),
    ...(overrides.timeout === undefined ? {} : { timeout: overrides.timeout }),
    ...(overrides.contextWindow === undefined ? {} : { contextWindow: overrides.contextWindow })
  }
  return options
})

/** `layer` with options read from Effect `Config` (the environment by default), `overrides` taking precedence. */
export const layerConfig = (overrides: AzureOverrides = {}): Layer.Layer<LLMClient, ConfigError> =>
  Layer.unwrap(Effect.map(optionsFromConfig(overrides), layer))

export const AzureProvider: LLMProvider<AzureOptions> = {
  id: PROVIDER,
  /** None: the deployment must be named (`--model` or `AZURE_OPENAI_DEPLOYMENT`). */
  defaultModel: "",
  layer,
  layerConfig
}
