import { describe, expect, it } from "@effect/vitest"
import {
  initialTranscript,
  INTERRUPTED_TOOL_MESSAGE,
  repairAfterInterrupt,
  type TurnTranscript
} from "../../src/agent/TranscriptRepair.js"
import type { Message } from "../../src/streams/Message.js"
import { applyPart, emptyResponse } from "../../src/streams/Response.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"
import type { ToolResult } from "../../src/streams/ToolCall.js"

const user: Message = { role: "user", content: [{ type: "text", text: "go" }] }

const streamed = (parts: ReadonlyArray<StreamPart>) => parts.reduce(applyPart, emptyResponse)

const done = (id: string): ToolResult => ({
  toolCallId: id,
  toolName: "Echo",
  status: "success",
  output: [{ type: "text", text: `done ${id}` }],
  durationMs: 3
})

describe("transcript repair", () => {
  it("keeps a partial answer and drops unsigned reasoning", () => {
    const transcript: TurnTranscript = {
      ...initialTranscript([user]),
      partial: streamed([
        { type: "reasoning-delta", text: "hmm" },
        { type: "text-delta", text: "partial answ" }
      ])
    }
    const repair = repairAfterInterrupt(transcript)
    expect(repair.appended).toEqual([{ role: "assistant", content: [{ type: "text", text: "partial answ" }] }])
    expect(repair.cancelled).toEqual([])
    expect(repair.messages).toEqual([user, ...repair.appended])
  })

  it("answers every open tool_use: finished results kept, the others cancelled, in call order", () => {
    const transcript: TurnTranscript = {
      ...initialTranscript([user]),
      partial: streamed([
        { type: "tool-call-complete", id: "a", name: "Echo", input: { text: "1" } },
        { type: "tool-call-complete", id: "b", name: "Echo", input: { text: "2" } }
      ]),
      results: new Map([["b", done("b")]])
    }
    const repair = repairAfterInterrupt(transcript)
    expect(repair.cancelled.map((r) => [r.toolCallId, r.status])).toEqual([["a", "cancelled"]])
    const answer = repair.messages.at(-1)
    expect(answer?.role).toBe("tool")
    const blocks = answer?.content.flatMap((b) => (b.type === "tool_result" ? [b] : [])) ?? []
    expect(blocks.map((b) => [b.toolUseId, b.isError])).toEqual([
      ["a", true],
      ["b", false]
    ])
    expect(JSON.stringify(blocks[0])).toContain(INTERRUPTED_TOOL_MESSAGE)
  })

  it("answers the tool calls of a finished assistant message whose tools were still running", () => {
    const assistant: Message = { role: "assistant", content: [{ type: "tool_use", id: "x", name: "Echo", input: {} }] }
    const repair = repairAfterInterrupt(initialTranscript([user, assistant]))
    expect(repair.appended.map((m) => m.role)).toEqual(["tool"])
    expect(repair.cancelled.map((r) => r.toolCallId)).toEqual(["x"])
  })

  it("changes nothing when the transcript is already closed", () => {
    const assistant: Message = { role: "assistant", content: [{ type: "text", text: "all done" }] }
    const repair = repairAfterInterrupt(initialTranscript([user, assistant]))
    expect(repair).toEqual({ appended: [], cancelled: [], messages: [user, assistant] })
  })
})
