/** Wiring for agent-loop tests: the real Anthropic provider against a WireServer, real registry and permissions. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as AgentLive from "../../src/layers/AgentLive.js"
import * as EventBusLive from "../../src/layers/EventBusLive.js"
import * as PermissionsLive from "../../src/layers/PermissionsLive.js"
import * as ToolRegistryLive from "../../src/layers/ToolRegistryLive.js"
import * as Anthropic from "../../src/providers/anthropic/AnthropicProvider.js"
import { Agent } from "../../src/services/Agent.js"
import { Approver, type PermissionMode } from "../../src/services/Permissions.js"
import type { Tool } from "../../src/services/Tool.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import { type Script, anthropicEvents } from "../support/anthropicSse.js"
import type { Reply, WireServer } from "../support/WireServer.js"
import { isAlive } from "../tools/support.js"

export const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-agent-")))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

export const reply = (script: Script): Reply => ({ kind: "stream", chunks: anthropicEvents(script) })

/** Streams the script's events, then keeps the connection open (until the client aborts). */
export const hang = (script: Script): Reply => ({ kind: "hang", chunks: anthropicEvents(script) })

/** A model turn that calls the given tools (inputs as JSON), then stops with tool_use. */
export const callTools = (
  calls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly input: unknown }>,
  text?: string
): Reply =>
  reply({
    stopReason: "tool_use",
    steps: [
      ...(text === undefined ? [] : [{ text: [text] }]),
      ...calls.map((c) => ({ tool: { id: c.id, name: c.name, json: [JSON.stringify(c.input)] } }))
    ]
  })

export const answer = (text: string): Reply => reply({ steps: [{ text: [text] }] })

export interface AgentSetup {
  readonly wire: WireServer
  readonly cwd: string
  readonly tools: ReadonlyArray<Tool.Any>
  readonly mode?: PermissionMode
  readonly approver?: Approver.Service
  readonly maxSteps?: number
  readonly maxConcurrency?: number
  readonly allowed?: ReadonlyArray<string>
  readonly agent?: AgentLive.AgentOptions
}

export const agentLayer = (setup: AgentSetup) => {
  const base = Layer.mergeAll(
    Anthropic.layer({
      apiKey: Redacted.make("sk-ant-test"),
      baseURL: setup.wire.url,
      model: "claude-test",
      retry: { maxRetries: 0 }
    }),
    ToolRegistryLive.layer(setup.tools),
    PermissionsLive.layerWithSettings({
      cwd: setup.cwd,
      homeDir: setup.cwd,
      flags: { allowed: [...(setup.allowed ?? [])], disallowed: [] },
      toolNames: setup.tools.map((t) => t.name)
    }),
    EventBusLive.layer(),
    NodeServices.layer,
    setup.approver === undefined ? Layer.empty : Layer.succeed(Approver, setup.approver)
  )
  return Layer.provideMerge(
    AgentLive.layer({
      cwd: setup.cwd,
      homeDir: setup.cwd,
      ...(setup.maxSteps === undefined ? {} : { maxSteps: setup.maxSteps }),
      ...(setup.maxConcurrency === undefined ? {} : { maxConcurrency: setup.maxConcurrency }),
      ...(setup.mode === undefined ? {} : { permissionMode: setup.mode }),
      ...setup.agent
    }),
    base
  )
}

/** Run one turn to the end and collect its events. */
export const runTurn = (setup: AgentSetup, prompt: string) =>
  Effect.gen(function* () {
    const agent = yield* Agent
    const events: Array<AgentEvent> = []
    yield* Stream.runForEach(agent.run(prompt), (e) => Effect.sync(() => events.push(e)))
    return events
  }).pipe(Effect.provide(agentLayer(setup)))

export const ofType = <T extends AgentEvent["type"]>(events: ReadonlyArray<AgentEvent>, type: T) =>
  events.filter((e): e is Extract<AgentEvent, { readonly type: T }> => e.type === type)

/** The system prompt a recorded Anthropic request carried, as JSON text ("" when there was no request). */
export const systemOf = (request: { readonly body: unknown } | undefined): string => {
  const body = request?.body
  return typeof body === "object" && body !== null && "system" in body ? JSON.stringify(body.system) : ""
}

/** Real-time sleep (WireServer I/O happens in real time). */
export const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((r) => setTimeout(r, ms)))

/** Wait (real time, up to ~2 s) until `pid` is gone (a zombie counts as gone); true when it is. */
export const waitUntilGone = (pid: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < 100; i++) {
      if (!isAlive(pid)) return true
      yield* realSleep(20)
    }
    return !isAlive(pid)
  })
