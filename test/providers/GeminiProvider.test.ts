/**
 * The Gemini and Vertex providers through the real `@google/genai` SDK against WireServer: recorded fixtures replayed
 * (whole and in small pieces), the request mapping, thought signatures sent back exactly, streamed and parallel
 * function calls, errors, retries, cancellation, the Vertex URL and the layer configuration.
 */
import * as net from "node:net"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { ConfigError } from "../../src/errors/ConfigError.js"
import {
  AuthenticationError,
  ConnectionError,
  ContextLengthExceededError,
  InvalidRequestError,
  ModelNotFoundError,
  OverloadedError,
  ProviderPermissionError,
  RateLimitedError,
  ResponseDecodeError,
  ServerError
} from "../../src/errors/LLMError.js"
import { type GeminiOptions, layerConfig, make, vertexLayerConfig } from "../../src/providers/gemini/GeminiProvider.js"
import { makeJsonArrayReframer } from "../../src/providers/gemini/GeminiWire.js"
import { LLMClient, type LLMRequest } from "../../src/services/LLMClient.js"
import type { Message } from "../../src/streams/Message.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"
import { Usage } from "../../src/streams/Usage.js"
import { failureReply, geminiSse, googleError } from "../support/wire/gemini.js"
import { collectParts, collectUntilFailure, hi, waitUntil } from "../support/providers.js"
import * as WireServer from "../support/WireServer.js"

const apiKey = Redacted.make("gemini-test-key")

const collect = collectParts

const setup = (options: Partial<GeminiOptions> = {}) =>
  Effect.map(WireServer.make, (wire) => ({ wire, client: make({ apiKey, baseURL: wire.url, ...options }) }))

const texts = (parts: ReadonlyArray<StreamPart>, type: "text-delta" | "reasoning-delta") =>
  parts.flatMap((p) => (p.type === type ? [p.text] : []))
const ofType = <T extends StreamPart["type"]>(parts: ReadonlyArray<StreamPart>, type: T) =>
  parts.filter((p): p is Extract<StreamPart, { type: T }> => p.type === type)

const contentsOf = (body: unknown): ReadonlyArray<unknown> | undefined =>
  typeof body === "object" && body !== null && "contents" in body && Array.isArray(body.contents)
    ? body.contents
    : undefined

const chunk = (parts: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}) => ({
  candidates: [{ content: { role: "model", parts }, index: 0, ...extra }],
  modelVersion: "gemini-2.5-flash",
  responseId: "resp-1"
})

/** Replay a fixture whole and in 7-character pieces; `check` runs on the parts of each. */
const replay = (
  name: string,
  check: (parts: ReadonlyArray<StreamPart>) => void,
  options: { readonly contentType?: string } = {}
) =>
  Effect.gen(function* () {
    for (const chunkSize of [undefined, 7]) {
      const { wire, client } = yield* setup()
      wire.enqueue({
        kind: "file",
        path: WireServer.fixture(`gemini/${name}`),
        ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
        ...(chunkSize === undefined ? {} : { chunkSize })
      })
      check(yield* collect(client))
    }
  })

describe("GeminiProvider recorded fixtures", () => {
  it.effect("text.sse: three text chunks, metadata, usage and STOP", () =>
    replay("text.sse", (parts) => {
      expect(parts[0]).toEqual({
        type: "metadata",
        responseId: "w1peaMz6INOvnvgPgYfPiQY",
        model: "gemini-2.0-flash-exp"
      })
      expect(texts(parts, "text-delta")).toEqual(["The", " capital of France", " is Paris.\n"])
      expect(ofType(parts, "usage")).toEqual([
        { type: "usage", usage: new Usage({ inputTokens: 13, outputTokens: 8 }) }
      ])
      expect(parts.at(-1)).toEqual({ type: "finish", stopReason: "end_turn", raw: "STOP" })
    })
  )

  it.effect("function-call.sse: one whole call with a generated id; STOP with a call is tool_use", () =>
    replay("function-call.sse", (parts) => {
      const id = "gemini_1lpeaMTxIpW1nvgP-O3vwQY_0"
      expect(parts.slice(1)).toEqual([
        { type: "tool-call-start", id, name: "get_capital", index: 0 },
        { type: "tool-call-delta", id, argumentsDelta: '{"country":"France"}' },
        { type: "tool-call-complete", id, name: "get_capital", input: { country: "France" } },
        { type: "usage", usage: new Usage({ inputTokens: 52, outputTokens: 5 }) },
        { type: "finish", stopReason: "tool_use", raw: "STOP" }
      ])
    })
  )

  it.effect("thinking.sse: thought parts as reasoning before the answer; thoughtsTokenCount in usage", () =>
    replay("thinking.sse", (parts) => {
      const reasoning = texts(parts, "reasoning-delta")
      expect(reasoning.length).toBeGreaterThanOrEqual(4)
      expect(reasoning[0]).toMatch(/^\*\*Clarifying User Goals\*\*/)
      const firstText = parts.findIndex((p) => p.type === "text-delta")
      const lastReasoning = parts.map((p) => p.type).lastIndexOf("reasoning-delta")
      expect(lastReasoning).toBeLessThan(firstText)
      expect(texts(parts, "text-delta").join("")).toMatch(/stay alert and be predictable\*\*\. Always assume/)
      expect(ofType(parts, "usage")).toEqual([
        { type: "usage", usage: new Usage({ inputTokens: 34, outputTokens: 469 + 787, reasoningTokens: 787 }) }
      ])
      expect(parts.at(-1)).toEqual({ type: "finish", stopReason: "end_turn", raw: "STOP" })
    })
  )

  it.effect("multiple-function-calls-streamed-args.sse: four calls, partialArgs assembled, signature kept", () =>
    replay("multiple-function-calls-streamed-args.sse", (parts) => {
      expect(texts(parts, "reasoning-delta")[0]).toMatch(/^\*\*Processing User Requests\*\*/)
      const starts = ofType(parts, "tool-call-start")
      expect(starts.map((s) => [s.name, s.index])).toEqual([
        ["read_theme", 0],
        ["read_screen", 1],
        ["read_screen", 2],
        ["read_screen", 3]
      ])
      expect(new Set(starts.map((s) => s.id)).size).toBe(4)
      const complete = ofType(parts, "tool-call-complete")
      expect(complete.map((c) => [c.name, c.input])).toEqual([
        ["read_theme", {}],
        ["read_screen", { id: "A" }],
        ["read_screen", { id: "B" }],
        ["read_screen", { id: "C" }]
      ])
      expect(complete[0]?.signature).toMatch(/^AY89a18a8\/Loc2wl5/)
      expect(complete.slice(1).map((c) => c.signature)).toEqual([undefined, undefined, undefined])
      expect(ofType(parts, "usage")).toEqual([
        { type: "usage", usage: new Usage({ inputTokens: 249, outputTokens: 58 + 183, reasoningTokens: 183 }) }
      ])
      expect(parts.at(-1)).toEqual({ type: "finish", stopReason: "tool_use", raw: "STOP" })
    })
  )

  it.effect(
    "error-overloaded-midstream.txt: the text that came, then the bare 503 error object as OverloadedError",
    () =>
      Effect.gen(function* () {
        for (const chunkSize of [undefined, 7]) {
          const { wire, client } = yield* setup()
          wire.enqueue({
            kind: "file",
            path: WireServer.fixture("gemini/error-overloaded-midstream.txt"),
            ...(chunkSize === undefined ? {} : { chunkSize })
          })
          const { parts, error } = yield* collectUntilFailure(client)
          expect(texts(parts, "text-delta")).toEqual(["Okay"])
          expect(error).toBeInstanceOf(OverloadedError)
          expect(error.message).toContain("The model is overloaded")
          expect(error.status).toBe(503)
        }
      })
  )

  it.effect(
    "json-array-stream-function-call.json: a JSON-array stream (no alt=sse) is read like SSE, whole and in pieces",
    () =>
      Effect.gen(function* () {
        for (const chunkSize of [undefined, 1, 7]) {
          const { wire, client } = yield* setup()
          wire.enqueue({
            kind: "file",
            path: WireServer.fixture("gemini/json-array-stream-function-call.json"),
            contentType: "application/json",
            ...(chunkSize === undefined ? {} : { chunkSize })
          })
          const parts = yield* collect(client)
          expect(texts(parts, "reasoning-delta").join("")).toContain("Generating Pelican Names")
          const complete = ofType(parts, "tool-call-complete")
          expect(complete.map((c) => [c.name, c.input])).toEqual([["pelican_name_generator", {}]])
          expect(complete[0]?.signature).toMatch(/^ClgBEU0yD8z3tYzbgjZ1/)
          expect(parts.at(-1)).toEqual({ type: "finish", stopReason: "tool_use", raw: "STOP" })
        }
      })
  )
})

describe("makeJsonArrayReframer", () => {
  it("frames each top-level element, whatever the chunking; braces, brackets and quotes in strings do not count", () => {
    const elements = [
      { a: '{"[x]}\\', b: [1, [2, { c: "]" }]] },
      { d: '"}"', e: {} }
    ]
    const body = `[\n${elements.map((e) => JSON.stringify(e, null, 2)).join("\n,\r\n")}\n]`
    for (const size of [1, 3, body.length]) {
      const reframer = makeJsonArrayReframer()
      let out = ""
      for (let i = 0; i < body.length; i += size) out += reframer.push(body.slice(i, i + size))
      const events = out.split("\r\n\r\n").filter((e) => e !== "")
      expect(events.map((e) => JSON.parse(e.replace(/^data: /, "")))).toEqual(elements)
    }
  })
})

describe("GeminiProvider request", () => {
  it.effect("maps system, messages, images, tools, tool choice, limits, thinking and structured output", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({ kind: "stream", chunks: geminiSse([chunk([{ text: "ok" }], { finishReason: "STOP" })]) })
      yield* collect(client, {
        system: "You are Sage.",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "look" },
              { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBOR" } },
              { type: "image", source: { type: "url", url: "https://example.test/a.webp" } }
            ]
          },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "unsigned thought" },
              { type: "redacted_thinking", data: "xx" },
              { type: "tool_use", id: "gemini_r_0", name: "read_file", input: { path: "a.txt" } },
              { type: "tool_use", id: "server-id-7", name: "view_image", input: { path: "b.png" } }
            ]
          },
          {
            role: "tool",
            content: [
              {
                type: "tool_result",
                toolUseId: "gemini_r_0",
                content: [{ type: "text", text: "hello" }],
                isError: true
              },
              {
                type: "tool_result",
                toolUseId: "server-id-7",
                content: [{ type: "image", source: { type: "base64", mediaType: "image/jpeg", data: "/9j/" } }],
                isError: false
              }
            ]
          },
          { role: "system", content: [{ type: "text", text: "Be brief." }] },
          { role: "user", content: [{ type: "text", text: "go on" }] }
        ],
        tools: [
          {
            name: "read_file",
            description: "Read a file",
            inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] }
          }
        ],
        toolChoice: { type: "tool", name: "read_file" },
        maxTokens: 512,
        temperature: 0.2,
        stopSequences: ["END"],
        thinking: { budgetTokens: 2048 },
        responseFormat: { name: "answer", schema: { type: "object", properties: { a: { type: "string" } } } }
      })
      const request = wire.requests[0]!
      expect(request.method).toBe("POST")
      expect(request.path).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
      expect(request.headers["x-goog-api-key"]).toBe("gemini-test-key")
      expect(request.body).toEqual({
        contents: [
          {
            role: "user",
            parts: [
              { text: "look" },
              { inlineData: { mimeType: "image/png", data: "iVBOR" } },
              { fileData: { fileUri: "https://example.test/a.webp", mimeType: "image/webp" } }
            ]
          },
          {
            role: "model",
            parts: [
              { functionCall: { name: "read_file", args: { path: "a.txt" } } },
              { functionCall: { id: "server-id-7", name: "view_image", args: { path: "b.png" } } }
            ]
          },
          {
            role: "user",
            parts: [
              { functionResponse: { name: "read_file", response: { error: "hello" } } },
              { functionResponse: { id: "server-id-7", name: "view_image", response: { output: "" } } },
              { inlineData: { mimeType: "image/jpeg", data: "/9j/" } },
              { text: "go on" }
            ]
          }
        ],
        systemInstruction: { parts: [{ text: "You are Sage.\n\nBe brief." }], role: "user" },
        tools: [
          {
            functionDeclarations: [
              {
                name: "read_file",
                description: "Read a file",
                parametersJsonSchema: {
                  type: "object",
                  properties: { path: { type: "string" } },
                  required: ["path"]
                }
              }
            ]
          }
        ],
        toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["read_file"] } },
        generationConfig: {
          maxOutputTokens: 512,
          temperature: 0.2,
          stopSequences: ["END"],
          thinkingConfig: { includeThoughts: true, thinkingBudget: 2048 },
          responseMimeType: "application/json",
          responseJsonSchema: { type: "object", properties: { a: { type: "string" } } }
        }
      })
    })
  )

  it.effect("Gemini 3 models get a thinkingLevel from the effort; a request model overrides the default", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue(
        { kind: "stream", chunks: geminiSse([chunk([{ text: "ok" }], { finishReason: "STOP" })]) },
        { kind: "stream", chunks: geminiSse([chunk([{ text: "ok" }], { finishReason: "STOP" })]) }
      )
      const foreign: LLMRequest = {
        messages: [
          hi.messages[0]!,
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "ls", input: {} }] },
          {
            role: "tool",
            content: [
              { type: "tool_result", toolUseId: "toolu_1", content: [{ type: "text", text: "a" }], isError: false }
            ]
          }
        ]
      }
      yield* collect(client, { ...foreign, model: "gemini-3-pro-preview", reasoningEffort: "low" })
      yield* collect(client, { ...hi, toolChoice: { type: "auto" } })
      expect(wire.requests[0]!.path).toBe("/v1beta/models/gemini-3-pro-preview:streamGenerateContent?alt=sse")
      expect(wire.requests[0]!.body).toMatchObject({
        generationConfig: { thinkingConfig: { includeThoughts: true, thinkingLevel: "LOW" } }
      })
      // A call that did not come from Gemini (no signature) gets the documented dummy signature on Gemini 3.
      expect(contentsOf(wire.requests[0]!.body)?.[1]).toEqual({
        role: "model",
        parts: [
          {
            functionCall: { id: "toolu_1", name: "ls", args: {} },
            thoughtSignature: "skip_thought_signature_validator"
          }
        ]
      })
      // Without tools there is no tool config, and without thinking no thinking config.
      expect(wire.requests[1]!.body).toEqual({
        contents: [{ role: "user", parts: [{ text: "hi" }] }],
        generationConfig: {}
      })
    })
  )

  it("describes the client", () => {
    const client = make({ apiKey, model: "gemini-2.5-pro" })
    expect(client.provider).toBe("gemini")
    expect(client.capabilities).toEqual({
      streaming: true,
      tools: true,
      vision: true,
      thinking: true,
      structuredOutput: true,
      contextWindow: 1_048_576
    })
    expect(make({ apiKey, model: "gemini-2.0-flash" }).capabilities.thinking).toBe(false)
    expect(make({ apiKey, vertex: { project: "p" } }).provider).toBe("vertex")
  })
})

describe("GeminiProvider thought signatures", () => {
  it.effect("a two-step tool use with thinking sends every thoughtSignature back exactly on its part", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      const thought1 = "**Planning**\n\nI will read both files."
      wire.enqueue(
        {
          kind: "stream",
          chunks: geminiSse([
            chunk([{ text: "**Planning**\n\n", thought: true }]),
            chunk([{ text: "I will read both files.", thought: true, thoughtSignature: "sig-thought" }]),
            chunk([{ text: "Reading " }]),
            chunk([{ text: "them.", thoughtSignature: "sig-text" }]),
            chunk([
              { functionCall: { name: "read_file", args: { path: "a.txt" } }, thoughtSignature: "sig-call-1" },
              { functionCall: { name: "read_file", args: { path: "b.txt" } } }
            ]),
            {
              ...chunk([{ text: "" }], { finishReason: "STOP" }),
              usageMetadata: { promptTokenCount: 20, candidatesTokenCount: 10, thoughtsTokenCount: 7 }
            }
          ])
        },
        {
          kind: "stream",
          chunks: geminiSse([
            chunk([{ text: "Both say hi." }]),
            chunk([{ text: "", thoughtSignature: "sig-final" }], { finishReason: "STOP" })
          ])
        },
        { kind: "stream", chunks: geminiSse([chunk([{ text: "ok" }], { finishReason: "STOP" })]) }
      )
      const user: Message = { role: "user", content: [{ type: "text", text: "read a.txt and b.txt" }] }
      const request = { ...hi, messages: [user], thinking: { budgetTokens: 4096 } }
      const first = yield* client.generate(request)
      expect(first.stopReason).toBe("tool_use")
      expect(first.usage).toEqual(new Usage({ inputTokens: 20, outputTokens: 17, reasoningTokens: 7 }))
      expect(first.message.content).toEqual([
        { type: "thinking", thinking: thought1, signature: "sig-thought" },
        { type: "text", text: "Reading them.", signature: "sig-text" },
        {
          type: "tool_use",
          id: "gemini_resp-1_0",
          name: "read_file",
          input: { path: "a.txt" },
          signature: "sig-call-1"
        },
        { type: "tool_use", id: "gemini_resp-1_1", name: "read_file", input: { path: "b.txt" } }
      ])
      const results: Message = {
        role: "tool",
        content: first.toolCalls.map((call, i) => ({
          type: "tool_result" as const,
          toolUseId: call.id,
          content: [{ type: "text" as const, text: `hi from ${["a.txt", "b.txt"][i]}` }],
          isError: false
        }))
      }
      const second = yield* client.generate({ ...request, messages: [user, first.message, results] })
      expect(second.message.content).toEqual([{ type: "text", text: "Both say hi.", signature: "sig-final" }])
      yield* client.generate({
        ...request,
        messages: [
          user,
          first.message,
          results,
          second.message,
          { role: "user", content: [{ type: "text", text: "thanks" }] }
        ]
      })
      expect(contentsOf(wire.requests[1]!.body)).toEqual([
        { role: "user", parts: [{ text: "read a.txt and b.txt" }] },
        {
          role: "model",
          parts: [
            { text: thought1, thought: true, thoughtSignature: "sig-thought" },
            { text: "Reading them.", thoughtSignature: "sig-text" },
            { functionCall: { name: "read_file", args: { path: "a.txt" } }, thoughtSignature: "sig-call-1" },
            { functionCall: { name: "read_file", args: { path: "b.txt" } } }
          ]
        },
        {
          role: "user",
          parts: [
            { functionResponse: { name: "read_file", response: { output: "hi from a.txt" } } },
            { functionResponse: { name: "read_file", response: { output: "hi from b.txt" } } }
          ]
        }
      ])
      expect(contentsOf(wire.requests[2]!.body)?.[3]).toEqual({
        role: "model",
        parts: [{ text: "Both say hi.", thoughtSignature: "sig-final" }]
      })
    })
  )
})

describe("GeminiProvider function calls", () => {
  it.effect("parallel calls get distinct stable ids; server ids are kept", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({
        kind: "stream",
        chunks: geminiSse([
          chunk(
            [
              { functionCall: { name: "get_weather", args: { city: "Paris" } } },
              { functionCall: { name: "get_weather", args: { city: "Oslo" } } },
              { functionCall: { id: "fc-9", name: "get_time", args: {} } }
            ],
            { finishReason: "STOP" }
          )
        ])
      })
      const parts = yield* collect(client)
      expect(ofType(parts, "tool-call-complete")).toEqual([
        { type: "tool-call-complete", id: "gemini_resp-1_0", name: "get_weather", input: { city: "Paris" } },
        { type: "tool-call-complete", id: "gemini_resp-1_1", name: "get_weather", input: { city: "Oslo" } },
        { type: "tool-call-complete", id: "fc-9", name: "get_time", input: {} }
      ])
      expect(ofType(parts, "tool-call-start").map((s) => s.index)).toEqual([0, 1, 2])
    })
  )

  it.effect("streamed arguments: nested paths, numbers, booleans and strings continued across chunks", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup({ vertex: { project: "p", location: "us-central1" } })
      const partial = (partialArgs: ReadonlyArray<unknown>, willContinue = true) =>
        chunk([{ functionCall: { partialArgs, willContinue } }])
      wire.enqueue({
        kind: "stream",
        chunks: geminiSse([
          chunk([{ functionCall: { name: "write_file", willContinue: true }, thoughtSignature: "sig-w" }]),
          partial([{ jsonPath: "$.path", stringValue: "notes/", willContinue: true }]),
          partial([{ jsonPath: "$.path", stringValue: "a.md" }]),
          partial([
            { jsonPath: "$.options.mode", numberValue: 420 },
            { jsonPath: "$.options.append", boolValue: true },
            { jsonPath: "$.lines[0]", stringValue: "one" },
            { jsonPath: "$.lines[1]", stringValue: "two" }
          ]),
          chunk([{ functionCall: {} }]),
          chunk([{ functionCall: { name: "done", willContinue: true } }]),
          chunk([{ text: "" }], { finishReason: "STOP" })
        ])
      })
      const parts = yield* collect(client)
      const complete = ofType(parts, "tool-call-complete")
      expect(complete).toEqual([
        {
          type: "tool-call-complete",
          id: "gemini_resp-1_0",
          name: "write_file",
          input: { path: "notes/a.md", options: { mode: 420, append: true }, lines: ["one", "two"] },
          signature: "sig-w"
        },
        // A call still open at the end of the stream is completed there.
        { type: "tool-call-complete", id: "gemini_resp-1_1", name: "done", input: {} }
      ])
      expect(ofType(parts, "tool-call-delta")[0]?.argumentsDelta).toBe(
        '{"path":"notes/a.md","options":{"mode":420,"append":true},"lines":["one","two"]}'
      )
    })
  )

  it.effect("finish reasons: MAX_TOKENS, SAFETY, a blocked prompt, and an unknown reason", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue(
        { kind: "stream", chunks: geminiSse([chunk([{ text: "a" }], { finishReason: "MAX_TOKENS" })]) },
        { kind: "stream", chunks: geminiSse([chunk([{ text: "b" }], { finishReason: "SAFETY" })]) },
        {
          kind: "stream",
          chunks: geminiSse([{ promptFeedback: { blockReason: "PROHIBITED_CONTENT" }, responseId: "r" }])
        },
        { kind: "stream", chunks: geminiSse([chunk([{ text: "c" }], { finishReason: "MALFORMED_FUNCTION_CALL" })]) }
      )
      const finishes = []
      for (let i = 0; i < 4; i++) finishes.push(ofType(yield* collect(client), "finish"))
      expect(finishes).toEqual([
        [{ type: "finish", stopReason: "max_tokens", raw: "MAX_TOKENS" }],
        [{ type: "finish", stopReason: "content_filter", raw: "SAFETY" }],
        [{ type: "finish", stopReason: "content_filter" }],
        [{ type: "finish", stopReason: "other", raw: "MALFORMED_FUNCTION_CALL" }]
      ])
    })
  )
})

describe("GeminiProvider errors", () => {
  it.effect("HTTP errors map to typed errors; 429 carries the RetryInfo delay; a daily quota is not retryable", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue(
        failureReply({ kind: "rate_limit", retryAfterSeconds: 30 }),
        failureReply({ kind: "quota" }),
        failureReply({ kind: "overloaded" }),
        failureReply({ kind: "auth" }),
        failureReply({ kind: "invalid_request", message: "Invalid JSON payload received." }),
        failureReply({ kind: "context_length" }),
        failureReply({ kind: "server" }),
        {
          kind: "error",
          status: 404,
          body: googleError(404, "NOT_FOUND", "models/nope is not found for API version v1beta")
        },
        {
          kind: "error",
          status: 403,
          body: googleError(403, "PERMISSION_DENIED", "Permission denied on resource project x.")
        },
        {
          kind: "error",
          status: 401,
          body: googleError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        }
      )
      const errors = []
      for (let i = 0; i < 10; i++) errors.push(yield* Effect.flip(collect(client)))
      expect(errors.map((e) => e._tag)).toEqual([
        "RateLimitedError",
        "ProviderPermissionError",
        "OverloadedError",
        "AuthenticationError",
        "InvalidRequestError",
        "ContextLengthExceededError",
        "ServerError",
        "ModelNotFoundError",
        "ProviderPermissionError",
        "AuthenticationError"
      ])
      expect(errors[0]).toBeInstanceOf(RateLimitedError)
      expect(errors[0]).toMatchObject({ retryAfterMs: 30_000, status: 429 })
      expect(errors[0]!.retryable).toBe(true)
      expect(errors[1]).toBeInstanceOf(ProviderPermissionError)
      expect(errors[1]!.retryable).toBe(false)
      expect(errors[1]!.message).toContain("no quota left")
      expect(errors[2]).toBeInstanceOf(OverloadedError)
      expect(errors[3]).toBeInstanceOf(AuthenticationError)
      expect(errors[3]!.message).toContain("GEMINI_API_KEY")
      expect(errors[4]).toBeInstanceOf(InvalidRequestError)
      expect(errors[4]!.message).toContain("Invalid JSON payload received.")
      expect(errors[5]).toBeInstanceOf(ContextLengthExceededError)
      expect(errors[6]).toBeInstanceOf(ServerError)
      expect(errors[7]).toBeInstanceOf(ModelNotFoundError)
      expect(errors[7]!.message).toContain("gemini-2.5-flash")
    })
  )

  it.effect("an SSE-framed error chunk inside a 200 stream maps by its code", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({
        kind: "stream",
        chunks: [
          ...geminiSse([chunk([{ text: "par" }])]),
          `data: ${JSON.stringify(googleError(429, "RESOURCE_EXHAUSTED", "Resource exhausted.", [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "2.5s" }]))}\r\n\r\n`
        ]
      })
      const { parts, error } = yield* collectUntilFailure(client)
      expect(texts(parts, "text-delta")).toEqual(["par"])
      expect(error).toBeInstanceOf(RateLimitedError)
      expect(error).toMatchObject({ retryAfterMs: 2500 })
    })
  )

  it.effect("a malformed data line is a ResponseDecodeError; a refused connection a ConnectionError", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({ kind: "stream", chunks: ["data: {not json\r\n\r\n"] })
      const bad = yield* Effect.flip(collect(client))
      expect(bad).toBeInstanceOf(ResponseDecodeError)
      const port = yield* Effect.promise(
        () =>
          new Promise<number>((resolve) => {
            const server = net.createServer()
            server.listen(0, "127.0.0.1", () => {
              const { port } = server.address() as net.AddressInfo
              server.close(() => resolve(port))
            })
          })
      )
      const refused = yield* Effect.flip(collect(make({ apiKey, baseURL: `http://127.0.0.1:${port}` })))
      expect(refused).toBeInstanceOf(ConnectionError)
      expect(refused.message).toContain(`127.0.0.1:${port}`)
    })
  )

  it.effect("a connection cut mid-stream is a ConnectionError after the content that arrived", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({ kind: "cut", chunks: geminiSse([chunk([{ text: "half" }])]) })
      const { parts, error } = yield* collectUntilFailure(client)
      expect(texts(parts, "text-delta")).toEqual(["half"])
      expect(error).toBeInstanceOf(ConnectionError)
    })
  )

  it.live("the layer retries a 429 after its RetryInfo delay, announcing it", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(
        {
          kind: "error",
          status: 429,
          body: googleError(429, "RESOURCE_EXHAUSTED", "Resource exhausted.", [
            { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "0.05s" }
          ])
        },
        { kind: "stream", chunks: geminiSse([chunk([{ text: "after retry" }], { finishReason: "STOP" })]) }
      )
      const parts = yield* Effect.flatMap(LLMClient, (c) => collect(c)).pipe(
        Effect.provide(
          layerConfig({ apiKey, baseURL: wire.url, retry: { baseDelay: "1 millis", jitter: false, maxRetries: 1 } })
        ),
        Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord({}))
      )
      expect(parts[0]).toMatchObject({ type: "retry", attempt: 1, delayMs: 50, reason: "RateLimitedError" })
      expect(texts(parts, "text-delta")).toEqual(["after retry"])
      expect(wire.requests).toHaveLength(2)
    })
  )
})

describe("GeminiProvider cancellation", () => {
  it.effect("interrupting the stream aborts the HTTP request", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({ kind: "hang", chunks: geminiSse([chunk([{ text: "first" }])]) })
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
})

describe("Vertex AI", () => {
  it.effect("streams from projects/<p>/locations/<l>/publishers/google/models/<m>:streamGenerateContent", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "file", path: WireServer.fixture("gemini/text.sse") })
      const response = yield* Effect.flatMap(LLMClient, (c) => c.generate(hi)).pipe(
        Effect.provide(
          vertexLayerConfig({ apiKey: Redacted.make("vertex-key"), baseURL: wire.url, model: "gemini-2.5-pro" })
        ),
        Effect.provideService(
          ConfigProvider.ConfigProvider,
          ConfigProvider.fromEnvRecord({ GOOGLE_CLOUD_PROJECT: "my-proj", GOOGLE_CLOUD_LOCATION: "europe-west4" })
        )
      )
      expect(response.message.content).toEqual([{ type: "text", text: "The capital of France is Paris.\n" }])
      const request = wire.requests[0]!
      expect(request.path).toBe(
        "/v1beta1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
      )
      expect(request.headers["x-goog-api-key"]).toBe("vertex-key")
    })
  )

  it.effect("without a project or a key, the layer fails with a ConfigError naming GOOGLE_CLOUD_PROJECT", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Layer.build(vertexLayerConfig()).pipe(
          Effect.scoped,
          Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord({}))
        )
      )
      expect(error).toBeInstanceOf(ConfigError)
      expect(error.source).toBe("GOOGLE_CLOUD_PROJECT")
    })
  )
})

describe("GeminiProvider.layerConfig", () => {
  const withEnv = (env: Record<string, string>) =>
    Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord(env))

  it.effect("reads GEMINI_API_KEY (else GOOGLE_API_KEY) and GOOGLE_GEMINI_BASE_URL through Config", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const ok = () => ({
        kind: "stream" as const,
        chunks: geminiSse([chunk([{ text: "hi" }], { finishReason: "STOP" })])
      })
      wire.enqueue(ok(), ok(), ok())
      const run = (env: Record<string, string>, overrides: Partial<GeminiOptions> = {}) =>
        Effect.flatMap(LLMClient, (c) => c.generate(hi)).pipe(Effect.provide(layerConfig(overrides)), withEnv(env))
      yield* run({ GEMINI_API_KEY: "k-gemini", GOOGLE_API_KEY: "k-google", GOOGLE_GEMINI_BASE_URL: wire.url })
      yield* run({ GOOGLE_API_KEY: "k-google", GOOGLE_GEMINI_BASE_URL: wire.url })
      yield* run(
        { GOOGLE_GEMINI_BASE_URL: "http://127.0.0.1:1" },
        { apiKey: Redacted.make("k-override"), baseURL: wire.url }
      )
      expect(wire.requests.map((r) => r.headers["x-goog-api-key"])).toEqual(["k-gemini", "k-google", "k-override"])
    })
  )

  it.effect("a missing or empty key is a ConfigError that says which variable to set", () =>
    Effect.gen(function* () {
      const envs: ReadonlyArray<Record<string, string>> = [{}, { GEMINI_API_KEY: "  " }]
      for (const env of envs) {
        const error = yield* Effect.flip(Layer.build(layerConfig()).pipe(Effect.scoped, withEnv(env)))
        expect(error).toBeInstanceOf(ConfigError)
        expect(error.message).toContain("set GEMINI_API_KEY")
      }
    })
  )
})
