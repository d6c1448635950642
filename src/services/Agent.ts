/** The agent contract: one turn of the loop (model -> tools -> model ...) as a stream of `AgentEvent`s. */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { AgentError } from "../errors/AgentError.js"
import type { AgentEvent, AgentState } from "../streams/AgentEvent.js"
import type { ImageBlock, Message, TextBlock } from "../streams/Message.js"
import type { StopReason, Usage } from "../streams/Usage.js"
import type { ReasoningEffort } from "./LLMClient.js"
import type { PermissionMode } from "./Permissions.js"

/** A requested structured output: its JSON Schema (what the model sees) and how an answer is checked. */
export interface OutputSchema {
  /** A short identifier for the provider's native mode (letters, digits, `_`, `-`). */
  readonly name: string
  readonly jsonSchema: Readonly<Record<string, unknown>>
  /** `undefined` when `value` is a valid answer, else what is wrong with it. */
  readonly validate: (value: unknown) => string | undefined
}

/** A prompt: text, or text and image blocks (images need a model with vision; see `InputError`). */
export type Prompt = string | ReadonlyArray<TextBlock | ImageBlock>

export interface RunOptions {
  /** Earlier conversation to continue from. */
  readonly history?: ReadonlyArray<Message>
  /** Replaces the agent's system prompt for this turn (environment, tool guidance, instruction files). */
  readonly systemPrompt?: string
  /** Appended to the system prompt of this turn (after the agent's own `appendSystemPrompt`). */
  readonly appendSystemPrompt?: string
  readonly model?: string
  readonly maxSteps?: number
  readonly maxTokens?: number
  /** Tool fan-out bound (default 10). */
  readonly maxConcurrency?: number
  readonly permissionMode?: PermissionMode
  readonly sessionId?: string
  /** Stop the turn (stop reason `max_budget`) after the step whose cost reaches this many USD; overrides the agent's. */
  readonly maxBudgetUsd?: number
  /**
   * Steering: user messages sent while the turn runs. At every step boundary (before each model request, so after
   * the previous step's tool results) the loop takes what is waiting in the queue and appends it to the
   * conversation as one user message (a `message` event). What is still waiting when the turn ends stays in the
   * queue (the caller sends it as the next prompt).
   */
  readonly steering?: Queue.Dequeue<string>
  /**
   * Structured output: the final answer must be JSON matching this schema (`StructuredOutput.fromJsonSchema` or
   * `StructuredOutput.fromSchema`); it is returned as `RunResult.structuredOutput`. An invalid answer gets one repair
   * request, then the turn fails with `StructuredOutputError`.
   */
  readonly outputSchema?: OutputSchema
  /** Extended thinking budget in tokens for this turn's requests (overrides the agent's). */
  readonly thinkingBudget?: number
  /** Reasoning effort for this turn's requests (overrides the agent's). */
  readonly reasoningEffort?: ReasoningEffort
}

export interface RunResult {
  readonly sessionId: string
  readonly turnId: string
  /** The text of the final assistant message. */
  readonly text: string
  readonly stopReason: StopReason
  readonly steps: number
  /** Summed over all steps (and the turn's compaction requests). */
  readonly usage: Usage
  /** The turn's cost in USD, when the model's price is known (see `ModelCatalog`). */
  readonly costUsd?: number
  /**
   * The whole conversation after the turn (history + this turn), always valid to send back. After an automatic
   * compaction it starts with the summary.
   */
  readonly messages: ReadonlyArray<Message>
  /** The validated answer (plain JSON) when the turn asked for structured output (`RunOptions.outputSchema`). */
  readonly structuredOutput?: unknown
}

/** A running turn: its events, its result, and a way to stop it. */
export interface AgentExecution {
  readonly sessionId: string
  readonly turnId: string
  /**
   * The turn's events, with exactly one terminal event (`turn.ended`, `interrupted` or `failed`; after `failed`
   * the stream fails with the error). Events of its sub-agents (the `Task` tool) come in between, with their own
   * `agentId` and a `parentAgentId`: their terminal events do not end the turn. A subscriber sees every event published after it subscribed, plus the last
   * few before (a bounded replay window, so subscribing right after `start` misses nothing). Events are not kept
   * for anyone else: a turn nobody reads holds only that window in memory. A subscriber that stops reading
   * holds the turn back (backpressure); end its stream to let go.
   */
  readonly events: Stream.Stream<AgentEvent, AgentError>
  readonly result: Effect.Effect<RunResult, AgentError>
  readonly state: Effect.Effect<AgentState>
  /** Interrupt the turn; resolves when it has stopped and its terminal event was emitted. */
  readonly interrupt: Effect.Effect<void>
}

export declare namespace Agent {
  interface Service {
    /** Run one turn. Ending the stream early (or interrupting it) interrupts the turn. */
    readonly run: (prompt: Prompt, options?: RunOptions) => Stream.Stream<AgentEvent, AgentError>
    /**
     * Start a turn in the background of the given scope (closing the scope interrupts it). `run` is
     * `start` viewed as its event stream.
     */
    readonly start: (prompt: Prompt, options?: RunOptions) => Effect.Effect<AgentExecution, never, Scope.Scope>
  }
}

export class Agent extends Context.Service<Agent, Agent.Service>()("sage/Agent") {}
