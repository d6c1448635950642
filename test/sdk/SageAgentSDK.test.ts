import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Errors from "../../src/errors/index.js"
import {
  AbortError,
  type AgentEvent,
  AuthenticationError,
  type CanUseTool,
  ConfigError,
  type CustomTool,
  isSageError,
  RateLimitedError,
  SageAgentSDK,
  SageClosedError,
  ToolRegistrationError
} from "../../src/sdk/SageAgentSDK.js"
import { answer, callTools, hang, realSleep, tempDir, waitUntilGone } from "../agent/harness.js"
import { anthropicErrorBody } from "../support/anthropicSse.js"
import { sdkFor } from "../support/sdk.js"
import { PROVIDERS } from "../../src/providers/registry.js"
import * as WireServer from "../support/WireServer.js"

describe("SageAgentSDK", () => {
  it.live("run() resolves with the final text, stop reason, usage and the whole conversation", () =>
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

  it.live("replays the recorded parallel tool calls through custom tools that run concurrently", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      let running = 0
      let overlap = 0
      const pelican: CustomTool = {
        name: "pelican_name_generator",
        description: "Names a pelican",
        inputSchema: { type: "object", properties: {} },
        readOnly: true,
        execute: async () => {
          running++
          overlap = Math.max(overlap, running)
          await new Promise((r) => setTimeout(r, 100))
          running--
          return "Percival"
        }
      }
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

  it.live("a custom tool gets the model's input and call id; the model sees its schema and its result", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const received: Array<{ input: unknown; callId: string; signal: AbortSignal }> = []
      const inputSchema = {
        type: "object",
        properties: { city: { type: "string", description: "City name" } },
        required: ["city"]
      }
      const weather: CustomTool = {
        name: "get_weather",
        description: "Current weather for a city",
        inputSchema,
        readOnly: true,
        execute: async (input, { callId, signal }) => {
          received.push({ input, callId, signal })
          return `Sunny in ${(input as { city: string }).city}`
        }
      }
      const forecast: CustomTool = {
        name: "forecast",
        description: "Tomorrow's forecast as JSON",
        inputSchema: { type: "object", properties: {} },
        readOnly: true,
        execute: async () => [{ type: "json", value: { tomorrow: "rain" } }]
      }
      wire.enqueue(
        callTools([
          { id: "w1", name: "get_weather", input: { city: "Lisbon", days: [1, 2] } },
          { id: "f1", name: "forecast", input: {} }
        ]),
        answer("Sunny, then rain.")
      )
      const sdk = yield* sdkFor(wire, cwd, { tools: [weather, forecast] })
      const result = yield* Effect.promise(() => sdk.run("weather?"))
      expect(result.text).toBe("Sunny, then rain.")
      expect(received).toHaveLength(1)
      expect(received[0]).toMatchObject({ input: { city: "Lisbon", days: [1, 2] }, callId: "w1" })
      expect(received[0]!.signal.aborted).toBe(false)
      const tools = (wire.requests[0]!.body as { tools: Array<{ name: string; input_schema: unknown }> }).tools
      expect(tools.find((t) => t.name === "get_weather")?.input_schema).toEqual(inputSchema)
      const toolMessage = result.messages.find((m) => m.role === "tool")
      expect(toolMessage?.content).toEqual([
        { type: "tool_result", toolUseId: "w1", content: [{ type: "text", text: "Sunny in Lisbon" }], isError: false },
        {
          type: "tool_result",
          toolUseId: "f1",
          content: [{ type: "text", text: '{"tomorrow":"rain"}' }],
          isError: false
        }
      ])
      const sent = JSON.stringify((wire.requests[1]!.body as { messages: unknown }).messages)
      expect(sent).toContain("Sunny in Lisbon")
      expect(sent).toContain('\\"tomorrow\\":\\"rain\\"')
    })
  )

  it.live("a rejecting, throwing or badly returning custom tool becomes an error result; the turn goes on", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const tool = (name: string, execute: CustomTool["execute"]): CustomTool => ({
        name,
        description: name,
        inputSchema: { type: "object", properties: {} },
        kind: "network",
        execute
      })
      const tools = [
        tool("rejects", async () => {
          throw new Error("the weather service is down; try again later")
        }),
        tool("throws", () => {
          throw "plain string failure"
        }),
        tool("empty_message", () => Promise.reject(new TypeError(""))),
        tool("rejects_number", () => Promise.reject(42)),
        tool("bad_return", async () => 42 as unknown as string),
        tool("fine", async () => "ok")
      ]
      wire.enqueue(callTools(tools.map((t) => ({ id: t.name, name: t.name, input: {} }))), answer("Some failed."))
      const sdk = yield* sdkFor(wire, cwd, { tools, permissionMode: "bypassPermissions" })
      const events: Array<AgentEvent> = []
      yield* Effect.promise(async () => {
        for await (const e of sdk.stream("try them")) events.push(e)
      })
      const results = new Map(
        events.flatMap((e) => (e.type === "tool.completed" ? [[e.result.toolCallId, e.result] as const] : []))
      )
      expect(results.get("rejects")).toMatchObject({
        status: "error",
        output: [{ type: "text", text: "the weather service is down; try again later" }]
      })
      expect(results.get("throws")).toMatchObject({
        status: "error",
        output: [{ type: "text", text: "plain string failure" }]
      })
      expect(results.get("empty_message")).toMatchObject({
        status: "error",
        output: [{ type: "text", text: "Tool empty_message failed: TypeError" }]
      })
      expect(results.get("rejects_number")).toMatchObject({
        status: "error",
        output: [{ type: "text", text: "Tool rejects_number failed: 42" }]
      })
      expect(results.get("bad_return")?.status).toBe("error")
      expect(JSON.stringify(results.get("bad_return")?.output)).toContain("returned neither a string nor an array")
      expect(results.get("fine")).toMatchObject({ status: "success", output: [{ type: "text", text: "ok" }] })
      expect(events.find((e) => e.type === "turn.ended")).toMatchObject({
        text: "Some failed.",
        stopReason: "end_turn"
      })
      const sent = JSON.stringify((wire.requests[1]!.body as { messages: unknown }).messages)
      expect(sent).toContain("the weather service is down")
      expect(sent).toContain('"is_error":true')
    })
  )

  it.live("interrupting the turn aborts the signal of a running custom tool", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      let started!: () => void
      const isStarted = new Promise<void>((resolve) => {
        started = resolve
      })
      let aborted!: (reason: unknown) => void
      const isAborted = new Promise<unknown>((resolve) => {
        aborted = resolve
      })
      const slow: CustomTool = {
        name: "slow",
        description: "Waits until stopped",
        inputSchema: { type: "object", properties: {} },
        readOnly: true,
        execute: (_input, { signal }) =>
          new Promise((_resolve, reject) => {
            signal.addEventListener("abort", () => {
              aborted(signal.reason)
              reject(new Error("stopped"))
            })
            started()
          })
      }
      wire.enqueue(callTools([{ id: "s", name: "slow", input: {} }]))
      const sdk = yield* sdkFor(wire, cwd, { tools: [slow] })
      const controller = new AbortController()
      const pending = sdk.run("wait", { signal: controller.signal }).catch((e: unknown) => e)
      yield* Effect.promise(() => isStarted)
      controller.abort()
      expect(yield* Effect.promise(() => pending)).toBeInstanceOf(AbortError)
      const reason = yield* Effect.promise(() => isAborted).pipe(Effect.timeout("20 seconds"))
      expect(reason).toBeDefined()
      expect(wire.requests).toHaveLength(1)
    })
  )

  it.live("a custom tool whose name is taken or invalid rejects run() with ToolRegistrationError", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const named = (name: string): CustomTool => ({
        name,
        description: "x",
        inputSchema: { type: "object" },
        execute: async () => "x"
      })
      for (const name of ["Read", "has space"]) {
        const sdk = yield* sdkFor(wire, cwd, { tools: [named(name)] })
        const error = yield* Effect.promise(() => sdk.run("hi").catch((e: unknown) => e))
        expect(error).toBeInstanceOf(ToolRegistrationError)
        expect(isSageError(error)).toBe(true)
        if (!(error instanceof ToolRegistrationError)) throw new Error("not narrowed")
        expect(error._tag).toBe("ToolRegistrationError")
        expect(error.name).toBe(name)
      }
      expect(wire.requests).toHaveLength(0)
    })
  )

  it.live("options reach the agent: rules, limits, model settings and the session id", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const other = yield* tempDir
      wire.enqueue(
        callTools([
          { id: "e", name: "Bash", input: { command: "echo allowed" } },
          { id: "w", name: "Write", input: { file_path: "x.txt", content: "x" } }
        ])
      )
      const sdk = yield* sdkFor(wire, cwd, {
        additionalDirectories: [other],
        allowedTools: ["Bash(echo *)"],
        disallowedTools: ["Write"],
        maxSteps: 1,
        maxConcurrency: 2,
        maxTokens: 321,
        sandbox: "off",
        sandboxNetwork: false
      })
      const result = yield* Effect.promise(() => sdk.run("go", { sessionId: "session-opts" }))
      expect(result).toMatchObject({ sessionId: "session-opts", stopReason: "max_steps", steps: 1 })
      expect((wire.requests[0]!.body as { max_tokens: number }).max_tokens).toBe(321)
      const results = result.messages.flatMap((m) => m.content.flatMap((b) => (b.type === "tool_result" ? [b] : [])))
      expect(results.find((b) => b.toolUseId === "e")).toMatchObject({
        isError: false,
        content: [{ type: "text", text: "allowed" }]
      })
      expect(results.find((b) => b.toolUseId === "w")?.isError).toBe(true)
      expect(fs.existsSync(path.join(cwd, "x.txt"))).toBe(false)
    })
  )

  it.live("breaking out of stream() interrupts the turn and aborts the request", () =>
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

  it.live("an AbortSignal rejects run() with AbortError and leaves no process behind", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const pidFile = path.join(cwd, "pid")
      wire.enqueue(callTools([{ id: "b", name: "Bash", input: { command: `sleep 300 & echo $! > ${pidFile}; wait` } }]))
      // Unsandboxed: `$!` inside the sandbox's PID namespace is not a host pid.
      const sdk = yield* sdkFor(wire, cwd, { permissionMode: "bypassPermissions", sandbox: "off" })
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

  it.live(
    "canUseTool answers asks: allow with edited input, deny with a reason the model sees; a throwing callback denies",
    () =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        const asked: Array<string> = []
        const canUseTool: CanUseTool = async (call, { signal }) => {
          expect(signal).toBeInstanceOf(AbortSignal)
          const command = (call.input as { command: string }).command
          asked.push(command)
          if (command === "touch three") throw new Error("callback crashed")
          return command === "touch one"
            ? { behavior: "allow", updatedInput: { command: "echo edited" } }
            : { behavior: "deny", message: "not today" }
        }
        wire.enqueue(
          callTools([
            { id: "b1", name: "Bash", input: { command: "touch one" } },
            { id: "b2", name: "Bash", input: { command: "touch two" } },
            { id: "b3", name: "Bash", input: { command: "touch three" } }
          ]),
          answer("done")
        )
        const sdk = yield* sdkFor(wire, cwd, { canUseTool })
        const events: Array<AgentEvent> = []
        yield* Effect.promise(async () => {
          for await (const e of sdk.stream("run both")) events.push(e)
        })
        expect(asked.sort()).toEqual(["touch one", "touch three", "touch two"])
        const results = new Map(
          events.flatMap((e) => (e.type === "tool.completed" ? [[e.result.toolCallId, e.result] as const] : []))
        )
        expect(results.get("b1")).toMatchObject({ status: "success", output: [{ type: "text", text: "edited" }] })
        expect(results.get("b2")?.status).toBe("denied")
        expect(JSON.stringify(results.get("b2")?.output)).toContain("not today")
        // A callback that throws denies, and says why.
        expect(results.get("b3")?.status).toBe("denied")
        expect(JSON.stringify(results.get("b3")?.output)).toContain("canUseTool failed: callback crashed")
        expect(events.filter((e) => e.type === "permission.requested")).toHaveLength(3)
        expect(events.some((e) => e.type === "state.changed" && e.to === "waiting_for_permission")).toBe(true)
      })
  )

  it.live("WebFetch reaches a loopback server only when the config allows it; TodoWrite emits its list", () =>
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
      // A domain rule lets the call past the permission check; the tool itself still refuses a private address.
      const domainRule = { allowedTools: ["WebFetch(domain:127.0.0.1)"] }
      const refused = yield* collect(yield* sdkFor(wire, cwd, domainRule))
      const refusedFetch = refused.flatMap((e) =>
        e.type === "tool.completed" && e.result.toolCallId === "f" ? [e.result] : []
      )[0]
      expect(refusedFetch?.status).toBe("error")
      expect(JSON.stringify(refusedFetch?.output)).toMatch(/private|loopback/i)
      expect(page.requests).toHaveLength(0)
      const todos = refused.find((e) => e.type === "todos.updated")
      expect(todos).toMatchObject({ todos: [{ content: "read docs", status: "in_progress" }] })
      wire.enqueue(fetchAndPlan(), answer("ok"))
      const allowed = yield* collect(yield* sdkFor(wire, cwd, { ...domainRule, webFetch: { allowPrivate: true } }))
      const fetched = allowed.flatMap((e) =>
        e.type === "tool.completed" && e.result.toolCallId === "f" ? [e.result] : []
      )[0]
      expect(fetched?.status).toBe("success")
      expect(JSON.stringify(fetched?.output)).toContain("Local docs")
      expect(JSON.stringify(fetched?.output)).not.toContain("x()")
    })
  )

  it.live("errors are the tagged error classes, real Errors", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue({
        kind: "error",
        status: 401,
        body: anthropicErrorBody("authentication_error", "invalid x-api-key")
      })
      const sdk = yield* sdkFor(wire, cwd)
      const error = yield* Effect.promise(() => sdk.run("hi").catch((e: unknown) => e))
      expect(error).toBeInstanceOf(AuthenticationError)
      expect(error).toBeInstanceOf(Error)
      expect(error).not.toBeInstanceOf(RateLimitedError)
      expect(isSageError(error)).toBe(true)
      expect(isSageError(new Error("x"))).toBe(false)
      // `instanceof` narrows to the plain declared type.
      if (!(error instanceof AuthenticationError)) throw new Error("not narrowed")
      expect(error._tag).toBe("AuthenticationError")
      expect(error.provider).toBe("anthropic")
      expect(error.status).toBe(401)
      expect(error.retryable).toBe(false)
      expect(error.message).toContain("ANTHROPIC_API_KEY")
      expect(error.message).not.toContain("sk-ant-sdk-test")
    })
  )

  it("the SDK's error values are the library's classes, constructible with plain fields", () => {
    expect(AuthenticationError).toBe(Errors.AuthenticationError)
    expect(ToolRegistrationError).toBe(Errors.ToolRegistrationError)
    const limited = new RateLimitedError({ provider: "openai", message: "slow down", status: 429, retryAfterMs: 1500 })
    expect(limited).toBeInstanceOf(Errors.RateLimitedError)
    expect(limited).toBeInstanceOf(Error)
    expect(limited).toMatchObject({ _tag: "RateLimitedError", name: "RateLimitedError", retryAfterMs: 1500 })
    expect(limited.retryable).toBe(true)
    expect(new ConfigError({ message: "m", source: "ANTHROPIC_API_KEY" })).toBeInstanceOf(Errors.ConfigError)
    expect(isSageError(new Errors.ToolExecutionError({ tool: "t", message: "m" }))).toBe(false)
  })

  it.live("a missing API key is a ConfigError naming the variable; close() is idempotent", () =>
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
      expect((error as ConfigError)._tag).toBe("ConfigError")
      yield* Effect.promise(() => sdk.close())
      yield* Effect.promise(() => sdk[Symbol.asyncDispose]())
    })
  )

  it.live("close() interrupts a running turn and waits for it: no further model request; run() rejects", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      let started!: () => void
      const isStarted = new Promise<void>((resolve) => {
        started = resolve
      })
      let toolSignal: AbortSignal | undefined
      // Resolves (instead of failing) when stopped: a loop that went on would make its next model request.
      const slow: CustomTool = {
        name: "slow",
        description: "Waits until stopped",
        inputSchema: { type: "object", properties: {} },
        readOnly: true,
        execute: (_input, { signal }) =>
          new Promise((resolve) => {
            toolSignal = signal
            signal.addEventListener("abort", () => setTimeout(() => resolve("stopped"), 50))
            started()
          })
      }
      wire.enqueue(callTools([{ id: "s", name: "slow", input: {} }]), answer("must not be requested"))
      const sdk = yield* sdkFor(wire, cwd, { tools: [slow] })
      const pending = sdk.run("wait").catch((e: unknown) => e)
      yield* Effect.promise(() => isStarted)
      yield* Effect.promise(() => sdk.close())
      // close() resolved only after the turn had been interrupted (the tool's signal is aborted).
      expect(toolSignal?.aborted).toBe(true)
      const error = yield* Effect.promise(() => pending)
      expect(error).toBeInstanceOf(SageClosedError)
      expect(isSageError(error)).toBe(true)
      expect((error as SageClosedError)._tag).toBe("SageClosedError")
      expect((error as Error).message).toContain("closed while the call was running")
      yield* realSleep(300)
      expect(wire.requests).toHaveLength(1)
    })
  )

  it.live("close() during a command kills it: no process is left behind", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const pidFile = path.join(cwd, "pid")
      wire.enqueue(
        callTools([{ id: "b", name: "Bash", input: { command: `sleep 300 & echo $! > ${pidFile}; wait` } }]),
        answer("must not be requested")
      )
      const sdk = yield* sdkFor(wire, cwd, { permissionMode: "bypassPermissions", sandbox: "off" })
      const pending = sdk.run("sleep").catch((e: unknown) => e)
      while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, "utf8").trim() === "") yield* realSleep(20)
      const pid = Number(fs.readFileSync(pidFile, "utf8"))
      yield* Effect.promise(() => sdk.close())
      expect(yield* Effect.promise(() => pending)).toBeInstanceOf(SageClosedError)
      expect(yield* waitUntilGone(pid)).toBe(true)
      expect(wire.requests).toHaveLength(1)
    })
  )

  it.live("every call after close() rejects with SageClosedError; close() is idempotent", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(answer("one"))
      const sdk = yield* sdkFor(wire, cwd)
      expect((yield* Effect.promise(() => sdk.run("first"))).text).toBe("one")
      yield* Effect.promise(() => Promise.all([sdk.close(), sdk.close()]))
      const run = yield* Effect.promise(() => sdk.run("again").catch((e: unknown) => e))
      expect(run).toBeInstanceOf(SageClosedError)
      expect((run as Error).message).toBe("This SageAgentSDK was closed; create a new instance to run again")
      const streamed = yield* Effect.promise(async () => {
        try {
          for await (const _ of sdk.stream("again")) return "yielded"
          return "ended"
        } catch (e) {
          return e
        }
      })
      expect(streamed).toBeInstanceOf(SageClosedError)
      yield* Effect.promise(() => sdk.close())
      expect(wire.requests).toHaveLength(1)
    })
  )

  it.live("close() stops a stream being read (it throws SageClosedError) and one nobody reads", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      // Read: the consumer's loop throws once close() stopped the turn, and the request is aborted.
      wire.enqueue(hang({ steps: [{ text: ["a", "b"] }], noEnd: true }))
      const sdk = yield* sdkFor(wire, cwd)
      const aborted = wire.nextClientAbort()
      let sawDelta!: () => void
      const deltaSeen = new Promise<void>((resolve) => {
        sawDelta = resolve
      })
      const reading = (async () => {
        try {
          for await (const e of sdk.stream("go")) if (e.type === "text.delta") sawDelta()
          return "ended"
        } catch (e) {
          return e
        }
      })()
      yield* Effect.promise(() => deltaSeen)
      yield* Effect.promise(() => sdk.close())
      yield* Effect.promise(() => aborted)
      expect(yield* Effect.promise(() => reading)).toBeInstanceOf(SageClosedError)
      // Unread: the consumer took one event and stopped pulling; close() still stops its turn.
      wire.enqueue(hang({ steps: [{ text: ["a"] }], noEnd: true }))
      const idle = yield* sdkFor(wire, cwd)
      const idleAborted = wire.nextClientAbort()
      const iterator = idle.stream("go")[Symbol.asyncIterator]()
      const first = yield* Effect.promise(() => iterator.next())
      expect(first.done).toBe(false)
      while (wire.requests.length < 2) yield* realSleep(10)
      yield* Effect.promise(() => idle.close())
      yield* Effect.promise(() => idleAborted)
      const after = yield* Effect.promise(() => iterator.next().catch((e: unknown) => e))
      expect(after).toBeInstanceOf(SageClosedError)
    })
  )

  it.live("invalid options throw a ConfigError from the constructor, before any request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const construct = (options: unknown): unknown => {
        try {
          return Reflect.construct(SageAgentSDK, [options])
        } catch (e) {
          return e
        }
      }
      const unknown = construct({ provider: "nope", baseURL: wire.url, apiKey: "sk-x" })
      expect(unknown).toBeInstanceOf(ConfigError)
      expect(isSageError(unknown)).toBe(true)
      expect(unknown).toMatchObject({
        _tag: "ConfigError",
        source: "provider",
        message: `Invalid SageAgentSDK options: provider is "nope"; expected ${PROVIDERS.map((p) => `"${p}"`).join(" or ")}`
      })
      expect(construct({ permissionMode: "yolo" })).toMatchObject({ source: "permissionMode" })
      expect((construct({ permissionMode: "yolo" }) as Error).message).toContain('"yolo"')
      for (const maxSteps of [0, -1]) {
        expect(construct({ maxSteps })).toMatchObject({
          source: "maxSteps",
          message: `Invalid SageAgentSDK options: maxSteps is ${maxSteps}; expected an integer >= 1`
        })
      }
      expect(construct({ maxSteps: "10" })).toBeInstanceOf(ConfigError)
      expect(construct({ tools: {} })).toMatchObject({ source: "tools" })
      expect(construct({ systemprompt: "x" })).toMatchObject({ source: "systemprompt" })
      expect(construct({ provider: "openai" })).toBeInstanceOf(SageAgentSDK)
      // A prompt that is not a string is refused too.
      const sdk = new SageAgentSDK({ cwd: yield* tempDir, apiKey: "sk-x", baseURL: wire.url })
      const bad = yield* Effect.promise(() =>
        Promise.resolve(Reflect.apply(sdk.run, sdk, [42])).catch((e: unknown) => e)
      )
      expect(bad).toMatchObject({ _tag: "ConfigError", source: "prompt" })
      yield* Effect.promise(() => sdk.close())
      expect(wire.requests).toHaveLength(0)
    })
  )

  it.live("systemPrompt replaces the system prompt; appendSystemPrompt adds to Sage's", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const systemOf = (index: number) => JSON.stringify((wire.requests[index]!.body as { system?: unknown }).system)
      wire.enqueue(answer("ok"), answer("ok"), answer("ok"))
      const replaced = yield* sdkFor(wire, cwd, { systemPrompt: "You are a pirate." })
      yield* Effect.promise(() => replaced.run("hi"))
      expect(systemOf(0)).toContain("You are a pirate.")
      expect(systemOf(0)).not.toContain(cwd)
      const appended = yield* sdkFor(wire, cwd, { appendSystemPrompt: "Answer in French." })
      yield* Effect.promise(() => appended.run("hi"))
      expect(systemOf(1)).toContain(cwd)
      // the end of the system text (Anthropic requests carry it as a block with a cache breakpoint)
      expect(systemOf(1)).toMatch(/Answer in French\.["\]}]*(,"cache_control":\{"type":"ephemeral"\}\}\])?$/)
      const both = yield* sdkFor(wire, cwd, { systemPrompt: "You are a pirate.", appendSystemPrompt: "Arr." })
      yield* Effect.promise(() => both.run("hi"))
      expect(systemOf(2)).toContain("You are a pirate.")
      expect(systemOf(2)).toContain("Arr.")
      expect(systemOf(2)).not.toContain(cwd)
    })
  )

  it.live("a follow-up continues the conversation: the second request holds the first turn", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(answer("Nice to meet you, Ada."), answer("Your name is Ada."), answer("Still Ada."))
      const sdk = yield* sdkFor(wire, cwd)
      const first = yield* Effect.promise(() => sdk.run("My name is Ada."))
      const second = yield* Effect.promise(() => sdk.run("What is my name?", { history: first.messages }))
      expect(second.text).toBe("Your name is Ada.")
      const sent = (index: number) =>
        (wire.requests[index]!.body as { messages: Array<{ role: string; content: unknown }> }).messages
      expect(sent(1).map((m) => m.role)).toEqual(["user", "assistant", "user"])
      expect(JSON.stringify(sent(1)[0])).toContain("My name is Ada.")
      expect(JSON.stringify(sent(1)[1])).toContain("Nice to meet you, Ada.")
      expect(JSON.stringify(sent(1)[2])).toContain("What is my name?")
      expect(second.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"])
      // The same through stream(): the turn.ended text, and the third request holds both earlier turns.
      const events: Array<AgentEvent> = []
      yield* Effect.promise(async () => {
        for await (const e of sdk.stream("Sure?", { history: second.messages })) events.push(e)
      })
      expect(events.find((e) => e.type === "turn.ended")).toMatchObject({ text: "Still Ada." })
      expect(sent(2).map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant", "user"])
      expect(JSON.stringify(sent(2))).toContain("Your name is Ada.")
    })
  )
})
