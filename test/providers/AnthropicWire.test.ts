import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import {
  AnthropicStreamDecoder,
  mapStopReason,
  toMessageParams,
  toRequestParams,
  toSystem,
  toToolChoice,
  type WireStep
} from "../../src/providers/anthropic/AnthropicWire.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"

const defaults = { model: "m", maxTokens: 100 }

const ok = (step: WireStep): ReadonlyArray<StreamPart> => {
  if (Result.isFailure(step)) throw new Error(`unexpected failure: ${JSON.stringify(step.failure)}`)
  return step.success
}

/** Feed events (name, data object or raw string) to a fresh decoder. */
const run = (events: ReadonlyArray<readonly [string | null, unknown]>) => {
  const decoder = new AnthropicStreamDecoder()
  const steps = events.map(([name, data]) =>
    decoder.event(name, typeof data === "string" ? data : JSON.stringify(data))
  )
  return { decoder, steps }
}

const start = (index: number, content_block: unknown) =>
  ["content_block_start", { type: "content_block_start", index, content_block }] as const
const delta = (index: number, d: unknown) =>
  ["content_block_delta", { type: "content_block_delta", index, delta: d }] as const
const stop = (index: number) => ["content_block_stop", { type: "content_block_stop", index }] as const

describe("AnthropicWire request mapping", () => {
  it("drops empty text, unsigned thinking and empty messages; merges same-role neighbours", () => {
    expect(
      toMessageParams([
        { role: "user", content: [{ type: "text", text: "" }] },
        { role: "user", content: [{ type: "text", text: "a" }] },
        { role: "user", content: [{ type: "text", text: "b" }] },
        { role: "system", content: [{ type: "text", text: "sys" }] },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "from another provider" },
            { type: "text", text: "c" }
          ]
        },
        { role: "assistant", content: [{ type: "thinking", thinking: "unsigned only" }] }
      ])
    ).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "a" },
          { type: "text", text: "b" }
        ]
      },
      { role: "assistant", content: [{ type: "text", text: "c" }] }
    ])
  })

  it("maps images: supported base64, url, unsupported media type as a note; empty tool results omit content", () => {
    expect(
      toMessageParams([
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", mediaType: "image/webp", data: "d" } },
            { type: "image", source: { type: "base64", mediaType: "image/tiff", data: "d" } }
          ]
        },
        { role: "assistant", content: [{ type: "tool_use", id: "t", name: "n", input: undefined }] },
        {
          role: "tool",
          content: [{ type: "tool_result", toolUseId: "t", isError: false, content: [{ type: "text", text: "" }] }]
        }
      ])
    ).toEqual([
      {
        role: "user",
        content: [
          { type: "image", source: { type: "base64", media_type: "image/webp", data: "d" } },
          { type: "text", text: "[image of unsupported type image/tiff omitted]" }
        ]
      },
      { role: "assistant", content: [{ type: "tool_use", id: "t", name: "n", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t" }] }
    ])
  })

  it("system prompt combines request.system and system messages, or is absent", () => {
    expect(toSystem({ messages: [] })).toBeUndefined()
    expect(toSystem({ system: " ", messages: [{ role: "system", content: [{ type: "text", text: "x" }] }] })).toBe("x")
  })

  it("tool choice, and no tool_choice without tools", () => {
    expect(toToolChoice({ type: "auto" })).toEqual({ type: "auto" })
    expect(toToolChoice({ type: "none" })).toEqual({ type: "none" })
    expect(toToolChoice({ type: "required" })).toEqual({ type: "any" })
    expect(toToolChoice({ type: "tool", name: "x" })).toEqual({ type: "tool", name: "x" })
    const params = toRequestParams({ messages: [], toolChoice: { type: "auto" } }, defaults)
    expect(params).toEqual({ model: "m", max_tokens: 100, messages: [], stream: true })
  })

  it("a thinking budget below max_tokens keeps max_tokens", () => {
    const params = toRequestParams({ messages: [], maxTokens: 5000, thinking: { budgetTokens: 1024 } }, defaults)
    expect(params.max_tokens).toBe(5000)
    expect(params.thinking).toEqual({ type: "enabled", budget_tokens: 1024 })
  })
})

describe("AnthropicWire stop reasons", () => {
  it("maps every known reason and keeps unknown ones as other", () => {
    for (const r of ["end_turn", "tool_use", "max_tokens", "stop_sequence", "refusal", "pause_turn"] as const)
      expect(mapStopReason(r)).toBe(r)
    expect(mapStopReason("model_context_window_exceeded")).toBe("max_tokens")
    expect(mapStopReason("something_new")).toBe("other")
    expect(mapStopReason(null)).toBe("other")
  })

  it("an unknown stop reason keeps its raw value in the finish part", () => {
    const { steps } = run([["message_delta", { type: "message_delta", delta: { stop_reason: "brand_new" } }]])
    expect(ok(steps[0]!).at(-1)).toEqual({ type: "finish", stopReason: "other", raw: "brand_new" })
  })
})

describe("AnthropicStreamDecoder", () => {
  it("message_stop without a stop reason finishes as other; later events change nothing", () => {
    const { decoder, steps } = run([
      ["message_delta", { type: "message_delta", usage: { output_tokens: 3 } }],
      ["message_stop", { type: "message_stop" }],
      ["message_stop", { type: "message_stop" }]
    ])
    expect(ok(steps[0]!).map((p) => p.type)).toEqual(["usage"])
    expect(ok(steps[1]!)).toEqual([{ type: "finish", stopReason: "other" }])
    expect(ok(steps[2]!)).toEqual([])
    expect(decoder.isFinished).toBe(true)
    expect(ok(decoder.end())).toEqual([])
  })

  it("text and thinking carried in content_block_start; a start signature is used when no delta signs", () => {
    const { steps } = run([
      start(0, { type: "text", text: "pre" }),
      start(1, { type: "thinking", thinking: "hmm", signature: "sig0" }),
      stop(1),
      start(2, { type: "thinking", thinking: "", signature: "sig-start" }),
      delta(2, { type: "signature_delta", signature: "sig-delta" }),
      stop(2)
    ])
    expect(steps.flatMap(ok)).toEqual([
      { type: "text-delta", text: "pre" },
      { type: "reasoning-delta", text: "hmm" },
      { type: "reasoning-signature", signature: "sig0" },
      { type: "reasoning-signature", signature: "sig-delta" }
    ])
  })

  it("a tool_use block with its whole input in content_block_start and no deltas", () => {
    const { steps } = run([start(0, { type: "tool_use", id: "t", name: "n", input: { a: 1 } }), stop(0)])
    expect(steps.flatMap(ok)).toEqual([
      { type: "tool-call-start", id: "t", name: "n", index: 0 },
      { type: "tool-call-complete", id: "t", name: "n", input: { a: 1 } }
    ])
  })

  it("skips unknown blocks, unknown deltas, empty deltas, deltas of unknown indexes, empty data and pings", () => {
    const { decoder, steps } = run([
      ["ping", { type: "ping" }],
      [null, ""],
      ["future", { type: "future" }],
      start(0, { type: "server_tool_use", id: "s", name: "web_search", input: {} }),
      delta(0, { type: "input_json_delta", partial_json: '{"q":1}' }),
      delta(0, { type: "citations_delta", citation: {} }),
      stop(0),
      delta(9, { type: "text_delta", text: "" }),
      delta(9, { type: "thinking_delta", thinking: "" }),
      stop(9)
    ])
    expect(steps.flatMap(ok)).toEqual([])
    expect(decoder.isFinished).toBe(false)
  })

  it("an unnamed event is dispatched by its data's type", () => {
    const { steps } = run([[null, { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "x" } }]])
    expect(ok(steps[0]!)).toEqual([{ type: "text-delta", text: "x" }])
  })

  it("events missing required fields are decode failures; after a failure everything is ignored", () => {
    const { steps } = run([
      ["content_block_delta", { type: "content_block_delta", delta: { type: "text_delta", text: "x" } }],
      ["message_stop", { type: "message_stop" }]
    ])
    expect(Result.isFailure(steps[0]!) && steps[0].failure.kind).toBe("decode")
    expect(Result.isFailure(steps[0]!) && steps[0].failure.message).toContain("content_block_delta")
    expect(ok(steps[1]!)).toEqual([])
    for (const bad of [
      start(0, { type: "tool_use", name: "n" }),
      start(0, { type: "redacted_thinking" }),
      ["message_start", { type: "message_start" }] as const,
      ["x", [1, 2]] as const
    ]) {
      const step = run([bad]).steps[0]!
      expect(Result.isFailure(step) && step.failure.kind).toBe("decode")
    }
  })

  it("error events: typed, untyped, and malformed", () => {
    const typed = run([["error", { type: "error", error: { type: "rate_limit_error", message: "slow" } }]]).steps[0]!
    expect(Result.isFailure(typed) && typed.failure).toEqual({
      kind: "api",
      errorType: "rate_limit_error",
      message: "slow"
    })
    const untyped = run([["error", { type: "error", error: {} }]]).steps[0]!
    expect(Result.isFailure(untyped) && untyped.failure).toEqual({
      kind: "api",
      errorType: "api_error",
      message: "error event in the response stream"
    })
    const malformed = run([["error", { type: "error", message: "no error object" }]]).steps[0]!
    expect(Result.isFailure(malformed) && malformed.failure.kind).toBe("decode")
  })

  it("the body ending before the stop reason is a failure", () => {
    const decoder = new AnthropicStreamDecoder()
    const end = decoder.end()
    expect(Result.isFailure(end) && end.failure.kind).toBe("ended")
    expect(ok(decoder.end())).toEqual([])
  })

  it("usage: message_delta values replace message_start's, missing ones are kept", () => {
    const { steps } = run([
      [
        "message_start",
        {
          type: "message_start",
          message: { usage: { input_tokens: 10, output_tokens: 1, cache_read_input_tokens: 4 } }
        }
      ],
      [
        "message_delta",
        {
          type: "message_delta",
          delta: { stop_reason: "end_turn" },
          usage: { output_tokens: 9, cache_creation_input_tokens: 2, input_tokens: null }
        }
      ]
    ])
    const parts = steps.flatMap(ok)
    expect(parts[0]).toEqual({ type: "metadata" })
    const last = parts.filter((p) => p.type === "usage").at(-1)
    expect(last?.type === "usage" && last.usage).toMatchObject({
      inputTokens: 10,
      outputTokens: 9,
      cacheReadTokens: 4,
      cacheWriteTokens: 2
    })
  })
})
