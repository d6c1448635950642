/**
 * The session log format and what is derived from it. Pure: text in, records, conversation and repairs out.
 *
 * A log is JSON lines: a header (`type: "session"`), then `AgentEvent`s and the store's records. The
 * conversation is a fold over the events of the main agent (sub-agent events carry a `parentAgentId` and are
 * skipped): `turn.started` adds the user's prompt, `message` adds a message, `compaction` replaces all but the
 * last `messagesKept` messages with its summary. The live conversation (`Conversation.ts`) uses the same fold, so a resumed session
 * sends exactly what the original would have.
 *
 * Repair: a line that cannot be read (a torn write) is skipped and named in a `session.repaired` record; a turn
 * that never ended (the process died) is closed the way an interrupt closes one: what streamed of the current
 * step becomes a partial assistant message, every tool call gets its real result when the log has it (a
 * `tool.completed` event) and an "interrupted" result otherwise, and an `interrupted` event ends the turn.
 */
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import { rebuild } from "../agent/Compaction.js"
import { syntheticResult, toolResultsMessage } from "../agent/TranscriptRepair.js"
import {
  type LoadedSession,
  type LogRecord,
  SESSION_FORMAT,
  type SessionHeader,
  type SessionRecord,
  type SessionRepaired,
  type SessionSummary,
  type TodoItem
} from "../services/SessionStore.js"
import { PROTOCOL_VERSION } from "../streams/AgentEvent.js"
import { type ContentBlock, Message } from "../streams/Message.js"
import { ToolCall, ToolResult } from "../streams/ToolCall.js"

export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/

export const isValidSessionId = (id: string): boolean => SESSION_ID_PATTERN.test(id)

/** What a tool that was running when the process died gets as its result. */
export const CRASHED_TOOL_MESSAGE = "The session ended (the process stopped) before this tool finished."
export const CRASHED_TURN_REASON = "the session ended before this turn finished (repaired when the log was loaded)"

const TITLE_LENGTH = 80

/** One line of a log. */
export interface ParsedLine {
  /** 1-based line number. */
  readonly line: number
  readonly record: LogRecord | undefined
}

const decodeMessage = Schema.decodeUnknownExit(Message)
const decodeToolCall = Schema.decodeUnknownExit(ToolCall)
const decodeToolResult = Schema.decodeUnknownExit(ToolResult)
const TodoList = Schema.Array(
  Schema.Struct({
    content: Schema.String,
    status: Schema.Literals(["pending", "in_progress", "completed"]),
    activeForm: Schema.optional(Schema.String)
  })
)
const decodeTodos = Schema.decodeUnknownExit(TodoList)

const isRecord = (value: unknown): value is LogRecord =>
  typeof value === "object" &&
  value !== null &&
  !Array.isArray(value) &&
  "type" in value &&
  typeof value.type === "string"

/** Parses one line (undefined when it is not a JSON object with a string `type`). */
export const parseLine = (text: string): LogRecord | undefined => {
  try {
    const value: unknown = JSON.parse(text)
    return isRecord(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** The lines of a log's text. A last line without its newline is kept (it may be complete, or torn). */
export const splitLines = (
  text: string
): { readonly lines: ReadonlyArray<ParsedLine>; readonly endsWithNewline: boolean } => {
  const lines: Array<ParsedLine> = []
  let start = 0
  let n = 0
  while (start < text.length) {
    const end = text.indexOf("\n", start)
    const stop = end === -1 ? text.length : end
    n++
    const raw = text.slice(start, stop)
    if (raw.trim() !== "") lines.push({ line: n, record: parseLine(raw) })
    start = stop + 1
  }
  return { lines, endsWithNewline: text.length === 0 || text.endsWith("\n") }
}

/** One line of JSON for a record (no newline). */
export const recordToJson = (record: SessionRecord | SessionHeader): string => JSON.stringify(record)

const str = (record: LogRecord, key: string): string | undefined => {
  const value = record[key]
  return typeof value === "string" ? value : undefined
}

const num = (record: LogRecord, key: string): number | undefined => {
  const value = record[key]
  return typeof value === "number" && Number.isFinite(value) ? value : undefined
}

export const headerOf = (record: LogRecord): SessionHeader | undefined => {
  const id = str(record, "id")
  if (record.type !== "session" || id === undefined) return undefined
  const parent = str(record, "parentSessionId")
  return {
    type: "session",
    format: num(record, "format") ?? SESSION_FORMAT,
    id,
    cwd: str(record, "cwd") ?? "",
    created: num(record, "created") ?? 0,
    provider: str(record, "provider") ?? "unknown",
    model: str(record, "model") ?? "unknown",
    ...(parent === undefined ? {} : { parentSessionId: parent })
  }
}

export const titleOf = (prompt: string): string => {
  const flat = prompt.replace(/\s+/g, " ").trim()
  return flat.length > TITLE_LENGTH ? `${flat.slice(0, TITLE_LENGTH - 1)}…` : flat
}

/** A turn that has started and not ended yet. */
interface OpenTurn {
  readonly turnId: string
  readonly sessionId: string
  readonly agentId: string
  /** Text streamed in the current step, not yet in a `message`. */
  text: string
  /** Tool calls completed in the current step's stream, not yet in a `message`. */
  calls: Array<ToolCall>
  /** Results of the turn's tools, by call id. */
  readonly results: Map<string, ToolResult>
}

/** The fold's state: everything derived from the records so far. */
export interface LogState {
  header: SessionHeader | undefined
  messages: Array<Message>
  todos: ReadonlyArray<TodoItem>
  grants: Array<string>
  turns: number
  costUsd: number | undefined
  title: string | undefined
  lastUsed: number
  open: OpenTurn | undefined
  /** Line numbers that a `session.repaired` record already accounts for. */
  readonly covered: Set<number>
}

export const emptyState = (): LogState => ({
  header: undefined,
  messages: [],
  todos: [],
  grants: [],
  turns: 0,
  costUsd: undefined,
  title: undefined,
  lastUsed: 0,
  open: undefined,
  covered: new Set()
})

const userMessage = (prompt: string): Message => ({ role: "user", content: [{ type: "text", text: prompt }] })

/** Applies one record to the state (mutating it: the fold is the hot path of loading a long log). */
export const applyRecord = (state: LogState, record: LogRecord): void => {
  // A repair record says when the log was repaired, not when the session was used.
  const timestamp = record.type === "session.repaired" ? undefined : num(record, "timestamp")
  if (timestamp !== undefined && timestamp > state.lastUsed) state.lastUsed = timestamp
  switch (record.type) {
    case "session": {
      if (state.header === undefined) {
        state.header = headerOf(record)
        if (state.header !== undefined && state.header.created > state.lastUsed) state.lastUsed = state.header.created
      }
      return
    }
    case "session.repaired": {
      const skipped = record.skipped
      if (Array.isArray(skipped)) for (const n of skipped) if (typeof n === "number") state.covered.add(n)
      return
    }
    case "permission.granted": {
      const rule = str(record, "rule")
      if (rule !== undefined && !state.grants.includes(rule)) state.grants.push(rule)
      return
    }
    // A grant for this session holds for the whole session, sub-agents' answers included.
    case "permission.resolved": {
      const rule = str(record, "rule")
      if (record.source === "user:session" && rule !== undefined && !state.grants.includes(rule))
        state.grants.push(rule)
      return
    }
  }
  // Events of sub-agents do not belong to the main conversation.
  if (record.parentAgentId !== undefined) return
  switch (record.type) {
    case "turn.started": {
      const prompt = str(record, "prompt") ?? ""
      state.title ??= titleOf(prompt)
      state.messages.push(userMessage(prompt))
      state.open = {
        turnId: str(record, "turnId") ?? "",
        sessionId: str(record, "sessionId") ?? state.header?.id ?? "",
        agentId: str(record, "agentId") ?? "main",
        text: "",
        calls: [],
        results: new Map()
      }
      return
    }
    case "step.started": {
      if (state.open !== undefined) {
        state.open.text = ""
        state.open.calls = []
      }
      return
    }
    case "text.delta": {
      if (state.open !== undefined) state.open.text += str(record, "text") ?? ""
      return
    }
    case "tool_call.completed": {
      const call = decodeToolCall(record.call)
      if (state.open !== undefined && Exit.isSuccess(call)) state.open.calls.push(call.value)
      return
    }
    case "tool.completed": {
      const result = decodeToolResult(record.result)
      if (state.open !== undefined && Exit.isSuccess(result))
        state.open.results.set(result.value.toolCallId, result.value)
      return
    }
    case "message": {
      const message = decodeMessage(record.message)
      if (Exit.isSuccess(message)) state.messages.push(message.value)
      if (state.open !== undefined) {
        state.open.text = ""
        state.open.calls = []
      }
      return
    }
    case "compaction": {
      // The summary replaces all but the last `messagesKept` messages (as the agent did when it compacted).
      const summary = str(record, "summary")
      const kept = num(record, "messagesKept")
      if (summary !== undefined) state.messages = [...rebuild(state.messages, summary, kept ?? 0)]
      return
    }
    case "todos.updated": {
      const todos = decodeTodos(record.todos)
      if (Exit.isSuccess(todos)) state.todos = todos.value
      return
    }
    case "turn.ended":
    case "interrupted":
    case "failed": {
      state.turns++
      const cost = num(record, "costUsd")
      if (cost !== undefined) state.costUsd = (state.costUsd ?? 0) + cost
      state.open = undefined
      return
    }
  }
}

/** The records that close a turn the process never finished (see the module comment). */
export const closeOpenTurn = (state: LogState, timestamp: number): ReadonlyArray<SessionRecord> => {
  const open = state.open
  if (open === undefined) return []
  const envelope = { v: PROTOCOL_VERSION, sessionId: open.sessionId, agentId: open.agentId, timestamp }
  const out: Array<SessionRecord> = []
  const partial: Array<ContentBlock> = [
    ...(open.text === "" ? [] : [{ type: "text" as const, text: open.text }]),
    ...open.calls.map((call): ContentBlock => ({ type: "tool_use", id: call.id, name: call.name, input: call.input }))
  ]
  if (partial.length > 0) {
    out.push({ ...envelope, type: "message", turnId: open.turnId, message: { role: "assistant", content: partial } })
  }
  const last = partial.length > 0 ? { role: "assistant" as const, content: partial } : state.messages.at(-1)
  const uses = last?.role === "assistant" ? last.content.flatMap((b) => (b.type === "tool_use" ? [b] : [])) : []
  if (uses.length > 0) {
    const results = uses.map((use) => {
      const done = open.results.get(use.id)
      if (done !== undefined) return done
      const made = syntheticResult({ id: use.id, name: use.name, input: use.input }, "cancelled", CRASHED_TOOL_MESSAGE)
      out.push({ ...envelope, type: "tool.completed", turnId: open.turnId, result: made })
      return made
    })
    out.push({ ...envelope, type: "message", turnId: open.turnId, message: toolResultsMessage(results) })
  }
  out.push({ ...envelope, type: "interrupted", turnId: open.turnId, reason: CRASHED_TURN_REASON })
  return out
}

/** The result of reading a log: its state, its records, and what must be appended to repair it. */
export interface ReadLog {
  readonly state: LogState
  readonly records: ReadonlyArray<LogRecord>
  /** Records to append (a synthesized header, the closing of an unfinished turn, the `session.repaired` record). */
  readonly repair: ReadonlyArray<SessionRecord | SessionHeader>
  /** Whether the file needs a newline before the repair (its last line is torn). */
  readonly needsNewline: boolean
  readonly repairs: ReadonlyArray<string>
}

/**
 * Reads a log's text. `id` and `now` fill in a header when the log has none (an empty or torn file). Never fails:
 * whatever cannot be read is skipped and reported.
 */
export const readLog = (text: string, id: string, now: number): ReadLog => {
  const { lines, endsWithNewline } = splitLines(text)
  const state = emptyState()
  const records: Array<LogRecord> = []
  const bad: Array<number> = []
  for (const { line, record } of lines) {
    if (record === undefined) bad.push(line)
    else {
      applyRecord(state, record)
      records.push(record)
    }
  }
  const repairs: Array<string> = []
  const repair: Array<SessionRecord | SessionHeader> = []
  const skipped = bad.filter((n) => !state.covered.has(n))
  const lastLine = lines.at(-1)?.line
  for (const n of skipped) {
    repairs.push(
      n === lastLine && !endsWithNewline ? `skipped a torn last line (line ${n})` : `skipped an unreadable line ${n}`
    )
  }
  if (state.header === undefined) {
    const header: SessionHeader = {
      type: "session",
      format: SESSION_FORMAT,
      id,
      cwd: "",
      created: now,
      provider: "unknown",
      model: "unknown"
    }
    repair.push(header)
    repairs.push("the log had no readable header: wrote one (cwd, provider and model unknown)")
  }
  // The closing events are dated when the session was last alive (its last record), not when it was repaired.
  const closing = closeOpenTurn(state, state.lastUsed > 0 ? state.lastUsed : now)
  if (closing.length > 0) {
    const turnId = state.open?.turnId ?? ""
    const made = closing.filter((r) => r.type === "tool.completed").length
    repairs.push(
      `closed turn ${turnId}, which never ended${made === 0 ? "" : ` (${made} unfinished tool call${made === 1 ? "" : "s"} marked interrupted)`}`
    )
    repair.push(...closing)
  }
  const needsNewline = !endsWithNewline
  if (repairs.length > 0) {
    const record: SessionRepaired = { type: "session.repaired", timestamp: now, repairs, skipped }
    repair.push(record)
  }
  for (const record of repair) {
    applyRecord(state, record)
    records.push(record)
  }
  return { state, records, repair, needsNewline: needsNewline && lines.length > 0, repairs }
}

export const summaryOf = (state: LogState, id: string): SessionSummary => {
  const header = state.header
  return {
    id: header?.id ?? id,
    title: state.title ?? "",
    cwd: header?.cwd ?? "",
    created: header?.created ?? 0,
    lastUsed: state.lastUsed,
    turns: state.turns,
    ...(state.costUsd === undefined ? {} : { costUsd: state.costUsd }),
    provider: header?.provider ?? "unknown",
    model: header?.model ?? "unknown",
    ...(header?.parentSessionId === undefined ? {} : { parentSessionId: header.parentSessionId })
  }
}

export const loadedOf = (read: ReadLog, id: string): LoadedSession => {
  const { state } = read
  const header: SessionHeader = state.header ?? {
    type: "session",
    format: SESSION_FORMAT,
    id,
    cwd: "",
    created: 0,
    provider: "unknown",
    model: "unknown"
  }
  return {
    header,
    summary: summaryOf(state, id),
    messages: [...state.messages],
    todos: state.todos,
    grants: [...state.grants],
    repairs: read.repairs,
    records: read.records
  }
}
