/**
 * The todo-list contract: the model's task list (`TodoWrite`) of each session, by session id. The tool reads the
 * list it replaces from here and writes the new one; `Conversation.open` seeds it with the list the session log
 * holds (so a resumed or forked session starts from its last list, a new one from an empty list) and forgets it
 * when the conversation closes. Sub-agents have lists of their own, never this one (see `SubAgents.registryFor`).
 * `TodosLive.layer` (`src/layers/TodosLive.ts`) keeps the lists in memory.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { TodoItem as TodoItemSchema } from "../streams/AgentEvent.js"

/** One task of a todo list. */
export type TodoItem = typeof TodoItemSchema.Type

export declare namespace Todos {
  interface Service {
    /** The session's current list (empty for a session that has none). */
    readonly get: (sessionId: string) => Effect.Effect<ReadonlyArray<TodoItem>>
    /** Replaces the session's list; returns the list it replaced. */
    readonly set: (sessionId: string, todos: ReadonlyArray<TodoItem>) => Effect.Effect<ReadonlyArray<TodoItem>>
    /** Forgets the session's list (its conversation closed; resuming it seeds the list again from its log). */
    readonly forget: (sessionId: string) => Effect.Effect<void>
  }
}

export class Todos extends Context.Service<Todos, Todos.Service>()("sage/Todos") {}
