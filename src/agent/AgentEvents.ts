/**
 * Typed constructors for the events the agent publishes. A constructor builds an event's body (everything but
 * the envelope); `stamp` adds the envelope (`v`, session, agent, timestamp). Both are checked by the compiler
 * against the `AgentEvent` schema's type: no event is built by a cast.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import { type AgentEvent, type AgentEventType, type AgentState, PROTOCOL_VERSION } from "../streams/AgentEvent.js"
import type { Message } from "../streams/Message.js"
import type { StreamPart } from "../streams/StreamPart.js"
import type { ToolCall, ToolResult } from "../streams/ToolCall.js"
import type { StopReason, Usage } from "../streams/Usage.js"

/** Who published an event: filled into every event's envelope. */
export interface EventOrigin {
  readonly sessionId: string
  readonly agentId: string
  readonly parentAgentId?: string | undefined
}

type Envelope = "v" | "sessionId" | "agentId" | "parentAgentId" | "timestamp"

/** An event without its envelope. */
export type AgentEventBody = AgentEvent extends infer E ? (E extends AgentEvent ? Omit<E, Envelope> : never) : never

export type AgentEventBodyOf<T extends AgentEventType> = Extract<AgentEventBody, { readonly type: T }>

/** The event with its envelope. */
export const stamp = (body: AgentEventBody, origin: EventOrigin, timestamp: number): AgentEvent => ({
  ...body,
  v: PROTOCOL_VERSION,
  sessionId: origin.sessionId,
  agentId: origin.agentId,
  ...(origin.parentAgentId === undefined ? {} : { parentAgentId: origin.parentAgentId }),
  timestamp
})

/** Publishes one event (built from its body) wherever the turn's events go. */
export type Emit = (body: AgentEventBody) => Effect.Effect<void>

/** An `Emit` that stamps each body with `origin` and the current time, then hands it to `publish`. */
export const emitter =
  (origin: EventOrigin, publish: (event: AgentEvent) => Effect.Effect<void>): Emit =>
  (body) =>
    Effect.flatMap(Clock.currentTimeMillis, (timestamp) => publish(stamp(body, origin, timestamp)))

export const turnStarted = (turnId: string, prompt: string): AgentEventBodyOf<"turn.started"> => ({
  type: "turn.started",
  turnId,
  prompt
})

export const turnEnded = (
  turnId: string,
  ended: {
    readonly stopReason: StopReason
    readonly steps: number
    readonly usage: Usage
    readonly text: string
    readonly costUsd?: number
  }
): AgentEventBodyOf<"turn.ended"> => ({ type: "turn.ended", turnId, ...ended })

export const stepStarted = (turnId: string, step: number): AgentEventBodyOf<"step.started"> => ({
  type: "step.started",
  turnId,
  step
})

export const stateChanged = (from: AgentState, to: AgentState): AgentEventBodyOf<"state.changed"> => ({
  type: "state.changed",
  from,
  to
})

/** `costUsd` (of `total`) when the model's price is known. */
export const usageReported = (
  turnId: string,
  step: Usage,
  total: Usage,
  costUsd?: number
): AgentEventBodyOf<"usage"> => ({
  type: "usage",
  turnId,
  step,
  total,
  ...(costUsd === undefined ? {} : { costUsd })
})

export const messageAppended = (turnId: string, message: Message): AgentEventBodyOf<"message"> => ({
  type: "message",
  turnId,
  message
})

export const permissionRequested = (
  turnId: string,
  call: ToolCall,
  reason: string
): AgentEventBodyOf<"permission.requested"> => ({ type: "permission.requested", turnId, call, reason })

export const permissionResolved = (
  turnId: string,
  callId: string,
  decision: {
    readonly type: "allow" | "deny"
    readonly source: string
    readonly reason?: string
    readonly rule?: string | undefined
  }
): AgentEventBodyOf<"permission.resolved"> => ({
  type: "permission.resolved",
  turnId,
  callId,
  decision: decision.type,
  source: decision.source,
  ...(decision.reason === undefined ? {} : { reason: decision.reason }),
  ...(decision.rule === undefined ? {} : { rule: decision.rule })
})

export const toolStarted = (turnId: string, call: ToolCall): AgentEventBodyOf<"tool.started"> => ({
  type: "tool.started",
  turnId,
  call
})

export const toolProgress = (turnId: string, callId: string, message: string): AgentEventBodyOf<"tool.progress"> => ({
  type: "tool.progress",
  turnId,
  callId,
  message
})

export const toolCompleted = (turnId: string, result: ToolResult): AgentEventBodyOf<"tool.completed"> => ({
  type: "tool.completed",
  turnId,
  result
})

export const todosUpdated = (todos: AgentEventBodyOf<"todos.updated">["todos"]): AgentEventBodyOf<"todos.updated"> => ({
  type: "todos.updated",
  todos
})

export const interrupted = (turnId: string, reason: string): AgentEventBodyOf<"interrupted"> => ({
  type: "interrupted",
  turnId,
  reason
})

export const failed = (
  turnId: string,
  error: { readonly tag: string; readonly message: string; readonly retryable?: boolean }
): AgentEventBodyOf<"failed"> => ({ type: "failed", turnId, error })

/** The event a model stream part becomes, if any (empty deltas and bookkeeping parts become none). */
export const fromStreamPart = (turnId: string, part: StreamPart): AgentEventBody | undefined => {
  switch (part.type) {
    case "text-delta":
      return part.text === "" ? undefined : { type: "text.delta", turnId, text: part.text }
    case "reasoning-delta":
      return part.text === "" ? undefined : { type: "reasoning.delta", turnId, text: part.text }
    case "tool-call-start":
      return { type: "tool_call.started", turnId, callId: part.id, name: part.name }
    case "tool-call-delta":
      return { type: "tool_call.delta", turnId, callId: part.id, argumentsDelta: part.argumentsDelta }
    case "tool-call-complete":
      return { type: "tool_call.completed", turnId, call: { id: part.id, name: part.name, input: part.input } }
    case "retry":
      return {
        type: "retry.scheduled",
        turnId,
        attempt: part.attempt,
        delayMs: part.delayMs,
        reason: part.reason,
        message: part.message
      }
    default:
      return undefined
  }
}

/** The agent's state during a turn; every change is published as a `state.changed` event. */
export interface StateCell {
  readonly get: Effect.Effect<AgentState>
  readonly set: (to: AgentState) => Effect.Effect<void>
}

export const makeStateCell = (emit: Emit): Effect.Effect<StateCell> =>
  Effect.map(Ref.make<AgentState>("ready"), (ref) => ({
    get: Ref.get(ref),
    set: (to) =>
      Effect.flatMap(Ref.getAndSet(ref, to), (from) => (from === to ? Effect.void : emit(stateChanged(from, to))))
  }))
