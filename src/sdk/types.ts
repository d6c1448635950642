/**
 * The plain TypeScript types of the SDK's public surface (`sage-agent/sdk`), written out by hand so that the SDK's
 * `.d.ts` needs no Effect types. They describe the same JSON as the `effect/Schema` definitions in `src/streams/`
 * (the library API); the checks at the bottom of this file make `tsc` fail when the two drift apart.
 */
import type * as Schema from "effect/Schema"
import type { CompactionResult as SchemaCompactionResult } from "../agent/Compaction.js"
import type { RunResult as SchemaRunResult } from "../services/Agent.js"
import type { ModelOverride as SchemaModelOverride } from "../services/ModelCatalog.js"
import type { PermissionMode as SchemaPermissionMode } from "../services/Permissions.js"
import type { ToolKind as SchemaToolKind } from "../services/Tool.js"
import type {
  AgentEvent as SchemaAgentEvent,
  AgentState as SchemaAgentState,
  TodoItem as SchemaTodoItem
} from "../streams/AgentEvent.js"
import type {
  ContentBlock as SchemaContentBlock,
  ImageSource as SchemaImageSource,
  Message as SchemaMessage,
  Role as SchemaRole
} from "../streams/Message.js"
import type {
  ToolCall as SchemaToolCall,
  ToolOutput as SchemaToolOutput,
  ToolResult as SchemaToolResult,
  ToolResultStatus as SchemaToolResultStatus
} from "../streams/ToolCall.js"
import type { StopReason as SchemaStopReason, Usage as SchemaUsage } from "../streams/Usage.js"

// ---------------------------------------------------------------------------------------------------------------
// Usage and stop reasons

/** Token usage of one response or, summed, of a whole turn. */
export interface Usage {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cacheReadTokens: number
  readonly cacheWriteTokens: number
  readonly reasoningTokens: number
}

/**
 * Why a response (or a turn) stopped. The first group comes from models; `max_steps`, `interrupted` and `error`
 * are set by the agent loop.
 */
export type StopReason =
  | "end_turn"
  | "tool_use"
  | "max_tokens"
  | "stop_sequence"
  | "refusal"
  | "pause_turn"
  | "content_filter"
  | "max_steps"
  | "max_budget"
  | "hook"
  | "interrupted"
  | "error"
  | "other"

// ---------------------------------------------------------------------------------------------------------------
// Messages

export interface TextBlock {
  readonly type: "text"
  readonly text: string
  /** An opaque provider token (Gemini `thoughtSignature`) sent back unchanged with this block. */
  readonly signature?: string
}

export type ImageSource =
  | { readonly type: "base64"; readonly mediaType: string; readonly data: string }
  | { readonly type: "url"; readonly url: string }

export interface ImageBlock {
  readonly type: "image"
  readonly source: ImageSource
}

/** A tool call as it appears in an assistant message. */
export interface ToolUseBlock {
  readonly type: "tool_use"
  readonly id: string
  readonly name: string
  readonly input: unknown
  /** An opaque provider token (Gemini `thoughtSignature`) sent back unchanged with this call. */
  readonly signature?: string
}

/** The answer to one tool_use, sent back to the model. */
export interface ToolResultBlock {
  readonly type: "tool_result"
  readonly toolUseId: string
  readonly content: ReadonlyArray<TextBlock | ImageBlock>
  readonly isError: boolean
}

/** Model reasoning; `signature` must be sent back unchanged on the next request (Anthropic). */
export interface ThinkingBlock {
  readonly type: "thinking"
  readonly thinking: string
  readonly signature?: string
  /** The OpenAI Responses reasoning item (id, encrypted content, summary parts), sent back to that API only. */
  readonly openaiReasoning?: {
    readonly id: string
    readonly encryptedContent?: string
    readonly summary: ReadonlyArray<string>
  }
}

/** Encrypted reasoning the provider would not show; kept opaque for the round trip. */
export interface RedactedThinkingBlock {
  readonly type: "redacted_thinking"
  readonly data: string
}

/** An image file in the workspace, for a prompt: read like the `Read` tool reads it (see the README's "Images"). */
export interface ImageFileBlock {
  readonly type: "image"
  /** Relative to `cwd`, or absolute; it must be inside the workspace and readable under the permission rules. */
  readonly path: string
}

/** A prompt: text, or text and image blocks (base64 / URL images, or image files in the workspace). */
export type Prompt = string | ReadonlyArray<TextBlock | ImageBlock | ImageFileBlock>

export type ContentBlock =
  | TextBlock
  | ImageBlock
  | ToolUseBlock
  | ToolResultBlock
  | ThinkingBlock
  | RedactedThinkingBlock

export type Role = "system" | "user" | "assistant" | "tool"

/** One conversation message. `tool` messages hold the tool_result blocks answering the previous assistant turn. */
export interface Message {
  readonly role: Role
  readonly content: ReadonlyArray<ContentBlock>
}

// ---------------------------------------------------------------------------------------------------------------
// Tool calls and results

/** A complete tool call requested by the model. */
export interface ToolCall {
  readonly id: string
  readonly name: string
  readonly input: unknown
}

export type ToolResultStatus = "success" | "error" | "timeout" | "cancelled" | "denied"

/** One piece of tool output: text, a JSON value, or an image (base64) for vision models. */
export type ToolOutput =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "json"; readonly value: unknown }
  | { readonly type: "image"; readonly mediaType: string; readonly data: string }

/** The outcome of one tool call. */
export interface ToolResult {
  readonly toolCallId: string
  readonly toolName: string
  readonly status: ToolResultStatus
  readonly output: ReadonlyArray<ToolOutput>
  readonly durationMs: number
}

// ---------------------------------------------------------------------------------------------------------------
// Agent events (protocol v1)

export type AgentState =
  | "ready"
  | "thinking"
  | "executing_tools"
  | "waiting_for_permission"
  | "completed"
  | "failed"
  | "cancelled"

/** The fields every event carries. */
export interface EventEnvelope {
  /** Protocol version. */
  readonly v: 1
  readonly sessionId: string
  /** The agent that produced the event. */
  readonly agentId: string
  /** Set on events of sub-agents. */
  readonly parentAgentId?: string
  /** Epoch milliseconds. */
  readonly timestamp: number
}

export interface SessionStartedEvent extends EventEnvelope {
  readonly type: "session.started"
  readonly cwd: string
  readonly provider: string
  readonly model: string
}

export interface SessionEndedEvent extends EventEnvelope {
  readonly type: "session.ended"
}

export interface TurnStartedEvent extends EventEnvelope {
  readonly type: "turn.started"
  readonly turnId: string
  readonly prompt: string
}

export interface TurnEndedEvent extends EventEnvelope {
  readonly type: "turn.ended"
  readonly turnId: string
  readonly stopReason: StopReason
  readonly steps: number
  /** Summed over the turn's model requests (compaction requests included). */
  readonly usage: Usage
  readonly text: string
  /** The turn's cost in USD, when the model's price is known. */
  readonly costUsd?: number
}

/** A model request of the turn begins (one per step). */
export interface StepStartedEvent extends EventEnvelope {
  readonly type: "step.started"
  readonly turnId: string
  readonly step: number
}

export interface TextDeltaEvent extends EventEnvelope {
  readonly type: "text.delta"
  readonly turnId: string
  readonly text: string
}

export interface ReasoningDeltaEvent extends EventEnvelope {
  readonly type: "reasoning.delta"
  readonly turnId: string
  readonly text: string
}

export interface ToolCallStartedEvent extends EventEnvelope {
  readonly type: "tool_call.started"
  readonly turnId: string
  readonly callId: string
  readonly name: string
}

export interface ToolCallDeltaEvent extends EventEnvelope {
  readonly type: "tool_call.delta"
  readonly turnId: string
  readonly callId: string
  readonly argumentsDelta: string
}

export interface ToolCallCompletedEvent extends EventEnvelope {
  readonly type: "tool_call.completed"
  readonly turnId: string
  readonly call: ToolCall
}

export interface PermissionRequestedEvent extends EventEnvelope {
  readonly type: "permission.requested"
  readonly turnId: string
  readonly call: ToolCall
  readonly reason?: string
}

export interface PermissionResolvedEvent extends EventEnvelope {
  readonly type: "permission.resolved"
  readonly turnId: string
  readonly callId: string
  readonly decision: "allow" | "deny"
  /** Who decided: a mode, a rule, the user / callback, or the headless default. */
  readonly source: string
  readonly reason?: string
  /** The rule the user allowed with the answer (always, or for this session: source `user:session`). */
  readonly rule?: string
}

export interface ToolStartedEvent extends EventEnvelope {
  readonly type: "tool.started"
  readonly turnId: string
  readonly call: ToolCall
}

export interface ToolProgressEvent extends EventEnvelope {
  readonly type: "tool.progress"
  readonly turnId: string
  readonly callId: string
  readonly message: string
}

export interface ToolCompletedEvent extends EventEnvelope {
  readonly type: "tool.completed"
  readonly turnId: string
  readonly result: ToolResult
}

export interface RetryScheduledEvent extends EventEnvelope {
  readonly type: "retry.scheduled"
  readonly turnId: string
  readonly attempt: number
  readonly delayMs: number
  readonly reason: string
  readonly message: string
}

/** Usage of one step and the running total of the turn; `costUsd` when the model's price is known. */
export interface UsageReportedEvent extends EventEnvelope {
  readonly type: "usage"
  readonly turnId: string
  readonly step: Usage
  readonly total: Usage
  readonly costUsd?: number
}

export interface StateChangedEvent extends EventEnvelope {
  readonly type: "state.changed"
  readonly from: AgentState
  readonly to: AgentState
}

/** A message was appended to the conversation (assistant output or tool results): enough to rebuild it. */
export interface MessageAppendedEvent extends EventEnvelope {
  readonly type: "message"
  readonly turnId: string
  readonly message: Message
}

export interface TodoItem {
  readonly content: string
  readonly status: "pending" | "in_progress" | "completed"
  readonly activeForm?: string
}

export interface TodosUpdatedEvent extends EventEnvelope {
  readonly type: "todos.updated"
  readonly todos: ReadonlyArray<TodoItem>
}

/**
 * The conversation was compacted: everything before its last `messagesKept` messages was replaced by one user
 * message holding `summary`. The messages before it stay in the session log.
 */
export interface CompactionEvent extends EventEnvelope {
  readonly type: "compaction"
  /** The turn it happened in (automatic compaction); absent for a manual compaction between turns. */
  readonly turnId?: string
  readonly trigger: "auto" | "manual"
  readonly summary: string
  readonly messagesBefore: number
  readonly messagesKept: number
  /** Estimated tokens of the conversation before and after. */
  readonly tokensBefore: number
  readonly tokensAfter: number
  /** Usage of the summarizing request. */
  readonly usage: Usage
  readonly costUsd?: number
}

/** A compaction failed; the conversation is unchanged. */
export interface CompactionFailedEvent extends EventEnvelope {
  readonly type: "compaction.failed"
  readonly turnId?: string
  readonly trigger: "auto" | "manual"
  readonly error: { readonly tag: string; readonly message: string; readonly retryable?: boolean }
}

/** A hook ran; a failed or timed-out hook never stops the turn. */
export interface HookEvent extends EventEnvelope {
  readonly type: "hook"
  readonly turnId?: string
  /** The hook event (`PreToolUse`, `Stop`, ...). */
  readonly event: string
  /** The command, or the callback's name. */
  readonly hook: string
  readonly outcome: "success" | "blocked" | "error" | "timeout"
  readonly durationMs: number
  readonly exitCode?: number
  /** Why it blocked or failed (stderr or the error, bounded). */
  readonly message?: string
}

/** An MCP server's status changed (or, at the start of a run, is not `connected`). */
export interface McpStatusEvent extends EventEnvelope {
  readonly type: "mcp.status"
  readonly server: string
  readonly state: "connecting" | "connected" | "failed" | "needs-approval"
  /** Why it failed or waits. */
  readonly reason?: string
  /** The MCP protocol version it negotiated. */
  readonly protocolVersion?: string
  readonly tools: number
}

export interface InterruptedEvent extends EventEnvelope {
  readonly type: "interrupted"
  readonly turnId: string
  readonly reason: string
}

export interface FailedEvent extends EventEnvelope {
  readonly type: "failed"
  readonly turnId?: string
  readonly error: { readonly tag: string; readonly message: string; readonly retryable?: boolean }
}

/**
 * Every observable thing an agent does, discriminated by `type`. The same JSON is printed by
 * `sage --output-format stream-json` and stored in session logs.
 */
export type AgentEvent =
  | SessionStartedEvent
  | SessionEndedEvent
  | TurnStartedEvent
  | TurnEndedEvent
  | StepStartedEvent
  | TextDeltaEvent
  | ReasoningDeltaEvent
  | ToolCallStartedEvent
  | ToolCallDeltaEvent
  | ToolCallCompletedEvent
  | PermissionRequestedEvent
  | PermissionResolvedEvent
  | ToolStartedEvent
  | ToolProgressEvent
  | ToolCompletedEvent
  | RetryScheduledEvent
  | UsageReportedEvent
  | StateChangedEvent
  | MessageAppendedEvent
  | TodosUpdatedEvent
  | CompactionEvent
  | CompactionFailedEvent
  | HookEvent
  | McpStatusEvent
  | InterruptedEvent
  | FailedEvent

export type AgentEventType = AgentEvent["type"]

/** The event of one `type`, e.g. `AgentEventOf<"text.delta">`. */
export type AgentEventOf<T extends AgentEventType> = Extract<AgentEvent, { readonly type: T }>

// ---------------------------------------------------------------------------------------------------------------
// Runs, permissions, tools

/** The outcome of one turn. */
export interface RunResult {
  readonly sessionId: string
  readonly turnId: string
  /** The text of the final assistant message. */
  readonly text: string
  readonly stopReason: StopReason
  readonly steps: number
  /** Summed over all steps (and the turn's compaction requests). */
  readonly usage: Usage
  /** The turn's cost in USD, when the model's price is known. */
  readonly costUsd?: number
  /**
   * The whole conversation after the turn (history + this turn), always valid to send back. After an automatic
   * compaction it starts with the summary.
   */
  readonly messages: ReadonlyArray<Message>
  /** The validated answer (plain JSON) when the run asked for structured output (`outputSchema`). */
  readonly structuredOutput?: unknown
}

/** List prices in USD per million tokens. */
export interface ModelPricing {
  readonly input: number
  readonly output: number
  readonly cacheRead: number
  readonly cacheWrite: number
}

/**
 * A model catalog entry to add or change (the `models` option and settings key): any field; prices field by field
 * (without an input and an output price a model has no price, and no cost is computed for it).
 */
export interface ModelOverride {
  readonly provider?: string
  /** Context window in tokens. */
  readonly contextWindow?: number
  /** The most input tokens one request may carry, when less than the context window. */
  readonly maxInputTokens?: number
  readonly maxOutputTokens?: number
  readonly pricing?: Partial<ModelPricing>
  readonly capabilities?: { readonly tools?: boolean; readonly vision?: boolean; readonly reasoning?: boolean }
}

/** The result of `compact()`: the conversation to continue from, and what the summary cost. */
export interface CompactionResult {
  readonly summary: string
  /** The conversation after compaction: one user message with the summary, then the kept latest messages. */
  readonly messages: ReadonlyArray<Message>
  readonly messagesBefore: number
  readonly messagesKept: number
  /** Estimated tokens before and after. */
  readonly tokensBefore: number
  readonly tokensAfter: number
  /** Usage of the summarizing request. */
  readonly usage: Usage
  readonly costUsd?: number
}

/**
 * `default` asks before edits and commands, `acceptEdits` allows file edits, `plan` is read-only,
 * `bypassPermissions` allows everything.
 */
export type PermissionMode = "default" | "acceptEdits" | "plan" | "bypassPermissions"

/** A saved session (`listSessions()`), derived from its log. */
export interface SessionInfo {
  readonly id: string
  /** The first prompt, on one line, shortened. */
  readonly title: string
  readonly cwd: string
  /** Epoch milliseconds. */
  readonly created: number
  readonly lastUsed: number
  /** Turns that ended (done, interrupted or failed). */
  readonly turns: number
  /** Summed over the turns that reported a cost. */
  readonly costUsd?: number
  readonly provider: string
  readonly model: string
  /** The session this one was forked from. */
  readonly parentSessionId?: string
}

/** A saved session with its conversation (`getSession(id)`). */
export interface SessionDetail extends SessionInfo {
  /** The history a resumed turn is sent with. */
  readonly messages: ReadonlyArray<Message>
  readonly todos: ReadonlyArray<TodoItem>
  /** Permission rules allowed for this session. */
  readonly grants: ReadonlyArray<string>
  /** What loading repaired after a crash (empty for a clean log). */
  readonly repairs: ReadonlyArray<string>
}

/**
 * A sub-agent type for the `Task` tool (the `agents` option, keyed by its name): the same fields as an agent file's
 * front matter, with its system prompt.
 */
export interface SubAgentDefinition {
  /** When to use it (shown to the model). */
  readonly description: string
  /** Its system prompt. */
  readonly prompt: string
  /** The tools it may use, among its parent's (absent: all of them). */
  readonly tools?: ReadonlyArray<string>
  readonly disallowedTools?: ReadonlyArray<string>
  /** A model id; absent or `inherit`: its parent's model. */
  readonly model?: string
  /** Made no wider than its parent's mode. */
  readonly permissionMode?: PermissionMode
  /** Model requests per sub-agent turn at most (default: its parent's). */
  readonly maxSteps?: number
}

/** What a tool does, for permission modes: `read` never changes anything, `edit` changes files. */
export type ToolKind = "read" | "edit" | "execute" | "network" | "other"

/** What a custom tool's `execute` receives beside its input. */
export interface CustomToolContext {
  /** Aborted when the call is stopped (the turn is interrupted, or the call timed out). */
  readonly signal: AbortSignal
  /** The id of this tool call. */
  readonly callId: string
}

/** A JSON Schema object (`{ type: "object", properties: {...}, required: [...] }`). */
export type JsonSchema = Readonly<Record<string, unknown>>

/**
 * A custom tool for `SageAgentSDK`. The model sees `name`, `description` and `inputSchema` as given; `execute`
 * receives the model's input as parsed JSON (not validated against `inputSchema`: check what you rely on) and
 * returns text or output pieces. A rejected promise (or a throw) becomes an error result whose text is the
 * error's message, so write it for the model.
 */
export interface CustomTool {
  /** 1-64 characters from `a-z`, `A-Z`, `0-9`, `_` and `-`; must not clash with a built-in tool. */
  readonly name: string
  /** Shown to the model: say what the tool does, when to use it and what it returns. */
  readonly description: string
  /** The JSON Schema of the input, shown to the model unchanged. */
  readonly inputSchema: JsonSchema
  /** Default `false`. Read-only tools run in parallel and are allowed without asking in the default mode. */
  readonly readOnly?: boolean
  /** Default `"read"` for read-only tools, else `"other"`. */
  readonly kind?: ToolKind
  readonly execute: (input: unknown, context: CustomToolContext) => Promise<string | ReadonlyArray<ToolOutput>>
}

// ---------------------------------------------------------------------------------------------------------------
// Conformance with the schemas (type level only: nothing here is emitted into the .d.ts or the .js)

/** True when `A` and `B` are identical types (readonly and optional modifiers included). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type Assert<T extends true> = T

/** A schema type with the `Usage` class replaced by its plain fields, everywhere inside it. */
type Plain<T> = unknown extends T
  ? T
  : T extends SchemaUsage
    ? Usage
    : T extends ReadonlyArray<infer E>
      ? ReadonlyArray<Plain<E>>
      : T extends object
        ? { readonly [K in keyof T]: Plain<T[K]> }
        : T

type SchemaEventOf<T extends string> = Extract<SchemaAgentEvent, { readonly type: T }>

/** The event types whose plain interface differs from the schema (`never` when all agree). */
type MismatchedEvents = {
  readonly [T in AgentEventType]: Equals<Plain<SchemaEventOf<T>>, AgentEventOf<T>> extends true ? never : T
}[AgentEventType]

/** A homomorphic copy (modifiers kept) that flattens intersections, so `Equals` compares the fields only. */
type Flat<T> = { [K in keyof T]: T[K] }

type Checks = [
  Assert<Equals<Usage, Flat<Schema.Struct.Type<typeof SchemaUsage.fields>>>>,
  Assert<Equals<StopReason, SchemaStopReason>>,
  Assert<Equals<ImageSource, SchemaImageSource>>,
  Assert<Equals<ContentBlock, SchemaContentBlock>>,
  Assert<Equals<Role, SchemaRole>>,
  Assert<Equals<Message, SchemaMessage>>,
  Assert<Equals<ToolCall, SchemaToolCall>>,
  Assert<Equals<ToolResultStatus, SchemaToolResultStatus>>,
  Assert<Equals<ToolOutput, SchemaToolOutput>>,
  Assert<Equals<ToolResult, SchemaToolResult>>,
  Assert<Equals<AgentState, SchemaAgentState>>,
  Assert<Equals<TodoItem, typeof SchemaTodoItem.Type>>,
  // Every event type on both sides, then each event field by field.
  Assert<Equals<AgentEventType, SchemaAgentEvent["type"]>>,
  Assert<Equals<AgentEvent, Plain<SchemaAgentEvent>>>,
  Assert<Equals<MismatchedEvents, never>>,
  // What the SDK hands out must be assignable to the plain types (the Usage class has extra methods).
  Assert<SchemaAgentEvent extends AgentEvent ? true : false>,
  Assert<SchemaRunResult extends RunResult ? true : false>,
  Assert<Equals<RunResult, Plain<SchemaRunResult>>>,
  Assert<Equals<PermissionMode, SchemaPermissionMode>>,
  Assert<Equals<ModelOverride, Flat<SchemaModelOverride>>>,
  Assert<Equals<CompactionResult, Plain<SchemaCompactionResult>>>,
  Assert<Equals<ToolKind, SchemaToolKind>>,
  // Plain input (history, an edited tool call) must be accepted by the library.
  Assert<ReadonlyArray<Message> extends ReadonlyArray<SchemaMessage> ? true : false>,
  Checked?
]
// `Checks` and `Checked` refer to each other so that `noUnusedLocals` accepts them without exporting them
// (an export would put these schema references, and so `effect`, into the public .d.ts).
type Checked = Checks
