import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import { make as makeSandbox } from "../../src/process/SandboxBubblewrap.js"
import type { Sandbox } from "../../src/services/Sandbox.js"
import type { Tool, ToolContext } from "../../src/services/Tool.js"
import type { Workspace } from "../../src/services/Workspace.js"
import { type ToolResult, toolOutputText } from "../../src/streams/ToolCall.js"
import { runToolCall } from "../../src/tools/Tool.js"
import { makeWorkspace } from "../../src/workspace/Workspace.js"

/** A real temporary directory (its real path), removed when the scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-tools-")))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** Write `files` (relative path => content) under `dir`. */
export const writeFiles = (dir: string, files: Record<string, string | Uint8Array>): void => {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, content)
  }
}

export const context = (cwd: string): ToolContext => ({
  callId: "call-1",
  sessionId: "session-1",
  cwd,
  progress: () => Effect.void
})

let counter = 0

/** Run one call of `tool` the way the agent loop does. */
export const call = (tool: Tool.Any, input: unknown, cwd = "/"): Effect.Effect<ToolResult> =>
  runToolCall(tool, { id: `call-${++counter}`, name: tool.name, input }, context(cwd), { defaultTimeout: "60 seconds" })

export const text = (result: ToolResult): string => toolOutputText(result.output)

/** The real `Workspace` on `roots` (the first is the working directory). */
export const workspaceOf = (roots: ReadonlyArray<string>): Effect.Effect<Workspace.Service> =>
  makeWorkspace(roots).pipe(Effect.provide(NodeServices.layer), Effect.orDie)

/** A `Sandbox` that runs commands unconfined with `env` (scrubbed), as `--sandbox off` does. */
export const unconfined = (
  roots: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>> = process.env
): Effect.Effect<Sandbox.Service> => makeSandbox({ mode: "off", writableRoots: roots, network: false, env })

/** Whether `pid` is a live process (a zombie counts as dead). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]
    return state !== "Z" && state !== "X"
  } catch {
    return !fs.existsSync("/proc/self")
  }
}
