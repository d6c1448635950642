/**
 * The `TodoWrite` tool: the model's task list for the session. Each call replaces the whole list and every change
 * is published as a `todos.updated` event. The lists are kept by session id in a `Todos` service: the agent's
 * (`TodosLive`, seeded by `Conversation.open` with a resumed session's last list), or one of the tool's own. The
 * result tells the model what changed since the list it replaces: tasks completed since, and unfinished tasks
 * that were dropped.
 *
 * Permissions: `readOnly: true` (kind `other`). It changes no file and runs nothing, only the session's own
 * list, so it is allowed without asking in every mode, plan mode included (as in Claude Code). Concurrency is
 * `limited(1)`: two writes in one fan-out run one after the other, never interleaved.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { TodoItem, Todos } from "../services/Todos.js"
import { Tool } from "./Tool.js"

export const TodoStatus = Schema.Literals(["pending", "in_progress", "completed"])
export type TodoStatus = typeof TodoStatus.Type

export const Todo = Schema.Struct({
  content: Schema.String.check(
    Schema.makeFilter((s) => s.trim().length > 0 || "content must not be empty", { expected: "a non-empty string" })
  ).annotate({ description: 'What to do, in the imperative (e.g. "Run the tests")' }),
  status: TodoStatus.annotate({ description: "pending, in_progress (at most one task) or completed" }),
  activeForm: Schema.optionalKey(
    Schema.String.annotate({
      description: 'The task in the present continuous, shown while it runs ("Running the tests")'
    })
  )
})
export type Todo = typeof Todo.Type

/** The tool's input: the complete new list. At most one task may be `in_progress`. */
export const TodoList = Schema.Array(Todo).check(
  Schema.makeFilter(
    (todos) => {
      const running = todos.filter((t) => t.status === "in_progress").length
      return (
        running <= 1 ||
        `At most one task may be in_progress at a time; ${running} are. Mark the others pending or completed.`
      )
    },
    { expected: "at most one task in_progress" }
  )
)

const TodoWriteInput = Schema.Struct({
  todos: TodoList.annotate({ description: "The complete, updated task list" })
})

/** The tool, plus the lists it keeps (by session id). */
export type TodoWriteTool = Tool<typeof TodoWriteInput.Type> & {
  /** The lists the tool reads and writes, by session id (empty for a session until its first call). */
  readonly lists: Todos.Service
}

/** How many sessions' lists `makeTodoLists` keeps at most by default. */
export const DEFAULT_MAX_SESSIONS = 1000

/**
 * Todo lists in memory, by session id (a fresh, empty set each time it runs). Lists no conversation forgets (turns
 * run with `Agent.run` under session ids of their own) are bounded: past `maxSessions` lists, the least recently
 * written one is dropped.
 */
export const makeTodoLists = (maxSessions: number = DEFAULT_MAX_SESSIONS): Effect.Effect<Todos.Service> =>
  Effect.sync(() => {
    // Insertion order is write order: the first key is the least recently written list.
    const lists = new Map<string, ReadonlyArray<TodoItem>>()
    const service: Todos.Service = {
      get: (sessionId) => Effect.sync(() => lists.get(sessionId) ?? []),
      set: (sessionId, todos) =>
        Effect.sync(() => {
          const previous = lists.get(sessionId) ?? []
          lists.delete(sessionId)
          lists.set(sessionId, todos)
          while (lists.size > Math.max(1, maxSessions)) {
            const oldest = lists.keys().next()
            if (oldest.done === true) break
            lists.delete(oldest.value)
          }
          return previous
        }),
      forget: (sessionId) =>
        Effect.sync(() => {
          lists.delete(sessionId)
        })
    }
    return service
  })

const names = (todos: ReadonlyArray<Todo>): string => todos.map((t) => t.content).join("; ")

/** What changed from `previous` to `todos`: tasks completed since, and unfinished tasks no longer on the list. */
const changes = (previous: ReadonlyArray<Todo>, todos: ReadonlyArray<Todo>): string => {
  const before = new Map(previous.map((t) => [t.content, t.status]))
  const now = new Set(todos.map((t) => t.content))
  const completed = todos.filter((t) => {
    const was = before.get(t.content)
    return t.status === "completed" && was !== undefined && was !== "completed"
  })
  const dropped = previous.filter((t) => t.status !== "completed" && !now.has(t.content))
  return [
    completed.length === 0 ? "" : ` Completed since the last update: ${names(completed)}.`,
    dropped.length === 0
      ? ""
      : ` Removed before being completed: ${names(dropped)} (add ${dropped.length === 1 ? "it" : "them"} back if still to do).`
  ].join("")
}

const summary = (previous: ReadonlyArray<Todo>, todos: ReadonlyArray<Todo>): string => {
  if (todos.length === 0) return `The todo list is now empty.${changes(previous, todos)}`
  const count = (status: TodoStatus) => todos.filter((t) => t.status === status).length
  const current = todos.find((t) => t.status === "in_progress")
  return [
    `Todo list updated: ${todos.length} task${todos.length === 1 ? "" : "s"} (${count("completed")} completed, ${count("in_progress")} in progress, ${count("pending")} pending).`,
    changes(previous, todos),
    current === undefined ? "" : ` Now working on: ${current.activeForm ?? current.content}.`,
    " Keep the list current: mark each task completed as soon as it is done."
  ].join("")
}

/**
 * A `TodoWrite` tool keeping its lists in `lists` (the agent's `Todos` service), or, without it, in lists of its
 * own (initially empty: a sub-agent's, a tool used outside an agent). Requires nothing.
 */
export const makeTodoWriteTool = Effect.fn("TodoWriteTool")(function* (lists?: Todos.Service) {
  const todos = lists ?? (yield* makeTodoLists())
  const tool = Tool.make({
    name: "TodoWrite",
    description: [
      "Create and update the task list for this session, to plan multi-step work and show progress.",
      "Send the complete list each time (it replaces the previous one). Keep exactly one task in_progress while",
      "working, and mark tasks completed as soon as they are done. Skip it for single, trivial tasks."
    ].join(" "),
    input: TodoWriteInput,
    readOnly: true,
    kind: "other",
    concurrency: { type: "limited", max: 1 },
    execute: (input, context) =>
      Effect.gen(function* () {
        const list = input.todos.map(
          (t): Todo => ({
            content: t.content.trim(),
            status: t.status,
            ...(t.activeForm === undefined || t.activeForm.trim() === "" ? {} : { activeForm: t.activeForm.trim() })
          })
        )
        const previous = yield* todos.set(context.sessionId, list)
        if (context.emit !== undefined) yield* context.emit({ type: "todos.updated", todos: list })
        return summary(previous, list)
      })
  })
  return { ...tool, lists: todos }
})

/** The `TodoWrite` tool with lists of its own. */
export const TodoWriteTool: Effect.Effect<TodoWriteTool> = makeTodoWriteTool()
