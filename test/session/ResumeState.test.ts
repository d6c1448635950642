/**
 * A resumed session gets the same answers the original would: its TodoWrite list and its "for this session"
 * permission grants come back with it, and stay with it (a new session, or another session of the same process or
 * SDK instance, has neither). Effect API (`Conversation.open` on `layerNode`), SDK and CLI (`-c`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { layerNode } from "../../src/layers/SageLive.js"
import * as SessionStoreLive from "../../src/layers/SessionStoreLive.js"
import type { CanUseTool } from "../../src/sdk/SageAgentSDK.js"
import * as Conversation from "../../src/session/Conversation.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import { answer, callTools, tempDir } from "../agent/harness.js"
import { anthropicEnv, runInProcess } from "../cli/support.js"
import { sdkFor } from "../support/sdk.js"
import * as WireServer from "../support/WireServer.js"

const todo = (content: string, status: "pending" | "in_progress" | "completed") => ({ content, status })

/** The model writes `todos`, then answers `text`. */
const writeTodos = (wire: WireServer.WireServer, id: string, todos: ReadonlyArray<unknown>, text: string) =>
  wire.enqueue(callTools([{ id, name: "TodoWrite", input: { todos } }]), answer(text))

/** The text of the tool result the model was sent last (the request after the tool ran). */
const lastToolResult = (wire: WireServer.WireServer): string => {
  const body = wire.requests.at(-1)?.body
  const messages =
    typeof body === "object" && body !== null && "messages" in body && Array.isArray(body.messages) ? body.messages : []
  const blocks = messages.flatMap((m: { content: ReadonlyArray<Record<string, unknown>> }) => m.content)
  const result = blocks.filter((b: Record<string, unknown>) => b.type === "tool_result").at(-1)
  return JSON.stringify(result?.content ?? "")
}

const LIST_A = [todo("Read the code", "completed"), todo("Fix the bug", "in_progress"), todo("Write docs", "pending")]
const NEXT_A = [todo("Read the code", "completed"), todo("Fix the bug", "completed"), todo("Run tests", "in_progress")]

describe("resumed state", () => {
  it.live("Effect API: TodoWrite starts from a resumed or forked session's last list, a new session's is empty", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        const options = {
          provider: "anthropic" as const,
          apiKey: "sk-ant-test",
          baseURL: wire.url,
          model: "claude-test",
          cwd,
          env: { PATH: process.env.PATH }
        }
        const memory = yield* Layer.build(SessionStoreLive.layerMemory)
        // One agent (one process): a session, then others in the same process.
        const layer = layerNode(options).pipe(Layer.provide(Layer.succeedContext(memory)))
        const turn = (conversation: Conversation.Conversation, prompt: string) =>
          Effect.scoped(
            Effect.gen(function* () {
              const execution = yield* conversation.start(prompt)
              const events: Array<AgentEvent> = []
              yield* Stream.runForEach(execution.events, (e) => Effect.sync(() => void events.push(e)))
              yield* execution.result
              return events
            })
          )
        const first = yield* Effect.gen(function* () {
          const id = yield* Effect.scoped(
            Effect.gen(function* () {
              const conversation = yield* Conversation.open({ cwd })
              writeTodos(wire, "w1", LIST_A, "planned")
              yield* turn(conversation, "plan it")
              expect(lastToolResult(wire)).not.toContain("since the last update")
              return conversation.sessionId
            })
          )
          // A new session in the same process starts empty (the list of the session before is not its list).
          yield* Effect.scoped(
            Effect.gen(function* () {
              const fresh = yield* Conversation.open({ cwd })
              expect(yield* fresh.todos).toEqual([])
              writeTodos(wire, "w2", NEXT_A, "fresh")
              yield* turn(fresh, "other work")
              expect(lastToolResult(wire)).not.toContain("since the last update")
              expect(lastToolResult(wire)).not.toContain("Write docs")
            })
          )
          // Resumed in the same process: the tool starts from the session's last list.
          yield* Effect.scoped(
            Effect.gen(function* () {
              const resumed = yield* Conversation.open({ cwd, resume: id })
              expect(yield* resumed.todos).toEqual(LIST_A)
              writeTodos(wire, "w3", NEXT_A, "went on")
              const events = yield* turn(resumed, "go on")
              const result = lastToolResult(wire)
              expect(result).toContain("Completed since the last update: Fix the bug.")
              expect(result).toContain("Removed before being completed: Write docs")
              expect(events.filter((e) => e.type === "todos.updated")).toMatchObject([{ todos: NEXT_A }])
              expect(yield* resumed.todos).toEqual(NEXT_A)
            })
          )
          return id
        }).pipe(Effect.provide(layer))

        // Another process (a new agent on the same store): resume and fork start from the session's last list.
        yield* Effect.gen(function* () {
          yield* Effect.scoped(
            Effect.gen(function* () {
              const forked = yield* Conversation.open({ cwd, resume: first, fork: true })
              writeTodos(wire, "w4", [todo("Run tests", "completed")], "forked")
              yield* turn(forked, "finish")
              const result = lastToolResult(wire)
              expect(result).toContain("Completed since the last update: Run tests.")
              expect(result).not.toContain("Removed before being completed")
            })
          )
          yield* Effect.scoped(
            Effect.gen(function* () {
              const resumed = yield* Conversation.open({ cwd, resume: first })
              // A sub-agent (Task) keeps a list of its own: it does not change the session's.
              wire.enqueue(
                callTools([
                  {
                    id: "task1",
                    name: "Task",
                    input: { description: "sub job", prompt: "do it", subagent_type: "general-purpose" }
                  }
                ]),
                callTools([{ id: "sw1", name: "TodoWrite", input: { todos: [todo("Sub step", "in_progress")] } }]),
                answer("sub done"),
                answer("delegated")
              )
              const delegated = yield* turn(resumed, "delegate")
              expect(lastToolResult(wire)).toContain("sub done")
              expect(delegated.filter((e) => e.type === "todos.updated")).toMatchObject([
                { parentAgentId: "main", todos: [todo("Sub step", "in_progress")] }
              ])
              expect(yield* resumed.todos).toEqual(NEXT_A)
              writeTodos(wire, "w5", [], "cleared")
              yield* turn(resumed, "drop it all")
              // The fork's update is the fork's: the original still had "Run tests" in progress.
              expect(lastToolResult(wire)).toContain(
                "The todo list is now empty. Removed before being completed: Run tests"
              )
            })
          )
        }).pipe(Effect.provide(layerNode(options).pipe(Layer.provide(Layer.succeedContext(memory)))))
      })
    )
  )

  it.live("Effect API: grant() allows a rule for this session now and on resume; an invalid rule is refused", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        const memory = yield* Layer.build(SessionStoreLive.layerMemory)
        const layer = layerNode({
          provider: "anthropic",
          apiKey: "sk-ant-test",
          baseURL: wire.url,
          model: "claude-test",
          cwd,
          sandbox: "off",
          env: { PATH: process.env.PATH }
        }).pipe(Layer.provide(Layer.succeedContext(memory)))
        const touch = (conversation: Conversation.Conversation, file: string) =>
          Effect.scoped(
            Effect.gen(function* () {
              wire.enqueue(
                callTools([{ id: file, name: "Bash", input: { command: `touch two ${file}` } }]),
                answer("ok")
              )
              const execution = yield* conversation.start(`touch ${file}`)
              yield* execution.result
              return fs.existsSync(path.join(cwd, file))
            })
          )
        yield* Effect.gen(function* () {
          const id = yield* Effect.scoped(
            Effect.gen(function* () {
              const conversation = yield* Conversation.open({ cwd })
              // No approver: an ask is a deny.
              expect(yield* touch(conversation, "x1")).toBe(false)
              const invalid = yield* Effect.flip(conversation.grant("Bash(touch two"))
              expect(invalid._tag).toBe("PermissionError")
              expect(yield* conversation.grants).toEqual([])
              yield* conversation.grant("Bash(touch two:*)")
              expect(yield* conversation.grants).toEqual(["Bash(touch two:*)"])
              expect(yield* touch(conversation, "x2")).toBe(true)
              return conversation.sessionId
            })
          )
          yield* Effect.scoped(
            Effect.gen(function* () {
              const other = yield* Conversation.open({ cwd })
              expect(yield* touch(other, "x3")).toBe(false)
            })
          )
          yield* Effect.scoped(
            Effect.gen(function* () {
              const resumed = yield* Conversation.open({ cwd, resume: id })
              expect(yield* touch(resumed, "x4")).toBe(true)
            })
          )
        }).pipe(Effect.provide(layer))
      })
    )
  )

  it.live("SDK: a 'for this session' grant holds in its session only, and again when resumed by a new instance", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        const sessionsDir = path.join(yield* tempDir, "sessions")
        const asked: Array<string> = []
        // Allows the first question for the session; denies every later one.
        const canUseTool: CanUseTool = async (call) => {
          asked.push(JSON.stringify(call.input))
          return asked.length === 1 ? { behavior: "allow", session: true } : { behavior: "deny", message: "no" }
        }
        const touch = (id: string, file: string) =>
          wire.enqueue(callTools([{ id, name: "Bash", input: { command: `touch one ${file}` } }]), answer("done"))
        const exists = (file: string) => fs.existsSync(path.join(cwd, file))
        const sdk = yield* sdkFor(wire, cwd, { sessionsDir, canUseTool, sandbox: "off" })

        touch("b1", "a1")
        const a = yield* Effect.promise(() => sdk.run("session a"))
        expect(asked).toHaveLength(1)
        expect(exists("a1")).toBe(true)
        expect((yield* Effect.promise(() => sdk.getSession(a.sessionId))).grants).toEqual(["Bash(touch one:*)"])

        // Session b, same instance: the grant of session a does not hold (the question is asked, and denied).
        touch("b2", "b1")
        const b = yield* Effect.promise(() => sdk.run("session b"))
        expect(b.sessionId).not.toBe(a.sessionId)
        expect(asked).toHaveLength(2)
        expect(exists("b1")).toBe(false)
        // Nor in a session continued from a's messages (a new session).
        touch("b3", "b2")
        yield* Effect.promise(() => sdk.run("from a's history", { history: a.messages }))
        expect(asked).toHaveLength(3)
        expect(exists("b2")).toBe(false)

        // Session a resumed on the same instance: it holds again, no question.
        touch("b4", "a2")
        yield* Effect.promise(() => sdk.run("a again", { resume: a.sessionId }))
        expect(asked).toHaveLength(3)
        expect(exists("a2")).toBe(true)

        // A new instance (no canUseTool: an ask is a deny): resuming a restores the grant; b and new sessions lack it.
        const other = yield* sdkFor(wire, cwd, { sessionsDir, sandbox: "off" })
        touch("c1", "a3")
        yield* Effect.promise(() => other.run("a in a new instance", { resume: a.sessionId }))
        expect(exists("a3")).toBe(true)
        touch("c2", "b3")
        yield* Effect.promise(() => other.run("b in a new instance", { resume: b.sessionId }))
        expect(exists("b3")).toBe(false)
        touch("c3", "n1")
        yield* Effect.promise(() => other.run("a new session"))
        expect(exists("n1")).toBe(false)
        // A fork of a keeps its grants.
        touch("c4", "f1")
        yield* Effect.promise(() => other.run("fork of a", { resume: a.sessionId, forkSession: true }))
        expect(exists("f1")).toBe(true)
        expect(asked).toHaveLength(3)
      })
    )
  )

  it.live("SDK: resume, continue and forkSession give TodoWrite the session's last list", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        const sessionsDir = path.join(yield* tempDir, "sessions")
        const sdk = yield* sdkFor(wire, cwd, { sessionsDir })
        writeTodos(wire, "t1", LIST_A, "planned")
        const first = yield* Effect.promise(() => sdk.run("plan"))
        // A new run is a new session: an empty list.
        writeTodos(wire, "t2", NEXT_A, "new")
        yield* Effect.promise(() => sdk.run("unrelated"))
        expect(lastToolResult(wire)).not.toContain("since the last update")
        // Forked: the fork starts from the list (and leaves the original's alone).
        writeTodos(wire, "t3", LIST_A.slice(0, 2), "forked")
        yield* Effect.promise(() => sdk.run("fork", { resume: first.sessionId, forkSession: true }))
        expect(lastToolResult(wire)).toContain("Removed before being completed: Write docs")
        // Resumed: from the same list.
        writeTodos(wire, "t4", LIST_A.slice(0, 2), "resumed")
        yield* Effect.promise(() => sdk.run("resume", { resume: first.sessionId }))
        expect(lastToolResult(wire)).toContain("Removed before being completed: Write docs")
        // Continued (the latest session of the directory: the one just resumed): from the list it left.
        writeTodos(wire, "t5", [], "continued")
        const continued = yield* Effect.promise(() => sdk.run("continue", { continue: true }))
        expect(continued.sessionId).toBe(first.sessionId)
        expect(lastToolResult(wire)).toContain(
          "The todo list is now empty. Removed before being completed: Fix the bug"
        )
        expect(lastToolResult(wire)).not.toContain("Write docs")
      })
    )
  )

  it.live("CLI: -c gives TodoWrite the session's last list; a new run starts empty", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        const home = yield* tempDir
        const env = anthropicEnv(wire.url, home)
        writeTodos(wire, "t1", LIST_A, "planned")
        expect((yield* runInProcess(["-p", "plan"], env, { cwd })).code).toBe(0)
        writeTodos(wire, "t2", NEXT_A, "went on")
        expect((yield* runInProcess(["-p", "-c", "go on"], env, { cwd })).code).toBe(0)
        expect(lastToolResult(wire)).toContain("Completed since the last update: Fix the bug.")
        expect(lastToolResult(wire)).toContain("Removed before being completed: Write docs")
        writeTodos(wire, "t3", LIST_A, "fresh")
        expect((yield* runInProcess(["-p", "fresh start"], env, { cwd })).code).toBe(0)
        expect(lastToolResult(wire)).not.toContain("since the last update")
      })
    )
  )
})
