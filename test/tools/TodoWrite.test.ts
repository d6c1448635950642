import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type { ToolContext, ToolEmittedEvent } from "../../src/services/Tool.js"
import { runToolCall } from "../../src/tools/Tool.js"
import { makeTodoLists, makeTodoWriteTool } from "../../src/tools/TodoWrite.js"
import { call, context, text } from "./support.js"

const recordingContext = (events: Array<ToolEmittedEvent>): ToolContext => ({
  ...context("/"),
  emit: (event) => Effect.sync(() => void events.push(event))
})

describe("TodoWrite", () => {
  it.effect("replaces the list, emits todos.updated and summarises for the model", () =>
    Effect.gen(function* () {
      const todoWrite = yield* makeTodoWriteTool()
      const events: Array<ToolEmittedEvent> = []
      const todos = [
        { content: "  Read the code ", status: "completed" },
        { content: "Write the tests", status: "in_progress", activeForm: "Writing the tests" },
        { content: "Run the tests", status: "pending", activeForm: "  " }
      ]
      const result = yield* runToolCall(
        todoWrite,
        { id: "t1", name: "TodoWrite", input: { todos } },
        recordingContext(events),
        { defaultTimeout: "10 seconds" }
      )
      expect(result.status).toBe("success")
      expect(text(result)).toBe(
        "Todo list updated: 3 tasks (1 completed, 1 in progress, 1 pending). Now working on: Writing the tests. Keep the list current: mark each task completed as soon as it is done."
      )
      const expected = [
        { content: "Read the code", status: "completed" },
        { content: "Write the tests", status: "in_progress", activeForm: "Writing the tests" },
        { content: "Run the tests", status: "pending" }
      ]
      expect(yield* todoWrite.lists.get("session-1")).toEqual(expected)
      expect(events).toEqual([{ type: "todos.updated", todos: expected }])

      // Without an emit function (outside an agent) it still keeps the list. Dropping unfinished tasks is said.
      const cleared = yield* call(todoWrite, { todos: [] })
      expect(text(cleared)).toBe(
        "The todo list is now empty. Removed before being completed: Write the tests; Run the tests (add them back if still to do)."
      )
      expect(yield* todoWrite.lists.get("session-1")).toEqual([])
      const one = yield* call(todoWrite, { todos: [{ content: "Ship", status: "in_progress" }] })
      expect(text(one)).toContain("1 task (0 completed, 1 in progress, 0 pending). Now working on: Ship.")
    })
  )

  it.effect("each instance has its own list", () =>
    Effect.gen(function* () {
      const a = yield* makeTodoWriteTool()
      const b = yield* makeTodoWriteTool()
      yield* call(a, { todos: [{ content: "x", status: "pending" }] })
      expect(yield* a.lists.get("session-1")).toHaveLength(1)
      expect(yield* b.lists.get("session-1")).toEqual([])
    })
  )

  it.effect("rejects invalid lists without changing the current one", () =>
    Effect.gen(function* () {
      const todoWrite = yield* makeTodoWriteTool()
      const events: Array<ToolEmittedEvent> = []
      const run = (input: unknown) =>
        runToolCall(todoWrite, { id: "t", name: "TodoWrite", input }, recordingContext(events), {
          defaultTimeout: "10 seconds"
        })
      yield* run({ todos: [{ content: "keep me", status: "pending" }] })
      const twoRunning = yield* run({
        todos: [
          { content: "a", status: "in_progress" },
          { content: "b", status: "in_progress" }
        ]
      })
      expect(twoRunning.status).toBe("error")
      expect(text(twoRunning)).toContain("At most one task may be in_progress at a time; 2 are.")
      const empty = yield* run({ todos: [{ content: "   ", status: "pending" }] })
      expect(empty.status).toBe("error")
      expect(text(empty)).toContain("content must not be empty")
      const badStatus = yield* run({ todos: [{ content: "a", status: "done" }] })
      expect(badStatus.status).toBe("error")
      expect(text(badStatus)).toContain("status")
      const missing = yield* run({})
      expect(missing.status).toBe("error")
      expect(yield* todoWrite.lists.get("session-1")).toEqual([{ content: "keep me", status: "pending" }])
      expect(events).toHaveLength(1)
    })
  )

  it.effect("is allowed without asking, and never runs two writes at once", () =>
    Effect.gen(function* () {
      const todoWrite = yield* makeTodoWriteTool()
      expect(todoWrite).toMatchObject({
        name: "TodoWrite",
        readOnly: true,
        kind: "other",
        concurrency: { type: "limited", max: 1 }
      })
      const schema = JSON.stringify(todoWrite.jsonSchema)
      expect(schema).toContain('"enum":["pending","in_progress","completed"]')
      expect(schema).toContain("activeForm")
    })
  )

  it.effect("the result says what changed since the list it replaces; lists are kept by session", () =>
    Effect.gen(function* () {
      const lists = yield* makeTodoLists()
      const todoWrite = yield* makeTodoWriteTool(lists)
      const inSession = (sessionId: string, todos: unknown) =>
        runToolCall(
          todoWrite,
          { id: "t", name: "TodoWrite", input: { todos } },
          { ...context("/"), sessionId },
          { defaultTimeout: "10 seconds" }
        )
      // A list the session already had (a resumed session's, seeded by its conversation).
      yield* lists.set("a", [
        { content: "Read the code", status: "completed" },
        { content: "Fix the bug", status: "in_progress" },
        { content: "Write docs", status: "pending" }
      ])
      const next = yield* inSession("a", [
        { content: "Read the code", status: "completed" },
        { content: "Fix the bug", status: "completed" },
        { content: "Run the tests", status: "in_progress" }
      ])
      expect(text(next)).toBe(
        "Todo list updated: 3 tasks (2 completed, 1 in progress, 0 pending). Completed since the last update: Fix the bug. Removed before being completed: Write docs (add it back if still to do). Now working on: Run the tests. Keep the list current: mark each task completed as soon as it is done."
      )
      expect((yield* lists.get("a")).map((t) => t.content)).toEqual(["Read the code", "Fix the bug", "Run the tests"])
      // Another session's list is its own: it starts empty, and writing it leaves session a's alone.
      const other = yield* inSession("b", [{ content: "Fix the bug", status: "completed" }])
      expect(text(other)).not.toContain("since the last update")
      expect(yield* lists.get("a")).toHaveLength(3)
      yield* lists.forget("a")
      expect(yield* lists.get("a")).toEqual([])
      expect(yield* lists.get("b")).toHaveLength(1)
    })
  )

  it.effect("lists no conversation forgets are bounded: the least recently written goes first", () =>
    Effect.gen(function* () {
      const lists = yield* makeTodoLists(2)
      const one = [{ content: "x", status: "pending" as const }]
      yield* lists.set("a", one)
      yield* lists.set("b", one)
      yield* lists.set("a", one)
      yield* lists.set("c", one)
      expect(yield* lists.get("b")).toEqual([])
      expect(yield* lists.get("a")).toEqual(one)
      expect(yield* lists.get("c")).toEqual(one)
    })
  )
})
