/** Helpers for hook tests: a complete agent (`layerNode`) against the scripted model, hook scripts in temp dirs. */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { layerNode, type SageOptions } from "../../src/layers/SageLive.js"
import { Agent } from "../../src/services/Agent.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import type * as WireServer from "../support/WireServer.js"

export const optionsFor = (
  wire: WireServer.WireServer,
  cwd: string,
  extra: Partial<SageOptions> = {}
): SageOptions => ({
  provider: "anthropic",
  apiKey: "sk-ant-test",
  baseURL: wire.url,
  model: "claude-test",
  cwd,
  homeDir: cwd,
  sandbox: "off",
  sessionsDir: path.join(cwd, ".sessions"),
  env: { PATH: process.env.PATH },
  ...extra
})

/** One turn of a complete agent, its events collected. */
export const runAgent = (options: SageOptions, prompt: string) =>
  Effect.gen(function* () {
    const agent = yield* Agent
    const events: Array<AgentEvent> = []
    yield* Stream.runForEach(agent.run(prompt), (e) => Effect.sync(() => events.push(e)))
    return events
  }).pipe(Effect.provide(layerNode(options)))

/** An executable bash script in `dir`; returns its path. */
export const script = (dir: string, name: string, body: string): string => {
  const file = path.join(dir, name)
  fs.writeFileSync(file, `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 })
  return file
}

/** A command hook entry. */
export const command = (commandText: string, timeout?: number) => ({
  type: "command" as const,
  command: commandText,
  ...(timeout === undefined ? {} : { timeout })
})

/** Writes `<cwd>/.sage/settings.json` with these hooks (and other keys). */
export const writeSettings = (cwd: string, hooks: unknown, extra: Record<string, unknown> = {}) => {
  fs.mkdirSync(path.join(cwd, ".sage"), { recursive: true })
  fs.writeFileSync(path.join(cwd, ".sage", "settings.json"), JSON.stringify({ hooks, ...extra }, null, 2))
}

/** The JSON of every request the scripted model received, as text. */
export const requestText = (wire: WireServer.WireServer, index: number): string =>
  JSON.stringify(wire.requests[index]?.body ?? null)

/** Reads a JSON file a hook wrote. */
export const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, "utf8"))
