/**
 * What the REPL needs of a conversation: its id, the history the next turn is sent with, a way to run a turn in
 * it, and a way to record a compaction. `fromSession` adapts a session of the `SessionStore` (`Conversation.open`:
 * every event is logged, `sage -c` continues it; with `persist: false` it is kept in memory only).
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { compactionEventBody } from "../../agent/Compaction.js"
import type { CompactionResult } from "../../agent/Compaction.js"
import { stamp } from "../../agent/AgentEvents.js"
import type { AgentExecution, Prompt, RunOptions } from "../../services/Agent.js"
import type { Conversation } from "../../session/Conversation.js"
import type { Message } from "../../streams/Message.js"

export interface ReplConversation {
  readonly sessionId: string
  /** Whether it is written to the session store. */
  readonly persisted: boolean
  readonly messages: Effect.Effect<ReadonlyArray<Message>>
  readonly turns: Effect.Effect<number>
  /** Permission rules allowed for this session ("for this session" answers, resumed ones included). */
  readonly grants: Effect.Effect<ReadonlyArray<string>>
  readonly start: (
    prompt: Prompt,
    options: Omit<RunOptions, "history" | "sessionId">
  ) => Effect.Effect<AgentExecution, never, Scope.Scope>
  /** A manual compaction: the history becomes `result.messages` (and the session log records it). */
  readonly compacted: (result: CompactionResult) => Effect.Effect<void>
}

/** A session of the store. */
export const fromSession = (conversation: Conversation): ReplConversation => ({
  sessionId: conversation.sessionId,
  persisted: conversation.persisted,
  messages: conversation.messages,
  turns: conversation.turns,
  grants: conversation.grants,
  start: (prompt, options) => conversation.start(prompt, options),
  compacted: (result) =>
    conversation.record(
      stamp(compactionEventBody(result, "manual"), { sessionId: conversation.sessionId, agentId: "main" }, Date.now())
    )
})
