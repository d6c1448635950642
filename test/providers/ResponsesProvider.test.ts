/**
 * The OpenAI Responses provider through the real `openai` SDK against WireServer: every recorded stream in
 * test/fixtures/providers/openai-responses/ replayed (whole and in 7-character pieces), scripted reasoning and function
 * calls, the request body (a two-step tool conversation sending the encrypted reasoning back), errors, retries, abort.
 */
import { readdirSync } from "node:fs"
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
  type LLMError,
  OverloadedError,
  ProviderPermissionError,
  RateLimitedError,
  ServerError
} from "../../src/errors/LLMError.js"
import {
  layer,
  layerConfig,
  make,
  ResponsesProvider,
  type ResponsesOptions
} from "../../src/providers/openai-responses/ResponsesProvider.js"
import { LLMClient } from "../../src/services/LLMClient.js"
import type { Message } from "../../src/streams/Message.js"
import { applyPart, emptyResponse, type LLMResponse, toResponse } from "../../src/streams/Response.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"
import { Usage } from "../../src/streams/Usage.js"
import {
  errorEventFrames,
  failedFrames,
  failure,
  frame,
  responseFrames,
  stream,
  wire as responsesWire
} from "../support/wire/openai-responses.js"
import { collectParts, collectUntilFailure, hi, realSleep, textOf } from "../support/providers.js"
import * as WireServer from "../support/WireServer.js"

const apiKey = Redacted.make("sk-test-123")

const setup = (options: Partial<ResponsesOptions> = {}) =>
  Effect.map(WireServer.make, (wire) => ({ wire, client: make({ apiKey, baseURL: wire.url, ...options }) }))

const collect = collectParts

const fold = (parts: ReadonlyArray<StreamPart>): LLMResponse => toResponse(parts.reduce(applyPart, emptyResponse))
const reasoningOf = (parts: ReadonlyArray<StreamPart>) =>
  parts.flatMap((p) => (p.type === "reasoning-delta" ? [p.text] : [])).join("")
/** Parts other than text / reasoning / argument deltas. */
const skeleton = (parts: ReadonlyArray<StreamPart>) =>
  parts.filter((p) => p.type !== "text-delta" && p.type !== "reasoning-delta" && p.type !== "tool-call-delta")

const usage = (inputTokens: number, outputTokens: number, reasoningTokens = 0, cacheReadTokens = 0) =>
  new Usage({ inputTokens, outputTokens, reasoningTokens, cacheReadTokens })

// ---------------------------------------------------------------------------------------------------------------
// Recorded fixtures
// ---------------------------------------------------------------------------------------------------------------

const DIR = "openai-responses"

/** The `encrypted_content` of the `response.output_item.done` event of a fixture's reasoning item. */
const encryptedOf = (file: string): string => {
  const line = WireServer.readFixture(`${DIR}/${file}`)
    .split("\n")
    .find((l) => l.includes('"type":"response.output_item.done"') && l.includes('"type":"reasoning"'))
  const parsed: unknown = JSON.parse((line ?? "").replace(/^data: /, ""))
  const item = typeof parsed === "object" && parsed !== null && "item" in parsed ? parsed.item : undefined
  const encrypted =
    typeof item === "object" && item !== null && "encrypted_content" in item ? item.encrypted_content : undefined
  if (typeof encrypted !== "string") throw new Error(`no encrypted reasoning in ${file}`)
  return encrypted
}

type Mode = "whole" | "chunked"

const replay = (file: string, mode: Mode) =>
  Effect.gen(function* () {
    const wire = yield* WireServer.make
    wire.enqueue(
      mode === "whole"
        ? { kind: "file", path: WireServer.fixture(`${DIR}/${file}`) }
        : { kind: "stream", chunks: WireServer.splitEvery(WireServer.readFixture(`${DIR}/${file}`), 7) }
    )
    const client = make({ apiKey, baseURL: wire.url, model: "gpt-5" })
    const parts: Array<StreamPart> = []
    const exit = yield* Effect.result(Stream.runForEach(client.stream(hi), (p) => Effect.sync(() => parts.push(p))))
    expect(wire.requests).toHaveLength(1)
    expect(wire.requests[0]?.path).toBe("/responses")
    return { parts, exit }
  })

const expectations: Record<string, (parts: ReadonlyArray<StreamPart>, error: LLMError | undefined) => void> = {
  "text.sse": (parts, error) => {
    expect(error).toBeUndefined()
    expect(parts.filter((p) => p.type === "text-delta").map((p) => (p.type === "text-delta" ? p.text : ""))).toEqual([
      "The",
      " capital",
      " of",
      " France",
      " is",
      " Paris",
      "."
    ])
    expect(skeleton(parts)).toEqual([
      {
        type: "metadata",
        responseId: "resp_67e554a21aa88191b65876ac5e5bbe0406c52f0e511c76ed",
        model: "gpt-4o-2024-08-06"
      },
      { type: "usage", usage: usage(278, 9) },
      { type: "finish", stopReason: "end_turn", raw: "completed" }
    ])
  },
  "function-call.sse": (parts, error) => {
    expect(error).toBeUndefined()
    const id = "call_kL0PCQV7M2WMoVX8V8OtYSAL"
    expect(skeleton(parts)).toEqual([
      {
        type: "metadata",
        responseId: "resp_67e554a155508191900ee113293c4c830794405d35281ae2",
        model: "gpt-4o-2024-08-06"
      },
      { type: "tool-call-start", id, name: "get_capital", index: 0 },
      { type: "tool-call-complete", id, name: "get_capital", input: { country: "France" } },
      { type: "usage", usage: usage(255, 16) },
      { type: "finish", stopReason: "tool_use", raw: "completed" }
    ])
    expect(parts.flatMap((p) => (p.type === "tool-call-delta" ? [p.argumentsDelta] : []))).toEqual([
      '{"',
      "country",
      '":"',
      "France",
      '"}'
    ])
    expect(fold(parts).toolCalls).toEqual([{ id, name: "get_capital", input: { country: "France" } }])
  },
  "reasoning-summary.sse": (parts, error) => {
    expect(error).toBeUndefined()
    const reasoning = reasoningOf(parts)
    expect(reasoning.startsWith("**Providing street crossing instructions**\n\nThe user is asking")).toBe(true)
    // Four summary parts, joined by blank lines.
    expect(reasoning).toContain("crossing the street.\n\n**Explaining street crossing safety**")
    expect(reasoning.endsWith("It will be clear and easy to understand!")).toBe(true)
    expect(textOf(parts).startsWith("I'm not a road safety professional")).toBe(true)
    expect(textOf(parts).endsWith("Stay safe!")).toBe(true)
    const id = "rs_68c42d1d0878819d8266007cd3d1402c08fbf9b1584184ff"
    const skel = skeleton(parts)
    expect(skel.map((p) => p.type)).toEqual(["metadata", "reasoning-item", "usage", "finish"])
    const item = skel[1]
    expect(item).toMatchObject({ type: "reasoning-item", id, encryptedContent: encryptedOf("reasoning-summary.sse") })
    expect(item?.type === "reasoning-item" ? item.summary.length : 0).toBe(4)
    expect(item?.type === "reasoning-item" ? item.summary.join("\n\n") : "").toBe(reasoning)
    expect(skel[2]).toEqual({ type: "usage", usage: usage(13, 1680, 1408) })
    expect(skel[3]).toEqual({ type: "finish", stopReason: "end_turn", raw: "completed" })
    // The folded message: one thinking block closed by the item, then the text.
    const message = fold(parts).message
    expect(message.content.map((b) => b.type)).toEqual(["thinking", "text"])
    const thinking = message.content[0]
    expect(thinking?.type === "thinking" && thinking.openaiReasoning?.id).toBe(id)
    expect(thinking?.type === "thinking" && thinking.signature).toBeUndefined()
    expect(thinking?.type === "thinking" && thinking.thinking).toBe(reasoning)
  },
  "reasoning-text-then-function-call.sse": (parts, error) => {
    expect(error).toBeUndefined()
    expect(reasoningOf(parts)).toBe("")
    expect(textOf(parts)).toBe("I’ll check the capital lookup tool for “PotatoLand.”")
    const id = "call_LabG58Uhrq9kZvR52BYKjToD"
    const skel = skeleton(parts)
    expect(skel.slice(0, 4)).toEqual([
      {
        type: "metadata",
        responseId: "resp_0fabc13af1ee0049006a691dfdab8881a1a75f2db7ff78cb83",
        model: "gpt-5.5-2026-04-23"
      },
      {
        type: "reasoning-item",
        id: "rs_0fabc13af1ee0049006a691dfe60b081a1baa444d3cf19afba",
        encryptedContent: encryptedOf("reasoning-text-then-function-call.sse"),
        summary: []
      },
      { type: "tool-call-start", id, name: "get_capital", index: 0 },
      { type: "tool-call-complete", id, name: "get_capital", input: { country: "PotatoLand" } }
    ])
    expect(skel.slice(4).map((p) => p.type)).toEqual(["usage", "finish"])
    expect(skel[5]).toEqual({ type: "finish", stopReason: "tool_use", raw: "completed" })
    const message = fold(parts).message
    expect(message.content.map((b) => b.type)).toEqual(["thinking", "text", "tool_use"])
    const thinking = message.content[0]
    expect(thinking).toEqual({
      type: "thinking",
      thinking: "",
      openaiReasoning: {
        id: "rs_0fabc13af1ee0049006a691dfe60b081a1baa444d3cf19afba",
        encryptedContent: encryptedOf("reasoning-text-then-function-call.sse"),
        summary: []
      }
    })
  },
  "error-insufficient-quota.sse": (parts, error) => {
    expect(skeleton(parts)).toEqual([
      {
        type: "metadata",
        responseId: "resp_05500b38c2cd9bfc00691c7c9d222481a3b595421266dab424",
        model: "gpt-5-nano-2025-08-07"
      }
    ])
    expect(error).toBeInstanceOf(ProviderPermissionError)
    expect(error?.retryable).toBe(false)
    expect(error?.message).toContain("no quota left")
    expect(error?.message).toContain("You exceeded your current quota")
  }
}

describe("ResponsesProvider recorded streams", () => {
  const files = readdirSync(new URL(`../fixtures/providers/${DIR}/`, import.meta.url)).filter((f) => f.endsWith(".sse"))

  it("every recorded fixture has an expectation", () => {
    expect(files.sort()).toEqual(Object.keys(expectations).sort())
  })

  for (const file of files) {
    for (const mode of ["whole", "chunked"] as const) {
      it.effect(`${file} (${mode})`, () =>
        Effect.gen(function* () {
          const { parts, exit } = yield* replay(file, mode)
          const error = exit._tag === "Failure" ? exit.failure : undefined
          const check = expectations[file]
          if (check === undefined) throw new Error(`no expectation for ${file}`)
          check(parts, error)
        })
      )
    }
  }
})

// ---------------------------------------------------------------------------------------------------------------
// Scripted streams
// ---------------------------------------------------------------------------------------------------------------

describe("ResponsesProvider scripted streams", () => {
  it.effect("reasoning summary parts, encrypted reasoning, text, and parallel function calls", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue(
        stream(
          responseFrames({
            id: "resp_1",
            model: "gpt-5-2025",
            items: [
              { reasoning: { id: "rs_1", summary: [["Plan", "ning"], ["Check"]], encrypted: "ENC1" } },
              { text: ["Looking ", "up."] },
              { call: { id: "fc_a", callId: "call_a", name: "read", args: ['{"path":', '"a.txt"}'] } },
              { call: { id: "fc_b", callId: "call_b", name: "read", args: ["{}"] } }
            ],
            usage: { input: 120, output: 40, cached: 100, reasoning: 25 }
          })
        )
      )
      const parts = yield* collect(client)
      expect(parts).toEqual([
        { type: "metadata", responseId: "resp_1", model: "gpt-5-2025" },
        { type: "reasoning-delta", text: "Plan" },
        { type: "reasoning-delta", text: "ning" },
        { type: "reasoning-delta", text: "\n\nCheck" },
        { type: "reasoning-item", id: "rs_1", encryptedContent: "ENC1", summary: ["Planning", "Check"] },
        { type: "text-delta", text: "Looking " },
        { type: "text-delta", text: "up." },
        { type: "tool-call-start", id: "call_a", name: "read", index: 0 },
        { type: "tool-call-delta", id: "call_a", argumentsDelta: '{"path":' },
        { type: "tool-call-delta", id: "call_a", argumentsDelta: '"a.txt"}' },
        { type: "tool-call-complete", id: "call_a", name: "read", input: { path: "a.txt" } },
        { type: "tool-call-start", id: "call_b", name: "read", index: 1 },
        { type: "tool-call-delta", id: "call_b", argumentsDelta: "{}" },
        { type: "tool-call-complete", id: "call_b", name: "read", input: {} },
        { type: "usage", usage: usage(20, 40, 25, 100) },
        { type: "finish", stopReason: "tool_use", raw: "completed" }
      ])
      expect(fold(parts).message.content).toEqual([
        {
          type: "thinking",
          thinking: "Planning\n\nCheck",
          openaiReasoning: { id: "rs_1", encryptedContent: "ENC1", summary: ["Planning", "Check"] }
        },
        { type: "text", text: "Looking up." },
        { type: "tool_use", id: "call_a", name: "read", input: { path: "a.txt" } },
        { type: "tool_use", id: "call_b", name: "read", input: {} }
      ])
    })
  )

  it.effect("two reasoning items stay two thinking blocks; bad arguments become a parseError", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue(
        stream(
          responseFrames({
            items: [
              { reasoning: { id: "rs_1", summary: [["one"]], encrypted: "E1" } },
              { call: { id: "fc_1", callId: "call_1", name: "t", args: ["{bad"] } },
              { reasoning: { id: "rs_2", summary: [["two"]], encrypted: "E2" } },
              { text: ["done"] }
            ]
          })
        )
      )
      const response = fold(yield* collect(client))
      expect(response.message.content.map((b) => (b.type === "thinking" ? b.thinking : b.type))).toEqual([
        "one",
        "tool_use",
        "two",
        "text"
      ])
      expect(response.toolCalls[0]?.parseError).toContain("not valid JSON")
    })
  )

  it.effect("incomplete responses: max_output_tokens -> max_tokens, content_filter; refusal", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue(
        stream(responseFrames({ items: [{ text: ["cut"] }], incomplete: "max_output_tokens" })),
        stream(responseFrames({ items: [{ text: ["x"] }], incomplete: "content_filter" })),
        stream(responseFrames({ items: [{ refusal: ["I can't ", "help."] }] }))
      )
      const first = yield* collect(client)
      expect(first.at(-1)).toEqual({ type: "finish", stopReason: "max_tokens", raw: "max_output_tokens" })
      expect(first.some((p) => p.type === "usage")).toBe(true)
      const second = yield* collect(client)
      expect(second.at(-1)).toEqual({ type: "finish", stopReason: "content_filter", raw: "content_filter" })
      const third = yield* collect(client)
      expect(textOf(third)).toBe("I can't help.")
      expect(third.at(-1)).toEqual({ type: "finish", stopReason: "refusal", raw: "completed" })
    })
  )

  it.effect("items that arrive whole (no deltas) still stream their reasoning, text and call", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue(
        stream([
          frame({ type: "response.created", response: { id: "resp_w", model: "m", status: "in_progress" } }),
          frame({
            type: "response.output_item.done",
            output_index: 0,
            item: {
              id: "rs_w",
              type: "reasoning",
              summary: [
                { type: "summary_text", text: "A" },
                { type: "summary_text", text: "B" }
              ],
              encrypted_content: "EW"
            }
          }),
          frame({
            type: "response.output_item.done",
            output_index: 1,
            item: { id: "msg_w", type: "message", role: "assistant", content: [{ type: "output_text", text: "Hi" }] }
          }),
          frame({
            type: "response.output_item.done",
            output_index: 2,
            item: { id: "fc_w", type: "function_call", call_id: "call_w", name: "t", arguments: '{"x":1}' }
          }),
          frame({ type: "response.completed", response: { id: "resp_w", status: "completed" } })
        ])
      )
      expect(yield* collect(client)).toEqual([
        { type: "metadata", responseId: "resp_w", model: "m" },
        { type: "reasoning-delta", text: "A\n\nB" },
        { type: "reasoning-item", id: "rs_w", encryptedContent: "EW", summary: ["A", "B"] },
        { type: "text-delta", text: "Hi" },
        { type: "tool-call-start", id: "call_w", name: "t", index: 0 },
        { type: "tool-call-delta", id: "call_w", argumentsDelta: '{"x":1}' },
        { type: "tool-call-complete", id: "call_w", name: "t", input: { x: 1 } },
        { type: "finish", stopReason: "tool_use", raw: "completed" }
      ])
    })
  )

  it.effect("a body that ends without a terminal event is a retryable ConnectionError", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue(stream(responseFrames({ items: [{ text: ["partial"] }], truncate: true })))
      const { parts, error } = yield* collectUntilFailure(client)
      expect(textOf(parts)).toBe("partial")
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.retryable).toBe(true)
    })
  )
})

// ---------------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------------

describe("ResponsesProvider requests", () => {
  it.effect("REQUEST DUMP: a two-step tool conversation sends the encrypted reasoning back exactly", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup({ model: "gpt-5" })
      const tools = [
        {
          name: "read_file",
          description: "Read a file",
          inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] }
        }
      ]
      wire.enqueue(
        stream(
          responseFrames({
            items: [
              { reasoning: { id: "rs_step1", summary: [["Need ", "the file"]], encrypted: "gAAAA-step1==" } },
              { text: ["Reading it."] },
              { call: { id: "fc_1", callId: "call_1", name: "read_file", args: ['{"path":"a.txt"}'] } }
            ]
          })
        ),
        stream(responseFrames({ items: [{ text: ["It says hello."] }] }))
      )
      const user: Message = { role: "user", content: [{ type: "text", text: "What is in a.txt?" }] }
      const first = fold(
        yield* collect(client, {
          system: "You are Sage.",
          messages: [user],
          tools,
          reasoningEffort: "high",
          maxTokens: 2000
        })
      )
      const toolResult: Message = {
        role: "tool",
        content: [
          { type: "tool_result", toolUseId: "call_1", content: [{ type: "text", text: "hello" }], isError: false }
        ]
      }
      yield* collect(client, {
        system: "You are Sage.",
        messages: [user, first.message, toolResult],
        tools,
        reasoningEffort: "high",
        maxTokens: 2000
      })
      expect(wire.requests).toHaveLength(2)
      const common = {
        model: "gpt-5",
        stream: true,
        store: false,
        instructions: "You are Sage.",
        tools: [
          {
            type: "function",
            name: "read_file",
            description: "Read a file",
            parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
            strict: false
          }
        ],
        max_output_tokens: 2000,
        reasoning: { effort: "high", summary: "auto" },
        include: ["reasoning.encrypted_content"]
      }
      expect(wire.requests[0]?.body).toEqual({ ...common, input: [{ role: "user", content: "What is in a.txt?" }] })
      expect(wire.requests[1]?.body).toEqual({
        ...common,
        input: [
          { role: "user", content: "What is in a.txt?" },
          {
            type: "reasoning",
            id: "rs_step1",
            summary: [{ type: "summary_text", text: "Need the file" }],
            encrypted_content: "gAAAA-step1=="
          },
          { role: "assistant", content: "Reading it." },
          { type: "function_call", call_id: "call_1", name: "read_file", arguments: '{"path":"a.txt"}' },
          { type: "function_call_output", call_id: "call_1", output: "hello" }
        ]
      })
      expect(wire.requests[1]?.headers.authorization).toBe("Bearer sk-test-123")
    })
  )

  it.effect("the recorded encrypted reasoning goes back byte for byte", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue(
        { kind: "file", path: WireServer.fixture(`${DIR}/reasoning-text-then-function-call.sse`) },
        stream(responseFrames({ items: [{ text: ["ok"] }] }))
      )
      const first = fold(yield* collect(client))
      const result: Message = {
        role: "tool",
        content: [
          {
            type: "tool_result",
            toolUseId: "call_LabG58Uhrq9kZvR52BYKjToD",
            content: [{ type: "text", text: "unknown country" }],
            isError: true
          }
        ]
      }
      yield* collect(client, { messages: [...hi.messages, first.message, result] })
      const body = wire.requests[1]?.body
      const input = typeof body === "object" && body !== null && "input" in body ? body.input : undefined
      expect(input).toEqual([
        { role: "user", content: "hi" },
        {
          type: "reasoning",
          id: "rs_0fabc13af1ee0049006a691dfe60b081a1baa444d3cf19afba",
          summary: [],
          encrypted_content: encryptedOf("reasoning-text-then-function-call.sse")
        },
        { role: "assistant", content: "I’ll check the capital lookup tool for “PotatoLand.”" },
        {
          type: "function_call",
          call_id: "call_LabG58Uhrq9kZvR52BYKjToD",
          name: "get_capital",
          arguments: '{"country":"PotatoLand"}'
        },
        { type: "function_call_output", call_id: "call_LabG58Uhrq9kZvR52BYKjToD", output: "[error] unknown country" }
      ])
    })
  )

  it.effect("Anthropic reasoning (signed, redacted) is never sent; images in user messages and tool results", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup({ model: "gpt-4o" })
      wire.enqueue(stream(responseFrames({ items: [{ text: ["ok"] }] })))
      yield* collect(client, {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "look" },
              { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBOR" } }
            ]
          },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "plan", signature: "anthropic-sig" },
              { type: "redacted_thinking", data: "anthropic-redacted" },
              // No encrypted content (a stored response): the id alone would fail with store: false.
              { type: "thinking", thinking: "s", openaiReasoning: { id: "rs_stored", summary: ["s"] } },
              { type: "tool_use", id: "call_9", name: "shot", input: {} }
            ]
          },
          {
            role: "tool",
            content: [
              {
                type: "tool_result",
                toolUseId: "call_9",
                content: [
                  { type: "text", text: "screen" },
                  { type: "image", source: { type: "url", url: "https://example.com/s.png" } }
                ],
                isError: false
              }
            ]
          },
          { role: "system", content: [{ type: "text", text: "Be brief." }] },
          // Cut off while reasoning: the item has no output after it and is not sent.
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "", openaiReasoning: { id: "rs_cut", encryptedContent: "E", summary: [] } }
            ]
          },
          { role: "user", content: [{ type: "text", text: "go on" }] }
        ],
        temperature: 0.3,
        stopSequences: ["END"]
      })
      expect(wire.requests[0]?.body).toEqual({
        model: "gpt-4o",
        stream: true,
        store: false,
        temperature: 0.3,
        input: [
          {
            role: "user",
            content: [
              { type: "input_text", text: "look" },
              { type: "input_image", image_url: "data:image/png;base64,iVBOR", detail: "auto" }
            ]
          },
          { type: "function_call", call_id: "call_9", name: "shot", arguments: "{}" },
          {
            type: "function_call_output",
            call_id: "call_9",
            output: [
              { type: "input_text", text: "screen" },
              { type: "input_image", image_url: "https://example.com/s.png", detail: "auto" }
            ]
          },
          { role: "system", content: "Be brief." },
          { role: "user", content: "go on" }
        ]
      })
    })
  )

  it.effect("responseFormat, cacheKey, tool choice and a thinking budget in the request body", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup({ model: "gpt-4.1" })
      wire.enqueue(
        stream(responseFrames({ items: [{ text: ['{"a":1}'] }] })),
        stream(responseFrames({ items: [{ text: ["ok"] }] }))
      )
      const schema = {
        type: "object",
        properties: { a: { type: "number" } },
        required: ["a"],
        additionalProperties: false
      }
      yield* collect(client, {
        ...hi,
        responseFormat: { name: "answer", schema },
        cacheKey: "session-123",
        tools: [{ name: "t", description: "d", inputSchema: { type: "object" } }],
        toolChoice: { type: "tool", name: "t" }
      })
      yield* collect(client, {
        ...hi,
        responseFormat: { name: "loose", schema: { type: "object", properties: { b: { type: "string" } } } },
        thinking: { budgetTokens: 2000 },
        tools: [{ name: "t", description: "d", inputSchema: { type: "object" } }],
        toolChoice: { type: "required" }
      })
      expect(wire.requests[0]?.body).toMatchObject({
        text: { format: { type: "json_schema", name: "answer", schema, strict: true } },
        prompt_cache_key: "session-123",
        tool_choice: { type: "function", name: "t" }
      })
      expect(wire.requests[0]?.body).not.toHaveProperty("include")
      expect(wire.requests[0]?.body).not.toHaveProperty("reasoning")
      expect(wire.requests[1]?.body).toMatchObject({
        text: { format: { type: "json_schema", name: "loose", strict: false } },
        reasoning: { effort: "low", summary: "auto" },
        include: ["reasoning.encrypted_content"],
        tool_choice: "required"
      })
      expect(wire.requests[1]?.body).not.toHaveProperty("prompt_cache_key")
    })
  )

  it("describes the client and the provider", () => {
    const client = make({ apiKey })
    expect(client.provider).toBe("openai-responses")
    expect(client.model).toBe("gpt-5")
    expect(client.capabilities).toEqual({
      streaming: true,
      tools: true,
      vision: true,
      thinking: true,
      structuredOutput: true,
      contextWindow: 400_000
    })
    expect(make({ apiKey, model: "gpt-4o" }).capabilities.thinking).toBe(false)
    expect(ResponsesProvider.id).toBe("openai-responses")
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Errors, retries, abort, config
// ---------------------------------------------------------------------------------------------------------------

describe("ResponsesProvider errors", () => {
  const failWith = (reply: WireServer.Reply) =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue(reply)
      return yield* Effect.flip(collect(client))
    })

  it.effect("HTTP errors map to the LLMError tags", () =>
    Effect.gen(function* () {
      const limited = yield* failWith(failure({ kind: "rate_limit", retryAfterSeconds: 7 }))
      expect(limited).toBeInstanceOf(RateLimitedError)
      expect(limited).toMatchObject({
        retryable: true,
        retryAfterMs: 7000,
        status: 429,
        requestId: "req_responses_test"
      })
      const quota = yield* failWith(failure({ kind: "quota" }))
      expect(quota).toBeInstanceOf(ProviderPermissionError)
      expect(quota.retryable).toBe(false)
      expect(yield* failWith(failure({ kind: "server" }))).toBeInstanceOf(ServerError)
      expect(yield* failWith(failure({ kind: "overloaded" }))).toBeInstanceOf(OverloadedError)
      const auth = yield* failWith(failure({ kind: "auth" }))
      expect(auth).toBeInstanceOf(AuthenticationError)
      expect(auth.message).toContain("OPENAI_API_KEY")
      expect(yield* failWith(failure({ kind: "context_length" }))).toBeInstanceOf(ContextLengthExceededError)
      const invalid = yield* failWith(failure({ kind: "invalid_request", message: "Unsupported parameter: 'x'" }))
      expect(invalid).toBeInstanceOf(InvalidRequestError)
      expect(invalid.message).toContain("Unsupported parameter")
    })
  )

  it.effect("response.failed and error events in the stream map by code", () =>
    Effect.gen(function* () {
      const server = yield* failWith(stream(failedFrames("server_error", "The model failed")))
      expect(server).toBeInstanceOf(ServerError)
      expect(server.retryable).toBe(true)
      expect(server.message).toContain("The model failed")
      expect(yield* failWith(stream(failedFrames("rate_limit_exceeded", "slow down")))).toBeInstanceOf(RateLimitedError)
      const overloaded = yield* failWith(stream(failedFrames("server_is_overloaded", "try later")))
      expect(overloaded).toBeInstanceOf(OverloadedError)
      expect(overloaded.retryable).toBe(true)
      const invalid = yield* failWith(stream(failedFrames("invalid_image", "bad image")))
      expect(invalid).toBeInstanceOf(InvalidRequestError)
      expect(invalid.retryable).toBe(false)
      const context = yield* failWith(stream(errorEventFrames("context_length_exceeded", "too long")))
      expect(context).toBeInstanceOf(ContextLengthExceededError)
      const quota = yield* failWith(stream(errorEventFrames("insufficient_quota", "no quota")))
      expect(quota).toBeInstanceOf(ProviderPermissionError)
      expect(quota.retryable).toBe(false)
    })
  )

  it.live("retries a 500 and a 429, never insufficient_quota", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const retry = { maxRetries: 2, baseDelay: "1 millis", jitter: false } as const
      const client = yield* Effect.provide(LLMClient, layer({ apiKey, baseURL: wire.url, retry }))
      wire.enqueue(
        failure({ kind: "server" }),
        failure({ kind: "rate_limit", retryAfterSeconds: 0 }),
        stream(responseFrames({ items: [{ text: ["third time"] }] }))
      )
      const parts = yield* collect(client)
      expect(textOf(parts)).toBe("third time")
      expect(parts.filter((p) => p.type === "retry").map((p) => (p.type === "retry" ? p.reason : ""))).toEqual([
        "ServerError",
        "RateLimitedError"
      ])
      expect(wire.requests).toHaveLength(3)
      wire.enqueue(failure({ kind: "quota" }))
      const error = yield* Effect.flip(collect(client))
      expect(error).toBeInstanceOf(ProviderPermissionError)
      expect(wire.requests).toHaveLength(4)
    })
  )

  it.live("interrupting the stream aborts the HTTP request", () =>
    Effect.gen(function* () {
      const { wire, client } = yield* setup()
      wire.enqueue({ kind: "hang", chunks: responseFrames({ items: [{ text: ["first"] }], truncate: true }) })
      const parts: Array<StreamPart> = []
      const fiber = yield* Effect.forkChild(
        Stream.runForEach(client.stream(hi), (p) => Effect.sync(() => parts.push(p)))
      )
      for (let i = 0; i < 500 && !parts.some((p) => p.type === "text-delta"); i++) yield* realSleep(10)
      expect(textOf(parts)).toBe("first")
      const aborted = wire.nextClientAbort()
      expect(wire.clientAborts()).toBe(0)
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => aborted)
      expect(wire.clientAborts()).toBe(1)
    })
  )
})

describe("ResponsesProvider config", () => {
  const withEnv = (env: Record<string, string>) => Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(env)))

  it.effect("reads OPENAI_API_KEY and OPENAI_BASE_URL", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(stream(responseFrames({ items: [{ text: ["ok"] }] })))
      const client = yield* Effect.provide(LLMClient, layerConfig({ retry: { maxRetries: 0 } })).pipe(
        withEnv({ OPENAI_API_KEY: "sk-env", OPENAI_BASE_URL: wire.url })
      )
      expect(textOf(yield* collect(client))).toBe("ok")
      expect(wire.requests[0]?.headers.authorization).toBe("Bearer sk-env")
    })
  )

  it.effect("a missing key is a ConfigError naming OPENAI_API_KEY", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Effect.provide(LLMClient, Layer.fresh(layerConfig())).pipe(withEnv({})))
      expect(error).toBeInstanceOf(ConfigError)
      expect(error.message).toContain("OPENAI_API_KEY")
    })
  )

  it.effect("the contract wire module streams through the provider", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(
        responsesWire.reply({
          reasoning: { text: ["think"], signature: "ENC" },
          text: ["hello"],
          toolCalls: [{ id: "call_x", name: "t", args: ['{"a":', "1}"] }],
          usage: { inputTokens: 3, outputTokens: 4 }
        })
      )
      const client = yield* Effect.provide(LLMClient, responsesWire.layer(wire.url))
      const response = fold(yield* collect(client))
      expect(response.message.content.map((b) => b.type)).toEqual(["thinking", "text", "tool_use"])
      expect(response.toolCalls).toEqual([{ id: "call_x", name: "t", input: { a: 1 } }])
      expect(response.usage).toEqual(usage(3, 4))
      expect(response.stopReason).toBe("tool_use")
      expect(responsesWire.sentText(wire.requests[0]!)).toEqual(["hi"])
    })
  )
})
