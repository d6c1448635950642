import * as fs from "node:fs"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as BackgroundShellsLive from "../../src/layers/BackgroundShellsLive.js"
import * as FileStateLive from "../../src/layers/FileStateLive.js"
import * as SandboxLive from "../../src/layers/SandboxLive.js"
import * as ToolRegistryLive from "../../src/layers/ToolRegistryLive.js"
import * as WorkspaceLive from "../../src/layers/WorkspaceLive.js"
import { BackgroundShells } from "../../src/services/BackgroundShells.js"
import { FileState } from "../../src/services/FileState.js"
import { builtinToolSummaries, builtinTools, makeBuiltinTools, Tool } from "../../src/tools/index.js"
import { call, isAlive, tempDir, text, writeFiles } from "./support.js"

const ORDER = [
  "Read",
  "Write",
  "Edit",
  "MultiEdit",
  "LS",
  "Glob",
  "Bash",
  "BashOutput",
  "KillShell",
  "Grep",
  "WebFetch",
  "TodoWrite"
]
const WITHOUT_SHELLS = ORDER.filter((name) => name !== "BashOutput" && name !== "KillShell")

/** One session's services on `cwd`: workspace, file state, an unconfined sandbox with `env`, and optionally shells. */
const session = (
  cwd: string,
  options: {
    readonly env?: Readonly<Record<string, string | undefined>>
    readonly allowProtected?: (realPath: string) => boolean
  } = {}
) =>
  Layer.mergeAll(
    WorkspaceLive.layer({ cwd, allowProtected: options.allowProtected }),
    FileStateLive.layer,
    SandboxLive.layer({
      mode: "off",
      writableRoots: [cwd],
      network: false,
      env: options.env ?? { PATH: process.env.PATH }
    })
  ).pipe(Layer.provideMerge(NodeServices.layer), Layer.orDie)

/** `session` with background shells. */
const sessionWithShells = (cwd: string, options: Parameters<typeof session>[1] = {}) =>
  Layer.merge(session(cwd, options), BackgroundShellsLive.layer({ killGrace: "300 millis" }))

describe("builtinTools", () => {
  it.live("makes every built-in tool on the services of its context", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      writeFiles(dir, { "notes/todo.md": "one\ntwo\n" })
      const tools = yield* makeBuiltinTools({
        read: { defaultLimit: 1 },
        glob: { maxResults: 5 },
        ls: { maxEntries: 10 },
        bash: { defaultTimeout: "30 seconds" }
      }).pipe(Effect.provide(session(`${dir}/notes/..`, { env: { PATH: process.env.PATH, SOME_API_KEY: "k" } })))
      const registry = yield* ToolRegistryLive.make(tools)
      // Without background shells: no BashOutput / KillShell.
      expect((yield* registry.definitions).map((d) => d.name)).toEqual(WITHOUT_SHELLS)
      for (const definition of yield* registry.definitions) {
        expect(Tool.isValidName(definition.name)).toBe(true)
        expect(definition.inputSchema).toMatchObject({ type: "object" })
        expect(definition.inputSchema).not.toHaveProperty("$schema")
      }
      const read = yield* registry.get("Read")
      expect(text(yield* call(read, { file_path: "notes/todo.md" }))).toBe(
        "     1\tone\n\n[More lines follow; continue with offset=2.]"
      )
      // Read and Edit share the session's file state.
      const edit = yield* registry.get("Edit")
      expect((yield* call(edit, { file_path: "notes/todo.md", old_string: "two", new_string: "2" })).status).toBe(
        "success"
      )
      expect(fs.readFileSync(path.join(dir, "notes/todo.md"), "utf8")).toBe("one\n2\n")
      const glob = yield* registry.get("Glob")
      expect(text(yield* call(glob, { pattern: "**/*.md" }))).toBe(`${dir}/notes/todo.md`)
      const ls = yield* registry.get("LS")
      expect(text(yield* call(ls, { path: "notes" }))).toBe(`${dir}/notes/\n  todo.md`)
      const bash = yield* registry.get("Bash")
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, not a template
      expect(text(yield* call(bash, { command: 'cat notes/todo.md; echo "key=${SOME_API_KEY:-none}"' }))).toBe(
        "one\n2\nkey=none"
      )
    })
  )

  it.live("uses the file state and background shells of its context", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      writeFiles(dir, { ".sage/notes.md": "n", "a.txt": "a" })
      yield* Effect.gen(function* () {
        const tools = yield* builtinTools
        expect(tools.map((t) => t.name)).toEqual(ORDER)
        const byName = (name: string) => {
          const tool = tools.find((t) => t.name === name)
          if (tool === undefined) throw new Error(`no tool ${name}`)
          return tool
        }
        const fileState = yield* FileState
        const shells = yield* BackgroundShells
        yield* call(byName("Read"), { file_path: "a.txt" })
        expect(Option.isSome(yield* fileState.get(path.join(dir, "a.txt")))).toBe(true)
        expect((yield* call(byName("Write"), { file_path: ".sage/notes.md", content: "m" })).status).toBe("error")
        yield* call(byName("Read"), { file_path: ".sage/notes.md" })
        expect((yield* call(byName("Write"), { file_path: ".sage/notes.md", content: "m" })).status).toBe("success")
        yield* call(byName("Bash"), { command: "sleep 1000", run_in_background: true })
        expect((yield* shells.list).map((s) => s.id)).toEqual(["bash_1"])
      }).pipe(Effect.provide(sessionWithShells(dir, { allowProtected: (p) => p.endsWith("notes.md") })))
    })
  )

  it.live("per session: closing the session's layers kills its background shells; file state is not shared", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const pid = yield* Effect.gen(function* () {
        const tools = yield* builtinTools
        const byName = (name: string) => tools.find((t) => t.name === name) ?? tools[0]
        const started = text(yield* call(byName("Bash"), { command: "sleep 1000", run_in_background: true }))
        const pid = Number(/\(pid (\d+)\)/.exec(started)?.[1])
        expect(isAlive(pid)).toBe(true)
        // A write without a read is refused by the fresh file state.
        writeFiles(dir, { "x.txt": "x" })
        expect(text(yield* call(byName("Write"), { file_path: "x.txt", content: "y" }))).toContain("Read it first")
        return pid
      }).pipe(Effect.provide(sessionWithShells(dir)))
      for (let i = 0; i < 300 && isAlive(pid); i++) yield* Effect.sleep(Duration.millis(50))
      expect(isAlive(pid)).toBe(false)
      // Two sessions do not share file state.
      const a = yield* Effect.provide(builtinTools, session(dir))
      const b = yield* Effect.provide(builtinTools, session(dir))
      const named = (tools: ReadonlyArray<Tool.Any>, name: string) => tools.find((t) => t.name === name) ?? tools[0]
      yield* call(named(a, "Read"), { file_path: "x.txt" })
      expect((yield* call(named(a, "Write"), { file_path: "x.txt", content: "1" })).status).toBe("success")
      fs.writeFileSync(path.join(dir, "y.txt"), "y")
      yield* call(named(a, "Read"), { file_path: "y.txt" })
      expect(text(yield* call(named(b, "Write"), { file_path: "y.txt", content: "2" }))).toContain("Read it first")
    })
  )

  it.live("builtinToolSummaries describe the tools as they are", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const tools = yield* Effect.provide(builtinTools, sessionWithShells(dir))
      expect(tools.map((t) => ({ name: t.name, readOnly: t.readOnly, kind: t.kind }))).toEqual(builtinToolSummaries)
    })
  )
})
