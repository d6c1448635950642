/** Pure Chat Completions mapping: chunk quirks of compatible servers, usage, stop reasons, request edge cases. */
import { describe, expect, it } from "@effect/vitest"
import {
  errorInfo,
  makeChunkMapper,
  reasoningEffort,
  rootMessage,
  toChatRequest,
  toStopReason,
  toUsage,
  type WireChunk
} from "../../src/providers/openai/OpenAIWire.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"
import { Usage } from "../../src/streams/Usage.js"

const run = (chunks: ReadonlyArray<WireChunk>): ReadonlyArray<StreamPart> => {
  const mapper = makeChunkMapper()
  return [...chunks.flatMap((c) => mapper.onChunk(c)), ...mapper.onEnd()]
}

const delta = (d: Record<string, unknown>, finish: string | null = null, index = 0): WireChunk => ({
  choices: [{ index, delta: d, finish_reason: finish }]
})

describe("makeChunkMapper", () => {
  it("reads `reasoning` (OpenRouter) and prefers `reasoning_content` when both are sent", () => {
    expect(
      run([delta({ reasoning: "a" }), delta({ reasoning_content: "b", reasoning: "b" }), delta({ content: "c" })])
    ).toEqual([
      { type: "reasoning-delta", text: "a" },
      { type: "reasoning-delta", text: "b" },
      { type: "text-delta", text: "c" }
    ])
  })

  it("emits metadata once, from the first chunk that has an id or model", () => {
    expect(run([{ choices: [] }, { id: "r1", choices: [] }, { id: "r2", model: "m", choices: [] }])).toEqual([
      { type: "metadata", responseId: "r1" }
    ])
    expect(run([{ model: "m", choices: [] }])).toEqual([{ type: "metadata", model: "m" }])
  })

  it("ignores choices other than 0, null deltas and non-object entries", () => {
    const chunk: WireChunk = { choices: [{ index: 1, delta: { content: "other" } }, null, { index: 0, delta: null }] }
    expect(run([chunk, delta({ content: "mine" }, "stop")])).toEqual([
      { type: "text-delta", text: "mine" },
      { type: "finish", stopReason: "end_turn", raw: "stop" }
    ])
  })

  it("assembles tool calls without an index (new id = new call) and a name that arrives late", () => {
    const parts = run([
      delta({ tool_calls: [{ id: "a", function: { arguments: '{"x":' } }] }),
      delta({ tool_calls: [{ function: { name: "first", arguments: "1}" } }] }),
      delta({ tool_calls: [{ id: "b", function: { name: "second", arguments: "{}" } }] }),
      delta({ tool_calls: [{ id: "b", function: { name: "second" } }] }),
      delta({}, "stop")
    ])
    expect(parts).toEqual([
      { type: "tool-call-start", id: "a", name: "", index: 0 },
      { type: "tool-call-delta", id: "a", argumentsDelta: '{"x":' },
      { type: "tool-call-delta", id: "a", argumentsDelta: "1}" },
      { type: "tool-call-start", id: "b", name: "second", index: 1 },
      { type: "tool-call-delta", id: "b", argumentsDelta: "{}" },
      { type: "tool-call-complete", id: "a", name: "first", input: { x: 1 } },
      { type: "tool-call-complete", id: "b", name: "second", input: {} },
      // `stop` with tool calls (some compatible servers) is a tool-use stop.
      { type: "finish", stopReason: "tool_use", raw: "stop" }
    ])
  })

  it("gives a call without id a synthetic one, and ignores fragments after the choice finished", () => {
    const parts = run([
      delta({ tool_calls: [{ index: 0, function: { name: "t", arguments: "{}" } }] }, "tool_calls"),
      delta({ tool_calls: [{ index: 0, function: { arguments: "junk" } }] }, "tool_calls")
    ])
    expect(parts).toEqual([
      { type: "tool-call-start", id: "call_0", name: "t", index: 0 },
      { type: "tool-call-delta", id: "call_0", argumentsDelta: "{}" },
      { type: "tool-call-complete", id: "call_0", name: "t", input: {} },
      { type: "finish", stopReason: "tool_use", raw: "tool_calls" }
    ])
  })

  it("keeps the first finish reason and turns a refusal into a refusal stop", () => {
    expect(run([delta({}, "length"), delta({}, "stop")]).at(-1)).toEqual({
      type: "finish",
      stopReason: "max_tokens",
      raw: "length"
    })
    expect(run([delta({ refusal: "no" })])).toEqual([
      { type: "text-delta", text: "no" },
      { type: "finish", stopReason: "refusal" }
    ])
    expect(run([delta({ content: "x" })])).toEqual([{ type: "text-delta", text: "x" }])
  })

  it("emits usage whenever a chunk carries it", () => {
    expect(run([{ choices: [], usage: { prompt_tokens: 10, completion_tokens: 2 } }])).toEqual([
      { type: "usage", usage: new Usage({ inputTokens: 10, outputTokens: 2 }) }
    ])
  })
})

describe("toUsage / toStopReason / reasoningEffort", () => {
  it("subtracts cached prompt tokens from input (OpenAI and DeepSeek fields)", () => {
    expect(
      toUsage({
        prompt_tokens: 1000,
        completion_tokens: 300,
        prompt_tokens_details: { cached_tokens: 800 },
        completion_tokens_details: { reasoning_tokens: 200 }
      })
    ).toEqual(new Usage({ inputTokens: 200, outputTokens: 300, cacheReadTokens: 800, reasoningTokens: 200 }))
    expect(toUsage({ prompt_tokens: 50, completion_tokens: 1, prompt_cache_hit_tokens: 30 })).toEqual(
      new Usage({ inputTokens: 20, outputTokens: 1, cacheReadTokens: 30 })
    )
    expect(toUsage({ prompt_tokens: null, completion_tokens_details: null })).toEqual(Usage.empty)
  })

  it("maps every finish reason and keeps unknown ones as other", () => {
    expect(["stop", "tool_calls", "function_call", "length", "content_filter", "eos", ""].map(toStopReason)).toEqual([
      "end_turn",
      "tool_use",
      "tool_use",
      "max_tokens",
      "content_filter",
      "other",
      "other"
    ])
    expect(run([delta({}, "content_filter")]).at(-1)).toEqual({
      type: "finish",
      stopReason: "content_filter",
      raw: "content_filter"
    })
  })

  it("maps thinking budgets to reasoning efforts", () => {
    expect([0, 4095, 4096, 16383, 16384].map(reasoningEffort)).toEqual(["low", "low", "medium", "medium", "high"])
  })
})

describe("toChatRequest", () => {
  it("omits an empty system prompt and empty optional fields; user tool_result blocks become tool messages", () => {
    const body = toChatRequest(
      {
        system: "",
        stopSequences: [],
        tools: [],
        toolChoice: { type: "auto" },
        messages: [
          { role: "system", content: [{ type: "text", text: "be brief" }] },
          {
            role: "user",
            content: [
              { type: "tool_result", toolUseId: "c1", content: [], isError: false },
              { type: "text", text: "next" }
            ]
          },
          { role: "assistant", content: [{ type: "thinking", thinking: "only thoughts" }] },
          { role: "user", content: [{ type: "tool_result", toolUseId: "c2", content: [], isError: false }] }
        ]
      },
      { model: "m" }
    )
    expect(body).toEqual({
      model: "m",
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: "system", content: "be brief" },
        { role: "tool", tool_call_id: "c1", content: "" },
        { role: "user", content: "next" },
        { role: "assistant", content: "" },
        { role: "tool", tool_call_id: "c2", content: "" }
      ]
    })
  })
})

describe("errorInfo / rootMessage", () => {
  it("reads numeric and string codes and types", () => {
    expect(errorInfo({ code: 400, message: "Token limit reached" })).toEqual({
      status: 400,
      message: "Token limit reached"
    })
    expect(errorInfo({ code: "context_length_exceeded", type: "invalid_request_error", message: "m" })).toEqual({
      errorType: "context_length_exceeded",
      message: "m"
    })
    expect(errorInfo({ code: 7, type: "server_error" })).toEqual({ errorType: "server_error" })
    expect(errorInfo(undefined)).toEqual({})
    expect(errorInfo("text")).toEqual({})
  })

  it("finds the innermost message of a cause chain", () => {
    const inner = new Error("connect ECONNREFUSED 127.0.0.1:9")
    expect(
      rootMessage(new Error("Connection error.", { cause: new TypeError("fetch failed", { cause: inner }) }))
    ).toBe("connect ECONNREFUSED 127.0.0.1:9")
    expect(rootMessage(new Error("", { cause: "not an error" }))).toBe("Error")
    expect(rootMessage("plain")).toBe("plain")
  })
})
