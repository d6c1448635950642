import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ToolRegistryLive from "../../src/layers/ToolRegistryLive.js"
import {
  builtinTools,
  makeBackgroundShells,
  makeBuiltinTools,
  makeFileState,
  makeWorkspace,
  Tool
} from "../../src/tools/index.js"
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

describe("builtinTools", () => {
  it.scoped("registers the pure tool set, which works on the given (unresolved) workspace", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      writeFiles(dir, { "notes/todo.md": "one\ntwo\n" })
      const tools = builtinTools({
        workspace: { roots: [`${dir}/notes/..`] },
        env: { PATH: process.env.PATH, SOME_API_KEY: "k" },
        read: { defaultLimit: 1 },
        glob: { maxResults: 5 },
        ls: { maxEntries: 10 },
        bash: { defaultTimeout: "30 seconds" }
      })
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
      // Read and Edit share the set's file state.
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

  // Live: closing the shells' scope polls with real sleeps.
  it.live("uses the file state and background shells it is given", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        writeFiles(dir, { ".sage/notes.md": "n", "a.txt": "a" })
        const workspace = yield* makeWorkspace([dir])
        const fileState = yield* makeFileState()
        const backgroundShells = yield* makeBackgroundShells()
        const tools = builtinTools({
          workspace,
          env: { PATH: process.env.PATH },
          fileState,
          backgroundShells,
          allowProtected: (p) => p.endsWith("notes.md")
        })
        expect(tools.map((t) => t.name)).toEqual(ORDER)
        const byName = (name: string) => tools.find((t) => t.name === name)!
        yield* call(byName("Read"), { file_path: "a.txt" })
        expect(Option.isSome(yield* fileState.get(path.join(dir, "a.txt")))).toBe(true)
        expect((yield* call(byName("Write"), { file_path: ".sage/notes.md", content: "m" })).status).toBe("error")
        yield* call(byName("Read"), { file_path: ".sage/notes.md" })
        expect((yield* call(byName("Write"), { file_path: ".sage/notes.md", content: "m" })).status).toBe("success")
        yield* call(byName("Bash"), { command: "sleep 1000", run_in_background: true })
        expect((yield* backgroundShells.list).map((s) => s.id)).toEqual(["bash_1"])
      })
    )
  )
})

describe("makeBuiltinTools", () => {
  it.live("creates per-session state in the scope; closing it kills background shells", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const workspace = yield* makeWorkspace([dir])
        const pid = yield* Effect.scoped(
          Effect.gen(function* () {
            const tools = yield* makeBuiltinTools({
              workspace,
              env: { PATH: process.env.PATH },
              backgroundShellsOptions: { killGrace: "300 millis" }
            })
            expect(tools.map((t) => t.name)).toEqual(ORDER)
            const byName = (name: string) => tools.find((t) => t.name === name)!
            const started = text(yield* call(byName("Bash"), { command: "sleep 1000", run_in_background: true }))
            const pid = Number(/\(pid (\d+)\)/.exec(started)![1])
            expect(isAlive(pid)).toBe(true)
            // A write without a read is refused by the fresh file state.
            writeFiles(dir, { "x.txt": "x" })
            expect(text(yield* call(byName("Write"), { file_path: "x.txt", content: "y" }))).toContain("Read it first")
            return pid
          })
        )
        for (let i = 0; i < 300 && isAlive(pid); i++) yield* Effect.sleep(Duration.millis(50))
        expect(isAlive(pid)).toBe(false)
        // Two sessions do not share file state.
        const a = yield* makeBuiltinTools({ workspace, env: {} })
        const b = yield* makeBuiltinTools({ workspace, env: {} })
        yield* call(a.find((t) => t.name === "Read")!, { file_path: "x.txt" })
        expect((yield* call(a.find((t) => t.name === "Write")!, { file_path: "x.txt", content: "1" })).status).toBe(
          "success"
        )
        fs.writeFileSync(path.join(dir, "y.txt"), "y")
        yield* call(a.find((t) => t.name === "Read")!, { file_path: "y.txt" })
        expect(text(yield* call(b.find((t) => t.name === "Write")!, { file_path: "y.txt", content: "2" }))).toContain(
          "Read it first"
        )
      })
    )
  )
})
