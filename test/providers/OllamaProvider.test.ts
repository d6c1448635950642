/**
 * The Ollama provider through the real `ollama` package against WireServer: the recorded `/api/chat` bodies replayed,
 * the request mapping (tools, think, format, images), errors, cancellation and the layer configuration.
 */
import * as net from "node:net"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { ConfigError } from "../../src/errors/ConfigError.js"
import {
  ConnectionError,
  InvalidRequestError,
  ModelNotFoundError,
  RateLimitedError,
  ServerError
} from "../../src/errors/LLMError.js"
import { hostURL, layerConfig, make, type OllamaOptions } from "../../src/providers/ollama/OllamaProvider.js"
import { LLMClient } from "../../src/services/LLMClient.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"
import { Usage } from "../../src/streams/Usage.js"
import { NDJSON, ndjson, scriptChunks } from "../support/wire/ollama.js"
import { collectParts, collectUntilFailure, hi, waitUntil } from "../support/providers.js"
import * as WireServer from "../support/WireServer.js"

const collect = collectParts

const setup = (options: Partial<OllamaOptions> = {}) =>
  Effect.map(WireServer.make, (wire) => ({ wire, client: make({ baseURL: wire.url, model: "qwen3", ...options }) }))

const ofType = <T extends StreamPart["type"]>(parts: ReadonlyArray<StreamPart>, type: T) =>
  parts.filter((p): p is Extract<StreamPart, { type: T }> => p.type === type)

const doneChunk = (extra: Record<string, unknown> = {}) => ({
  model: "qwen3",
  created_at: "2025-05-27T22:54:58.2Z",
  message: { role: "assistant", content: "" },
  done: true,
  done_reason: "stop",
  prompt_eval_count: 12,
  eval_count: 34,
  ...extra
})

describe("OllamaProvider recorded fixtures", () => {
  it.effect(
    "chat-stream-tool-call-excerpt.ndjson: content, then a whole tool call; the excerpt has no done chunk",
    () =>
      Effect.gen(function* () {
        for (const chunkSize of [undefined, 9]) {
          const { wire, client } = yield* setup()
          wire.enqueue({
            kind: "file",
            path: WireServer.fixture("ollama/chat-stream-tool-call-excerpt.ndjson"),
            contentType: NDJSON,
            ...(chunkSize === undefined ? {} : { chunkSize })
          })
          const { parts, error } = yield* collectUntilFailure(client)
          expect(parts).toEqual([
            { type: "metadata", model: "qwen3" },
            { type: "text-delta", text: "celsius" },
            { type: "text-delta", text: "</think>" },
            {
              type: "tool-call-start",
              id: expect.stringMatching(/^ollama_\w+_0$/),
              name: "get_current_weather",
              index: 0
            },
            {
              type: "tool-call-delta",
              id: expect.stringMatching(/^ollama_/),
              argumentsDelta: '{"format":"celsius","location":"Toronto"}'
            },
            {
              type: "tool-call-complete",
              id: expect.stringMatching(/^ollama_/),
              name: "get_current_weather",
              input: { format: "celsius", location: "Toronto" }
            }
          ])
          // The recorded excerpt stops before the final chunk: the response is incomplete.
          expect(error).toBeInstanceOf(ConnectionError)
          expect(error.message).toContain("ended before its final (done) chunk")
        }
      })
  )

  it.effect("the excerpt followed by a done chunk finishes with tool_use and usage", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({
        kind: "stream",
        contentType: NDJSON,
        chunks: [WireServer.readFixture("ollama/chat-stream-tool-call-excerpt.ndjson"), ...ndjson([doneChunk()])]
      })
      const parts = yield* collect(client)
      expect(parts.slice(-2)).toEqual([
        { type: "usage", usage: new Usage({ inputTokens: 12, outputTokens: 34 }) },
        { type: "finish", stopReason: "tool_use", raw: "stop" }
      ])
    })
  )

  it.effect("chat-nonstream-tool-call.json as a single chunk: the call, usage and finish", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({
        kind: "file",
        path: WireServer.fixture("ollama/chat-nonstream-tool-call.json"),
        contentType: "application/json"
      })
      const response = yield* client.generate(hi)
      expect(response.model).toBe("llama3.2")
      expect(response.toolCalls.map((c) => [c.name, c.input])).toEqual([
        ["get_current_weather", { format: "celsius", location: "Paris, FR" }]
      ])
      expect(response.usage).toEqual(new Usage({ inputTokens: 122, outputTokens: 33 }))
      expect(response.stopReason).toBe("tool_use")
    })
  )
})

describe("OllamaProvider request and stream", () => {
  it.effect("maps system, images, tool calls and results, tools, think, format and options to /api/chat", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({ kind: "stream", contentType: NDJSON, chunks: ndjson([doneChunk()]) })
      yield* collect(client, {
        system: "You are Sage.",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "what is in it?" },
              { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBOR" } },
              { type: "image", source: { type: "url", url: "https://example.test/x.png" } }
            ]
          },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "hmm" },
              { type: "text", text: "Checking." },
              { type: "tool_use", id: "ollama_a_0", name: "read_file", input: { path: "a.txt" } }
            ]
          },
          {
            role: "tool",
            content: [
              {
                type: "tool_result",
                toolUseId: "ollama_a_0",
                content: [
                  { type: "text", text: "ENOENT" },
                  { type: "image", source: { type: "base64", mediaType: "image/png", data: "AAAA" } }
                ],
                isError: true
              }
            ]
          }
        ],
        tools: [{ name: "read_file", description: "Read a file", inputSchema: { type: "object", properties: {} } }],
        reasoningEffort: "medium",
        responseFormat: { name: "answer", schema: { type: "object", properties: { a: { type: "string" } } } },
        maxTokens: 100,
        temperature: 0,
        stopSequences: ["END"]
      })
      const request = wire.requests[0]!
      expect(request.method).toBe("POST")
      expect(request.path).toBe("/api/chat")
      expect(request.body).toEqual({
        model: "qwen3",
        stream: true,
        messages: [
          { role: "system", content: "You are Sage." },
          {
            role: "user",
            content: "what is in it?\n[image not sent: https://example.test/x.png (Ollama takes image bytes only)]",
            images: ["iVBOR"]
          },
          {
            role: "assistant",
            content: "Checking.",
            tool_calls: [{ function: { name: "read_file", arguments: { path: "a.txt" } } }]
          },
          { role: "tool", tool_name: "read_file", content: "[error] ENOENT", images: ["AAAA"] }
        ],
        tools: [
          {
            type: "function",
            function: { name: "read_file", description: "Read a file", parameters: { type: "object", properties: {} } }
          }
        ],
        think: true,
        format: { type: "object", properties: { a: { type: "string" } } },
        options: { num_predict: 100, temperature: 0, stop: ["END"] }
      })
    })
  )

  it.effect("message.thinking streams as reasoning; parallel calls in one chunk get distinct ids; length", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({
        kind: "stream",
        contentType: NDJSON,
        chunks: ndjson([
          ...scriptChunks({
            reasoning: { text: ["Let me ", "think."] },
            text: ["Calling."],
            toolCalls: [
              { id: "x", name: "a", args: ['{"n":1}'] },
              { id: "y", name: "b", args: [] }
            ]
          }).slice(0, -1),
          doneChunk({ done_reason: "length" })
        ])
      })
      const response = yield* client.generate({ ...hi, thinking: { budgetTokens: 1000 } })
      expect(response.message.content.slice(0, 2)).toEqual([
        { type: "thinking", thinking: "Let me think." },
        { type: "text", text: "Calling." }
      ])
      expect(response.toolCalls.map((c) => [c.name, c.input])).toEqual([
        ["a", { n: 1 }],
        ["b", {}]
      ])
      expect(new Set(response.toolCalls.map((c) => c.id)).size).toBe(2)
      expect(response.stopReason).toBe("max_tokens")
      expect(wire.requests[0]!.body).toMatchObject({ think: true })
      wire.enqueue({ kind: "stream", contentType: NDJSON, chunks: ndjson([doneChunk()]) })
      yield* client.generate({ ...hi, model: "gpt-oss:20b", reasoningEffort: "minimal" })
      expect(wire.requests[1]!.body).toMatchObject({ model: "gpt-oss:20b", think: "low" })
    })
  )
})

describe("OllamaProvider errors", () => {
  it.effect("404 model not found says to pull it; 400, 429 and 500 map by status", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup({ model: "llama9" })
      wire.enqueue(
        { kind: "error", status: 404, body: { error: "model 'llama9' not found, try pulling it first" } },
        { kind: "error", status: 400, body: { error: 'invalid format: expected "json" or a JSON schema' } },
        { kind: "error", status: 429, body: { error: "too many requests" }, headers: { "retry-after": "3" } },
        { kind: "error", status: 500, body: { error: "llama runner process has terminated" } }
      )
      const notFound = yield* Effect.flip(collect(client))
      expect(notFound).toBeInstanceOf(ModelNotFoundError)
      expect(notFound.message).toContain("ollama pull llama9")
      expect(notFound.retryable).toBe(false)
      const invalid = yield* Effect.flip(collect(client))
      expect(invalid).toBeInstanceOf(InvalidRequestError)
      expect(invalid.message).toContain("invalid format")
      const limited = yield* Effect.flip(collect(client))
      expect(limited).toBeInstanceOf(RateLimitedError)
      expect(limited).toMatchObject({ retryAfterMs: 3000 })
      const server = yield* Effect.flip(collect(client))
      expect(server).toBeInstanceOf(ServerError)
      expect(server.message).toContain("llama runner process has terminated")
    })
  )

  it.effect("an {error} line inside the stream is a ServerError after the content that came", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({
        kind: "stream",
        contentType: NDJSON,
        chunks: ndjson([
          scriptChunks({ text: ["par"] })[0],
          { error: "an error was encountered while running the model" }
        ])
      })
      const { parts, error } = yield* collectUntilFailure(client)
      expect(ofType(parts, "text-delta")).toEqual([{ type: "text-delta", text: "par" }])
      expect(error).toBeInstanceOf(ServerError)
      expect(error.message).toContain("an error was encountered while running the model")
    })
  )

  it.effect("a connection cut mid-stream is a ConnectionError after the content that came", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({ kind: "cut", contentType: NDJSON, chunks: ndjson(scriptChunks({ text: ["half"] }).slice(0, 1)) })
      const { parts, error } = yield* collectUntilFailure(client)
      expect(ofType(parts, "text-delta")).toEqual([{ type: "text-delta", text: "half" }])
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.message).toContain("dropped mid-response")
    })
  )

  it.effect("a refused connection is a ConnectionError asking whether ollama is running", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(
        () =>
          new Promise<number>((resolve) => {
            const server = net.createServer()
            server.listen(0, "127.0.0.1", () => {
              const address = server.address()
              const free = typeof address === "object" && address !== null ? address.port : 0
              server.close(() => resolve(free))
            })
          })
      )
      const error = yield* Effect.flip(collect(make({ baseURL: `http://127.0.0.1:${port}` })))
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.message).toContain("is ollama running?")
      expect(error.message).toContain(`127.0.0.1:${port}`)
    })
  )
})

describe("OllamaProvider cancellation", () => {
  it.effect("interrupting the stream aborts the HTTP request", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({ kind: "hang", contentType: NDJSON, chunks: ndjson(scriptChunks({ text: ["first"] }).slice(0, 1)) })
      const parts: Array<StreamPart> = []
      const fiber = yield* Effect.forkChild(
        Stream.runForEach(client.stream(hi), (p) => Effect.sync(() => parts.push(p)))
      )
      yield* waitUntil(
        Effect.sync(() => parts.some((p) => p.type === "text-delta")),
        "the first text arrived"
      )
      const aborted = wire.nextClientAbort()
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => aborted)
      expect(wire.clientAborts()).toBe(1)
    })
  )

  it.effect("interrupting before the response headers arrive closes the connection", () =>
    Effect.gen(function* () {
      // A raw TCP server that reads the request and never answers.
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
        (s) =>
          Effect.promise(() => {
            for (const socket of sockets) socket.destroy()
            return new Promise<void>((resolve) => s.close(() => resolve()))
          })
      )
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const fiber = yield* Effect.forkChild(collect(make({ baseURL: `http://127.0.0.1:${port}` })))
      yield* waitUntil(
        Effect.sync(() => events.includes("data")),
        "the request reached the server"
      )
      yield* Fiber.interrupt(fiber)
      yield* waitUntil(
        Effect.sync(() => events.includes("close")),
        "the client closed the connection"
      )
    })
  )
})

describe("OllamaProvider.layerConfig", () => {
  const withEnv = (env: Record<string, string>) =>
    Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord(env))

  it("reads OLLAMA_HOST in ollama's forms", () => {
    expect(hostURL("example.test")).toBe("http://example.test:11434")
    expect(hostURL("example.test:8080")).toBe("http://example.test:8080")
    expect(hostURL(":9000")).toBe("http://127.0.0.1:9000")
    expect(hostURL("https://ollama.example.test/")).toBe("https://ollama.example.test")
  })

  it.effect("the host comes from OLLAMA_HOST, a baseURL override wins; no key is needed", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(
        { kind: "stream", contentType: NDJSON, chunks: ndjson([doneChunk()]) },
        { kind: "stream", contentType: NDJSON, chunks: ndjson([doneChunk()]) }
      )
      const hostPort = wire.url.replace("http://", "")
      yield* Effect.flatMap(LLMClient, (c) => c.generate(hi)).pipe(
        Effect.provide(layerConfig({ model: "m1" })),
        withEnv({ OLLAMA_HOST: hostPort })
      )
      yield* Effect.flatMap(LLMClient, (c) => c.generate(hi)).pipe(
        Effect.provide(layerConfig({ model: "m2", baseURL: wire.url })),
        withEnv({ OLLAMA_HOST: "127.0.0.1:1" })
      )
      expect(wire.requests.map((r) => r.body)).toMatchObject([{ model: "m1" }, { model: "m2" }])
      expect(wire.requests[0]!.headers.authorization).toBeUndefined()
    })
  )

  it.effect("an OLLAMA_HOST that is no host is a ConfigError", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Layer.build(layerConfig()).pipe(Effect.scoped, withEnv({ OLLAMA_HOST: "http://[bad" }))
      )
      expect(error).toBeInstanceOf(ConfigError)
      expect(error.source).toBe("OLLAMA_HOST")
    })
  )
})
