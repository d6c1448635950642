import { describe, expect, it } from "@effect/vitest"
import { emptyEditor } from "../../../src/cli/repl/LineEditor.js"
import { makeScreen } from "../../../src/cli/repl/Screen.js"
import { fitWidth, makeTurnView, resultSummary } from "../../../src/cli/repl/TurnView.js"
import { type AgentEvent, PROTOCOL_VERSION } from "../../../src/streams/AgentEvent.js"
import type { ToolResult } from "../../../src/streams/ToolCall.js"
import { Usage } from "../../../src/streams/Usage.js"

const envelope = { v: PROTOCOL_VERSION, sessionId: "s", agentId: "main", timestamp: 0 }
const ev = (body: Record<string, unknown> & { type: string }): AgentEvent =>
  ({ ...envelope, turnId: "t", ...body }) as AgentEvent

const call = (id: string, command: string) => ({ id, name: "Bash", input: { command } })
const result = (id: string, status: ToolResult["status"], text: string, durationMs = 12): ToolResult => ({
  toolCallId: id,
  toolName: "Bash",
  status,
  output: [{ type: "text", text }],
  durationMs
})

const terminal = (columns = 80, rows = 24) => {
  let out = ""
  return {
    terminal: {
      write: (s: string) => {
        out += s
      },
      columns: () => columns,
      rows: () => rows
    },
    output: () => out,
    clear: () => {
      out = ""
    }
  }
}

describe("turn view", () => {
  it("shows parallel tool calls as numbered status lines, changed in place when they finish", () => {
    const t = terminal()
    const screen = makeScreen(t.terminal, { ansi: true, color: false })
    const view = makeTurnView(screen, { showReasoning: false })
    view.onEvent(ev({ type: "text.delta", text: "Checking" }))
    view.onEvent(ev({ type: "tool_call.completed", call: call("a", "npm test") }))
    view.onEvent(ev({ type: "tool.started", call: call("a", "npm test") }))
    view.onEvent(ev({ type: "tool.started", call: call("b", "ls") }))
    expect(t.output()).toBe("Checking\n- #1 Bash(npm test) running…\n- #2 Bash(ls) running…\n")
    t.clear()
    view.onEvent(ev({ type: "tool.completed", result: result("b", "success", "x\ny\n", 1500) }))
    // Up one row, rewrite, back down.
    expect(t.output()).toBe("\u001b[1A\r\u001b[2K+ #2 Bash(ls) 2 lines · 1.5s\r\u001b[1B")
    t.clear()
    view.onEvent(ev({ type: "tool.completed", result: result("a", "error", "exit 1\nFAIL one\nFAIL two") }))
    expect(t.output()).toBe(
      "\u001b[2A\r\u001b[2Kx #1 Bash(npm test) error · exit 1\r\u001b[2B    FAIL one\n    FAIL two\n"
    )
  })

  it("on a dumb terminal prints the final status as a new line, and never an escape sequence", () => {
    const t = terminal()
    const screen = makeScreen(t.terminal, { ansi: false, color: false })
    const view = makeTurnView(screen, { showReasoning: true })
    view.onEvent(ev({ type: "reasoning.delta", text: "hmm\u001b[31m\nmore" }))
    view.onEvent(ev({ type: "text.delta", text: "Answer" }))
    view.onEvent(ev({ type: "tool.started", call: call("a", "rm -rf x") }))
    view.onEvent(ev({ type: "tool.completed", result: result("a", "denied", "the user said no") }))
    view.onEvent(ev({ type: "tool.completed", result: result("z", "cancelled", "") }))
    view.onEvent(ev({ type: "retry.scheduled", attempt: 2, delayMs: 1500, reason: "overloaded", message: "m" }))
    view.onEvent(ev({ type: "interrupted", reason: "r" }))
    expect(t.output()).toBe(
      "hmm\nmore\nAnswer\n- #1 Bash(rm -rf x) running…\nx #1 Bash(rm -rf x) denied · the user said no\nx #2 Bash cancelled\noverloaded, retrying in 1.5s (attempt 2)\n- interrupted\n"
    )
    expect(view.sawEnd()).toBe(true)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking there is none
    expect(t.output()).not.toMatch(/\u001b/)
  })

  it("renders the answer as Markdown with color, and ends its last line at the end of the turn", () => {
    const t = terminal()
    const screen = makeScreen(t.terminal, { ansi: true, color: true })
    const view = makeTurnView(screen, { showReasoning: false })
    view.onEvent(ev({ type: "reasoning.delta", text: "hidden" }))
    view.onEvent(ev({ type: "text.delta", text: "# Hi\n**b**" }))
    view.onEvent(
      ev({
        type: "compaction",
        trigger: "auto",
        summary: "s",
        messagesBefore: 9,
        messagesKept: 2,
        tokensBefore: 900,
        tokensAfter: 100,
        usage: Usage.empty
      })
    )
    view.onEvent(ev({ type: "compaction.failed", trigger: "manual", error: { tag: "X", message: "no\nmore" } }))
    view.onEvent(ev({ type: "failed", error: { tag: "LLMError", message: "boom\nstack" } }))
    const out = t.output()
    expect(out).toContain("\u001b[1m\u001b[4mHi\u001b[24m\u001b[22m\n\u001b[1mb\u001b[22m\n")
    expect(out).toContain("~900 → ~100 tokens, 2 recent messages kept")
    expect(out).toContain("compaction failed: no\u001b[39m")
    expect(out).toContain("error: LLMError: boom\u001b[39m")
    expect(out).not.toContain("hidden")
  })

  it("summarizes results and fits text to a width", () => {
    expect(resultSummary(result("a", "success", ""))).toBe("0 lines · 12 ms")
    expect(resultSummary(result("a", "timeout", ""))).toBe("timeout")
    expect(fitWidth("abcdef", 4)).toBe("abc…")
    expect(fitWidth("abc", 4)).toBe("abc")
  })
})

describe("screen", () => {
  it("keeps the input below the output: erased before output, drawn again after", () => {
    const t = terminal(20)
    const screen = makeScreen(t.terminal, { ansi: true, color: false })
    const layout = { prompt: "> ", continuation: "  ", columns: 20 }
    screen.showInput({ ...emptyEditor(0), text: "typed", cursor: 5 }, layout)
    t.clear()
    screen.write("out\n")
    expect(t.output()).toBe("\r\u001b[Jout\n\r\u001b[J> typed\r\u001b[7C")
    t.clear()
    screen.commitInput()
    expect(t.output()).toBe("\r\u001b[J> typed\r\u001b[7C\n")
    expect(screen.atLineStart()).toBe(true)
  })

  it("does not rewrite a line that scrolled off, nor mid-line, nor on a dumb terminal", () => {
    const t = terminal(20, 4)
    const screen = makeScreen(t.terminal, { ansi: true, color: false })
    const mark = screen.line("status")
    screen.write("a\nb\nc\n")
    expect(screen.rewrite(mark, "new")).toBe(false)
    const near = screen.line("near")
    screen.write("partial")
    expect(screen.rewrite(near, "x")).toBe(false)
    expect(screen.atLineStart()).toBe(false)
    const mid = screen.line("after partial")
    expect(t.output()).toContain("partial\nafter partial\n")
    expect(screen.rewrite(mid, "a very long line that does not fit")).toBe(false)
    const dumb = makeScreen(terminal().terminal, { ansi: false, color: false })
    const m = dumb.line("x")
    dumb.write("y\n")
    expect(dumb.rewrite(m, "z")).toBe(false)
  })

  it("on a dumb terminal redraws the input with CR and spaces, printing completed lines", () => {
    const t = terminal()
    const screen = makeScreen(t.terminal, { ansi: false, color: false })
    const layout = { prompt: "> ", continuation: "  ", columns: 80 }
    screen.showInput({ ...emptyEditor(0), text: "ab", cursor: 2 }, layout)
    screen.showInput({ ...emptyEditor(0), text: "a", cursor: 1 }, layout)
    screen.showInput({ ...emptyEditor(0), text: "a\nb", cursor: 3 }, layout)
    screen.write("out\n")
    screen.hideInput()
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking there is none
    expect(t.output()).not.toMatch(/\u001b/)
    expect(t.output()).toBe("\r> ab\r> ab\r> a \r> a\r> a\n\r  b\r  b\r   \rout\n\r  b\r  b\r   \r")
  })
})
