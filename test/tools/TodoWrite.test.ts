import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type { ToolContext, ToolEmittedEvent } from "../../src/services/Tool.js"
import { runToolCall } from "../../src/tools/Tool.js"
import { makeTodoWriteTool } from "../../src/tools/TodoWrite.js"
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
      expect(yield* Ref.get(todoWrite.todos)).toEqual(expected)
      expect(events).toEqual([{ type: "todos.updated", todos: expected }])

      // Without an emit function (outside an agent) it still keeps the list.
      const cleared = yield* call(todoWrite, { todos: [] })
      expect(text(cleared)).toBe("The todo list is now empty.")
      expect(yield* Ref.get(todoWrite.todos)).toEqual([])
      const one = yield* call(todoWrite, { todos: [{ content: "Ship", status: "in_progress" }] })
      expect(text(one)).toContain("1 task (0 completed, 1 in progress, 0 pending). Now working on: Ship.")
    })
  )

  it.effect("each instance has its own list", () =>
    Effect.gen(function* () {
      const a = yield* makeTodoWriteTool()
      const b = yield* makeTodoWriteTool()
      yield* call(a, { todos: [{ content: "x", status: "pending" }] })
      expect(yield* Ref.get(a.todos)).toHaveLength(1)
      expect(yield* Ref.get(b.todos)).toEqual([])
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
      expect(yield* Ref.get(todoWrite.todos)).toEqual([{ content: "keep me", status: "pending" }])
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
})
