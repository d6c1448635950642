import { createServer } from "node:net"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type { LLMError } from "../../src/errors/LLMError.js"
import * as Anthropic from "../../src/providers/anthropic/AnthropicProvider.js"
import { LLMClient, type LLMRequest } from "../../src/services/LLMClient.js"
import type { LLMResponse } from "../../src/streams/Response.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"
import { Usage } from "../../src/streams/Usage.js"
import { anthropicErrorBody, anthropicEvents, sseEvent } from "../support/anthropicSse.js"
import * as WireServer from "../support/WireServer.js"

const KEY = "sk-ant-test-secret"
const hello: LLMRequest = { messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] }

const clientFor = (wire: WireServer.WireServer, extra: Partial<Anthropic.AnthropicOptions> = {}) =>
  Anthropic.make({ apiKey: Redacted.make(KEY), baseURL: wire.url, model: "claude-test", ...extra })

const collect = (client: LLMClient.Service, request: LLMRequest = hello) => Stream.runCollect(client.stream(request))

const failure = (client: LLMClient.Service, request: LLMRequest = hello): Effect.Effect<LLMError, unknown> =>
  Effect.flip(collect(client, request))

const usage = (inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheWriteTokens = 0) =>
  new Usage({ inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens })

const textOf = (parts: ReadonlyArray<StreamPart>) =>
  parts.flatMap((p) => (p.type === "text-delta" ? [p.text] : [])).join("")

/** Replays a fixture whole and in 7-byte pieces; both must give the same parts. Returns parts and folded response. */
const replay = (wire: WireServer.WireServer, name: string) =>
  Effect.gen(function* () {
    const client = clientFor(wire)
    wire.enqueue({ kind: "file", path: WireServer.fixture(`anthropic/${name}`) })
    const whole = yield* collect(client)
    wire.enqueue({ kind: "file", path: WireServer.fixture(`anthropic/${name}`), chunkSize: 7 })
    const pieces = yield* collect(client)
    expect(pieces).toEqual(whole)
    wire.enqueue({ kind: "file", path: WireServer.fixture(`anthropic/${name}`), chunkSize: 3 })
    const response: LLMResponse = yield* client.generate(hello)
    return { parts: whole, response }
  })

describe("AnthropicProvider fixtures (real SDK against WireServer)", () => {
  it.effect("text-basic.sse: exact parts", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const { parts, response } = yield* replay(wire, "text-basic.sse")
      expect(parts).toEqual([
        { type: "metadata", responseId: "msg_01QC4g3HwBThD4BaNtBckFDJ", model: "claude-sonnet-4-5-20250929" },
        { type: "usage", usage: usage(12, 1) },
        { type: "text-delta", text: "Hello" },
        { type: "text-delta", text: "! I" },
        { type: "text-delta", text: "'m doing well, thank you for asking" },
        { type: "text-delta", text: ". How are you doing today?" },
        { type: "text-delta", text: " Is" },
        { type: "text-delta", text: " there anything I can help you with?" },
        { type: "usage", usage: usage(12, 30) },
        { type: "finish", stopReason: "end_turn", raw: "end_turn" }
      ])
      expect(response.message).toEqual({
        role: "assistant",
        content: [
          {
            type: "text",
            text: "Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help you with?"
          }
        ]
      })
      expect(response.usage).toEqual(usage(12, 30))
      expect(response.stopReason).toBe("end_turn")
      expect(response.responseId).toBe("msg_01QC4g3HwBThD4BaNtBckFDJ")
      expect(response.model).toBe("claude-sonnet-4-5-20250929")
    })
  )

  it.effect("text-padded-raw.sse: trailing padding after the JSON is tolerated", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const { parts, response } = yield* replay(wire, "text-padded-raw.sse")
      expect(textOf(parts)).toBe("- Captain\n- Scoop")
      expect(response.usage).toEqual(usage(17, 10))
      expect(response.stopReason).toBe("end_turn")
      expect(response.responseId).toBe("msg_017A4s3HAsrqf5d2WvBmrpLr")
    })
  )

  it.effect("docs-tool-use-example.sse: text then a tool call assembled from fragments", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const { parts, response } = yield* replay(wire, "docs-tool-use-example.sse")
      const id = "toolu_01T1x1fJ34qAmk2tNTrN7Up6"
      expect(textOf(parts)).toBe("Okay, let's check the weather for San Francisco, CA:")
      expect(parts.filter((p) => p.type.startsWith("tool-call"))).toEqual([
        { type: "tool-call-start", id, name: "get_weather", index: 0 },
        { type: "tool-call-delta", id, argumentsDelta: '{"location":' },
        { type: "tool-call-delta", id, argumentsDelta: ' "San' },
        { type: "tool-call-delta", id, argumentsDelta: " Francisc" },
        { type: "tool-call-delta", id, argumentsDelta: "o," },
        { type: "tool-call-delta", id, argumentsDelta: ' CA"' },
        { type: "tool-call-delta", id, argumentsDelta: ", " },
        { type: "tool-call-delta", id, argumentsDelta: '"unit": "fah' },
        { type: "tool-call-delta", id, argumentsDelta: 'renheit"}' },
        {
          type: "tool-call-complete",
          id,
          name: "get_weather",
          input: { location: "San Francisco, CA", unit: "fahrenheit" }
        }
      ])
      expect(response.toolCalls).toEqual([
        { id, name: "get_weather", input: { location: "San Francisco, CA", unit: "fahrenheit" } }
      ])
      expect(response.message.content.map((b) => b.type)).toEqual(["text", "tool_use"])
      // message_delta carries only output_tokens: input comes from message_start
      expect(response.usage).toEqual(usage(472, 89))
      expect(response.stopReason).toBe("tool_use")
    })
  )

  it.effect("tool-use-with-text.sse: one tool call after text", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const { parts, response } = yield* replay(wire, "tool-use-with-text.sse")
      expect(textOf(parts)).toBe("I'll check the current weather in Paris for you.")
      expect(response.toolCalls).toEqual([
        { id: "toolu_01NRLabsLyVHZPKxbKvkfSMn", name: "get_weather", input: { location: "Paris" } }
      ])
      expect(response.usage).toEqual(usage(377, 65))
      expect(response.stopReason).toBe("tool_use")
      expect(response.model).toBe("claude-sonnet-4-20250514")
    })
  )

  it.effect("tool-use-many-pings.sse: pings between deltas are ignored", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const { parts, response } = yield* replay(wire, "tool-use-many-pings.sse")
      expect(parts.map((p) => p.type)).toEqual([
        "metadata",
        "usage",
        "tool-call-start",
        "tool-call-delta",
        "tool-call-delta",
        "tool-call-complete",
        "usage",
        "finish"
      ])
      expect(response.toolCalls).toEqual([
        { id: "toolu_019Zvehfe1XQWweT1pm7okyt", name: "weather", input: { location: "San Francisco" } }
      ])
      expect(response.message.content).toEqual([
        {
          type: "tool_use",
          id: "toolu_019Zvehfe1XQWweT1pm7okyt",
          name: "weather",
          input: { location: "San Francisco" }
        }
      ])
      expect(response.usage).toEqual(usage(843, 28))
    })
  )

  it.effect("parallel-tool-use-with-text.sse: two no-argument calls get {} and indexes 0 and 1", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const { parts, response } = yield* replay(wire, "parallel-tool-use-with-text.sse")
      expect(textOf(parts)).toBe(
        "I'll help you generate two potential names for a pet pelican by using the pelican name generator tool."
      )
      expect(parts.filter((p) => p.type.startsWith("tool-call"))).toEqual([
        { type: "tool-call-start", id: "toolu_011ouQLPrqhKSuFJtuJrpaUX", name: "pelican_name_generator", index: 0 },
        { type: "tool-call-complete", id: "toolu_011ouQLPrqhKSuFJtuJrpaUX", name: "pelican_name_generator", input: {} },
        { type: "tool-call-start", id: "toolu_01NtJRxGhJcEQ4axN1FzHayX", name: "pelican_name_generator", index: 1 },
        { type: "tool-call-complete", id: "toolu_01NtJRxGhJcEQ4axN1FzHayX", name: "pelican_name_generator", input: {} }
      ])
      expect(response.toolCalls).toEqual([
        { id: "toolu_011ouQLPrqhKSuFJtuJrpaUX", name: "pelican_name_generator", input: {} },
        { id: "toolu_01NtJRxGhJcEQ4axN1FzHayX", name: "pelican_name_generator", input: {} }
      ])
      expect(response.usage).toEqual(usage(310, 84))
      expect(response.stopReason).toBe("tool_use")
    })
  )

  it.effect("thinking-signature.sse: reasoning deltas, then the signature, then text", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const { parts, response } = yield* replay(wire, "thinking-signature.sse")
      const signature = parts.find((p) => p.type === "reasoning-signature")
      expect(signature?.type === "reasoning-signature" && signature.signature.startsWith("EvQBCkYICxgCKkAxhD4N")).toBe(
        true
      )
      expect(
        signature?.type === "reasoning-signature" && signature.signature.endsWith("K/oPr/4yzNgvi/EhT6Ca17BgB")
      ).toBe(true)
      // the empty thinking_delta is not emitted
      expect(parts.filter((p) => p.type === "reasoning-delta")).toHaveLength(9)
      expect(response.message.content).toEqual([
        {
          type: "thinking",
          thinking: "The previous result was 925. Now I need to divide that by 5.\n\n925 ÷ 5 = 185",
          signature: signature?.type === "reasoning-signature" ? signature.signature : "missing"
        },
        { type: "text", text: "925 ÷ 5 = 185" }
      ])
      expect(response.usage).toEqual(usage(69, 53))
    })
  )

  it.effect("redacted-thinking-raw.sse: two redacted blocks kept opaque, then text", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const { parts, response } = yield* replay(wire, "redacted-thinking-raw.sse")
      const redacted = parts.flatMap((p) => (p.type === "reasoning-redacted" ? [p.data] : []))
      expect(redacted).toHaveLength(2)
      expect(redacted[0]?.startsWith("EqkECkYIBxgCKkA8AZ4noDfV5VcOJe")).toBe(true)
      expect(redacted[1]).toBe(
        "EtgBCkYIBxgCKkDQfGkwzflEJP5asG3oQfJXcTwJLoRznn8CmuczWCsJ36dv93X9H0NCeaJRbi5BrCA2DyMgFnRKRuzZx8VTv5axEgwkFmcHJk8BSiZMZRQaDDYv2KZPfbFgRa2QjyIwm47f5YYsSK9CT/oh/WWpU1HJJVHr8lrC6HG1ItRdtMvYQYmEGy+KhyfcIACfbssVKkDGv/NKqNMOAcu0bd66gJ2+R1R0PX11Jxn2Nd1JtZqkxx7vMT/PXtHDhm9jkDZ2k/6RjRRFuab/DBV3yRYdZ1J0GAE="
      )
      expect(response.message.content.map((b) => b.type)).toEqual(["redacted_thinking", "redacted_thinking", "text"])
      expect(textOf(parts)).toMatch(/^I notice that you've sent what appears to be some kind of test string/)
      expect(textOf(parts)).toMatch(/a legitimate task or question\?$/)
      expect(response.usage).toEqual(usage(92, 189))
      expect(response.stopReason).toBe("end_turn")
    })
  )

  it.effect("refusal-stop-reason.sse: no content, stop reason refusal", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const { parts, response } = yield* replay(wire, "refusal-stop-reason.sse")
      expect(parts).toEqual([
        { type: "metadata", responseId: "msg_011Cef1BfCEZn512shRMGG4q", model: "claude-fable-5-1" },
        { type: "usage", usage: usage(97, 0) },
        { type: "usage", usage: usage(97, 0) },
        { type: "finish", stopReason: "refusal", raw: "refusal" }
      ])
      expect(response.stopReason).toBe("refusal")
      expect(response.message.content).toEqual([])
    })
  )

  it.effect("error-overloaded-docs-example.sse: in-stream error => OverloadedError (retryable)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const client = clientFor(wire)
      for (const chunkSize of [undefined, 7]) {
        wire.enqueue({
          kind: "file",
          path: WireServer.fixture("anthropic/error-overloaded-docs-example.sse"),
          ...(chunkSize === undefined ? {} : { chunkSize })
        })
        const error = yield* failure(client)
        expect(error._tag).toBe("OverloadedError")
        expect(error.retryable).toBe(true)
        expect(error.message).toContain("Overloaded")
      }
    })
  )

  it.effect("usage carries cache read and write tokens", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({
        kind: "stream",
        chunks: anthropicEvents({
          inputTokens: 5,
          cacheReadTokens: 1200,
          cacheWriteTokens: 300,
          outputTokens: 7,
          steps: [{ text: ["ok"] }]
        })
      })
      const response = yield* clientFor(wire).generate(hello)
      expect(response.usage).toEqual(usage(5, 7, 1200, 300))
      expect(response.usage.totalTokens).toBe(1512)
    })
  )
})

describe("AnthropicProvider request mapping", () => {
  it.effect("sends model, system, messages, tools, tool_choice, thinking and the auth headers", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "stream", chunks: anthropicEvents({ steps: [{ text: ["done"] }] }) })
      const request: LLMRequest = {
        model: "claude-other",
        system: "You are Sage.",
        maxTokens: 1000,
        temperature: 0.3,
        stopSequences: ["STOP"],
        toolChoice: { type: "required" },
        thinking: { budgetTokens: 2048 },
        tools: [
          {
            name: "read_file",
            description: "Read a file",
            inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] }
          }
        ],
        messages: [
          { role: "system", content: [{ type: "text", text: "Be brief." }] },
          { role: "user", content: [{ type: "text", text: "read a.txt" }] },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "I should read it.", signature: "sig-abc" },
              { type: "redacted_thinking", data: "opaque==" },
              { type: "text", text: "Reading." },
              { type: "tool_use", id: "toolu_1", name: "read_file", input: { path: "a.txt" } }
            ]
          },
          {
            role: "tool",
            content: [
              { type: "tool_result", toolUseId: "toolu_1", content: [{ type: "text", text: "hello" }], isError: false }
            ]
          },
          { role: "user", content: [{ type: "text", text: "and now?" }] }
        ]
      }
      yield* clientFor(wire).generate(request)
      expect(wire.requests).toHaveLength(1)
      const sent = wire.requests[0]!
      expect(sent.method).toBe("POST")
      expect(sent.path).toBe("/v1/messages")
      // SDK 1.x sends the API key as a bearer token (0.x used x-api-key)
      expect(sent.headers.authorization).toBe(`Bearer ${KEY}`)
      // whatever API version the installed SDK pins, it is sent
      expect(sent.headers["anthropic-version"]).toMatch(/^\d{4}-\d{2}-\d{2}$/)
      expect(sent.headers["x-stainless-retry-count"] ?? "0").toBe("0")
      expect(sent.body).toEqual({
        model: "claude-other",
        // max_tokens must exceed the thinking budget; temperature is not allowed with thinking
        max_tokens: 3048,
        stream: true,
        // prompt caching: breakpoints on the system prompt, the last tool and the latest message
        system: [{ type: "text", text: "You are Sage.\n\nBe brief.", cache_control: { type: "ephemeral" } }],
        stop_sequences: ["STOP"],
        tool_choice: { type: "any" },
        thinking: { type: "enabled", budget_tokens: 2048 },
        tools: [
          {
            name: "read_file",
            description: "Read a file",
            input_schema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
            cache_control: { type: "ephemeral" }
          }
        ],
        messages: [
          { role: "user", content: [{ type: "text", text: "read a.txt" }] },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "I should read it.", signature: "sig-abc" },
              { type: "redacted_thinking", data: "opaque==" },
              { type: "text", text: "Reading." },
              { type: "tool_use", id: "toolu_1", name: "read_file", input: { path: "a.txt" } }
            ]
          },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "hello" }] },
              { type: "text", text: "and now?", cache_control: { type: "ephemeral" } }
            ]
          }
        ]
      })
    })
  )

  it.effect("uses the client's model and max tokens, sends temperature without thinking, tool_choice tool", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "stream", chunks: anthropicEvents({ steps: [{ text: ["a"] }] }) })
      yield* clientFor(wire, { maxTokens: 321 }).generate({
        ...hello,
        temperature: 0.5,
        toolChoice: { type: "tool", name: "grep" },
        tools: [{ name: "grep", description: "Search", inputSchema: { properties: {} } }]
      })
      expect(wire.requests[0]!.body).toMatchObject({
        model: "claude-test",
        max_tokens: 321,
        temperature: 0.5,
        tool_choice: { type: "tool", name: "grep" },
        tools: [{ name: "grep", description: "Search", input_schema: { type: "object", properties: {} } }]
      })
    })
  )

  it.effect("a failed tool result with an image is sent with is_error and an image block", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "stream", chunks: anthropicEvents({ steps: [{ text: ["a"] }] }) })
      yield* clientFor(wire).generate({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "look" },
              { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBOR" } }
            ]
          },
          { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "shot", input: {} }] },
          {
            role: "tool",
            content: [
              {
                type: "tool_result",
                toolUseId: "t1",
                isError: true,
                content: [
                  { type: "text", text: "failed" },
                  { type: "image", source: { type: "url", url: "https://example.test/x.png" } }
                ]
              }
            ]
          }
        ]
      })
      expect(wire.requests[0]!.body).toMatchObject({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "look" },
              { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBOR" } }
            ]
          },
          { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "shot", input: {} }] },
          {
            role: "user",
            content: [
              {
                type: "tool_result",
                tool_use_id: "t1",
                is_error: true,
                content: [
                  { type: "text", text: "failed" },
                  { type: "image", source: { type: "url", url: "https://example.test/x.png" } }
                ]
              }
            ]
          }
        ]
      })
    })
  )

  it.effect("a thinking response round-trips: what was streamed is sent back unchanged", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const client = clientFor(wire)
      wire.enqueue({ kind: "file", path: WireServer.fixture("anthropic/thinking-signature.sse") })
      const first = yield* client.generate(hello)
      wire.enqueue({ kind: "file", path: WireServer.fixture("anthropic/redacted-thinking-raw.sse") })
      const second = yield* client.generate({ messages: [...hello.messages, first.message, ...hello.messages] })
      wire.enqueue({ kind: "stream", chunks: anthropicEvents({ steps: [{ text: ["ok"] }] }) })
      yield* client.generate({ messages: [...hello.messages, second.message, ...hello.messages] })
      const body1 = wire.requests[1]!.body as { messages: Array<{ content: Array<Record<string, unknown>> }> }
      const thinking = body1.messages[1]!.content[0]!
      expect(thinking.type).toBe("thinking")
      expect(thinking.thinking).toBe("The previous result was 925. Now I need to divide that by 5.\n\n925 ÷ 5 = 185")
      expect(String(thinking.signature)).toMatch(/^EvQBCkYICxgCKkAxhD4N.*K\/oPr\/4yzNgvi\/EhT6Ca17BgB$/)
      const body2 = wire.requests[2]!.body as { messages: Array<{ content: Array<Record<string, unknown>> }> }
      expect(body2.messages[1]!.content.map((b) => b.type)).toEqual(["redacted_thinking", "redacted_thinking", "text"])
      expect(String(body2.messages[1]!.content[1]!.data)).toMatch(/^EtgBCkYIBxgCKkDQfGkw.*dZ1J0GAE=$/)
    })
  )
})

describe("AnthropicProvider errors", () => {
  it.effect("401 => AuthenticationError naming ANTHROPIC_API_KEY, never the key", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({
        kind: "error",
        status: 401,
        body: anthropicErrorBody("authentication_error", "invalid x-api-key"),
        headers: { "request-id": "req_401" }
      })
      const error = yield* failure(clientFor(wire))
      expect(error._tag).toBe("AuthenticationError")
      expect(error.message).toContain("ANTHROPIC_API_KEY")
      expect(error.message).toContain("invalid x-api-key")
      expect(error.message).not.toContain(KEY)
      expect(error.status).toBe(401)
      expect(error.requestId).toBe("req_401")
      expect(error.retryable).toBe(false)
    })
  )

  it.effect("404 => ModelNotFoundError naming the requested model", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "error", status: 404, body: anthropicErrorBody("not_found_error", "model: claude-nope") })
      const error = yield* failure(clientFor(wire), { ...hello, model: "claude-nope" })
      expect(error._tag).toBe("ModelNotFoundError")
      expect(error._tag === "ModelNotFoundError" && error.model).toBe("claude-nope")
      expect(error.message).toContain("claude-nope")
    })
  )

  it.effect("400 prompt is too long => ContextLengthExceededError; other 400 => InvalidRequestError; 403", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const client = clientFor(wire)
      wire.enqueue({
        kind: "error",
        status: 400,
        body: anthropicErrorBody("invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum")
      })
      expect((yield* failure(client))._tag).toBe("ContextLengthExceededError")
      wire.enqueue({ kind: "error", status: 400, body: anthropicErrorBody("invalid_request_error", "bad tool") })
      const invalid = yield* failure(client)
      expect(invalid._tag).toBe("InvalidRequestError")
      expect(invalid.message).toContain("bad tool")
      wire.enqueue({ kind: "error", status: 403, body: anthropicErrorBody("permission_error", "no access") })
      expect((yield* failure(client))._tag).toBe("ProviderPermissionError")
    })
  )

  it.effect("429 / 529 / 500 map to retryable errors with retry-after", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const client = clientFor(wire)
      wire.enqueue({
        kind: "error",
        status: 429,
        body: anthropicErrorBody("rate_limit_error", "slow down"),
        headers: { "retry-after": "2" }
      })
      const limited = yield* failure(client)
      expect(limited._tag).toBe("RateLimitedError")
      expect(limited._tag === "RateLimitedError" && limited.retryAfterMs).toBe(2000)
      wire.enqueue({ kind: "error", status: 529, body: anthropicErrorBody("overloaded_error", "Overloaded") })
      expect((yield* failure(client))._tag).toBe("OverloadedError")
      wire.enqueue({
        kind: "error",
        status: 500,
        body: anthropicErrorBody("api_error", "boom"),
        headers: { "retry-after-ms": "1500" }
      })
      const server = yield* failure(client)
      expect(server._tag).toBe("ServerError")
      expect(server._tag === "ServerError" && server.retryAfterMs).toBe(1500)
    })
  )

  it.effect("connection refused => ConnectionError", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(
        () =>
          new Promise<number>((resolve) => {
            const server = createServer()
            server.listen(0, "127.0.0.1", () => {
              const address = server.address()
              const p = typeof address === "object" && address !== null ? address.port : 0
              server.close(() => resolve(p))
            })
          })
      )
      const client = Anthropic.make({ apiKey: Redacted.make(KEY), baseURL: `http://127.0.0.1:${port}` })
      const error = yield* failure(client)
      expect(error._tag).toBe("ConnectionError")
      expect(error.retryable).toBe(true)
      expect(error.message).toContain(`127.0.0.1:${port}`)
    })
  )

  it.live("no response headers within `timeout` => ConnectionError with timeout", () =>
    Effect.gen(function* () {
      // a server that accepts the connection and never answers
      const sockets = new Set<import("node:net").Socket>()
      const server = yield* Effect.acquireRelease(
        Effect.callback<ReturnType<typeof createServer>>((resume) => {
          const s = createServer((socket) => {
            sockets.add(socket)
          })
          s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
        }),
        (s) =>
          Effect.callback<void>((resume) => {
            for (const socket of sockets) socket.destroy()
            s.close(() => resume(Effect.void))
          })
      )
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const client = Anthropic.make({
        apiKey: Redacted.make(KEY),
        baseURL: `http://127.0.0.1:${port}`,
        timeout: "200 millis"
      })
      const error = yield* failure(client)
      expect(error._tag).toBe("ConnectionError")
      expect(error._tag === "ConnectionError" && error.timeout).toBe(true)
      expect(error.message).toContain("timed out")
    })
  )

  it.effect("a data line that is not JSON => ResponseDecodeError; a garbage line and unknown events are skipped", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const client = clientFor(wire)
      wire.enqueue({
        kind: "stream",
        chunks: anthropicEvents({
          steps: [
            { raw: "this line has no colon and is ignored\n\n" },
            { raw: sseEvent("future_event", { type: "future_event", detail: 1 }) },
            { raw: ": an SSE comment\n\n" },
            { text: ["still ", "fine"] }
          ]
        })
      })
      const parts = yield* collect(client)
      expect(textOf(parts)).toBe("still fine")
      expect(parts.at(-1)).toEqual({ type: "finish", stopReason: "end_turn", raw: "end_turn" })

      wire.enqueue({
        kind: "stream",
        chunks: anthropicEvents({
          steps: [{ text: ["a"] }, { raw: "event: content_block_delta\ndata: {not json\n\n" }]
        })
      })
      const error = yield* failure(client)
      expect(error._tag).toBe("ResponseDecodeError")
      expect(error.message).toContain("not JSON")
      expect(error.retryable).toBe(false)
    })
  )

  it.effect("invalid JSON tool arguments => tool-call-complete with parseError, stream goes on", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({
        kind: "stream",
        chunks: anthropicEvents({
          stopReason: "tool_use",
          steps: [{ tool: { id: "t1", name: "edit", json: ['{"path": "a', '.txt", '] } }, { text: ["after"] }]
        })
      })
      const response = yield* clientFor(wire).generate(hello)
      expect(response.toolCalls).toHaveLength(1)
      expect(response.toolCalls[0]!.input).toEqual({})
      expect(response.toolCalls[0]!.parseError).toMatch(/not valid JSON/)
      expect(response.stopReason).toBe("tool_use")
    })
  )

  it.effect("the connection cut mid-stream => ConnectionError after the parts that arrived", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "cut", chunks: anthropicEvents({ steps: [{ text: ["par", "tial"] }], noEnd: true }) })
      const seen: Array<StreamPart> = []
      const error = yield* clientFor(wire)
        .stream(hello)
        .pipe(
          Stream.runForEach((part) => Effect.sync(() => seen.push(part))),
          Effect.flip
        )
      expect(error._tag).toBe("ConnectionError")
      expect(textOf(seen)).toBe("partial")
    })
  )

  it.effect("a body that ends without a stop reason => ConnectionError 'ended early'", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "stream", chunks: anthropicEvents({ steps: [{ text: ["x"] }], noEnd: true }) })
      const error = yield* failure(clientFor(wire))
      expect(error._tag).toBe("ConnectionError")
      expect(error.message).toContain("ended early")
    })
  )

  it.effect("an in-stream api_error after content => ServerError", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({
        kind: "stream",
        headers: { "request-id": "req_stream" },
        chunks: anthropicEvents({
          steps: [{ text: ["x"] }, { error: { type: "api_error", message: "oops" } }],
          noEnd: true
        })
      })
      const error = yield* failure(clientFor(wire))
      expect(error._tag).toBe("ServerError")
      expect(error.requestId).toBe("req_stream")
    })
  )
})

describe("AnthropicProvider cancellation", () => {
  it.live("interrupting the consumer aborts the HTTP request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({
        kind: "hang",
        chunks: anthropicEvents({ steps: [{ text: ["first"] }], noEnd: true })
      })
      const firstText = yield* Deferred.make<void>()
      const fiber = yield* clientFor(wire)
        .stream(hello)
        .pipe(
          Stream.runForEach((part) =>
            part.type === "text-delta" ? Deferred.succeed(firstText, undefined) : Effect.void
          ),
          Effect.forkChild
        )
      yield* Deferred.await(firstText)
      const aborted = wire.nextClientAbort()
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => aborted)
      expect(wire.clientAborts()).toBe(1)
    })
  )

  it.live("taking only the first parts also closes the connection", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "hang", chunks: anthropicEvents({ steps: [{ text: ["a", "b"] }], noEnd: true }) })
      const aborted = wire.nextClientAbort()
      const parts = yield* clientFor(wire).stream(hello).pipe(Stream.take(2), Stream.runCollect)
      expect(parts).toHaveLength(2)
      yield* Effect.promise(() => aborted)
      expect(wire.clientAborts()).toBe(1)
    })
  )
})

describe("AnthropicProvider layers", () => {
  const configLayer = (entries: ReadonlyArray<readonly [string, string]>) =>
    ConfigProvider.layer(ConfigProvider.fromEnvRecord(Object.fromEntries(entries)))

  it.effect("layerConfig reads ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL from Config", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "stream", chunks: anthropicEvents({ steps: [{ text: ["from config"] }] }) })
      const response = yield* Effect.flatMap(LLMClient, (client) => client.generate(hello)).pipe(
        Effect.provide(
          Anthropic.layerConfig({ model: "claude-cfg" }).pipe(
            Layer.provide(
              configLayer([
                ["ANTHROPIC_API_KEY", "sk-from-config"],
                ["ANTHROPIC_BASE_URL", wire.url]
              ])
            )
          )
        )
      )
      expect(response.message.content).toEqual([{ type: "text", text: "from config" }])
      expect(wire.requests[0]!.headers.authorization).toBe("Bearer sk-from-config")
      expect(wire.requests[0]!.body).toMatchObject({ model: "claude-cfg" })
    })
  )

  it.effect("layerConfig without a key fails with ConfigError saying to set ANTHROPIC_API_KEY", () =>
    Effect.gen(function* () {
      for (const entries of [[], [["ANTHROPIC_API_KEY", "  "]]] as const) {
        const result = yield* Effect.result(
          Layer.build(Anthropic.layerConfig().pipe(Layer.provide(configLayer(entries)))).pipe(Effect.scoped)
        )
        expect(Result.isFailure(result)).toBe(true)
        if (Result.isFailure(result)) {
          expect(result.failure._tag).toBe("ConfigError")
          expect(result.failure.message).toContain("set ANTHROPIC_API_KEY")
          expect(result.failure.source).toBe("ANTHROPIC_API_KEY")
        }
      }
    })
  )

  it.effect("layerConfig takes an apiKey override without the variable", () =>
    Effect.gen(function* () {
      const options = yield* Anthropic.optionsFromConfig({ apiKey: Redacted.make("sk-override") }).pipe(
        Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord({}))
      )
      expect(Redacted.value(options.apiKey)).toBe("sk-override")
      expect(options.baseURL).toBeUndefined()
    })
  )

  it("AnthropicProvider describes the provider", () => {
    expect(Anthropic.AnthropicProvider.id).toBe("anthropic")
    expect(Anthropic.AnthropicProvider.defaultModel).toBe(Anthropic.DEFAULT_MODEL)
    const client = Anthropic.make({ apiKey: Redacted.make(KEY) })
    expect(client.provider).toBe("anthropic")
    expect(client.model).toBe(Anthropic.DEFAULT_MODEL)
    expect(client.capabilities.tools).toBe(true)
  })
})
