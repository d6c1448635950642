/**
 * Text mode: the answer streams to stdout; tool calls, results and retries go to stderr as compact lines. Every
 * call is numbered in the turn (`#1`, `#2`, ...) and its result line repeats the number and the tool name, so
 * results of parallel calls can be told apart. Error results are shown whole (every line, sanitized), except that
 * very long ones keep their first and last lines (hints usually come last).
 */
import type { AgentEvent } from "../streams/AgentEvent.js"
import { sanitizeForTerminal } from "../streams/Sanitize.js"
import { type ToolCall, type ToolResult, toolOutputText } from "../streams/ToolCall.js"

export interface Line {
  readonly to: "stdout" | "stderr"
  readonly text: string
}

/** Error results longer than this many lines keep their first and last `MAX_ERROR_LINES / 2`. */
export const MAX_ERROR_LINES = 40
const INPUT_SUMMARY = 120

/** The call's main argument (its first string field), on one line and shortened. */
export const summarizeInput = (input: unknown): string => {
  if (typeof input !== "object" || input === null) return ""
  const first = Object.values(input).find((v): v is string => typeof v === "string") ?? ""
  const oneLine = sanitizeForTerminal(first).replace(/\s*\n\s*/g, " ⏎ ")
  return oneLine.length > INPUT_SUMMARY ? `${oneLine.slice(0, INPUT_SUMMARY - 3)}...` : oneLine
}

/** All lines of an error text, indented; the middle of a very long one is replaced by a count. */
export const errorBody = (text: string, indent: string): string => {
  const lines = sanitizeForTerminal(text).trimEnd().split("\n")
  const kept =
    lines.length <= MAX_ERROR_LINES
      ? lines
      : [
          ...lines.slice(0, MAX_ERROR_LINES / 2),
          `[... ${lines.length - MAX_ERROR_LINES} more lines ...]`,
          ...lines.slice(-MAX_ERROR_LINES / 2)
        ]
  return kept.map((line) => `${indent}${line}`).join("\n")
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

/** A printer for one run: call numbers are kept across the turn's steps. */
export const makeTextPrinter = (): ((event: AgentEvent) => ReadonlyArray<Line>) => {
  const numbers = new Map<string, number>()
  const calls = new Map<string, ToolCall>()
  const shown = new Set<string>()
  let atLineStart = true
  const label = (callId: string): string => {
    let n = numbers.get(callId)
    if (n === undefined) {
      n = numbers.size + 1
      numbers.set(callId, n)
    }
    return `#${n}`
  }
  const completedLines = (result: ToolResult): ReadonlyArray<Line> => {
    const head = `  ${label(result.toolCallId)} ${sanitizeForTerminal(result.toolName)}`
    const text = toolOutputText(result.output)
    if (result.status === "success") {
      const lines = text === "" ? 0 : text.replace(/\n$/, "").split("\n").length
      return [{ to: "stderr", text: `${head}: ${plural(lines, "line")} (${result.durationMs} ms)\n` }]
    }
    const body = text.trim() === "" ? "" : `\n${errorBody(text, "    ")}`
    return [{ to: "stderr", text: `${head} ${result.status} (${result.durationMs} ms)${body}\n` }]
  }
  const callLine = (call: ToolCall): string =>
    `\n> ${label(call.id)} ${sanitizeForTerminal(call.name)}(${summarizeInput(call.input)})\n`
  // A sub-agent's lines are indented and tagged with its id; its text stays off stdout (its answer is the Task result).
  const subAgentLines = (event: AgentEvent): ReadonlyArray<Line> => {
    const tag = `  [${sanitizeForTerminal(event.agentId)}]`
    const subCall = (call: ToolCall) =>
      `${tag} > ${label(call.id)} ${sanitizeForTerminal(call.name)}(${summarizeInput(call.input)})\n`
    switch (event.type) {
      case "tool_call.completed":
        calls.set(event.call.id, event.call)
        label(event.call.id)
        return []
      case "tool.started":
        shown.add(event.call.id)
        return [{ to: "stderr", text: subCall(event.call) }]
      case "tool.completed": {
        const call = calls.get(event.result.toolCallId)
        const intro = shown.has(event.result.toolCallId) || call === undefined ? [] : [subCall(call)]
        shown.add(event.result.toolCallId)
        return [...intro, ...completedLines(event.result).map((l) => `${tag}${l.text}`)].map((text) => ({
          to: "stderr" as const,
          text
        }))
      }
      case "turn.ended":
        return [{ to: "stderr", text: `${tag} done: ${plural(event.steps, "step")} (${event.stopReason})\n` }]
      case "interrupted":
        return [{ to: "stderr", text: `${tag} interrupted\n` }]
      case "failed":
        return [
          { to: "stderr", text: `${tag} failed: ${sanitizeForTerminal(event.error.message).split("\n")[0] ?? ""}\n` }
        ]
      default:
        return []
    }
  }
  return (event) => {
    if (event.parentAgentId !== undefined) return subAgentLines(event)
    switch (event.type) {
      case "text.delta": {
        const text = sanitizeForTerminal(event.text)
        if (text !== "") atLineStart = text.endsWith("\n")
        return [{ to: "stdout", text }]
      }
      case "step.started": {
        // Text of an earlier step (before its tool calls) ends its line before the next step's text.
        if (atLineStart) return []
        atLineStart = true
        return [{ to: "stdout", text: "\n" }]
      }
      case "tool_call.completed":
        // Known before it runs (or is denied): a call that never starts is still shown with its input.
        calls.set(event.call.id, event.call)
        label(event.call.id)
        return []
      case "tool.started":
        shown.add(event.call.id)
        return [{ to: "stderr", text: callLine(event.call) }]
      case "tool.completed": {
        const result = event.result
        const call = calls.get(result.toolCallId)
        const intro =
          shown.has(result.toolCallId) || call === undefined ? [] : [{ to: "stderr" as const, text: callLine(call) }]
        shown.add(result.toolCallId)
        return [...intro, ...completedLines(result)]
      }
      case "retry.scheduled":
        return [
          {
            to: "stderr",
            text: `sage: ${sanitizeForTerminal(event.reason)}, retrying in ${Math.round(event.delayMs / 100) / 10}s (attempt ${event.attempt})\n`
          }
        ]
      case "turn.ended":
        return atLineStart ? [] : [{ to: "stdout", text: "\n" }]
      case "interrupted":
        return [{ to: "stderr", text: "\nsage: interrupted\n" }]
      case "compaction":
        return [
          {
            to: "stderr",
            text: `\nsage: compacted the conversation (${plural(event.messagesBefore - event.messagesKept, "message")} summarized, about ${event.tokensBefore} -> ${event.tokensAfter} tokens)\n`
          }
        ]
      case "hook": {
        // Only what needs attention: a hook that blocked, failed or timed out (a failed one changed nothing).
        if (event.outcome === "success") return []
        const hook = sanitizeForTerminal(event.hook).split("\n")[0] ?? ""
        const short = hook.length > 60 ? `${hook.slice(0, 57)}...` : hook
        const why = sanitizeForTerminal(event.message ?? "").split("\n")[0] ?? ""
        return [
          {
            to: "stderr",
            text: `\nsage: ${event.event} hook (${short}) ${event.outcome === "blocked" ? "blocked" : event.outcome === "timeout" ? "timed out" : "failed"}${why === "" ? "" : `: ${why}`}\n`
          }
        ]
      }
      case "compaction.failed":
        return [
          {
            to: "stderr",
            text: `\nsage: ${sanitizeForTerminal(event.error.message).split("\n")[0] ?? ""}\n`
          }
        ]
      case "mcp.status": {
        // Only what needs attention: a server that failed or waits for approval (or came back).
        if (event.state === "connecting") return []
        const why = sanitizeForTerminal(event.reason ?? "").split("\n")[0] ?? ""
        const server = sanitizeForTerminal(event.server)
        const text =
          event.state === "connected"
            ? `MCP server ${server} connected (${plural(event.tools, "tool")})`
            : event.state === "needs-approval"
              ? `MCP server ${server} needs approval: sage mcp approve ${server}`
              : `MCP server ${server} failed${why === "" ? "" : `: ${why}`}`
        return [{ to: "stderr", text: `sage: ${text}\n` }]
      }
      default:
        return []
    }
  }
}
