import { describe, expect, it } from "@effect/vitest"
import { errorBody, MAX_ERROR_LINES, makeTextPrinter, summarizeInput } from "../../src/cli/TextPrinter.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import { Usage } from "../../src/streams/Usage.js"

const envelope = { v: 1 as const, sessionId: "s", agentId: "a", timestamp: 0 }
const started = (id: string, name: string, input: unknown): AgentEvent => ({
  ...envelope,
  type: "tool.started",
  turnId: "t",
  call: { id, name, input }
})
const completed = (
  id: string,
  name: string,
  status: "success" | "error" | "denied" | "timeout" | "cancelled",
  text: string
): AgentEvent => ({
  ...envelope,
  type: "tool.completed",
  turnId: "t",
  result: { toolCallId: id, toolName: name, status, output: text === "" ? [] : [{ type: "text", text }], durationMs: 7 }
})
const delta = (text: string): AgentEvent => ({ ...envelope, type: "text.delta", turnId: "t", text })
const render = (events: ReadonlyArray<AgentEvent>) => {
  const print = makeTextPrinter()
  const out = { stdout: "", stderr: "" }
  for (const event of events) for (const line of print(event)) out[line.to] += line.text
  return out
}

describe("text mode", () => {
  it("numbers parallel calls and repeats number and name on each result, in any completion order", () => {
    const { stderr } = render([
      started("toolu_a", "Read", { file_path: "a.txt" }),
      started("toolu_b", "Read", { file_path: "b.txt" }),
      completed("toolu_b", "Read", "success", "one\ntwo\n"),
      completed("toolu_a", "Read", "success", "x")
    ])
    expect(stderr).toBe("\n> #1 Read(a.txt)\n\n> #2 Read(b.txt)\n  #2 Read: 2 lines (7 ms)\n  #1 Read: 1 line (7 ms)\n")
  })

  it("shows every line of an error, sanitized and indented, with a long hint kept whole", () => {
    const hint = `To allow it, run again with --allowed-tools "Bash(npm publish:*)" ${"or add a rule to .sage/settings.json ".repeat(5)}`
    const { stderr } = render([
      started("c1", "Bash", { command: "npm publish" }),
      completed("c1", "Bash", "denied", `Permission denied: npm publish needs approval\u001b[31m\n${hint}\n`)
    ])
    expect(stderr).toContain("  #1 Bash denied (7 ms)\n    Permission denied: npm publish needs approval\n")
    expect(stderr).toContain(`    ${hint.trimEnd()}\n`)
    expect(stderr).not.toContain("\u001b")
  })

  it("an error with no text is one line; a very long one keeps its first and last lines", () => {
    expect(render([completed("c", "Bash", "cancelled", "")]).stderr).toBe("  #1 Bash cancelled (7 ms)\n")
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`)
    const body = errorBody(lines.join("\n"), "  ")
    const shown = body.split("\n")
    expect(shown).toHaveLength(MAX_ERROR_LINES + 1)
    expect(shown[0]).toBe("  line 0")
    expect(shown).toContain("  [... 60 more lines ...]")
    expect(shown.at(-1)).toBe("  line 99")
  })

  it("summarizes the input on one line and shortens it", () => {
    expect(summarizeInput({ command: "echo a\necho b" })).toBe("echo a ⏎ echo b")
    expect(summarizeInput({ n: 1 })).toBe("")
    expect(summarizeInput("raw")).toBe("")
    expect(summarizeInput({ command: "x".repeat(500) })).toHaveLength(120)
  })

  it("the answer streams to stdout, sanitized, with one final newline and a break between steps", () => {
    const usage = Usage.empty
    const { stdout, stderr } = render([
      { ...envelope, type: "step.started", turnId: "t", step: 1 },
      delta("Let me look.\u001b[2J"),
      { ...envelope, type: "step.started", turnId: "t", step: 2 },
      delta("Done"),
      { ...envelope, type: "turn.ended", turnId: "t", stopReason: "end_turn", steps: 2, usage, text: "Done" },
      {
        ...envelope,
        type: "retry.scheduled",
        turnId: "t",
        attempt: 2,
        delayMs: 1500,
        reason: "overloaded",
        message: "m"
      },
      { ...envelope, type: "interrupted", turnId: "t", reason: "signal" }
    ])
    expect(stdout).toBe("Let me look.\nDone\n")
    expect(stderr).toBe("sage: overloaded, retrying in 1.5s (attempt 2)\n\nsage: interrupted\n")
    expect(
      render([
        delta("done\n"),
        { ...envelope, type: "turn.ended", turnId: "t", stopReason: "end_turn", steps: 1, usage, text: "done\n" }
      ]).stdout
    ).toBe("done\n")
  })
})
