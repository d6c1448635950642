import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { AuthenticationError, ConfigError } from "../../src/errors/index.js"
import { AbortError, type AgentEvent, type CanUseTool, SageAgentSDK } from "../../src/sdk.js"
import { Tool } from "../../src/tools/Tool.js"
import { answer, callTools, hang, realSleep, tempDir, waitUntilGone } from "../agent/harness.js"
import * as WireServer from "../support/WireServer.js"

const sdkFor = (
  wire: WireServer.WireServer,
  cwd: string,
  extra: Partial<ConstructorParameters<typeof SageAgentSDK>[0]> = {}
) =>
  Effect.acquireRelease(
    Effect.sync(
      () =>
        new SageAgentSDK({
          provider: "anthropic",
          apiKey: "sk-ant-sdk-test",
          baseURL: wire.url,
          model: "claude-test",
          cwd,
          env: { PATH: process.env.PATH },
          ...extra
        })
    ),
    (sdk) => Effect.promise(() => sdk.close())
  )

describe("SageAgentSDK", () => {
  it.scopedLive("run() resolves with the final text, stop reason, usage and the whole conversation", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      fs.writeFileSync(path.join(cwd, "a.txt"), "one\ntwo\n")
      wire.enqueue(callTools([{ id: "r", name: "Read", input: { file_path: "a.txt" } }]), answer("It has two lines."))
      const sdk = yield* sdkFor(wire, cwd, { systemPrompt: "Be brief." })
      const result = yield* Effect.promise(() => sdk.run("how long is a.txt?"))
      expect(result).toMatchObject({ text: "It has two lines.", stopReason: "end_turn", steps: 2 })
      expect(result.usage.inputTokens).toBe(20)
      expect(result.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"])
      expect((wire.requests[0]!.body as { system: unknown }).system).toBeDefined()
      // Continue the conversation from the result.
      wire.enqueue(answer("Yes."))
      const next = yield* Effect.promise(() => sdk.run("sure?", { history: result.messages }))
      expect(next.messages).toHaveLength(6)
    })
  )

  it.scopedLive("replays the recorded parallel tool calls through custom tools that run concurrently", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      let running = 0
      let overlap = 0
      const pelican = Tool.make({
        name: "pelican_name_generator",
        description: "Names a pelican",
        input: Schema.Struct({}),
        readOnly: true,
        execute: () =>
          Effect.gen(function* () {
            running++
            overlap = Math.max(overlap, running)
            yield* Effect.promise(() => new Promise((r) => setTimeout(r, 100)))
            running--
            return "Percival"
          })
      })
      wire.enqueue(
        { kind: "file", path: WireServer.fixture("anthropic/parallel-tool-use-with-text.sse") },
        answer("Percival twice.")
      )
      const sdk = yield* sdkFor(wire, cwd, { tools: [pelican] })
      const events: Array<AgentEvent> = []
      yield* Effect.promise(async () => {
        for await (const e of sdk.stream("name pelicans")) events.push(e)
      })
      const results = events.flatMap((e) => (e.type === "tool.completed" ? [e.result] : []))
      expect(results.map((r) => r.status)).toEqual(["success", "success"])
      expect(overlap).toBe(2)
      expect(events.at(-1)?.type).toBe("state.changed")
      expect(events.find((e) => e.type === "turn.ended")).toMatchObject({ text: "Percival twice." })
    })
  )

  it.scopedLive("breaking out of stream() interrupts the turn and aborts the request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(hang({ steps: [{ text: ["a", "b"] }], noEnd: true }))
      const sdk = yield* sdkFor(wire, cwd)
      const aborted = wire.nextClientAbort()
      const seen = yield* Effect.promise(async () => {
        const types: Array<string> = []
        for await (const e of sdk.stream("go")) {
          types.push(e.type)
          if (e.type === "text.delta") break
        }
        return types
      })
      expect(seen.at(-1)).toBe("text.delta")
      yield* Effect.promise(() => aborted)
    })
  )

  it.scopedLive("an AbortSignal rejects run() with AbortError and leaves no process behind", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const pidFile = path.join(cwd, "pid")
      wire.enqueue(callTools([{ id: "b", name: "Bash", input: { command: `sleep 300 & echo $! > ${pidFile}; wait` } }]))
      const sdk = yield* sdkFor(wire, cwd, { permissionMode: "bypassPermissions" })
      const controller = new AbortController()
      const pending = sdk.run("sleep", { signal: controller.signal })
      while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, "utf8").trim() === "") yield* realSleep(20)
      const pid = Number(fs.readFileSync(pidFile, "utf8"))
      controller.abort()
      const error = yield* Effect.promise(() =>
        pending.then(
          () => undefined,
          (e: unknown) => e
        )
      )
      expect(error).toBeInstanceOf(AbortError)
      expect((error as Error).name).toBe("AbortError")
      expect(yield* waitUntilGone(pid)).toBe(true)
      const again = yield* Effect.promise(() => sdk.run("x", { signal: controller.signal }).catch((e: unknown) => e))
      expect(again).toBeInstanceOf(AbortError)
    })
  )

  it.scopedLive("canUseTool answers asks: allow with edited input, or deny with a reason the model sees", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const asked: Array<string> = []
      const canUseTool: CanUseTool = async (call, { signal }) => {
        expect(signal).toBeInstanceOf(AbortSignal)
        const command = (call.input as { command: string }).command
        asked.push(command)
        return command === "echo one"
          ? { behavior: "allow", updatedInput: { command: "echo edited" } }
          : { behavior: "deny", message: "not today" }
      }
      wire.enqueue(
        callTools([
          { id: "b1", name: "Bash", input: { command: "echo one" } },
          { id: "b2", name: "Bash", input: { command: "echo two" } }
        ]),
        answer("done")
      )
      const sdk = yield* sdkFor(wire, cwd, { canUseTool })
      const events: Array<AgentEvent> = []
      yield* Effect.promise(async () => {
        for await (const e of sdk.stream("run both")) events.push(e)
      })
      expect(asked.sort()).toEqual(["echo one", "echo two"])
      const results = new Map(
        events.flatMap((e) => (e.type === "tool.completed" ? [[e.result.toolCallId, e.result] as const] : []))
      )
      expect(results.get("b1")).toMatchObject({ status: "success", output: [{ type: "text", text: "edited" }] })
      expect(results.get("b2")?.status).toBe("denied")
      expect(JSON.stringify(results.get("b2")?.output)).toContain("not today")
      expect(events.filter((e) => e.type === "permission.requested")).toHaveLength(2)
      expect(events.some((e) => e.type === "state.changed" && e.to === "waiting_for_permission")).toBe(true)
    })
  )

  it.scopedLive("WebFetch reaches a loopback server only when the config allows it; TodoWrite emits its list", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const page = yield* WireServer.make
      const cwd = yield* tempDir
      page.setHandler(() => ({
        kind: "stream",
        contentType: "text/html",
        chunks: ["<html><body><h1>Local docs</h1><script>x()</script></body></html>"]
      }))
      const fetchAndPlan = () =>
        callTools([
          { id: "f", name: "WebFetch", input: { url: `${page.url}/docs` } },
          { id: "t", name: "TodoWrite", input: { todos: [{ content: "read docs", status: "in_progress" }] } }
        ])
      const collect = (sdk: SageAgentSDK) =>
        Effect.promise(async () => {
          const events: Array<AgentEvent> = []
          for await (const e of sdk.stream("fetch")) events.push(e)
          return events
        })
      wire.enqueue(fetchAndPlan(), answer("ok"))
      const refused = yield* collect(yield* sdkFor(wire, cwd))
      const refusedFetch = refused.flatMap((e) =>
        e.type === "tool.completed" && e.result.toolCallId === "f" ? [e.result] : []
      )[0]
      expect(refusedFetch?.status).toBe("error")
      expect(page.requests).toHaveLength(0)
      const todos = refused.find((e) => e.type === "todos.updated")
      expect(todos).toMatchObject({ todos: [{ content: "read docs", status: "in_progress" }] })
      wire.enqueue(fetchAndPlan(), answer("ok"))
      const allowed = yield* collect(yield* sdkFor(wire, cwd, { webFetch: { allowPrivate: true } }))
      const fetched = allowed.flatMap((e) =>
        e.type === "tool.completed" && e.result.toolCallId === "f" ? [e.result] : []
      )[0]
      expect(fetched?.status).toBe("success")
      expect(JSON.stringify(fetched?.output)).toContain("Local docs")
      expect(JSON.stringify(fetched?.output)).not.toContain("x()")
    })
  )

  it.scopedLive("errors are the tagged error classes, real Errors", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue({
        kind: "error",
        status: 401,
        body: { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } }
      })
      const sdk = yield* sdkFor(wire, cwd)
      const error = yield* Effect.promise(() => sdk.run("hi").catch((e: unknown) => e))
      expect(error).toBeInstanceOf(AuthenticationError)
      expect(error).toBeInstanceOf(Error)
      expect((error as AuthenticationError).message).toContain("ANTHROPIC_API_KEY")
      expect((error as AuthenticationError).message).not.toContain("sk-ant-sdk-test")
    })
  )

  it.scopedLive("a missing API key is a ConfigError naming the variable; close() is idempotent", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const saved = process.env.ANTHROPIC_API_KEY
      delete process.env.ANTHROPIC_API_KEY
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          if (saved !== undefined) process.env.ANTHROPIC_API_KEY = saved
        })
      )
      const sdk = new SageAgentSDK({ cwd })
      const error = yield* Effect.promise(() => sdk.run("hi").catch((e: unknown) => e))
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).message).toContain("ANTHROPIC_API_KEY")
      yield* Effect.promise(() => sdk.close())
      yield* Effect.promise(() => sdk[Symbol.asyncDispose]())
    })
  )
})
