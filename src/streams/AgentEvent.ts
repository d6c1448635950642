/**
 * AgentEvent v1: the one event protocol. The same JSON is printed by `sage --output-format stream-json`, yielded
 * by the SDK's async iterator, sent by the HTTP server as SSE `data:` and stored in session logs.
 *
 * Every event carries the protocol version `v`, the `sessionId`, the `agentId` that produced it (and
 * `parentAgentId` for sub-agents), and a `timestamp` in epoch milliseconds. Consumers must tolerate unknown
 * `type`s: `decodeAgentEvent` turns them into `UnknownAgentEvent` instead of failing.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { Message } from "./Message.js"
import { typed } from "./Tagged.js"
import { ToolCall, ToolResult } from "./ToolCall.js"
import { StopReason, Usage } from "./Usage.js"

export const PROTOCOL_VERSION = 1 as const

const envelope = {
  v: Schema.Literal(PROTOCOL_VERSION),
  sessionId: Schema.String,
  agentId: Schema.String,
  parentAgentId: Schema.optional(Schema.String),
  timestamp: Schema.Number
}

const event = <const T extends string, F extends Schema.Struct.Fields>(type: T, fields: F) =>
  typed(type, { ...envelope, ...fields })

export const AgentState = Schema.Literals([
  "ready",
  "thinking",
  "executing_tools",
  "waiting_for_permission",
  "completed",
  "failed",
  "cancelled"
])
export type AgentState = typeof AgentState.Type

export const PermissionDecisionKind = Schema.Literals(["allow", "deny", "ask"])

export const SessionStarted = event("session.started", {
  cwd: Schema.String,
  provider: Schema.String,
  model: Schema.String
})
export const SessionEnded = event("session.ended", {})
export const TurnStarted = event("turn.started", { turnId: Schema.String, prompt: Schema.String })
export const TurnEnded = event("turn.ended", {
  turnId: Schema.String,
  stopReason: StopReason,
  steps: Schema.Number,
  /** Summed over the turn's model requests (compaction requests included). */
  usage: Usage,
  text: Schema.String,
  /** The turn's cost in USD, when the model's price is known. */
  costUsd: Schema.optional(Schema.Number)
})
/** A model request of the turn begins (one per step). */
export const StepStarted = event("step.started", { turnId: Schema.String, step: Schema.Number })
export const TextDelta = event("text.delta", { turnId: Schema.String, text: Schema.String })
export const ReasoningDelta = event("reasoning.delta", { turnId: Schema.String, text: Schema.String })
export const ToolCallStarted = event("tool_call.started", {
  turnId: Schema.String,
  callId: Schema.String,
  name: Schema.String
})
export const ToolCallDelta = event("tool_call.delta", {
  turnId: Schema.String,
  callId: Schema.String,
  argumentsDelta: Schema.String
})
export const ToolCallCompleted = event("tool_call.completed", { turnId: Schema.String, call: ToolCall })
export const PermissionRequested = event("permission.requested", {
  turnId: Schema.String,
  call: ToolCall,
  reason: Schema.optional(Schema.String)
})
export const PermissionResolved = event("permission.resolved", {
  turnId: Schema.String,
  callId: Schema.String,
  decision: Schema.Literals(["allow", "deny"]),
  /** Who decided: a mode, a rule, the user / callback, or the headless default. */
  source: Schema.String,
  reason: Schema.optional(Schema.String),
  /** The rule the user allowed with the answer (`always`: saved in settings; `for this session`: source `user:session`). */
  rule: Schema.optional(Schema.String)
})
export const ToolStarted = event("tool.started", { turnId: Schema.String, call: ToolCall })
export const ToolProgress = event("tool.progress", {
  turnId: Schema.String,
  callId: Schema.String,
  message: Schema.String
})
export const ToolCompleted = event("tool.completed", { turnId: Schema.String, result: ToolResult })
export const RetryScheduled = event("retry.scheduled", {
  turnId: Schema.String,
  attempt: Schema.Number,
  delayMs: Schema.Number,
  reason: Schema.String,
  message: Schema.String
})
/** Usage of one step and the running total of the turn; `costUsd` when the model's price is known. */
export const UsageReported = event("usage", {
  turnId: Schema.String,
  step: Usage,
  total: Usage,
  costUsd: Schema.optional(Schema.Number)
})
export const StateChanged = event("state.changed", { from: AgentState, to: AgentState })
/** A message was appended to the conversation (assistant output or tool results): enough to rebuild it. */
export const MessageAppended = event("message", { turnId: Schema.String, message: Message })
export const TodoItem = Schema.Struct({
  content: Schema.String,
  status: Schema.Literals(["pending", "in_progress", "completed"]),
  activeForm: Schema.optional(Schema.String)
})
export const TodosUpdated = event("todos.updated", { todos: Schema.Array(TodoItem) })
/**
 * The conversation was compacted: everything before its last `messagesKept` messages was replaced by one user
 * message holding `summary` (see `Compaction.summaryMessage`). The messages before it stay in the session log.
 */
export const CompactionCompleted = event("compaction", {
  /** The turn it happened in (automatic compaction); absent for a manual compaction between turns. */
  turnId: Schema.optional(Schema.String),
  trigger: Schema.Literals(["auto", "manual"]),
  summary: Schema.String,
  /** Messages in the conversation before compaction. */
  messagesBefore: Schema.Number,
  /** The latest messages kept after the summary (0: the summary alone). */
  messagesKept: Schema.Number,
  /** Estimated tokens of the conversation before and after. */
  tokensBefore: Schema.Number,
  tokensAfter: Schema.Number,
  /** Usage of the summarizing request. */
  usage: Usage,
  costUsd: Schema.optional(Schema.Number)
})
/** A compaction failed; the conversation is unchanged. */
export const CompactionFailed = event("compaction.failed", {
  turnId: Schema.optional(Schema.String),
  trigger: Schema.Literals(["auto", "manual"]),
  error: Schema.Struct({ tag: Schema.String, message: Schema.String, retryable: Schema.optional(Schema.Boolean) })
})
/**
 * A hook ran (see `Hooks`): its event, the command (or callback name), how it ended and, when it blocked or failed,
 * why (stderr or the error, bounded). A hook that failed or timed out never stops the turn.
 */
export const HookRan = event("hook", {
  turnId: Schema.optional(Schema.String),
  event: Schema.String,
  hook: Schema.String,
  outcome: Schema.Literals(["success", "blocked", "error", "timeout"]),
  durationMs: Schema.Number,
  exitCode: Schema.optional(Schema.Number),
  message: Schema.optional(Schema.String)
})
/** An MCP server's status changed (or, at the start of a run, is not `connected`): see `McpServers`. */
export const McpStatus = event("mcp.status", {
  server: Schema.String,
  state: Schema.Literals(["connecting", "connected", "failed", "needs-approval"]),
  reason: Schema.optional(Schema.String),
  protocolVersion: Schema.optional(Schema.String),
  tools: Schema.Number
})
export const Interrupted = event("interrupted", { turnId: Schema.String, reason: Schema.String })
export const Failed = event("failed", {
  turnId: Schema.optional(Schema.String),
  error: Schema.Struct({ tag: Schema.String, message: Schema.String, retryable: Schema.optional(Schema.Boolean) })
})

export const AgentEvent = Schema.Union([
  SessionStarted,
  SessionEnded,
  TurnStarted,
  TurnEnded,
  StepStarted,
  TextDelta,
  ReasoningDelta,
  ToolCallStarted,
  ToolCallDelta,
  ToolCallCompleted,
  PermissionRequested,
  PermissionResolved,
  ToolStarted,
  ToolProgress,
  ToolCompleted,
  RetryScheduled,
  UsageReported,
  StateChanged,
  MessageAppended,
  TodosUpdated,
  CompactionCompleted,
  CompactionFailed,
  HookRan,
  McpStatus,
  Interrupted,
  Failed
])
export type AgentEvent = typeof AgentEvent.Type
export type AgentEventType = AgentEvent["type"]
export type AgentEventOf<T extends AgentEventType> = Extract<AgentEvent, { readonly type: T }>

/** An event of a type this version does not know (from a newer producer). Kept, not dropped. */
export interface UnknownAgentEvent {
  readonly type: "unknown"
  readonly originalType: string
  readonly raw: unknown
}

export const AGENT_EVENT_TYPES: ReadonlySet<string> = new Set(
  AgentEvent.members.map((member) => member.fields.type.literal)
)

/** The fields an event producer fills in; the envelope adds `v` and `timestamp`. */
export type EventBody<T extends AgentEventType> = Omit<AgentEventOf<T>, "v" | "timestamp">

const encodeSync = Schema.encodeSync(AgentEvent)
const decodeKnown = Schema.decodeUnknownEffect(AgentEvent)
/** What is read first: the `type` (and `v`) that decide whether the event is known. */
const decodeHead = Schema.decodeUnknownEffect(
  Schema.Struct({ type: Schema.String, v: Schema.optional(Schema.Unknown) })
)
const decodeJson = Schema.decodeUnknownEffect(Schema.fromJsonString(Schema.Unknown))

/** The event as plain JSON-ready data. */
export const encodeAgentEvent = (e: AgentEvent): unknown => encodeSync(e)

/** One JSON line (no newline). */
export const agentEventToJson = (e: AgentEvent): string => JSON.stringify(encodeSync(e))

/**
 * Decode an event. Input without a string `type`, or a known `type` with bad fields, fails with a `SchemaError`;
 * an unknown `type` (or a newer protocol version) succeeds as an `UnknownAgentEvent`.
 */
export const decodeAgentEvent = (input: unknown): Effect.Effect<AgentEvent | UnknownAgentEvent, Schema.SchemaError> =>
  decodeHead(input).pipe(
    Effect.flatMap(
      ({ type, v }): Effect.Effect<AgentEvent | UnknownAgentEvent, Schema.SchemaError> =>
        !AGENT_EVENT_TYPES.has(type) || (typeof v === "number" && v > PROTOCOL_VERSION)
          ? Effect.succeed({ type: "unknown", originalType: type, raw: input })
          : decodeKnown(input)
    )
  )

/** Decode one JSON line. Invalid JSON fails with a `SchemaError`. */
export const decodeAgentEventJson = (line: string): Effect.Effect<AgentEvent | UnknownAgentEvent, Schema.SchemaError> =>
  decodeJson(line).pipe(Effect.flatMap(decodeAgentEvent))
