import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as ToolRegistryLive from "../../src/layers/ToolRegistryLive.js"
import { builtinTools, Tool } from "../../src/tools/index.js"
import { call, tempDir, text, writeFiles } from "./support.js"

describe("builtinTools", () => {
  it.scoped("registers Read, Glob and Bash, which work on the given (unresolved) workspace", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      writeFiles(dir, { "notes/todo.md": "one\ntwo\n" })
      const tools = builtinTools({
        workspace: { roots: [`${dir}/notes/..`] },
        env: { PATH: process.env.PATH, SOME_API_KEY: "k" },
        read: { defaultLimit: 1 },
        glob: { maxResults: 5 },
        bash: { defaultTimeout: "30 seconds" }
      })
      const registry = yield* ToolRegistryLive.make(tools)
      expect((yield* registry.definitions).map((d) => d.name)).toEqual(["Read", "Glob", "Bash"])
      for (const definition of yield* registry.definitions) {
        expect(Tool.isValidName(definition.name)).toBe(true)
        expect(definition.inputSchema).toMatchObject({ type: "object" })
        expect(definition.inputSchema).not.toHaveProperty("$schema")
      }
      const read = yield* registry.get("Read")
      expect(text(yield* call(read, { file_path: "notes/todo.md" }))).toBe(
        "     1\tone\n\n[More lines follow; continue with offset=2.]"
      )
      const glob = yield* registry.get("Glob")
      expect(text(yield* call(glob, { pattern: "**/*.md" }))).toBe(`${dir}/notes/todo.md`)
      const bash = yield* registry.get("Bash")
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, not a template
      expect(text(yield* call(bash, { command: 'cat notes/todo.md; echo "key=${SOME_API_KEY:-none}"' }))).toBe(
        "one\ntwo\nkey=none"
      )
    })
  )
})
