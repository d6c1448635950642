/**
 * One turn on the screen: the answer as Markdown, reasoning (dim, when shown), and every tool call as one compact
 * line with a live status: `⏺ #1 Bash(npm test) running…`, changed in place to `✓ #1 Bash(npm test) · 12 lines ·
 * 0.4s` or `✗ #1 Bash(...) failed · <first line>` (with the error's first lines below). Calls are numbered in the
 * turn, so parallel calls can be told apart. Where a line cannot be changed in place (a dumb terminal, scrolled
 * off), the final status is a new line. Everything from the model or a tool is sanitized.
 */
import type { AgentEvent } from "../../streams/AgentEvent.js"
import { sanitizeForTerminal } from "../../streams/Sanitize.js"
import { type ToolCall, type ToolResult, toolOutputText } from "../../streams/ToolCall.js"
import { summarizeInput } from "../TextPrinter.js"
import { visibleWidth } from "./LineEditor.js"
import { makeMarkdownRenderer } from "./markdown.js"
import type { Mark, Screen } from "./Screen.js"

export interface Palette {
  readonly dim: (s: string) => string
  readonly bold: (s: string) => string
  readonly red: (s: string) => string
  readonly green: (s: string) => string
  readonly yellow: (s: string) => string
  readonly cyan: (s: string) => string
}

const wrap = (open: string, close: string) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`
const plain = (s: string) => s

export const palette = (color: boolean): Palette =>
  color
    ? {
        dim: wrap("2", "22"),
        bold: wrap("1", "22"),
        red: wrap("31", "39"),
        green: wrap("32", "39"),
        yellow: wrap("33", "39"),
        cyan: wrap("36", "39")
      }
    : { dim: plain, bold: plain, red: plain, green: plain, yellow: plain, cyan: plain }

/** Error lines shown under a failed call. */
const ERROR_LINES = 6

const seconds = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)}s`)

/** The one-line summary of a result. */
export const resultSummary = (result: ToolResult): string => {
  const text = toolOutputText(result.output)
  if (result.status === "success") {
    const lines = text === "" ? 0 : text.replace(/\n$/, "").split("\n").length
    return `${lines} line${lines === 1 ? "" : "s"} · ${seconds(result.durationMs)}`
  }
  const first = sanitizeForTerminal(text).trim().split("\n")[0] ?? ""
  return `${result.status}${first === "" ? "" : ` · ${first}`}`
}

/** Shortens to at most `width` columns. */
export const fitWidth = (text: string, width: number): string => {
  const points = Array.from(text)
  return points.length <= width ? text : `${points.slice(0, Math.max(1, width - 1)).join("")}…`
}

export interface TurnView {
  readonly onEvent: (event: AgentEvent) => void
  /** Ends the answer's last line (before a prompt or a message). */
  readonly finish: () => void
  /** Whether the turn's terminal event was shown. */
  readonly sawEnd: () => boolean
}

export const makeTurnView = (screen: Screen, options: { readonly showReasoning: boolean }): TurnView => {
  const colors = palette(screen.color)
  const ascii = !screen.color
  const symbols = ascii
    ? { running: "-", done: "+", failed: "x" }
    : { running: colors.yellow("⏺"), done: colors.green("✓"), failed: colors.red("✗") }
  const markdown = makeMarkdownRenderer({ color: screen.color, columns: screen.columns() })
  const numbers = new Map<string, number>()
  const calls = new Map<string, ToolCall>()
  const marks = new Map<string, Mark>()
  let reasoning = ""
  let reasoningOpen = false
  let ended = false

  const number = (id: string): number => {
    let n = numbers.get(id)
    if (n === undefined) {
      n = numbers.size + 1
      numbers.set(id, n)
    }
    return n
  }
  const flushText = () => {
    screen.write(markdown.flush())
    if (!screen.atLineStart()) screen.write("\n")
  }
  const flushReasoning = () => {
    if (reasoning !== "") screen.write(`${colors.dim(reasoning)}\n`)
    reasoning = ""
    reasoningOpen = false
  }
  const callText = (call: ToolCall): string => {
    const name = sanitizeForTerminal(call.name)
    const input = summarizeInput(call.input)
    return `#${number(call.id)} ${colors.bold(name)}${input === "" ? "" : colors.dim(`(${input})`)}`
  }
  const statusLine = (symbol: string, call: ToolCall, status: string): string => {
    const width = screen.columns() - 1
    const head = `${symbol} ${callText(call)}`
    const room = width - visibleWidth(head) - 3
    if (room < 8) return fitWidth(`${symbol} #${number(call.id)} ${sanitizeForTerminal(call.name)} ${status}`, width)
    return `${head} ${colors.dim(fitWidth(status, room))}`
  }

  /** A sub-agent's tool calls, indented under its parent's Task call and tagged with its id; the rest is not shown. */
  const onSubAgentEvent = (event: AgentEvent): void => {
    const tag = colors.dim(`[${sanitizeForTerminal(event.agentId)}]`)
    switch (event.type) {
      case "tool_call.completed":
        calls.set(event.call.id, event.call)
        number(event.call.id)
        return
      case "tool.started":
        flushReasoning()
        flushText()
        marks.set(event.call.id, screen.line(`  ${tag} ${statusLine(symbols.running, event.call, "running…")}`))
        return
      case "tool.completed": {
        flushText()
        const result = event.result
        const call = calls.get(result.toolCallId) ?? { id: result.toolCallId, name: result.toolName, input: {} }
        const symbol = result.status === "success" ? symbols.done : symbols.failed
        const text = `  ${tag} ${statusLine(symbol, call, resultSummary(result))}`
        const mark = marks.get(result.toolCallId)
        marks.delete(result.toolCallId)
        if (mark === undefined || !screen.rewrite(mark, text)) screen.line(text)
        return
      }
      case "interrupted":
      case "failed":
        flushText()
        screen.line(`  ${tag} ${event.type === "failed" ? colors.red("failed") : colors.yellow("interrupted")}`)
        return
      default:
        return
    }
  }

  const onEvent = (event: AgentEvent): void => {
    if (event.parentAgentId !== undefined) {
      onSubAgentEvent(event)
      return
    }
    switch (event.type) {
      case "text.delta":
        if (reasoningOpen) flushReasoning()
        screen.write(markdown.push(event.text))
        return
      case "reasoning.delta": {
        if (!options.showReasoning) return
        if (!reasoningOpen) {
          flushText()
          reasoningOpen = true
        }
        const text = sanitizeForTerminal(event.text)
        const lines = (reasoning + text).split("\n")
        reasoning = lines.pop() ?? ""
        for (const line of lines) screen.write(`${colors.dim(line)}\n`)
        return
      }
      case "step.started":
        flushReasoning()
        flushText()
        return
      case "tool_call.completed":
        calls.set(event.call.id, event.call)
        number(event.call.id)
        return
      case "permission.requested":
        flushReasoning()
        flushText()
        return
      case "tool.started": {
        flushReasoning()
        flushText()
        calls.set(event.call.id, event.call)
        marks.set(event.call.id, screen.line(statusLine(symbols.running, event.call, "running…")))
        return
      }
      case "tool.completed": {
        flushText()
        const result = event.result
        const call = calls.get(result.toolCallId) ?? { id: result.toolCallId, name: result.toolName, input: {} }
        const ok = result.status === "success"
        const text = statusLine(ok ? symbols.done : symbols.failed, call, resultSummary(result))
        const mark = marks.get(result.toolCallId)
        marks.delete(result.toolCallId)
        if (mark === undefined || !screen.rewrite(mark, text)) screen.line(text)
        if (!ok && result.status !== "denied" && result.status !== "cancelled") {
          const lines = sanitizeForTerminal(toolOutputText(result.output)).trim().split("\n").slice(1, ERROR_LINES)
          for (const line of lines) screen.write(`    ${colors.dim(fitWidth(line, screen.columns() - 5))}\n`)
        }
        return
      }
      case "retry.scheduled":
        flushText()
        screen.line(
          colors.yellow(
            `${sanitizeForTerminal(event.reason)}, retrying in ${Math.round(event.delayMs / 100) / 10}s (attempt ${event.attempt})`
          )
        )
        return
      case "compaction":
        flushText()
        screen.line(
          colors.dim(
            `⟳ conversation compacted (${event.trigger}): ~${event.tokensBefore} → ~${event.tokensAfter} tokens, ${event.messagesKept} recent messages kept`
          )
        )
        return
      case "compaction.failed":
        flushText()
        screen.line(colors.yellow(`compaction failed: ${sanitizeForTerminal(event.error.message).split("\n")[0]}`))
        return
      case "turn.ended":
      case "interrupted":
        ended = true
        flushReasoning()
        flushText()
        if (event.type === "interrupted") screen.line(colors.yellow(`${ascii ? "-" : "⏹"} interrupted`))
        return
      case "failed":
        ended = true
        flushReasoning()
        flushText()
        screen.line(
          colors.red(`error: ${sanitizeForTerminal(`${event.error.tag}: ${event.error.message}`).split("\n")[0]}`)
        )
        return
      default:
        return
    }
  }
  return {
    onEvent,
    finish: () => {
      flushReasoning()
      flushText()
    },
    sawEnd: () => ended
  }
}
