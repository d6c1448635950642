/** The execution primitive: `start` and its thin view `run`, bounded event memory, option checks, one publication. */
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { DEFAULT_EVENT_REPLAY } from "../../src/agent/AgentLoop.js"
import * as AgentLive from "../../src/layers/AgentLive.js"
import { Agent } from "../../src/services/Agent.js"
import { EventBus } from "../../src/services/EventBus.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import { Tool } from "../../src/tools/Tool.js"
import * as WireServer from "../support/WireServer.js"
import { agentLayer, answer, callTools, hang, ofType, realSleep, reply, tempDir } from "./harness.js"

const Echo = Tool.make({
  name: "Echo",
  description: "Echo the text back",
  input: Schema.Struct({ text: Schema.String }),
  readOnly: true,
  execute: ({ text }) => Effect.succeed(`echo: ${text}`)
})

const TERMINAL = new Set(["turn.ended", "interrupted", "failed"])

describe("agent execution", () => {
  it.live("a turn nobody reads keeps only the replay window of its events, not every delta", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const deltas = Array.from({ length: 3000 }, (_, i) => `d${i} `)
      wire.enqueue(reply({ steps: [{ text: deltas }] }))
      const agent = yield* Effect.provide(Agent, agentLayer({ wire, cwd, tools: [] }))
      const execution = yield* agent.start("talk a lot")
      const result = yield* execution.result
      expect(result.text).toBe(deltas.join(""))
      // A subscriber that comes after the end sees the last few events only, then the end.
      const late = yield* Stream.runCollect(execution.events)
      expect(late.length).toBeLessThanOrEqual(DEFAULT_EVENT_REPLAY)
      expect(late.length).toBeGreaterThan(0)
      expect(ofType(late, "turn.ended")).toHaveLength(1)
      expect(ofType(late, "text.delta").length).toBeLessThan(deltas.length / 10)
    })
  )

  it.live("a subscriber right after start misses nothing: the first event is turn.started", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(callTools([{ id: "t1", name: "Echo", input: { text: "x" } }]), answer("done"))
      const agent = yield* Effect.provide(Agent, agentLayer({ wire, cwd, tools: [Echo] }))
      const execution = yield* agent.start("go")
      const events = yield* Stream.runCollect(execution.events)
      expect(events[0]?.type).toBe("turn.started")
      expect(events.filter((e) => TERMINAL.has(e.type)).map((e) => e.type)).toEqual(["turn.ended"])
      expect((yield* execution.result).text).toBe("done")
      expect(yield* execution.state).toBe("completed")
    })
  )

  it.live("each event is published once, to the bus and to the turn's stream alike", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(callTools([{ id: "t1", name: "Echo", input: { text: "x" } }], "Let me."), answer("done"))
      const context = yield* Layer.build(agentLayer({ wire, cwd, tools: [Echo] }))
      const bus = yield* Effect.provide(EventBus, context)
      const agent = yield* Effect.provide(Agent, context)
      const onBus = yield* bus.subscribe
      const collected = yield* Effect.forkChild(
        Stream.runCollect(Stream.takeUntil(onBus, (e) => e.type === "state.changed" && e.to === "completed"))
      )
      const events = yield* Stream.runCollect(agent.run("go"))
      const fromBus = yield* Fiber.join(collected)
      expect(fromBus).toEqual(events)
      const keys = events.map((e) => JSON.stringify(e))
      expect(new Set(keys).size).toBe(keys.length)
    })
  )

  it.live("ending the run stream early interrupts the turn and aborts the request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(hang({ steps: [{ text: ["first words"] }], noEnd: true }))
      const agent = yield* Effect.provide(Agent, agentLayer({ wire, cwd, tools: [] }))
      const aborted = wire.nextClientAbort()
      const firstDelta = yield* agent.run("go").pipe(
        Stream.filter((e) => e.type === "text.delta"),
        Stream.take(1),
        Stream.runCollect
      )
      expect(firstDelta).toHaveLength(1)
      yield* Effect.promise(() => aborted)
      expect(wire.clientAborts()).toBe(1)
    })
  )

  it.live("interrupting while waiting for approval ends with one interrupted event and a valid transcript", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const asked = yield* Deferred.make<void>()
      const Run = Tool.make({
        name: "Run",
        description: "runs",
        input: Schema.Struct({ command: Schema.String }),
        kind: "execute",
        execute: () => Effect.succeed("ran")
      })
      const approver = { approve: () => Effect.andThen(Deferred.succeed(asked, undefined), Effect.never) }
      wire.enqueue(callTools([{ id: "r", name: "Run", input: { command: "make" } }]))
      const agent = yield* Effect.provide(Agent, agentLayer({ wire, cwd, tools: [Run], approver }))
      const execution = yield* agent.start("go")
      const seen: Array<AgentEvent> = []
      yield* Effect.forkChild(Stream.runForEach(execution.events, (e) => Effect.sync(() => seen.push(e))))
      yield* Deferred.await(asked)
      expect(yield* execution.state).toBe("waiting_for_permission")
      yield* execution.interrupt
      const result = yield* execution.result
      expect(result.stopReason).toBe("interrupted")
      const last = result.messages.at(-1)
      expect(last?.role).toBe("tool")
      expect(JSON.stringify(last)).toContain("Interrupted")
      while (!seen.some((e) => e.type === "interrupted")) yield* realSleep(5)
      expect(seen.filter((e) => TERMINAL.has(e.type)).map((e) => e.type)).toEqual(["interrupted"])
      expect(ofType(seen, "tool.completed").map((e) => e.result.status)).toEqual(["cancelled"])
    })
  )

  it.live("bad input is an input error for the model, never a permission question", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const Run = Tool.make({
        name: "Run",
        description: "runs",
        input: Schema.Struct({ command: Schema.String }),
        kind: "execute",
        execute: () => Effect.succeed("ran")
      })
      wire.enqueue(
        callTools([
          { id: "a", name: "Run", input: { cmd: "ls" } },
          { id: "b", name: "Run", input: { command: 12345 } }
        ]),
        answer("ok")
      )
      const agent = yield* Effect.provide(Agent, agentLayer({ wire, cwd, tools: [Run] }))
      const events = yield* Stream.runCollect(agent.run("go"))
      expect(ofType(events, "permission.requested")).toEqual([])
      const results = ofType(events, "tool.completed").map((e) => e.result)
      expect(results.map((r) => r.status)).toEqual(["error", "error"])
      for (const r of results) expect(JSON.stringify(r.output)).toContain("Invalid input for tool Run")
    })
  )

  it.live("a limited(k) tool runs at most k calls at once", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      let inFlight = 0
      let maxInFlight = 0
      const Limited = Tool.make({
        name: "Limited",
        description: "l",
        input: Schema.Struct({}),
        readOnly: true,
        concurrency: { type: "limited", max: 2 },
        execute: () =>
          Effect.gen(function* () {
            inFlight++
            maxInFlight = Math.max(maxInFlight, inFlight)
            yield* Effect.sleep("30 millis")
            inFlight--
            return "ok"
          })
      })
      wire.enqueue(
        callTools(Array.from({ length: 6 }, (_, i) => ({ id: `l${i}`, name: "Limited", input: {} }))),
        answer("ok")
      )
      const agent = yield* Effect.provide(Agent, agentLayer({ wire, cwd, tools: [Limited] }))
      yield* Stream.runDrain(agent.run("go"))
      expect(maxInFlight).toBe(2)
    })
  )

  it.live("a headless denial names what would allow the call, for CLI and SDK users, and no mode that would not", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const Run = Tool.make({
        name: "Run",
        description: "runs",
        input: Schema.Struct({ command: Schema.String }),
        kind: "execute",
        execute: () => Effect.succeed("ran")
      })
      wire.enqueue(callTools([{ id: "a", name: "Run", input: { command: "make" } }]), answer("ok"))
      const agent = yield* Effect.provide(Agent, agentLayer({ wire, cwd, tools: [Run] }))
      const events = yield* Stream.runCollect(agent.run("go"))
      const result = ofType(events, "tool.completed")[0]?.result
      expect(result?.status).toBe("denied")
      const text = JSON.stringify(result?.output)
      expect(text).toContain("No one is available to approve it")
      expect(text).toContain("--allowed-tools")
      expect(text).toContain("SDK: allowedTools")
      expect(text).not.toContain("acceptEdits")
      expect(ofType(events, "permission.resolved")[0]).toMatchObject({ decision: "deny", source: "headless" })
    })
  )
})

describe("agent options", () => {
  it.live.each([
    [{ maxSteps: 0 }, "maxSteps"],
    [{ maxSteps: 1.5 }, "maxSteps"],
    [{ maxConcurrency: -1 }, "maxConcurrency"],
    [{ maxTokens: 0 }, "maxTokens"],
    [{ permissionMode: "yolo" as never }, "permissionMode"],
    [{ toolTimeout: "soon" as never }, "toolTimeout"]
  ] as const)("building the agent with %o fails with a ConfigError naming %s", ([options, name]) =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const error = yield* Effect.flip(Effect.provide(Agent, agentLayer({ wire, cwd, tools: [], agent: options })))
      expect(error._tag).toBe("ConfigError")
      expect(error.message).toContain(name)
    })
  )

  it.live("a turn run with a bad option fails with a ConfigError and one failed event", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const agent = yield* Effect.provide(Agent, agentLayer({ wire, cwd, tools: [] }))
      const events: Array<AgentEvent> = []
      const error = yield* Effect.flip(
        Stream.runForEach(agent.run("hi", { maxSteps: -1 }), (e) => Effect.sync(() => events.push(e)))
      )
      expect(error._tag).toBe("ConfigError")
      expect(error.message).toContain("maxSteps must be an integer >= 1, got -1")
      expect(events.filter((e) => TERMINAL.has(e.type)).map((e) => e.type)).toEqual(["failed"])
      expect(wire.requests).toHaveLength(0)
    })
  )

  it.live("without a cwd option or a Workspace service the agent cannot be built", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const layer = Layer.provide(AgentLive.layer({}), agentLayer({ wire, cwd, tools: [] }))
      const error = yield* Effect.flip(Effect.provide(Agent, layer))
      expect(error._tag).toBe("ConfigError")
      expect(error.message).toContain("cwd")
    })
  )
})
