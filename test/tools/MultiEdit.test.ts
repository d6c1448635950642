import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { MAX_EDITS, makeMultiEditTool } from "../../src/tools/MultiEdit.js"
import { makeReadTool, numberLine } from "../../src/tools/Read.js"
import { onWorkspace } from "./fileSupport.js"
import { call, tempDir, text, writeFiles } from "./support.js"

const setup = (files: Record<string, string>) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    writeFiles(dir, files)
    const { read, multi } = yield* Effect.all({ read: makeReadTool(), multi: makeMultiEditTool() }).pipe(
      onWorkspace([dir])
    )
    return {
      dir,
      multi,
      readFile: (name: string) => fs.readFileSync(path.join(dir, name), "utf8"),
      readFirst: (name: string) => Effect.asVoid(call(read, { file_path: name }))
    }
  })

const SOURCE = "const a = 1\nconst b = 2\nconst c = a + b\n"

describe("MultiEdit", () => {
  it.effect("applies the edits in order, each to the result of the previous ones, in one write", () =>
    Effect.gen(function* () {
      const { dir, multi, readFile, readFirst } = yield* setup({ "m.ts": SOURCE })
      expect(multi).toMatchObject({ name: "MultiEdit", kind: "edit", concurrency: { type: "sequential" } })
      yield* readFirst("m.ts")
      const result = yield* call(multi, {
        file_path: "m.ts",
        edits: [
          { old_string: "const a = 1", new_string: "const alpha = 1" },
          // Only possible after the first edit.
          { old_string: "const alpha = 1\nconst b", new_string: "const alpha = 1\nconst beta" },
          { old_string: "a + b", new_string: "alpha + beta" },
          { old_string: "const", new_string: "let", replace_all: true }
        ]
      })
      expect(result.status).toBe("success")
      expect(readFile("m.ts")).toBe("let alpha = 1\nlet beta = 2\nlet c = alpha + beta\n")
      expect(text(result)).toBe(
        [
          `Applied 4 edits (6 replacements) to ${path.join(dir, "m.ts")}. The changed region now reads:`,
          numberLine(1, "let alpha = 1"),
          numberLine(2, "let beta = 2"),
          numberLine(3, "let c = alpha + beta")
        ].join("\n")
      )
      const one = yield* call(multi, { file_path: "m.ts", edits: [{ old_string: "let c", new_string: "let gamma" }] })
      expect(text(one)).toContain("Applied 1 edit (1 replacement)")
    })
  )

  it.effect("writes nothing when any edit fails, and names the failing edit", () =>
    Effect.gen(function* () {
      const { dir, multi, readFile, readFirst } = yield* setup({ "m.ts": SOURCE })
      yield* readFirst("m.ts")
      const before = fs.statSync(path.join(dir, "m.ts")).mtimeMs
      const missing = yield* call(multi, {
        file_path: "m.ts",
        edits: [
          { old_string: "const a = 1", new_string: "const A = 1" },
          { old_string: "const a = 1", new_string: "again" },
          { old_string: "const b", new_string: "const B" }
        ]
      })
      expect(missing.status).toBe("error")
      expect(text(missing)).toMatch(
        /^m\.ts: edit 2 of 3 \(edits\[1\]\) failed: old_string was not found in the file\..* No edits were applied; the file is unchanged\.$/
      )
      const ambiguous = yield* call(multi, {
        file_path: "m.ts",
        edits: [
          { old_string: "const c", new_string: "const b" },
          { old_string: "const b", new_string: "const d" }
        ]
      })
      expect(text(ambiguous)).toContain("edit 2 of 2 (edits[1]) failed: old_string was found 2 times")
      const same = yield* call(multi, { file_path: "m.ts", edits: [{ old_string: "a", new_string: "a" }] })
      expect(text(same)).toContain("edit 1 of 1 (edits[0]) failed: old_string and new_string are identical")
      expect(readFile("m.ts")).toBe(SOURCE)
      expect(fs.statSync(path.join(dir, "m.ts")).mtimeMs).toBe(before)
      expect(fs.readdirSync(dir)).toEqual(["m.ts"])
    })
  )

  it.effect("needs a read first, keeps CRLF, and validates the edit list", () =>
    Effect.gen(function* () {
      const { multi, readFile, readFirst } = yield* setup({ "w.txt": "a\r\nb\r\n" })
      const unread = yield* call(multi, { file_path: "w.txt", edits: [{ old_string: "a", new_string: "x" }] })
      expect(text(unread)).toContain("Read it first")
      yield* readFirst("w.txt")
      yield* call(multi, {
        file_path: "w.txt",
        edits: [
          { old_string: "a\nb", new_string: "x\ny" },
          { old_string: "y", new_string: "y\nz" }
        ]
      })
      expect(readFile("w.txt")).toBe("x\r\ny\r\nz\r\n")
      expect(text(yield* call(multi, { file_path: "w.txt", edits: [] }))).toContain("- edits: ")
      const tooMany = Array.from({ length: MAX_EDITS + 1 }, (_, i) => ({ old_string: `${i}`, new_string: "-" }))
      expect(text(yield* call(multi, { file_path: "w.txt", edits: tooMany }))).toContain("- edits: ")
      expect(text(yield* call(multi, { file_path: "nope", edits: [{ old_string: "a", new_string: "b" }] }))).toBe(
        "File does not exist: nope. To create a new file, use Write."
      )
    })
  )
})
