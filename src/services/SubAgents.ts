/**
 * The sub-agent contract: what an agent definition is (a built-in type, a `.sage/agents/*.md` file, or one given in
 * the options), and the runner the agent loop hands to the `Task` tool through its `ToolContext`. A sub-agent runs a
 * turn of the same loop with a fresh conversation; its tools and permission mode are never wider than its parent's.
 */
import type * as Effect from "effect/Effect"
import type { AgentError } from "../errors/AgentError.js"
import type { StopReason, Usage } from "../streams/Usage.js"
import type { PermissionMode } from "./Permissions.js"

/** Where a definition came from (later wins on a name clash: built-in < user < project < options). */
export type AgentSource = "built-in" | "user" | "project" | "options"

/** One kind of sub-agent (a `subagent_type` of the `Task` tool). */
export interface AgentDefinition {
  /** The `subagent_type`: 1-64 characters from `a-z`, `A-Z`, `0-9`, `_` and `-`. */
  readonly name: string
  /** When to use it (shown to the model in the `Task` tool's description). */
  readonly description: string
  /** Its system prompt (the body of an agent file). */
  readonly prompt: string
  /** The tools it may use (intersected with its parent's); absent: all of its parent's. */
  readonly tools?: ReadonlyArray<string>
  /** Tools it may not use, even when `tools` (or its parent) has them. */
  readonly disallowedTools?: ReadonlyArray<string>
  /** Only read-only tools (the built-in `Explore` and `Plan`). */
  readonly readOnly?: boolean
  /** The model id; absent or `inherit`: its parent's. */
  readonly model?: string
  /** Its permission mode, made no wider than its parent's (absent: its parent's). */
  readonly permissionMode?: PermissionMode
  /** Model requests per sub-agent turn at most (absent: its parent's `maxSteps`). */
  readonly maxSteps?: number
  readonly source?: AgentSource
  /** The file it was read from. */
  readonly path?: string
}

/** What the `Task` tool asks of the runner. */
export interface SubAgentRequest {
  readonly definition: AgentDefinition
  /** The task, the sub-agent's only user message. */
  readonly prompt: string
  /** A short description of the task (3-5 words). */
  readonly description: string
  /** Told the sub-agent's id as soon as it has one (before it starts). */
  readonly onStart?: (agentId: string) => Effect.Effect<void>
}

/** A sub-agent's turn as the `Task` tool sees it. */
export interface SubAgentResult {
  readonly agentId: string
  readonly turnId: string
  /** Its final answer. */
  readonly text: string
  readonly stopReason: StopReason
  readonly steps: number
  /** Its usage (and its own sub-agents'), already added to its parent's turn. */
  readonly usage: Usage
  readonly costUsd?: number
  readonly model: string
  readonly permissionMode: PermissionMode
  readonly tools: ReadonlyArray<string>
}

/** Runs sub-agents of one turn (given to tools through `ToolContext.subAgents`). */
export interface SubAgentRunner {
  /** The id of the agent whose tool is running. */
  readonly agentId: string
  /** Its nesting depth (0 for the main agent). */
  readonly depth: number
  /**
   * Run a sub-agent to the end of its turn (interrupting the caller interrupts it). Fails when its turn fails
   * (a model error, a bad option); an interrupted sub-agent interrupts the caller.
   */
  readonly run: (request: SubAgentRequest) => Effect.Effect<SubAgentResult, AgentError>
}
