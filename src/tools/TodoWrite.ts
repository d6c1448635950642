/**
 * The `TodoWrite` tool: the model's task list for the session. Each call replaces the whole list; the list lives
 * in a `Ref` owned by the tool instance and every change is published as a `todos.updated` event.
 *
 * Permissions: `readOnly: true` (kind `other`). It changes no file and runs nothing, only the session's own
 * list, so it is allowed without asking in every mode, plan mode included (as in Claude Code). Concurrency is
 * `limited(1)`: two writes in one fan-out run one after the other, never interleaved.
 */
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
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

/** The tool, plus the list it keeps. */
export type TodoWriteTool = Tool<typeof TodoWriteInput.Type> & {
  /** The current list (empty until the first call). */
  readonly todos: Ref.Ref<ReadonlyArray<Todo>>
}

const summary = (todos: ReadonlyArray<Todo>): string => {
  if (todos.length === 0) return "The todo list is now empty."
  const count = (status: TodoStatus) => todos.filter((t) => t.status === status).length
  const current = todos.find((t) => t.status === "in_progress")
  return [
    `Todo list updated: ${todos.length} task${todos.length === 1 ? "" : "s"} (${count("completed")} completed, ${count("in_progress")} in progress, ${count("pending")} pending).`,
    current === undefined ? "" : ` Now working on: ${current.activeForm ?? current.content}.`,
    " Keep the list current: mark each task completed as soon as it is done."
  ].join("")
}

/** A `TodoWrite` tool with its own, initially empty list (one per session). Requires nothing. */
export const makeTodoWriteTool = Effect.fn("TodoWriteTool")(function* () {
  const todos = yield* Ref.make<ReadonlyArray<Todo>>([])
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
        yield* Ref.set(todos, list)
        if (context.emit !== undefined) yield* context.emit({ type: "todos.updated", todos: list })
        return summary(list)
      })
  })
  return { ...tool, todos }
})

/** The `TodoWrite` tool with its own list. */
export const TodoWriteTool: Effect.Effect<TodoWriteTool> = makeTodoWriteTool()
