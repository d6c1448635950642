import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { ToolExecutionError } from "../../src/errors/ToolError.js"
import { Agent } from "../../src/services/Agent.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import { makeBashTool } from "../../src/tools/Bash.js"
import { Tool } from "../../src/tools/Tool.js"
import { Sandbox } from "../../src/services/Sandbox.js"
import { Workspace } from "../../src/services/Workspace.js"
import { anthropicErrorBody } from "../support/anthropicSse.js"
import { unconfined, workspaceOf } from "../tools/support.js"
import * as WireServer from "../support/WireServer.js"
import {
  agentLayer,
  answer,
  callTools,
  hang,
  ofType,
  realSleep,
  reply,
  runTurn,
  tempDir,
  waitUntilGone
} from "./harness.js"

const Echo = Tool.make({
  name: "Echo",
  description: "Echo the text back",
  input: Schema.Struct({ text: Schema.String }),
  readOnly: true,
  execute: ({ text }) => Effect.succeed(`echo: ${text}`)
})

const types = (events: ReadonlyArray<AgentEvent>) => events.map((e) => e.type)

describe("agent loop", () => {
  it.live("runs a multi-step tool turn and keeps a valid transcript", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(callTools([{ id: "t1", name: "Echo", input: { text: "hi" } }], "Let me echo."), answer("Done: hi"))
      const events = yield* runTurn({ wire, cwd, tools: [Echo] }, "echo hi")

      expect(types(events)[0]).toBe("turn.started")
      expect(types(events).at(-1)).toBe("state.changed")
      const ended = ofType(events, "turn.ended")[0]!
      expect(ended).toMatchObject({ stopReason: "end_turn", steps: 2, text: "Done: hi" })
      expect(ended.usage.inputTokens).toBe(20)
      expect(
        ofType(events, "text.delta")
          .map((e) => e.text)
          .join("")
      ).toBe("Let me echo.Done: hi")
      const completed = ofType(events, "tool.completed")[0]!
      expect(completed.result).toMatchObject({
        toolCallId: "t1",
        status: "success",
        output: [{ type: "text", text: "echo: hi" }]
      })
      expect(ofType(events, "permission.resolved")[0]).toMatchObject({ decision: "allow", callId: "t1" })
      expect(ofType(events, "state.changed").map((e) => e.to)).toContain("completed")
      // The second request carries the tool result back to the model.
      const second = wire.requests[1]!.body as { messages: ReadonlyArray<{ role: string; content: unknown }> }
      expect(second.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"])
      expect(JSON.stringify(second.messages[2]!.content)).toContain("echo: hi")
      // Every event carries the envelope.
      for (const e of events) expect(e).toMatchObject({ v: 1, agentId: "main", sessionId: events[0]!.sessionId })
    })
  )

  it.live("runs the calls of one message concurrently (proven by overlap) and answers in call order", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const n = 6
      let started = 0
      let maxInFlight = 0
      let inFlight = 0
      const allStarted = yield* Deferred.make<void>()
      const Barrier = Tool.make({
        name: "Barrier",
        description: "Waits until every call has started",
        input: Schema.Struct({ i: Schema.Number }),
        readOnly: true,
        execute: ({ i }) =>
          Effect.gen(function* () {
            started++
            inFlight++
            maxInFlight = Math.max(maxInFlight, inFlight)
            if (started === n) yield* Deferred.succeed(allStarted, undefined)
            // Finishes only if all n calls are running at the same time; later calls finish first.
            yield* Deferred.await(allStarted).pipe(
              Effect.timeoutOrElse({
                duration: "10 seconds",
                orElse: () => Effect.fail(new ToolExecutionError({ tool: "Barrier", message: "not concurrent" }))
              })
            )
            yield* Effect.sleep(`${(n - i) * 10} millis`)
            inFlight--
            return `done ${i}`
          })
      })
      const calls = Array.from({ length: n }, (_, i) => ({ id: `c${i}`, name: "Barrier", input: { i } }))
      wire.enqueue(callTools(calls), answer("all done"))
      const events = yield* runTurn({ wire, cwd, tools: [Barrier] }, "go")
      expect(maxInFlight).toBe(n)
      const results = ofType(events, "tool.completed").map((e) => e.result)
      expect(results.every((r) => r.status === "success")).toBe(true)
      // Completion order is reversed, but the tool message keeps call order.
      expect(results.map((r) => r.toolCallId)).not.toEqual(calls.map((c) => c.id))
      const toolMessage = ofType(events, "message").find((e) => e.message.role === "tool")!
      expect(toolMessage.message.content.map((b) => (b.type === "tool_result" ? b.toolUseId : ""))).toEqual(
        calls.map((c) => c.id)
      )
    })
  )

  it.live("bounds the fan-out by maxConcurrency and runs sequential tools alone", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      let inFlight = 0
      let maxInFlight = 0
      let overlapWithSequential = false
      let sequentialRunning = false
      const track = (sequential: boolean) =>
        Effect.gen(function* () {
          inFlight++
          maxInFlight = Math.max(maxInFlight, inFlight)
          if (sequential) sequentialRunning = true
          if (sequentialRunning && inFlight > 1) overlapWithSequential = true
          yield* Effect.sleep("30 millis")
          if (sequential) sequentialRunning = false
          inFlight--
          return "ok"
        })
      const Par = Tool.make({
        name: "Par",
        description: "p",
        input: Schema.Struct({}),
        readOnly: true,
        execute: () => track(false)
      })
      const Seq = Tool.make({
        name: "Seq",
        description: "s",
        input: Schema.Struct({}),
        readOnly: true,
        concurrency: { type: "sequential" },
        execute: () => track(true)
      })
      const calls = [
        ...Array.from({ length: 5 }, (_, i) => ({ id: `p${i}`, name: "Par", input: {} })),
        { id: "s0", name: "Seq", input: {} },
        ...Array.from({ length: 5 }, (_, i) => ({ id: `q${i}`, name: "Par", input: {} }))
      ]
      wire.enqueue(callTools(calls), answer("ok"))
      yield* runTurn({ wire, cwd, tools: [Par, Seq], maxConcurrency: 3 }, "go")
      expect(maxInFlight).toBeLessThanOrEqual(3)
      expect(maxInFlight).toBeGreaterThan(1)
      expect(overlapWithSequential).toBe(false)
    })
  )

  it.live("isolates failures: an error, a defect and bad input become error results; siblings finish", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const Fails = Tool.make({
        name: "Fails",
        description: "f",
        input: Schema.Struct({}),
        readOnly: true,
        execute: () => Effect.fail(new ToolExecutionError({ tool: "Fails", message: "disk on fire" }))
      })
      const Dies = Tool.make({
        name: "Dies",
        description: "d",
        input: Schema.Struct({}),
        readOnly: true,
        execute: () => Effect.die(new Error("boom"))
      })
      wire.enqueue(
        reply({
          stopReason: "tool_use",
          steps: [
            { tool: { id: "a", name: "Fails", json: ["{}"] } },
            { tool: { id: "b", name: "Dies", json: ["{}"] } },
            { tool: { id: "c", name: "Echo", json: ['{"text": 5}'] } },
            { tool: { id: "d", name: "Nope", json: ["{}"] } },
            { tool: { id: "e", name: "Echo", json: ['{"text": "fine"'] } },
            { tool: { id: "f", name: "Echo", json: ['{"text": "fine"}'] } }
          ]
        }),
        answer("recovered")
      )
      const events = yield* runTurn({ wire, cwd, tools: [Fails, Dies, Echo] }, "go")
      const byId = new Map(ofType(events, "tool.completed").map((e) => [e.result.toolCallId, e.result]))
      expect(byId.get("a")).toMatchObject({ status: "error", output: [{ text: "disk on fire" }] })
      expect(byId.get("b")?.status).toBe("error")
      expect(JSON.stringify(byId.get("b")?.output)).toContain("boom")
      expect(byId.get("c")?.status).toBe("error")
      expect(JSON.stringify(byId.get("c")?.output)).toContain("text")
      expect(JSON.stringify(byId.get("d")?.output)).toContain('Unknown tool \\"Nope\\"')
      expect(JSON.stringify(byId.get("e")?.output)).toContain("not valid JSON")
      expect(byId.get("f")?.status).toBe("success")
      expect(ofType(events, "turn.ended")[0]).toMatchObject({ stopReason: "end_turn", text: "recovered" })
    })
  )

  it.live("redacts secrets and bounds tool output before events and the model see it", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const Leaky = Tool.make({
        name: "Leaky",
        description: "prints a lot, and a key",
        input: Schema.Struct({}),
        readOnly: true,
        execute: () => Effect.succeed(`KEY=sk-ant-api03-${"x".repeat(40)}\n${"y".repeat(300_000)}\nTAIL`)
      })
      wire.enqueue(callTools([{ id: "k", name: "Leaky", input: {} }]), answer("ok"))
      const events = yield* runTurn({ wire, cwd, tools: [Leaky] }, "go")
      const text = JSON.stringify(ofType(events, "tool.completed")[0]!.result.output)
      expect(text).toContain("[REDACTED:anthropic-key]")
      expect(text).not.toContain("sk-ant-api03")
      expect(text).toContain("cut: output too long")
      expect(text).toContain("TAIL")
      expect(text.length).toBeLessThan(110_000)
      const sent = JSON.stringify(wire.requests[1]!.body)
      expect(sent).not.toContain("sk-ant-api03")
      expect(sent.length).toBeLessThan(120_000)
    })
  )

  it.live("stops at maxSteps with a clear stop reason, not an error", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.setHandler((_, i) => callTools([{ id: `t${i}`, name: "Echo", input: { text: String(i) } }]))
      const events = yield* runTurn({ wire, cwd, tools: [Echo], maxSteps: 3 }, "loop forever")
      expect(wire.requests.length).toBe(3)
      expect(ofType(events, "turn.ended")[0]).toMatchObject({ stopReason: "max_steps", steps: 3 })
      expect(ofType(events, "step.started").map((e) => e.step)).toEqual([1, 2, 3])
    })
  )

  it.live("fails the turn with a typed error and a failed event when the provider fails", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue({
        kind: "error",
        status: 401,
        body: anthropicErrorBody("authentication_error", "invalid x-api-key")
      })
      const agent = yield* Effect.provide(Agent, agentLayer({ wire, cwd, tools: [] }))
      const events: Array<AgentEvent> = []
      const error = yield* Effect.flip(Stream.runForEach(agent.run("hi"), (e) => Effect.sync(() => events.push(e))))
      expect(error._tag).toBe("AuthenticationError")
      expect(error.message).toContain("ANTHROPIC_API_KEY")
      expect(events.at(-1)).toMatchObject({ type: "failed", error: { tag: "AuthenticationError" } })
    })
  )
})

describe("agent loop interruption", () => {
  it.live("interrupting mid-stream aborts the request and emits one terminal interrupted event", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(hang({ steps: [{ text: ["partial answer"] }], noEnd: true }))
      const agent = yield* Effect.provide(Agent, agentLayer({ wire, cwd, tools: [Echo] }))
      const execution = yield* agent.start("write a novel")
      const seen: Array<AgentEvent> = []
      yield* Stream.runForEach(execution.events, (e) => Effect.sync(() => seen.push(e))).pipe(Effect.forkChild)
      while (!seen.some((e) => e.type === "text.delta")) yield* realSleep(10)
      const aborted = wire.nextClientAbort()
      yield* execution.interrupt
      yield* Effect.promise(() => aborted)
      const result = yield* execution.result
      expect(result.stopReason).toBe("interrupted")
      expect(result.text).toBe("partial answer")
      const all = yield* Stream.runCollect(execution.events)
      const list = [...all]
      expect(list.filter((e) => e.type === "interrupted")).toHaveLength(1)
      expect(list.at(-1)?.type).toBe("interrupted")
      expect(yield* execution.state).toBe("cancelled")
    })
  )

  it.live("interrupting mid-tool kills the command's processes and answers every tool_use", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const pidFile = path.join(cwd, "pids")
      const bash = yield* makeBashTool().pipe(
        Effect.provideServiceEffect(Workspace, workspaceOf([cwd])),
        Effect.provideServiceEffect(Sandbox, unconfined([cwd], { PATH: "/usr/bin:/bin" }))
      )
      wire.enqueue(
        callTools([
          { id: "b1", name: "Bash", input: { command: `sleep 300 & echo $! > ${pidFile}; wait` } },
          { id: "e1", name: "Echo", input: { text: "quick" } }
        ])
      )
      const agent = yield* Effect.provide(
        Agent,
        agentLayer({ wire, cwd, tools: [bash, Echo], mode: "bypassPermissions" })
      )
      const execution = yield* agent.start("run it")
      while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, "utf8").trim() === "") yield* realSleep(20)
      const pid = Number(fs.readFileSync(pidFile, "utf8").trim())
      expect(() => process.kill(pid, 0)).not.toThrow()
      yield* execution.interrupt
      const result = yield* execution.result
      expect(result.stopReason).toBe("interrupted")
      // The grandchild (sleep) is gone: no orphan survives the interrupt.
      expect(yield* waitUntilGone(pid)).toBe(true)
      const last = result.messages.at(-1)!
      expect(last.role).toBe("tool")
      const blocks = last.content.flatMap((b) => (b.type === "tool_result" ? [b] : []))
      expect(blocks.map((b) => b.toolUseId).sort()).toEqual(["b1", "e1"])
      expect(JSON.stringify(blocks.find((b) => b.toolUseId === "b1"))).toContain("Interrupted")
    })
  )
})
