import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import {
  type AgentEvent,
  agentEventToJson,
  decodeAgentEvent,
  decodeAgentEventJson,
  encodeAgentEvent,
  Message,
  StreamPart,
  ToolResult,
  toJsonl,
  toSse,
  Usage
} from "../../src/streams/index.js"
import { LLMError, OverloadedError, RateLimitedError } from "../../src/errors/index.js"

const roundTrip = <A, I>(schema: Schema.Codec<A, I>, value: A): A => {
  const json = JSON.parse(JSON.stringify(Schema.encodeSync(schema)(value)))
  return Schema.decodeUnknownSync(schema)(json)
}

describe("domain schemas", () => {
  it("round-trips a message with every content block through JSON", () => {
    const message: Message = {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "let me think", signature: "sig==" },
        { type: "redacted_thinking", data: "opaque" },
        { type: "text", text: "Reading it." },
        { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBOR" } },
        { type: "tool_use", id: "t1", name: "Read", input: { path: "a.ts" } },
        { type: "tool_result", toolUseId: "t1", content: [{ type: "text", text: "1\tx" }], isError: false }
      ]
    }
    expect(roundTrip(Message, message)).toEqual(message)
  })

  it("round-trips tool results of every status and output kind", () => {
    for (const status of ["success", "error", "timeout", "cancelled", "denied"] as const) {
      const result: ToolResult = {
        toolCallId: "c",
        toolName: "Bash",
        status,
        output: [
          { type: "text", text: "out" },
          { type: "json", value: { a: [1, 2] } },
          { type: "image", mediaType: "image/png", data: "AAA" }
        ],
        durationMs: 12
      }
      expect(roundTrip(ToolResult, result)).toEqual(result)
    }
  })

  it("fills missing usage counters with zero and adds usage", () => {
    const u = Schema.decodeUnknownSync(Usage)({ inputTokens: 3 })
    expect(u.outputTokens).toBe(0)
    const sum = u.add(new Usage({ outputTokens: 5, cacheReadTokens: 2, reasoningTokens: 1 }))
    expect(sum).toMatchObject({ inputTokens: 3, outputTokens: 5, cacheReadTokens: 2, reasoningTokens: 1 })
    expect(sum.totalTokens).toBe(10)
  })

  it("round-trips every stream part", () => {
    const parts: ReadonlyArray<StreamPart> = [
      { type: "metadata", responseId: "msg_1", model: "m" },
      { type: "text-delta", text: "hi" },
      { type: "reasoning-delta", text: "hmm" },
      { type: "reasoning-signature", signature: "s" },
      { type: "reasoning-redacted", data: "d" },
      { type: "tool-call-start", id: "t", name: "Read", index: 0 },
      { type: "tool-call-delta", id: "t", argumentsDelta: "{" },
      { type: "tool-call-complete", id: "t", name: "Read", input: {} },
      { type: "usage", usage: new Usage({ inputTokens: 1 }) },
      { type: "finish", stopReason: "end_turn", raw: "end_turn" },
      { type: "retry", attempt: 1, delayMs: 500, reason: "OverloadedError", message: "overloaded" }
    ]
    for (const part of parts) expect(roundTrip(StreamPart, part)).toEqual(part)
  })

  it("serializes typed errors and keeps their retryability", () => {
    const err = new RateLimitedError({ provider: "anthropic", message: "slow down", status: 429, retryAfterMs: 2000 })
    const back = roundTrip(LLMError, err)
    expect(back).toBeInstanceOf(RateLimitedError)
    expect(back.retryable).toBe(true)
    expect(back.message).toBe("slow down")
    expect(new OverloadedError({ provider: "x", message: "m" }).retryable).toBe(true)
  })
})

describe("AgentEvent protocol", () => {
  const base = { v: 1 as const, sessionId: "s1", agentId: "main", timestamp: 1700000000000 }

  it.effect("round-trips an event through its JSON line", () =>
    Effect.gen(function* () {
      const e: AgentEvent = { ...base, type: "text.delta", turnId: "t1", text: "Hello" }
      const back = yield* decodeAgentEventJson(agentEventToJson(e))
      expect(back).toEqual(e)
      const usage: AgentEvent = {
        ...base,
        type: "usage",
        turnId: "t1",
        step: new Usage({ inputTokens: 1 }),
        total: new Usage({ inputTokens: 2 })
      }
      expect(yield* decodeAgentEvent(encodeAgentEvent(usage))).toEqual(usage)
    })
  )

  it.effect("keeps unknown event types instead of failing (forward compatibility)", () =>
    Effect.gen(function* () {
      const future = { ...base, type: "hologram.projected", depth: 3 }
      expect(yield* decodeAgentEvent(future)).toEqual({
        type: "unknown",
        originalType: "hologram.projected",
        raw: future
      })
      const newer = { ...base, v: 2, type: "text.delta", text: "x" }
      expect((yield* decodeAgentEvent(newer)).type).toBe("unknown")
    })
  )

  it.effect("fails with a ParseError on a known type with bad fields or on non-JSON", () =>
    Effect.gen(function* () {
      const bad = yield* Effect.flip(decodeAgentEvent({ ...base, type: "text.delta" }))
      expect(bad._tag).toBe("SchemaError")
      expect((yield* Effect.flip(decodeAgentEventJson("{not json")))._tag).toBe("SchemaError")
      expect((yield* Effect.flip(decodeAgentEvent(42)))._tag).toBe("SchemaError")
    })
  )
})

describe("event codecs", () => {
  const e: AgentEvent = {
    v: 1,
    sessionId: "s",
    agentId: "main",
    timestamp: 1,
    type: "text.delta",
    turnId: "t",
    text: "hi"
  }

  it.effect("JSON Lines: one decodable object per line", () =>
    Effect.gen(function* () {
      const lines = yield* Stream.runCollect(toJsonl(Stream.make(e, e)))
      expect(lines).toHaveLength(2)
      for (const line of lines) {
        expect(line.endsWith("\n")).toBe(true)
        expect(yield* decodeAgentEventJson(line.trimEnd())).toEqual(e)
      }
    })
  )

  it.effect("SSE: an event line named by type and a data line with the same JSON", () =>
    Effect.gen(function* () {
      const [frame] = yield* Stream.runCollect(toSse(Stream.make(e)))
      expect(frame).toBe(`event: text.delta\ndata: ${agentEventToJson(e)}\n\n`)
    })
  )
})
