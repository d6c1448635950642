/**
 * The tool contract shared by built-in and user tools. Tools are defined with `Tool.make` (see
 * `src/tools/Tool.ts` for the implementation helpers); the agent loop only sees `Tool.Any`.
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type { ToolExecutionError } from "../errors/ToolError.js"
import type { ToolOutput } from "../streams/ToolCall.js"
import type { SubAgentRunner } from "./SubAgents.js"

/** How a tool may run beside others in one fan-out. */
export type ToolConcurrency =
  /** Runs beside anything else (the default for read-only tools). */
  | { readonly type: "parallel" }
  /** Runs alone: waits until other tools finish and nothing starts while it runs. */
  | { readonly type: "sequential" }
  /** At most `max` calls of this tool at once. */
  | { readonly type: "limited"; readonly max: number }

/** What a tool does, for permission modes: `read` never changes anything, `edit` changes files. */
export type ToolKind = "read" | "edit" | "execute" | "network" | "other"

export interface ToolContext {
  readonly callId: string
  readonly sessionId: string
  /** The primary workspace root. */
  readonly cwd: string
  /** Report progress; becomes a `tool.progress` event. */
  readonly progress: (message: string) => Effect.Effect<void>
  /** Publish a tool-level event (the agent adds the envelope). Absent when the tool runs outside an agent. */
  readonly emit?: (event: ToolEmittedEvent) => Effect.Effect<void>
  /** Starts sub-agents of the running agent (the `Task` tool). Absent outside an agent. */
  readonly subAgents?: SubAgentRunner
}

/** Events a tool may publish through its context. */
export type ToolEmittedEvent = {
  readonly type: "todos.updated"
  readonly todos: ReadonlyArray<{
    readonly content: string
    readonly status: "pending" | "in_progress" | "completed"
    readonly activeForm?: string
  }>
}

/** What `execute` may return: plain text, output pieces, or (with an `output` schema) a typed value. */
export type ToolReturn = string | ReadonlyArray<ToolOutput>

export interface Tool<I = unknown> {
  readonly name: string
  readonly description: string
  /** Decodes the model's raw input before `execute`. */
  readonly input: Schema.Codec<I, unknown>
  /** The JSON Schema the model sees, generated from `input`. */
  readonly jsonSchema: Record<string, unknown>
  readonly readOnly: boolean
  readonly kind: ToolKind
  readonly concurrency: ToolConcurrency
  /** Per-call timeout; when absent the agent's default applies. */
  readonly timeout?: Duration.Duration
  readonly execute: (input: I, context: ToolContext) => Effect.Effect<ToolReturn, ToolExecutionError>
}

export declare namespace Tool {
  // biome-ignore lint/suspicious/noExplicitAny: a heterogeneous tool list needs an existential input type
  type Any = Tool<any>
}
