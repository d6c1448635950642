/**
 * The Azure OpenAI provider through the real `openai` SDK (`AzureOpenAI` for dated API versions, the v1 path
 * otherwise) against WireServer: the URL shapes, the `api-key` header, both APIs, errors and missing configuration.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { ConfigError } from "../../src/errors/ConfigError.js"
import { AuthenticationError, RateLimitedError } from "../../src/errors/LLMError.js"
import { baseURLFor, layerConfig } from "../../src/providers/azure/AzureProvider.js"
import { LLMClient } from "../../src/services/LLMClient.js"
import { openaiSse } from "../support/openaiSse.js"
import { API_KEY, DEPLOYMENT, wire as azureWire } from "../support/wire/azure.js"
import { failure, responseFrames, stream } from "../support/wire/openai-responses.js"
import { hi, textOf } from "../support/providers.js"
import * as WireServer from "../support/WireServer.js"

const withEnv = (env: Record<string, string>) => Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(env)))

const collect = (client: LLMClient.Service) => Effect.map(Stream.runCollect(client.stream(hi)), (p) => Array.from(p))

/** A client from the environment `env` (plus the key and the local endpoint), `--model` as given (`null`: none). */
const clientFrom = (env: Record<string, string>, model: string | null = DEPLOYMENT) =>
  Effect.gen(function* () {
    const server = yield* WireServer.make
    const client = yield* Effect.provide(
      LLMClient,
      Layer.fresh(layerConfig({ retry: { maxRetries: 0 }, ...(model === null ? {} : { model }) }))
    ).pipe(withEnv({ AZURE_OPENAI_API_KEY: API_KEY, AZURE_OPENAI_ENDPOINT: server.url, ...env }))
    return { server, client }
  })

const responsesReply = () => stream(responseFrames({ items: [{ text: ["from ", "azure"] }] }))
const chatReply = (): WireServer.Reply => ({
  kind: "stream",
  chunks: openaiSse([{ text: "chat " }, { text: "azure" }, { finish: "stop" }])
})

describe("AzureProvider URLs and headers", () => {
  it.effect("default: Responses on the v1 path, the deployment as model, the key in api-key only", () =>
    Effect.gen(function* () {
      const { server, client } = yield* clientFrom({})
      server.enqueue(responsesReply())
      expect(textOf(yield* collect(client))).toBe("from azure")
      const request = server.requests[0]
      expect(request?.method).toBe("POST")
      expect(request?.path).toBe("/openai/v1/responses")
      expect(request?.headers["api-key"]).toBe(API_KEY)
      expect(request?.headers.authorization).toBeUndefined()
      expect(request?.body).toMatchObject({ model: DEPLOYMENT, stream: true, store: false })
      expect(client.provider).toBe("azure")
      expect(client.model).toBe(DEPLOYMENT)
    })
  )

  it.effect("AZURE_OPENAI_API=chat: Chat Completions on the v1 path", () =>
    Effect.gen(function* () {
      const { server, client } = yield* clientFrom({ AZURE_OPENAI_API: "chat" })
      server.enqueue(chatReply())
      expect(textOf(yield* collect(client))).toBe("chat azure")
      expect(server.requests[0]?.path).toBe("/openai/v1/chat/completions")
      expect(server.requests[0]?.headers["api-key"]).toBe(API_KEY)
      expect(server.requests[0]?.headers.authorization).toBeUndefined()
      expect(server.requests[0]?.body).toMatchObject({ model: DEPLOYMENT, stream: true })
    })
  )

  it.effect("with an API version: AzureOpenAI's deployment path for chat, /openai/responses for Responses", () =>
    Effect.gen(function* () {
      const chat = yield* clientFrom({ AZURE_OPENAI_API: "chat", AZURE_OPENAI_API_VERSION: "2024-10-21" })
      chat.server.enqueue(chatReply())
      expect(textOf(yield* collect(chat.client))).toBe("chat azure")
      expect(chat.server.requests[0]?.path).toBe(
        `/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=2024-10-21`
      )
      expect(chat.server.requests[0]?.headers["api-key"]).toBe(API_KEY)
      expect(chat.server.requests[0]?.headers.authorization).toBeUndefined()
      // OPENAI_API_VERSION is the fallback name (the SDK's own).
      const responses = yield* clientFrom({ OPENAI_API_VERSION: "2025-04-01-preview" })
      responses.server.enqueue(responsesReply())
      expect(textOf(yield* collect(responses.client))).toBe("from azure")
      expect(responses.server.requests[0]?.path).toBe("/openai/responses?api-version=2025-04-01-preview")
      expect(responses.server.requests[0]?.body).toMatchObject({ model: DEPLOYMENT })
      expect(responses.server.requests[0]?.headers["api-key"]).toBe(API_KEY)
    })
  )

  it("an endpoint whose path already holds /openai is the base URL unchanged", () => {
    expect(baseURLFor("https://res.openai.azure.com/", undefined)).toBe("https://res.openai.azure.com/openai/v1")
    expect(baseURLFor("https://res.openai.azure.com", "2024-10-21")).toBe("https://res.openai.azure.com/openai")
    expect(baseURLFor("https://res.openai.azure.com/openai/v1/", undefined)).toBe(
      "https://res.openai.azure.com/openai/v1"
    )
    expect(baseURLFor("https://gw.example.com/openai", "2024-10-21")).toBe("https://gw.example.com/openai")
  })

  it.effect("the baseURL option replaces AZURE_OPENAI_ENDPOINT (the contract wire module)", () =>
    Effect.gen(function* () {
      const server = yield* WireServer.make
      server.enqueue(azureWire.reply({ text: ["contract"], usage: { inputTokens: 1, outputTokens: 1 } }))
      const client = yield* Effect.provide(LLMClient, Layer.fresh(azureWire.layer(server.url))).pipe(withEnv({}))
      expect(textOf(yield* collect(client))).toBe("contract")
      expect(server.requests[0]?.path).toBe("/openai/v1/responses")
      expect(azureWire.sentText(server.requests[0]!)).toEqual(["hi"])
    })
  )
})

describe("AzureProvider errors", () => {
  it.effect("HTTP errors map like OpenAI's, naming azure and AZURE_OPENAI_API_KEY", () =>
    Effect.gen(function* () {
      const { server, client } = yield* clientFrom({})
      server.enqueue(failure({ kind: "rate_limit", retryAfterSeconds: 2 }), failure({ kind: "auth" }))
      const limited = yield* Effect.flip(collect(client))
      expect(limited).toBeInstanceOf(RateLimitedError)
      expect(limited).toMatchObject({ provider: "azure", retryAfterMs: 2000 })
      const auth = yield* Effect.flip(collect(client))
      expect(auth).toBeInstanceOf(AuthenticationError)
      expect(auth.message).toContain("AZURE_OPENAI_API_KEY")
    })
  )

  const configError = (env: Record<string, string>, model?: string) =>
    Effect.flip(Effect.provide(LLMClient, Layer.fresh(layerConfig(model === undefined ? {} : { model })))).pipe(
      withEnv(env)
    )

  it.effect("missing or invalid configuration is a ConfigError naming the variable", () =>
    Effect.gen(function* () {
      const noKey = yield* configError({ AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com" }, DEPLOYMENT)
      expect(noKey).toBeInstanceOf(ConfigError)
      expect(noKey.message).toContain("AZURE_OPENAI_API_KEY")
      const blankKey = yield* configError({ AZURE_OPENAI_API_KEY: " ", AZURE_OPENAI_ENDPOINT: "https://r" }, DEPLOYMENT)
      expect(blankKey.message).toContain("AZURE_OPENAI_API_KEY")
      const noEndpoint = yield* configError({ AZURE_OPENAI_API_KEY: "k" }, DEPLOYMENT)
      expect(noEndpoint.message).toContain("AZURE_OPENAI_ENDPOINT")
      expect(noEndpoint.message).toContain("--base-url")
      const noDeployment = yield* configError({ AZURE_OPENAI_API_KEY: "k", AZURE_OPENAI_ENDPOINT: "https://r" })
      expect(noDeployment.message).toContain("--model")
      expect(noDeployment.message).toContain("AZURE_OPENAI_DEPLOYMENT")
      const badApi = yield* configError(
        { AZURE_OPENAI_API_KEY: "k", AZURE_OPENAI_ENDPOINT: "https://r", AZURE_OPENAI_API: "assistants" },
        DEPLOYMENT
      )
      expect(badApi.message).toContain("AZURE_OPENAI_API")
      expect(badApi.message).toContain("assistants")
    })
  )

  it.effect("AZURE_OPENAI_DEPLOYMENT names the deployment when --model is absent", () =>
    Effect.gen(function* () {
      const { server, client } = yield* clientFrom({ AZURE_OPENAI_DEPLOYMENT: "from-env" }, null)
      server.enqueue(responsesReply())
      yield* collect(client)
      expect(server.requests[0]?.body).toMatchObject({ model: "from-env" })
    })
  )
})
