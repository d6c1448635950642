/**
 * Replays every recorded Chat Completions stream (openai-chat/ and openai-compatible/) through the real `openai`
 * SDK against WireServer, whole and split into 7-character pieces, and checks the exact parts / folded response.
 */
import { readdirSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { InvalidRequestError } from "../../src/errors/LLMError.js"
import { make, type OpenAIOptions } from "../../src/providers/openai/OpenAIProvider.js"
import { applyPart, emptyResponse, type LLMResponse, toResponse } from "../../src/streams/Response.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"
import { Usage } from "../../src/streams/Usage.js"
import * as WireServer from "../support/WireServer.js"

/**
 * Split into pieces of `size` code points. (WireServer's `chunkSize` splits UTF-16 units, which cuts the emoji of
 * the DeepSeek recording into two lone surrogates that Node writes as U+FFFD.)
 */
const splitCodePoints = (body: string, size: number): ReadonlyArray<string> => {
  const points = Array.from(body)
  const out: Array<string> = []
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(""))
  return out
}

type Mode = "whole" | "chunked"

/** Serve the fixture once and collect what the provider streamed (and the error, if any). */
const replay = (file: string, mode: Mode, options: Partial<OpenAIOptions> = {}) =>
  Effect.gen(function* () {
    const wire = yield* WireServer.make
    wire.enqueue(
      mode === "whole"
        ? { kind: "file", path: WireServer.fixture(file) }
        : { kind: "stream", chunks: splitCodePoints(WireServer.readFixture(file), 7) }
    )
    const client = make({ apiKey: Redacted.make("sk-test"), baseURL: wire.url, ...options })
    const parts: Array<StreamPart> = []
    const exit = yield* Effect.result(
      Stream.runForEach(client.stream({ messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] }), (p) =>
        Effect.sync(() => parts.push(p))
      )
    )
    expect(wire.requests).toHaveLength(1)
    return { parts, exit }
  })

const fold = (parts: ReadonlyArray<StreamPart>): LLMResponse => toResponse(parts.reduce(applyPart, emptyResponse))
const textOf = (parts: ReadonlyArray<StreamPart>) =>
  parts.flatMap((p) => (p.type === "text-delta" ? [p.text] : [])).join("")
const reasoningOf = (parts: ReadonlyArray<StreamPart>) =>
  parts.flatMap((p) => (p.type === "reasoning-delta" ? [p.text] : [])).join("")
/** Parts other than text / reasoning / argument deltas. */
const skeleton = (parts: ReadonlyArray<StreamPart>) =>
  parts.filter((p) => p.type !== "text-delta" && p.type !== "reasoning-delta" && p.type !== "tool-call-delta")

const usage = (inputTokens: number, outputTokens: number, reasoningTokens = 0) =>
  new Usage({ inputTokens, outputTokens, reasoningTokens })

/** Successful replays: assertions on the parts. */
const expectations: Record<string, (parts: ReadonlyArray<StreamPart>) => void> = {
  "openai-chat/content-logprobs.sse": (parts) => {
    expect(parts).toEqual([
      { type: "metadata", responseId: "chatcmpl-ABfw5EzoqmfXjnnsXY7Yd8OC6tb3c", model: "gpt-4o-2024-08-06" },
      { type: "text-delta", text: "Foo" },
      { type: "text-delta", text: "!" },
      { type: "usage", usage: usage(9, 2) },
      { type: "finish", stopReason: "end_turn", raw: "stop" }
    ])
  },
  "openai-chat/multiple-choices-n3.sse": (parts) => {
    // Choices 1 and 2 say 61 and 59 degrees; only choice 0 is used.
    expect(textOf(parts)).toBe('{"city":"San Francisco","temperature":65,"units":"f"}')
    expect(skeleton(parts)).toEqual([
      { type: "metadata", responseId: "chatcmpl-ABfw2KKFuVXmEJgVwYfBvejMAdWtq", model: "gpt-4o-2024-08-06" },
      { type: "usage", usage: usage(79, 42) },
      { type: "finish", stopReason: "end_turn", raw: "stop" }
    ])
  },
  "openai-chat/parallel-tool-calls.sse": (parts) => {
    const weather = "call_JMW1whyEaYG438VE1OIflxA2"
    const stock = "call_DNYTawLBoN8fj3KN6qU9N1Ou"
    expect(textOf(parts)).toBe("")
    expect(skeleton(parts)).toEqual([
      { type: "metadata", responseId: "chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63", model: "gpt-4o-2024-08-06" },
      { type: "tool-call-start", id: weather, name: "GetWeatherArgs", index: 0 },
      { type: "tool-call-start", id: stock, name: "get_stock_price", index: 1 },
      {
        type: "tool-call-complete",
        id: weather,
        name: "GetWeatherArgs",
        input: { city: "Edinburgh", country: "GB", units: "c" }
      },
      { type: "tool-call-complete", id: stock, name: "get_stock_price", input: { ticker: "AAPL", exchange: "NASDAQ" } },
      { type: "usage", usage: usage(149, 60) },
      { type: "finish", stopReason: "tool_use", raw: "tool_calls" }
    ])
    const deltas = (id: string) =>
      parts.flatMap((p) => (p.type === "tool-call-delta" && p.id === id ? [p.argumentsDelta] : [])).join("")
    expect(deltas(weather)).toBe('{"city": "Edinburgh", "country": "GB", "units": "c"}')
    expect(deltas(stock)).toBe('{"ticker": "AAPL", "exchange": "NASDAQ"}')
    // The second call starts only after the first call's arguments were streamed.
    const secondStart = parts.findIndex((p) => p.type === "tool-call-start" && p.id === stock)
    expect(parts.slice(secondStart).some((p) => p.type === "tool-call-delta" && p.id === weather)).toBe(false)
    const response = fold(parts)
    expect(response.toolCalls.map((c) => c.name)).toEqual(["GetWeatherArgs", "get_stock_price"])
    expect(response.stopReason).toBe("tool_use")
  },
  "openai-chat/reasoning-model-gpt5.sse": (parts) => {
    expect(textOf(parts)).toBe("Paris.")
    expect(skeleton(parts)).toEqual([
      { type: "metadata", responseId: "chatcmpl-E4Rjs6IxaJVge9Ntk5keJsaeDy6vS", model: "gpt-5-2025-08-07" },
      { type: "usage", usage: usage(13, 11) },
      { type: "finish", stopReason: "end_turn", raw: "stop" }
    ])
  },
  "openai-chat/refusal.sse": (parts) => {
    expect(textOf(parts)).toBe("I'm sorry, I can't assist with that request.")
    expect(parts.at(-1)).toEqual({ type: "finish", stopReason: "refusal", raw: "stop" })
    const response = fold(parts)
    expect(response.stopReason).toBe("refusal")
    expect(response.usage).toEqual(usage(79, 11))
  },
  "openai-chat/text.sse": (parts) => {
    const response = fold(parts)
    expect(response.message).toEqual({
      role: "assistant",
      content: [
        {
          type: "text",
          text: "I'm unable to provide real-time weather updates. To get the current weather in San Francisco, I recommend checking a reliable weather website or a weather app."
        }
      ]
    })
    expect(response.usage).toEqual(usage(14, 30))
    expect(response.stopReason).toBe("end_turn")
    expect(response.responseId).toBe("chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL")
    expect(response.model).toBe("gpt-4o-2024-08-06")
    expect(parts.filter((p) => p.type === "text-delta")).toHaveLength(30)
  },
  "openai-chat/tool-call-gpt4o-mini.sse": (parts) => {
    const id = "call_ZR5UUuTt3pf61kjwAJIYdVMj"
    expect(parts).toEqual([
      { type: "metadata", responseId: "chatcmpl-Dx0XpqH8w09uBXwq1zFGYdETjtnEl", model: "gpt-4o-mini-2024-07-18" },
      { type: "tool-call-start", id, name: "get_capital", index: 0 },
      ...['{"', "country", '":"', "UK", '"}'].map((argumentsDelta) => ({
        type: "tool-call-delta",
        id,
        argumentsDelta
      })),
      { type: "tool-call-complete", id, name: "get_capital", input: { country: "UK" } },
      { type: "usage", usage: usage(53, 15) },
      { type: "finish", stopReason: "tool_use", raw: "tool_calls" }
    ])
  },
  "openai-chat/tool-call-single.sse": (parts) => {
    const id = "call_CTf1nWJLqSeRgDqaCG27xZ74"
    expect(parts).toEqual([
      { type: "metadata", responseId: "chatcmpl-ABfwCgi41eStOcARjZq97ohCEGBPO", model: "gpt-4o-2024-08-06" },
      { type: "tool-call-start", id, name: "get_weather", index: 0 },
      ...['{"', "city", '":"', "San", " Francisco", '","', "state", '":"', "CA", '"}'].map((argumentsDelta) => ({
        type: "tool-call-delta",
        id,
        argumentsDelta
      })),
      { type: "tool-call-complete", id, name: "get_weather", input: { city: "San Francisco", state: "CA" } },
      { type: "usage", usage: usage(48, 19) },
      { type: "finish", stopReason: "tool_use", raw: "tool_calls" }
    ])
  },
  "openai-compatible/deepseek-reasoning-content.sse": (parts) => {
    const reasoning = reasoningOf(parts)
    expect(reasoning.startsWith('Hmm, the user just said "Hello".')).toBe(true)
    expect(reasoning.endsWith("they might not reply further - and that's okay too.")).toBe(true)
    expect(reasoning).toHaveLength(882)
    // All reasoning comes before the answer.
    const firstText = parts.findIndex((p) => p.type === "text-delta")
    expect(parts.slice(firstText).some((p) => p.type === "reasoning-delta")).toBe(false)
    const response = fold(parts)
    expect(response.message.content).toEqual([
      { type: "thinking", thinking: reasoning },
      { type: "text", text: "Hello there! 😊 How can I help you today?" }
    ])
    expect(response.usage).toEqual(usage(6, 212, 198))
    expect(skeleton(parts)).toEqual([
      { type: "metadata", responseId: "33be18fc-3842-486c-8c29-dd8e578f7f20", model: "deepseek-reasoner" },
      { type: "usage", usage: usage(6, 212, 198) },
      { type: "finish", stopReason: "end_turn", raw: "stop" }
    ])
  }
}

const OPENROUTER = "openai-compatible/openrouter-midstream-error.sse"

describe("OpenAI fixtures", () => {
  it("covers every recorded Chat Completions stream", () => {
    const dir = (name: string) =>
      readdirSync(WireServer.fixture(name))
        .filter((f) => f !== ".gitkeep")
        .map((f) => `${name}/${f}`)
    expect([...dir("openai-chat"), ...dir("openai-compatible")].sort()).toEqual(
      [...Object.keys(expectations), OPENROUTER].sort()
    )
  })

  for (const mode of ["whole", "chunked"] as const) {
    for (const [file, check] of Object.entries(expectations)) {
      it.effect(`${file} (${mode})`, () =>
        Effect.gen(function* () {
          const { parts, exit } = yield* replay(file, mode)
          expect(exit._tag).toBe("Success")
          check(parts)
        })
      )
    }

    it.effect(`${OPENROUTER} (${mode}): content first, then a typed InvalidRequestError`, () =>
      Effect.gen(function* () {
        const { parts, exit } = yield* replay(OPENROUTER, mode, {
          providerName: "openrouter",
          apiKeyVar: "OPENROUTER_API_KEY",
          model: "minimax/minimax-m2:free"
        })
        // The reasoning before the error chunk was emitted; the error chunk ends the stream (no finish part).
        expect(parts).toEqual([
          { type: "metadata", responseId: "gen-1762179802-UN8pkJI4AGZvryk0kFnb", model: "minimax/minimax-m2:free" },
          { type: "reasoning-delta", text: "We need" },
          { type: "reasoning-delta", text: " to respond to a greeting. The user" }
        ])
        if (exit._tag !== "Failure") throw new Error("expected a failure")
        expect(exit.failure).toBeInstanceOf(InvalidRequestError)
        expect(exit.failure).toMatchObject({ provider: "openrouter", status: 400 })
        expect(exit.failure.message).toContain("Token limit reached")
        expect(exit.failure.retryable).toBe(false)
      })
    )
  }

  it.effect("generate folds the same stream", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "file", path: WireServer.fixture("openai-chat/parallel-tool-calls.sse") })
      const client = make({ apiKey: Redacted.make("sk-test"), baseURL: wire.url })
      const response = yield* client.generate({ messages: [] })
      expect(response.toolCalls).toEqual([
        {
          id: "call_JMW1whyEaYG438VE1OIflxA2",
          name: "GetWeatherArgs",
          input: { city: "Edinburgh", country: "GB", units: "c" }
        },
        { id: "call_DNYTawLBoN8fj3KN6qU9N1Ou", name: "get_stock_price", input: { ticker: "AAPL", exchange: "NASDAQ" } }
      ])
      expect(response.usage).toEqual(usage(149, 60))
    })
  )
})
