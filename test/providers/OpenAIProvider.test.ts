/** The OpenAI provider through the real `openai` SDK against WireServer: request, errors, retries, abort, config. */
import * as net from "node:net"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import { ConfigError } from "../../src/errors/ConfigError.js"
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
  ResponseDecodeError,
  ServerError
} from "../../src/errors/LLMError.js"
import {
  DEFAULT_BASE_URL,
  layer,
  layerConfig,
  make,
  OpenAIProvider,
  type OpenAIOptions
} from "../../src/providers/openai/OpenAIProvider.js"
import { LLMClient, type LLMRequest } from "../../src/services/LLMClient.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"
import { Usage } from "../../src/streams/Usage.js"
import { openaiSse } from "../support/openaiSse.js"
import { collectUntilFailure, hi, waitUntil } from "../support/providers.js"
import * as WireServer from "../support/WireServer.js"

const apiKey = Redacted.make("sk-test-123")

const collect = (client: LLMClient.Service, request: LLMRequest = hi) => Stream.runCollect(client.stream(request))

const setup = (options: Partial<OpenAIOptions> = {}) =>
  Effect.map(WireServer.make, (wire) => ({
    wire,
    client: make({ apiKey, baseURL: wire.url, ...options })
  }))

const closedPort = Effect.promise(
  () =>
    new Promise<number>((resolve) => {
      const server = net.createServer()
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as net.AddressInfo
        server.close(() => resolve(port))
      })
    })
)

describe("OpenAIProvider request", () => {
  it.effect("sends the mapped Chat Completions request with the bearer key", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup({ model: "gpt-4o-mini" })
      wire.enqueue({ kind: "stream", chunks: openaiSse([{ text: "ok" }, { finish: "stop" }]) })
      yield* collect(client, {
        system: "You are Sage.",
        messages: [
          { role: "user", content: [{ type: "text", text: "Read a.txt and look at b.png" }] },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "plan", signature: "sig" },
              { type: "redacted_thinking", data: "xx" },
              { type: "text", text: "Reading." },
              { type: "tool_use", id: "call_1", name: "read_file", input: { path: "a.txt" } },
              { type: "tool_use", id: "call_2", name: "view_image", input: { path: "b.png" } }
            ]
          },
          {
            role: "tool",
            content: [
              { type: "tool_result", toolUseId: "call_1", content: [{ type: "text", text: "hello" }], isError: false },
              {
                type: "tool_result",
                toolUseId: "call_2",
                content: [
                  { type: "text", text: "b.png" },
                  { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBOR" } }
                ],
                isError: false
              }
            ]
          },
          { role: "assistant", content: [{ type: "tool_use", id: "call_3", name: "read_file", input: {} }] },
          {
            role: "tool",
            content: [
              { type: "tool_result", toolUseId: "call_3", content: [{ type: "text", text: "ENOENT" }], isError: true }
            ]
          },
          {
            role: "user",
            content: [
              { type: "text", text: "and this one" },
              { type: "image", source: { type: "url", url: "https://example.com/c.jpg" } }
            ]
          }
        ],
        tools: [
          {
            name: "read_file",
            description: "Read a file",
            inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] }
          }
        ],
        toolChoice: { type: "tool", name: "read_file" },
        maxTokens: 1000,
        temperature: 0.2,
        stopSequences: ["END"],
        thinking: { budgetTokens: 8000 }
      })
      expect(wire.requests).toHaveLength(1)
      const request = wire.requests[0]!
      expect(request.method).toBe("POST")
      expect(request.path).toBe("/chat/completions")
      expect(request.headers.authorization).toBe("Bearer sk-test-123")
      expect(request.body).toEqual({
        model: "gpt-4o-mini",
        messages: [
          { role: "system", content: "You are Sage." },
          { role: "user", content: "Read a.txt and look at b.png" },
          {
            role: "assistant",
            content: "Reading.",
            tool_calls: [
              { id: "call_1", type: "function", function: { name: "read_file", arguments: '{"path":"a.txt"}' } },
              { id: "call_2", type: "function", function: { name: "view_image", arguments: '{"path":"b.png"}' } }
            ]
          },
          { role: "tool", tool_call_id: "call_1", content: "hello" },
          { role: "tool", tool_call_id: "call_2", content: "b.png\n[image: sent in the next user message]" },
          {
            role: "user",
            content: [
              { type: "text", text: "Images returned by tool call call_2:" },
              { type: "image_url", image_url: { url: "data:image/png;base64,iVBOR" } }
            ]
          },
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "call_3", type: "function", function: { name: "read_file", arguments: "{}" } }]
          },
          { role: "tool", tool_call_id: "call_3", content: "[error] ENOENT" },
          {
            role: "user",
            content: [
              { type: "text", text: "and this one" },
              { type: "image_url", image_url: { url: "https://example.com/c.jpg" } }
            ]
          }
        ],
        stream: true,
        stream_options: { include_usage: true },
        tools: [
          {
            type: "function",
            function: {
              name: "read_file",
              description: "Read a file",
              parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] }
            }
          }
        ],
        tool_choice: { type: "function", function: { name: "read_file" } },
        max_completion_tokens: 1000,
        temperature: 0.2,
        stop: ["END"],
        reasoning_effort: "medium"
      })
    })
  )

  it.effect("maps tool_choice modes, the request model override, max_tokens, and omits tool_choice without tools", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup({ maxTokensParam: "max_tokens" })
      const tools = [{ name: "t", description: "d", inputSchema: { type: "object" } }]
      for (const _ of [1, 2, 3, 4]) wire.enqueue({ kind: "stream", chunks: openaiSse([{ finish: "stop" }]) })
      yield* collect(client, { ...hi, tools, toolChoice: { type: "auto" } })
      yield* collect(client, { ...hi, tools, toolChoice: { type: "required" }, model: "o3-mini", maxTokens: 5 })
      yield* collect(client, { ...hi, tools, toolChoice: { type: "none" }, thinking: { budgetTokens: 1024 } })
      yield* collect(client, { ...hi, toolChoice: { type: "required" }, thinking: { budgetTokens: 32000 } })
      const bodies = wire.requests.map((r) => r.body as Record<string, unknown>)
      expect(bodies.map((b) => b.tool_choice)).toEqual(["auto", "required", "none", undefined])
      expect(bodies.map((b) => b.model)).toEqual(["gpt-4o", "o3-mini", "gpt-4o", "gpt-4o"])
      expect(bodies[1]).toMatchObject({ max_tokens: 5 })
      expect(bodies[1]).not.toHaveProperty("max_completion_tokens")
      expect(bodies.map((b) => b.reasoning_effort)).toEqual([undefined, undefined, "low", "high"])
      expect(bodies[3]).not.toHaveProperty("tools")
      expect(bodies[0]).not.toHaveProperty("stop")
    })
  )

  it("describes the client and the provider", () => {
    const client = make({ apiKey })
    expect(client.provider).toBe("openai")
    expect(client.model).toBe("gpt-4o")
    expect(client.capabilities).toEqual({
      streaming: true,
      tools: true,
      vision: true,
      thinking: false,
      structuredOutput: true,
      contextWindow: 128_000
    })
    expect(make({ apiKey, model: "gpt-5" }).capabilities).toMatchObject({ thinking: true, contextWindow: 400_000 })
    expect(make({ apiKey, model: "gpt-4.1" }).capabilities.contextWindow).toBe(1_047_576)
    expect(make({ apiKey, model: "o3" }).capabilities.contextWindow).toBe(200_000)
    expect(make({ apiKey, model: "x", contextWindow: 42, providerName: "vllm" })).toMatchObject({
      provider: "vllm",
      capabilities: { contextWindow: 42 }
    })
    expect(OpenAIProvider.id).toBe("openai")
    expect(OpenAIProvider.defaultModel).toBe("gpt-4o")
    expect(DEFAULT_BASE_URL).toBe("https://api.openai.com/v1")
  })

  it.effect("sends extra headers, organization and project", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup({
        headers: { "HTTP-Referer": "https://sage.dev" },
        organization: "org-1",
        project: "proj-1"
      })
      wire.enqueue({ kind: "stream", chunks: openaiSse([{ finish: "stop" }]) })
      yield* collect(client)
      expect(wire.requests[0]!.headers).toMatchObject({
        "http-referer": "https://sage.dev",
        "openai-organization": "org-1",
        "openai-project": "proj-1"
      })
    })
  )
})

describe("OpenAIProvider stream edge cases", () => {
  it.effect("invalid tool arguments become a parseError; empty arguments become {}", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({
        kind: "stream",
        chunks: openaiSse([
          { toolCall: { index: 0, id: "call_a", name: "bad", args: '{"path": ' } },
          { toolCall: { index: 1, id: "call_b", name: "empty" } },
          { finish: "tool_calls" }
        ])
      })
      const response = yield* client.generate(hi)
      expect(response.toolCalls).toEqual([
        { id: "call_a", name: "bad", input: {}, parseError: expect.stringContaining("not valid JSON") },
        { id: "call_b", name: "empty", input: {} }
      ])
      expect(response.stopReason).toBe("tool_use")
    })
  )

  it.effect("completes tool calls at stream end when no finish reason came", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({
        kind: "stream",
        chunks: openaiSse([{ toolCall: { index: 0, id: "call_a", name: "t", args: '{"a":1}' } }])
      })
      const parts = yield* collect(client)
      expect(parts.at(-1)).toEqual({ type: "tool-call-complete", id: "call_a", name: "t", input: { a: 1 } })
    })
  )

  it.effect("a malformed data line fails with a typed ResponseDecodeError", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({ kind: "stream", chunks: openaiSse([{ text: "partial" }, { raw: '{"choices": [' }]) })
      const { parts, error } = yield* collectUntilFailure(client)
      expect(parts.filter((p) => p.type === "text-delta")).toEqual([{ type: "text-delta", text: "partial" }])
      expect(error).toBeInstanceOf(ResponseDecodeError)
      expect(error.message).toContain("not valid JSON")
      expect(error.retryable).toBe(false)
    })
  )

  it.effect("an in-stream error chunk maps by code and type", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      const cases: ReadonlyArray<[Record<string, unknown>, new (...args: never) => LLMError]> = [
        [{ message: "boom", type: "server_error" }, ServerError],
        [{ message: "busy", type: "internal_server_error" }, ServerError],
        [{ message: "Provider returned error", code: 502 }, ServerError],
        [{ message: "slow down", code: 429 }, RateLimitedError],
        [{ message: "slow down", type: "too_many_requests" }, RateLimitedError],
        [{ message: "Overloaded", type: "overloaded" }, OverloadedError],
        [{ message: "too long", code: "context_length_exceeded" }, ContextLengthExceededError],
        [{ message: "bad", type: "invalid_request_error" }, InvalidRequestError]
      ]
      for (const [body] of cases) wire.enqueue({ kind: "stream", chunks: openaiSse([{ error: body }]) })
      for (const [body, expected] of cases) {
        const { parts, error } = yield* collectUntilFailure(client)
        expect(parts).toEqual([])
        expect(error, JSON.stringify(body)).toBeInstanceOf(expected)
        expect(error.message).toContain(String(body.message))
      }
    })
  )
})

describe("OpenAIProvider HTTP and connection errors", () => {
  const errorCase = (status: number, body: unknown, headers?: Record<string, string>) =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({ kind: "error", status, body, ...(headers === undefined ? {} : { headers }) })
      const error = yield* Effect.flip(collect(client, { ...hi, model: "gpt-nope" }))
      expect(wire.requests).toHaveLength(1)
      return error
    })

  it.effect("401 names the key variable", () =>
    Effect.gen(function* () {
      const error = yield* errorCase(401, {
        error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" }
      })
      expect(error).toBeInstanceOf(AuthenticationError)
      expect(error).toMatchObject({ provider: "openai", status: 401 })
      expect(error.message).toContain("OPENAI_API_KEY")
      expect(error.message).not.toContain("sk-test-123")

      const { wire, client } = yield* setup({ providerName: "openrouter", apiKeyVar: "OPENROUTER_API_KEY" })
      wire.enqueue({ kind: "error", status: 401, body: { error: { message: "No auth credentials found", code: 401 } } })
      const routed = yield* Effect.flip(collect(client))
      expect(routed).toBeInstanceOf(AuthenticationError)
      expect(routed.message).toContain("set OPENROUTER_API_KEY")
      expect(routed.message).toContain("openrouter")
    })
  )

  it.effect("404 names the model, 403 is a permission error", () =>
    Effect.gen(function* () {
      const notFound = yield* errorCase(404, {
        error: {
          message: "The model `gpt-nope` does not exist",
          type: "invalid_request_error",
          code: "model_not_found"
        }
      })
      expect(notFound).toBeInstanceOf(ModelNotFoundError)
      expect(notFound).toMatchObject({ model: "gpt-nope", status: 404 })
      expect(notFound.message).toContain("gpt-nope")
      const forbidden = yield* errorCase(403, { error: { message: "not allowed" } })
      expect(forbidden).toBeInstanceOf(ProviderPermissionError)
    })
  )

  it.effect("400 context_length_exceeded, other 400s, 500 and 429 with retry-after", () =>
    Effect.gen(function* () {
      const context = yield* errorCase(400, {
        error: {
          message: "This model's maximum context length is 128000 tokens. However, you requested 130000 tokens.",
          type: "invalid_request_error",
          param: "messages",
          code: "context_length_exceeded"
        }
      })
      expect(context).toBeInstanceOf(ContextLengthExceededError)
      expect(context.retryable).toBe(false)
      const invalid = yield* errorCase(400, {
        error: { message: "Invalid 'temperature'", type: "invalid_request_error" }
      })
      expect(invalid).toBeInstanceOf(InvalidRequestError)
      expect(invalid.message).toContain("Invalid 'temperature'")
      const server = yield* errorCase(
        500,
        { error: { message: "The server had an error", type: "server_error" } },
        {
          "x-request-id": "req_123"
        }
      )
      expect(server).toBeInstanceOf(ServerError)
      expect(server).toMatchObject({ status: 500, requestId: "req_123" })
      const limited = yield* errorCase(
        429,
        { error: { message: "Rate limit reached", code: "rate_limit_exceeded" } },
        {
          "retry-after": "3"
        }
      )
      expect(limited).toBeInstanceOf(RateLimitedError)
      expect(limited).toMatchObject({ retryAfterMs: 3000 })
      const limitedMs = yield* errorCase(429, { error: { message: "Rate limit reached" } }, { "retry-after-ms": "250" })
      expect(limitedMs).toMatchObject({ retryAfterMs: 250 })
    })
  )

  it.effect("connection refused is a retryable ConnectionError naming the base URL", () =>
    Effect.gen(function* () {
      const port = yield* closedPort
      const baseURL = `http://127.0.0.1:${port}`
      const error = yield* Effect.flip(collect(make({ apiKey, baseURL })))
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.message).toContain(baseURL)
      expect(error.message).toContain("ECONNREFUSED")
      expect(error.retryable).toBe(true)
    })
  )

  it.effect("a connection cut mid-stream is a ConnectionError after the content that arrived", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({ kind: "cut", chunks: openaiSse([{ text: "Hel" }, { text: "lo" }], { done: false }) })
      const { parts, error } = yield* collectUntilFailure(client)
      expect(parts.flatMap((p) => (p.type === "text-delta" ? [p.text] : []))).toEqual(["Hel", "lo"])
      expect(parts.some((p) => p.type === "finish")).toBe(false)
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.message).toContain("dropped mid-response")
      expect(error.retryable).toBe(true)
    })
  )
})

describe("OpenAIProvider retries (TestClock, real HTTP)", () => {
  const retry = { maxRetries: 3, baseDelay: "1 second", jitter: false } as const

  const retryingClient = Effect.gen(function* () {
    const wire = yield* WireServer.make
    const client = yield* Effect.provide(LLMClient, layer({ apiKey, baseURL: wire.url, retry }))
    return { wire, client }
  })

  /**
   * Run the stream in a fiber; once the `retry` part announced the wait (which runs from then), check one request
   * was made and advance the clock.
   */
  const retried = (client: LLMClient.Service, wire: WireServer.WireServer, advance: Duration.Input) =>
    Effect.gen(function* () {
      const seen: Array<StreamPart> = []
      const fiber = yield* Effect.forkChild(
        client.stream(hi).pipe(
          Stream.runForEach((part) => Effect.sync(() => seen.push(part))),
          Effect.as(seen)
        )
      )
      yield* waitUntil(
        Effect.sync(() => seen.some((p) => p.type === "retry")),
        "the retry wait is announced"
      )
      expect(wire.requests).toHaveLength(1)
      yield* TestClock.adjust(advance)
      const parts = yield* Fiber.join(fiber)
      expect(wire.requests).toHaveLength(2)
      return parts
    })

  const ok = openaiSse([{ text: "ok" }, { finish: "stop" }, { usage: { prompt_tokens: 5, completion_tokens: 1 } }])

  it.effect("429 with retry-after-ms, then success", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* retryingClient
      wire.enqueue(
        {
          kind: "error",
          status: 429,
          body: { error: { message: "Rate limit reached" } },
          headers: { "retry-after-ms": "2500" }
        },
        { kind: "stream", chunks: ok }
      )
      const parts = yield* retried(client, wire, "2500 millis")
      expect(parts[0]).toEqual({
        type: "retry",
        attempt: 1,
        delayMs: 2500,
        reason: "RateLimitedError",
        message: expect.stringContaining("Rate limit reached")
      })
      expect(parts.slice(1)).toEqual([
        { type: "metadata", responseId: "chatcmpl-test", model: "gpt-4o-test" },
        { type: "text-delta", text: "ok" },
        { type: "usage", usage: new Usage({ inputTokens: 5, outputTokens: 1 }) },
        { type: "finish", stopReason: "end_turn", raw: "stop" }
      ])
    })
  )

  it.effect("500, then success after the backoff", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* retryingClient
      wire.enqueue(
        { kind: "error", status: 500, body: { error: { message: "The server had an error", type: "server_error" } } },
        { kind: "stream", chunks: ok }
      )
      const parts = yield* retried(client, wire, "1 second")
      expect(parts[0]).toMatchObject({ type: "retry", attempt: 1, delayMs: 1000, reason: "ServerError" })
      expect(parts.filter((p) => p.type === "text-delta")).toEqual([{ type: "text-delta", text: "ok" }])
    })
  )

  it.effect("an error chunk before any content inside a 200 stream is retried", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* retryingClient
      wire.enqueue(
        { kind: "stream", chunks: openaiSse([{ error: { message: "Overloaded", type: "overloaded_error" } }]) },
        { kind: "stream", chunks: ok }
      )
      const parts = yield* retried(client, wire, "1 second")
      expect(parts[0]).toMatchObject({ type: "retry", reason: "OverloadedError" })
      expect(parts.at(-1)).toEqual({ type: "finish", stopReason: "end_turn", raw: "stop" })
    })
  )

  it.effect("a failure after content is not retried", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* retryingClient
      wire.enqueue(
        { kind: "cut", chunks: openaiSse([{ text: "partial" }], { done: false }) },
        { kind: "stream", chunks: ok }
      )
      const { parts, error } = yield* collectUntilFailure(client)
      expect(error).toBeInstanceOf(ConnectionError)
      expect(parts.some((p) => p.type === "retry")).toBe(false)
      expect(parts.filter((p) => p.type === "text-delta")).toEqual([{ type: "text-delta", text: "partial" }])
      expect(wire.requests).toHaveLength(1)
    })
  )

  it.effect("non-retryable errors fail at once", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* retryingClient
      wire.enqueue({ kind: "error", status: 401, body: { error: { message: "bad key" } } })
      const { parts, error } = yield* collectUntilFailure(client)
      expect(error).toBeInstanceOf(AuthenticationError)
      expect(parts).toEqual([])
      expect(wire.requests).toHaveLength(1)
    })
  )

  it.effect("a 429 for an exhausted quota is not retried: waiting will not help", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* retryingClient
      wire.enqueue({
        kind: "error",
        status: 429,
        body: {
          error: { message: "You exceeded your current quota", type: "insufficient_quota", code: "insufficient_quota" }
        }
      })
      const { error } = yield* collectUntilFailure(client)
      expect(error).toBeInstanceOf(ProviderPermissionError)
      expect(error?.message).toContain("quota")
      expect(wire.requests).toHaveLength(1)
    })
  )
})

/** A raw TCP server that accepts requests and never answers; records data and close per connection. */
const silentServer = Effect.gen(function* () {
  const events: Array<"data" | "close"> = []
  const sockets = new Set<net.Socket>()
  const server = yield* Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<net.Server>((resolve) => {
          const s = net.createServer((socket) => {
            sockets.add(socket)
            socket.on("data", () => events.push("data"))
            socket.on("close", () => events.push("close"))
          })
          s.listen(0, "127.0.0.1", () => resolve(s))
        })
    ),
    // undici may open an idle spare connection; destroy it instead of waiting for its keep-alive timeout.
    (s) =>
      Effect.promise(() => {
        for (const socket of sockets) socket.destroy()
        return new Promise<void>((resolve) => s.close(() => resolve()))
      })
  )
  const { port } = server.address() as net.AddressInfo
  return { url: `http://127.0.0.1:${port}`, events }
})

describe("OpenAIProvider cancellation", () => {
  it.effect("interrupting while waiting for the response headers closes the connection", () =>
    Effect.gen(function* () {
      const silent = yield* silentServer
      const fiber = yield* Effect.forkChild(collect(make({ apiKey, baseURL: silent.url })))
      yield* waitUntil(
        Effect.sync(() => silent.events.includes("data")),
        "the request reached the server"
      )
      yield* Fiber.interrupt(fiber)
      yield* waitUntil(
        Effect.sync(() => silent.events.includes("close")),
        "the client closed the connection"
      )
    })
  )

  it.effect("a response that does not start within `timeout` is a ConnectionError with timeout", () =>
    Effect.gen(function* () {
      const silent = yield* silentServer
      const error = yield* Effect.flip(collect(make({ apiKey, baseURL: silent.url, timeout: "200 millis" })))
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error).toMatchObject({ timeout: true })
      expect(error.message).toContain("timed out")
    })
  )

  it.effect("interrupting the stream aborts the HTTP request", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({ kind: "hang", chunks: openaiSse([{ text: "first" }], { done: false }) })
      const parts: Array<StreamPart> = []
      const fiber = yield* Effect.forkChild(
        Stream.runForEach(client.stream(hi), (p) => Effect.sync(() => parts.push(p)))
      )
      yield* waitUntil(
        Effect.sync(() => parts.some((p) => p.type === "text-delta")),
        "the first text arrived"
      )
      const aborted = wire.nextClientAbort()
      expect(wire.clientAborts()).toBe(0)
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => aborted)
      expect(wire.clientAborts()).toBe(1)
    })
  )

  it.effect("a consumer that stops early releases the request", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({ kind: "hang", chunks: openaiSse([{ text: "one" }, { text: "two" }], { done: false }) })
      const aborted = wire.nextClientAbort()
      const first = yield* Stream.runCollect(
        client.stream(hi).pipe(
          Stream.filter((p) => p.type === "text-delta"),
          Stream.take(1)
        )
      )
      expect(first).toEqual([{ type: "text-delta", text: "one" }])
      yield* Effect.promise(() => aborted)
      expect(wire.clientAborts()).toBe(1)
    })
  )
})

describe("OpenAIProvider.layerConfig", () => {
  const withEnv = (env: Record<string, string>) =>
    Effect.provideService(
      ConfigProvider.ConfigProvider,
      ConfigProvider.fromEnvRecord(Object.fromEntries(Object.entries(env)))
    )

  it.effect("reads OPENAI_API_KEY and OPENAI_BASE_URL through Config", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "stream", chunks: openaiSse([{ text: "hi" }, { finish: "stop" }]) })
      const response = yield* Effect.flatMap(LLMClient, (c) => c.generate(hi)).pipe(
        Effect.provide(layerConfig({ model: "gpt-4o-mini" })),
        withEnv({ OPENAI_API_KEY: "sk-from-config", OPENAI_BASE_URL: wire.url })
      )
      expect(response.message.content).toEqual([{ type: "text", text: "hi" }])
      expect(wire.requests[0]!.headers.authorization).toBe("Bearer sk-from-config")
      expect(wire.requests[0]!.body).toMatchObject({ model: "gpt-4o-mini" })
    })
  )

  it.effect("overrides win; apiKeyVar names another variable", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(
        { kind: "stream", chunks: openaiSse([{ finish: "stop" }]) },
        { kind: "stream", chunks: openaiSse([{ finish: "stop" }]) }
      )
      const provider = yield* Effect.map(LLMClient, (c) => c.provider).pipe(
        Effect.provide(layerConfig({ apiKeyVar: "OPENROUTER_API_KEY", providerName: "openrouter", baseURL: wire.url })),
        withEnv({ OPENROUTER_API_KEY: "sk-or", OPENAI_BASE_URL: "http://127.0.0.1:1" })
      )
      expect(provider).toBe("openrouter")
      yield* Effect.flatMap(LLMClient, (c) => c.generate(hi)).pipe(
        Effect.provide(layerConfig({ apiKeyVar: "OPENROUTER_API_KEY", baseURL: wire.url })),
        withEnv({ OPENROUTER_API_KEY: "sk-or", OPENAI_BASE_URL: "http://127.0.0.1:1" })
      )
      yield* Effect.flatMap(LLMClient, (c) => c.generate(hi)).pipe(
        Effect.provide(layerConfig({ apiKey: Redacted.make("sk-override"), baseURL: wire.url })),
        withEnv({})
      )
      expect(wire.requests.map((r) => r.headers.authorization)).toEqual(["Bearer sk-or", "Bearer sk-override"])
    })
  )

  it.effect("a missing or empty key is a ConfigError that says which variable to set", () =>
    Effect.gen(function* () {
      const missing = yield* Effect.flip(Layer.build(layerConfig()).pipe(Effect.scoped, withEnv({})))
      expect(missing).toBeInstanceOf(ConfigError)
      expect(missing.message).toContain("set OPENAI_API_KEY")
      expect(missing.source).toBe("OPENAI_API_KEY")
      const empty = yield* Effect.flip(
        Layer.build(layerConfig()).pipe(Effect.scoped, withEnv({ OPENAI_API_KEY: "  " }))
      )
      expect(empty).toBeInstanceOf(ConfigError)
      const routed = yield* Effect.flip(
        Layer.build(layerConfig({ apiKeyVar: "OPENROUTER_API_KEY" })).pipe(
          Effect.scoped,
          withEnv({ OPENAI_API_KEY: "sk-not-this-one" })
        )
      )
      expect(routed.message).toContain("set OPENROUTER_API_KEY")
    })
  )
})
