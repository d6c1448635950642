import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as ModelCatalogLive from "../../src/layers/ModelCatalogLive.js"
import { BUILTIN_AGENTS } from "../../src/agents/AgentDefinitions.js"
import type { ApprovalAnswer } from "../../src/services/Permissions.js"
import type { AgentDefinition } from "../../src/services/SubAgents.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import { Agent } from "../../src/services/Agent.js"
import { Sandbox } from "../../src/services/Sandbox.js"
import { Workspace } from "../../src/services/Workspace.js"
import { makeBashTool } from "../../src/tools/Bash.js"
import { makeTaskTool } from "../../src/tools/Task.js"
import { Tool } from "../../src/tools/Tool.js"
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
} from "../agent/harness.js"
import { unconfined, workspaceOf } from "../tools/support.js"
import * as WireServer from "../support/WireServer.js"
import { firstMessage, modelOf, router, systemText, toolNamesOf } from "./support.js"

/** A read-only tool that takes one second. */
const Sleep = Tool.make({
  name: "Sleep",
  description: "waits one second",
  input: Schema.Struct({}),
  readOnly: true,
  execute: () => Effect.as(Effect.sleep("1 second"), "slept")
})
const Write = Tool.make({
  name: "Write",
  description: "pretends to write a file",
  input: Schema.Struct({ file_path: Schema.String }),
  kind: "edit",
  execute: () => Effect.succeed("written")
})
const Read = Tool.make({
  name: "Read",
  description: "pretends to read",
  input: Schema.Struct({ file_path: Schema.String }),
  readOnly: true,
  execute: () => Effect.succeed("contents")
})

const task = (id: string, subagent_type: string, prompt: string) => ({
  id,
  name: "Task",
  input: { description: `job ${id}`, prompt, subagent_type }
})

const taskTool = (extra: ReadonlyArray<AgentDefinition> = []) => makeTaskTool({ agents: [...BUILTIN_AGENTS, ...extra] })

const subEvents = (events: ReadonlyArray<AgentEvent>) => events.filter((e) => e.parentAgentId !== undefined)

describe("sub-agents (Task)", () => {
  it.live("four Task calls in one response run in parallel, with their events, usage and results", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const subs = [1, 2, 3, 4].map((k) => ({
        marker: `sub-task-${k}`,
        replies: [
          reply({
            inputTokens: 100,
            outputTokens: 20,
            stopReason: "tool_use",
            steps: [{ tool: { id: `s${k}`, name: "Sleep", json: ["{}"] } }]
          }),
          reply({ inputTokens: 100, outputTokens: 20, steps: [{ text: [`answer ${k}`] }] })
        ]
      }))
      wire.setHandler(
        router([
          {
            marker: "parent-prompt",
            replies: [
              reply({
                inputTokens: 10,
                outputTokens: 5,
                stopReason: "tool_use",
                steps: [1, 2, 3, 4].map((k) => ({
                  tool: {
                    id: `t${k}`,
                    name: "Task",
                    json: [JSON.stringify(task(`t${k}`, "general-purpose", `do sub-task-${k}`).input)]
                  }
                }))
              }),
              reply({ inputTokens: 10, outputTokens: 5, steps: [{ text: ["all done"] }] })
            ]
          },
          ...subs
        ])
      )
      const started = Date.now()
      const events = yield* runTurn({ wire, cwd, tools: [Sleep, taskTool()] }, "parent-prompt")
      const elapsed = Date.now() - started
      // From the first Task call starting to the last one's result: the four sub-agents (each 2 model requests and a
      // 1 s tool) overlap.
      const tasks = events.filter(
        (e) => e.parentAgentId === undefined && (e.type === "tool.started" || e.type === "tool.completed")
      )
      const span = Math.max(...tasks.map((e) => e.timestamp)) - Math.min(...tasks.map((e) => e.timestamp))
      console.log(
        `4 parallel sub-agents with a 1 s tool each: ${span} ms (the whole turn, layer build included: ${elapsed} ms)`
      )
      expect(span).toBeGreaterThanOrEqual(1000)
      expect(span).toBeLessThan(2500)

      const results = ofType(events, "tool.completed").filter((e) => e.parentAgentId === undefined)
      expect(results.map((e) => e.result.status)).toEqual(["success", "success", "success", "success"])
      for (const [i, e] of results.entries()) {
        const text = JSON.stringify(e.result.output)
        expect(text).toContain(`answer ${i + 1}`)
        expect(text).toMatch(/sub-agent main\/task-\d \(general-purpose\) · 2 steps · 200 input \/ 40 output tokens/)
      }
      // The sub-agents' events are on the parent's stream, with their own ids.
      const subs4 = subEvents(events)
      expect(new Set(subs4.map((e) => e.parentAgentId))).toEqual(new Set(["main"]))
      const ids = new Set(subs4.map((e) => e.agentId))
      expect([...ids].sort()).toEqual(["main/task-1", "main/task-2", "main/task-3", "main/task-4"])
      expect(ofType(subs4, "turn.started")).toHaveLength(4)
      expect(ofType(subs4, "turn.ended")).toHaveLength(4)
      expect(ofType(subs4, "tool.started").map((e) => e.call.name)).toEqual(["Sleep", "Sleep", "Sleep", "Sleep"])
      expect(ofType(subs4, "tool.completed")).toHaveLength(4)
      expect(ofType(subs4, "text.delta")).toHaveLength(0)
      // The parent's Task calls say which sub-agent they started.
      const progress = ofType(events, "tool.progress").map((e) => e.message)
      expect(progress.filter((m) => /^sub-agent main\/task-\d \(general-purpose\) started/.test(m))).toHaveLength(4)
      // Usage rolls up into the parent's turn (2 own requests + 4 x 2 sub-agent requests).
      const ended = ofType(events, "turn.ended").filter((e) => e.parentAgentId === undefined)
      expect(ended).toHaveLength(1)
      expect(ended[0]?.usage.inputTokens).toBe(20 + 4 * 200)
      expect(ended[0]?.usage.outputTokens).toBe(10 + 4 * 40)
      expect(ended[0]?.text).toBe("all done")
      // A sub-agent gets a fresh context: its first request holds only its task.
      const subRequests = wire.requests.filter((r) => JSON.stringify(r.body).includes("sub-task-1"))
      expect(JSON.stringify(subRequests[0]?.body)).not.toContain("parent-prompt")
      // general-purpose has the parent's tools except Task (depth 1).
      expect(toolNamesOf(subRequests[0] ?? wire.requests[0]!)).toEqual(["Sleep"])
      expect(systemText(subRequests[0] ?? wire.requests[0]!)).toContain("running as a sub-agent (type general-purpose)")
    })
  )

  it.live("Explore is read-only: Write is not offered, and a Write call anyway is refused", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      let wrote = 0
      const Writing = Tool.make({
        ...Write,
        name: "Write",
        description: "writes",
        input: Schema.Struct({ file_path: Schema.String }),
        kind: "edit",
        execute: () =>
          Effect.sync(() => {
            wrote++
            return "written"
          })
      })
      wire.setHandler(
        router([
          { marker: "parent", replies: [callTools([task("t1", "Explore", "explore-task")]), answer("ok")] },
          {
            marker: "explore-task",
            replies: [callTools([{ id: "w", name: "Write", input: { file_path: "x.txt" } }]), answer("found it")]
          }
        ])
      )
      const events = yield* runTurn(
        { wire, cwd, tools: [Read, Writing, Sleep, taskTool()], mode: "bypassPermissions" },
        "parent"
      )
      const request = wire.requests.find((r) => JSON.stringify(r.body).includes("explore-task"))
      expect(request).toBeDefined()
      if (request === undefined) return
      expect(toolNamesOf(request)).toEqual(["Read"])
      expect(systemText(request)).toContain("file search specialist")
      const refused = ofType(subEvents(events), "tool.completed")
      expect(refused.map((e) => e.result.status)).toEqual(["error"])
      expect(JSON.stringify(refused[0]?.result.output)).toContain('Unknown tool \\"Write\\"')
      expect(wrote).toBe(0)
    })
  )

  it.live(
    "a custom agent gets only its tools and its model; a bypassPermissions agent under a default parent still asks the parent's approver",
    () =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        const reviewer: AgentDefinition = {
          name: "reviewer",
          description: "reviews",
          prompt: "You are the reviewer.",
          tools: ["Read", "Write", "Grep"],
          model: "claude-other",
          permissionMode: "bypassPermissions"
        }
        wire.setHandler(
          router([
            { marker: "parent", replies: [callTools([task("t1", "reviewer", "review-task")]), answer("ok")] },
            {
              marker: "review-task",
              replies: [callTools([{ id: "w", name: "Write", input: { file_path: "x.txt" } }]), answer("reviewed")]
            }
          ])
        )
        const asked: Array<{ name: string; reason: string }> = []
        const approver = {
          approve: (call: { readonly name: string }, request: { readonly reason: string }) =>
            Effect.sync((): ApprovalAnswer => {
              asked.push({ name: call.name, reason: request.reason })
              return { type: "deny", reason: "not now" }
            })
        }
        const events = yield* runTurn(
          { wire, cwd, tools: [Read, Write, Sleep, taskTool([reviewer])], approver },
          "parent"
        )
        const request = wire.requests.find((r) => JSON.stringify(r.body).includes("review-task"))
        if (request === undefined) throw new Error("no sub-agent request")
        expect(toolNamesOf(request)).toEqual(["Read", "Write"])
        expect(modelOf(request)).toBe("claude-other")
        expect(systemText(request)).toContain("You are the reviewer.")
        expect(systemText(request)).toContain("Permission mode: default")
        expect(asked).toEqual([
          { name: "Write", reason: expect.stringContaining("sub-agent main/task-1 (reviewer): ") }
        ])
        const sub = subEvents(events)
        expect(ofType(sub, "permission.requested")).toHaveLength(1)
        expect(ofType(sub, "permission.resolved")[0]?.decision).toBe("deny")
        expect(ofType(sub, "tool.completed")[0]?.result.status).toBe("denied")
      })
  )

  it.live("a plan agent under a bypassPermissions parent runs in plan mode", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const planner: AgentDefinition = {
        name: "planner",
        description: "plans",
        prompt: "Plan.",
        permissionMode: "plan"
      }
      wire.setHandler(
        router([
          { marker: "parent", replies: [callTools([task("t1", "planner", "plan-task")]), answer("ok")] },
          {
            marker: "plan-task",
            replies: [callTools([{ id: "w", name: "Write", input: { file_path: "x.txt" } }]), answer("planned")]
          }
        ])
      )
      const events = yield* runTurn(
        { wire, cwd, tools: [Read, Write, taskTool([planner])], mode: "bypassPermissions" },
        "parent"
      )
      const denied = ofType(subEvents(events), "tool.completed")
      expect(denied[0]?.result.status).toBe("denied")
      expect(JSON.stringify(denied[0]?.result.output)).toContain("plan mode")
    })
  )

  it.live("depth: a sub-agent has no Task tool (default maxAgentDepth 1); maxAgentDepth 2 lets it nest once", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.setHandler(
        router([
          { marker: "parent", replies: [callTools([task("t1", "general-purpose", "level-1")]), answer("ok")] },
          { marker: "level-1", replies: [callTools([task("t2", "general-purpose", "level-2")]), answer("one")] },
          { marker: "level-2", replies: [answer("two")] }
        ])
      )
      const events = yield* runTurn({ wire, cwd, tools: [Read, taskTool()] }, "parent")
      const level1 = wire.requests.find((r) => JSON.stringify(r.body).includes("level-1"))
      if (level1 === undefined) throw new Error("no sub-agent request")
      expect(toolNamesOf(level1)).toEqual(["Read"])
      const refused = ofType(subEvents(events), "tool.completed")
      expect(JSON.stringify(refused[0]?.result.output)).toContain('Unknown tool \\"Task\\"')
      expect(wire.requests.some((r) => JSON.stringify(r.body).includes("level-2\\"))).toBe(false)

      const wire2 = yield* WireServer.make
      wire2.setHandler(
        router([
          { marker: "parent", replies: [callTools([task("t1", "general-purpose", "level-1")]), answer("ok")] },
          { marker: "level-1", replies: [callTools([task("t2", "general-purpose", "level-2")]), answer("one")] },
          { marker: "level-2", replies: [answer("two")] }
        ])
      )
      const nested = yield* runTurn(
        { wire: wire2, cwd, tools: [Read, taskTool()], agent: { maxAgentDepth: 2 } },
        "parent"
      )
      const deepest = ofType(nested, "turn.ended").find((e) => e.agentId === "main/task-1/task-2")
      expect(deepest?.parentAgentId).toBe("main/task-1")
      expect(deepest?.text).toBe("two")
      const level2 = wire2.requests.find(
        (r) => JSON.stringify(r.body).includes("level-2") && !JSON.stringify(r.body).includes("level-1")
      )
      if (level2 === undefined) throw new Error("no level-2 request")
      expect(toolNamesOf(level2)).toEqual(["Read"])
    })
  )

  it.live("interrupting the parent mid-sub-agent stops the sub-agent and kills its command", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const pidFile = path.join(cwd, "pid")
      const bash = yield* makeBashTool().pipe(
        Effect.provideServiceEffect(Workspace, workspaceOf([cwd])),
        Effect.provideServiceEffect(Sandbox, unconfined([cwd], { PATH: "/usr/bin:/bin" }))
      )
      wire.setHandler(
        router([
          { marker: "parent", replies: [callTools([task("t1", "general-purpose", "sleepy-task")]), answer("ok")] },
          {
            marker: "sleepy-task",
            replies: [
              callTools([{ id: "b", name: "Bash", input: { command: `sleep 30 & echo $! > ${pidFile}; wait` } }]),
              hang({ steps: [] })
            ]
          }
        ])
      )
      const agent = yield* Effect.provide(
        Agent,
        agentLayer({ wire, cwd, tools: [bash, taskTool()], mode: "bypassPermissions" })
      )
      const execution = yield* agent.start("parent")
      const events: Array<AgentEvent> = []
      yield* Effect.forkScoped(Stream.runForEach(execution.events, (e) => Effect.sync(() => events.push(e))))
      while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, "utf8").trim() === "") yield* realSleep(20)
      const pid = Number(fs.readFileSync(pidFile, "utf8").trim())
      const started = Date.now()
      yield* execution.interrupt
      const result = yield* execution.result
      const latency = Date.now() - started
      console.log(`interrupt with a sub-agent running sleep 30: ${latency} ms until the parent's turn ended`)
      expect(latency).toBeLessThan(2000)
      expect(result.stopReason).toBe("interrupted")
      expect(yield* waitUntilGone(pid)).toBe(true)
      yield* realSleep(50)
      const sub = subEvents(events)
      expect(ofType(sub, "interrupted").map((e) => e.agentId)).toEqual(["main/task-1"])
      expect(ofType(sub, "tool.completed")[0]?.result.status).toBe("cancelled")
      const own = events.filter((e) => e.parentAgentId === undefined)
      expect(own.at(-1)?.type).toBe("interrupted")
      // The parent's transcript answers its Task call.
      const last = result.messages.at(-1)
      expect(last?.role).toBe("tool")
      expect(JSON.stringify(last)).toContain("Interrupted")
    })
  )

  it.live("a sub-agent's cost counts in the parent's cost and budget", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.setHandler(
        router([
          {
            marker: "parent",
            replies: [
              reply({
                inputTokens: 1000,
                outputTokens: 0,
                stopReason: "tool_use",
                steps: [
                  {
                    tool: {
                      id: "t1",
                      name: "Task",
                      json: [JSON.stringify(task("t1", "general-purpose", "costly-task").input)]
                    }
                  }
                ]
              }),
              answer("never asked")
            ]
          },
          {
            marker: "costly-task",
            replies: [reply({ inputTokens: 1_000_000, outputTokens: 0, steps: [{ text: ["expensive answer"] }] })]
          }
        ])
      )
      const models = { "claude-test": { pricing: { input: 1, output: 1 } } }
      const layer = agentLayer({ wire, cwd, tools: [Read, taskTool()], agent: { maxBudgetUsd: 0.5 } })
      const result = yield* Effect.gen(function* () {
        const agent = yield* Agent
        const execution = yield* agent.start("parent")
        return yield* execution.result
      }).pipe(Effect.provide(layer), Effect.provide(ModelCatalogLive.layer(models)), Effect.scoped)
      // 1,000 + 1,000,000 input tokens at $1 per million.
      expect(result.usage.inputTokens).toBe(1_001_000)
      expect(result.costUsd).toBeCloseTo(1.001, 6)
      // The sub-agent's cost used up the budget: the parent made no second request.
      expect(result.stopReason).toBe("max_budget")
      expect(wire.requests).toHaveLength(2)

      // A turn that has used up its budget starts no sub-agent.
      const wire2 = yield* WireServer.make
      wire2.setHandler(
        router([
          {
            marker: "parent",
            replies: [
              reply({
                inputTokens: 600_000,
                outputTokens: 0,
                stopReason: "tool_use",
                steps: [
                  { tool: { id: "t1", name: "Task", json: [JSON.stringify(task("t1", "general-purpose", "x").input)] } }
                ]
              })
            ]
          }
        ])
      )
      const second = yield* Effect.gen(function* () {
        const agent = yield* Agent
        const execution = yield* agent.start("parent")
        return yield* execution.result
      }).pipe(
        Effect.provide(agentLayer({ wire: wire2, cwd, tools: [Read, taskTool()], agent: { maxBudgetUsd: 0.5 } })),
        Effect.provide(ModelCatalogLive.layer(models)),
        Effect.scoped
      )
      expect(second.stopReason).toBe("max_budget")
      expect(wire2.requests).toHaveLength(1)
      expect(JSON.stringify(second.messages.at(-1))).toContain("Not started: the turn's budget of $0.5 is used up.")
    })
  )

  it.live("an 'allow for this session' answer to a sub-agent's question holds for its parent too", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      let ran = 0
      const Run = Tool.make({
        name: "Run",
        description: "pretends to run a command",
        input: Schema.Struct({ command: Schema.String }),
        kind: "execute",
        execute: () =>
          Effect.sync(() => {
            ran++
            return "ran"
          })
      })
      wire.setHandler(
        router([
          {
            marker: "parent",
            replies: [
              callTools([task("t1", "general-purpose", "run-task")]),
              callTools([{ id: "r2", name: "Run", input: { command: "make" } }]),
              answer("ok")
            ]
          },
          {
            marker: "run-task",
            replies: [callTools([{ id: "r1", name: "Run", input: { command: "make" } }]), answer("ran")]
          }
        ])
      )
      const asked: Array<string> = []
      const approver = {
        approve: (
          call: { readonly name: string },
          request: { readonly reason: string; readonly suggestion?: string }
        ) =>
          Effect.sync((): ApprovalAnswer => {
            asked.push(`${call.name} ${request.suggestion ?? ""}`)
            return { type: "allow", session: true }
          })
      }
      const events = yield* runTurn({ wire, cwd, tools: [Run, taskTool()], approver }, "parent")
      expect(asked).toHaveLength(1)
      expect(ran).toBe(2)
      const resolved = ofType(events, "permission.resolved").filter((e) => e.callId !== "t1")
      expect(resolved.map((e) => [e.agentId, e.source])).toEqual([
        ["main/task-1", "user:session"],
        ["main", expect.stringContaining("session")]
      ])
    })
  )

  it.live("a failed sub-agent and an unknown type are error results; the parent goes on", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.setHandler((request) => {
        if (firstMessage(request).includes("doomed-task")) {
          return {
            kind: "error",
            status: 400,
            body: { type: "error", error: { type: "invalid_request_error", message: "bad request" } }
          }
        }
        return router([
          {
            marker: "parent",
            replies: [
              callTools([task("t1", "general-purpose", "doomed-task"), task("t2", "no-such-type", "x")]),
              answer("recovered")
            ]
          }
        ])(request)
      })
      const events = yield* runTurn({ wire, cwd, tools: [Read, taskTool()] }, "parent")
      const results = ofType(events, "tool.completed")
        .filter((e) => e.parentAgentId === undefined)
        .sort((a, b) => a.result.toolCallId.localeCompare(b.result.toolCallId))
      expect(results.map((e) => e.result.status)).toEqual(["error", "error"])
      expect(JSON.stringify(results[0]?.result.output)).toContain(
        "The general-purpose sub-agent failed: InvalidRequestError"
      )
      expect(JSON.stringify(results[1]?.result.output)).toContain("subagent_type")
      expect(ofType(subEvents(events), "failed").map((e) => e.agentId)).toEqual(["main/task-1"])
      expect(ofType(events, "turn.ended").at(-1)?.text).toBe("recovered")
    })
  )
})
