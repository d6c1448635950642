/** Session logs for tests: the stores under test, and events as the agent writes them. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as NodePlatform from "../../src/layers/NodePlatform.js"
import * as SessionStoreLive from "../../src/layers/SessionStoreLive.js"
import { SessionStore } from "../../src/services/SessionStore.js"
import * as MemoryLogBackend from "../../src/session/MemoryLogBackend.js"
import { make } from "../../src/session/SessionLogStore.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import { Usage } from "../../src/streams/Usage.js"

/** A store under test, plus raw access to its logs (to plant torn ones). */
export interface StoreFixture {
  readonly store: SessionStore.Service
  /** Replace a log's text as-is. */
  readonly plant: (id: string, text: string) => Effect.Effect<void>
  /** A log's text as stored. */
  readonly raw: (id: string) => Effect.Effect<string | undefined>
}

export const tempDir = (prefix = "sage-sessions-"): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)))),
    (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )

export const jsonlFixture: Effect.Effect<StoreFixture, never, Scope.Scope> = Effect.gen(function* () {
  const dir = yield* tempDir()
  const store = yield* Effect.provide(
    Effect.gen(function* () {
      return yield* SessionStore
    }),
    SessionStoreLive.layerJsonl({ dir }).pipe(Layer.provide(NodePlatform.layer))
  )
  const file = (id: string) => path.join(dir, `${id}.jsonl`)
  return {
    store,
    plant: (id, text) => Effect.sync(() => fs.writeFileSync(file(id), text)),
    raw: (id) => Effect.sync(() => (fs.existsSync(file(id)) ? fs.readFileSync(file(id), "utf8") : undefined))
  }
})

export const memoryFixture: Effect.Effect<StoreFixture, never, Scope.Scope> = Effect.gen(function* () {
  const backend = yield* MemoryLogBackend.make()
  return {
    store: make(backend),
    plant: (id, text) => Effect.sync(() => void backend.logs.set(id, text)),
    raw: (id) => Effect.sync(() => backend.logs.get(id))
  }
})

let clock = 1_700_000_000_000
const envelope = (sessionId: string) => ({ v: 1 as const, sessionId, agentId: "main", timestamp: ++clock })

/** The events of one completed turn: a prompt, a tool call with its result, and a final answer. */
export const turnEvents = (
  sessionId: string,
  turnId: string,
  prompt: string,
  answer: string,
  options: { readonly costUsd?: number } = {}
): ReadonlyArray<AgentEvent> => {
  const e = () => envelope(sessionId)
  const usage = new Usage({ inputTokens: 10, outputTokens: 5 })
  const call = { id: `${turnId}_c1`, name: "Read", input: { file_path: "a.txt" } }
  const result = {
    toolCallId: call.id,
    toolName: "Read",
    status: "success" as const,
    output: [{ type: "text" as const, text: "hello" }],
    durationMs: 1
  }
  const turnEnded = {
    type: "turn.ended" as const,
    ...e(),
    turnId,
    stopReason: "end_turn" as const,
    steps: 2,
    usage,
    text: answer,
    ...(options.costUsd === undefined ? {} : { costUsd: options.costUsd })
  }
  return [
    { type: "turn.started", ...e(), turnId, prompt },
    { type: "step.started", ...e(), turnId, step: 1 },
    { type: "tool_call.completed", ...e(), turnId, call },
    {
      type: "message",
      ...e(),
      turnId,
      message: { role: "assistant", content: [{ type: "tool_use", id: call.id, name: call.name, input: call.input }] }
    },
    { type: "tool.completed", ...e(), turnId, result },
    {
      type: "message",
      ...e(),
      turnId,
      message: {
        role: "tool",
        content: [
          { type: "tool_result", toolUseId: call.id, content: [{ type: "text", text: "hello" }], isError: false }
        ]
      }
    },
    { type: "step.started", ...e(), turnId, step: 2 },
    { type: "text.delta", ...e(), turnId, text: answer },
    { type: "message", ...e(), turnId, message: { role: "assistant", content: [{ type: "text", text: answer }] } },
    turnEnded
  ]
}

export const headerLine = (id: string, cwd = "/work/x") =>
  `${JSON.stringify({ type: "session", format: 1, id, cwd, created: 1, provider: "anthropic", model: "m" })}\n`

export const jsonLines = (events: ReadonlyArray<unknown>): string =>
  events.map((e) => `${JSON.stringify(e)}\n`).join("")
