import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import {
  applyEdit,
  changeSnippet,
  countOccurrences,
  MAX_EDIT_BYTES,
  makeEditTool,
  toCrlf,
  usesCrlf
} from "../../src/tools/Edit.js"
import { makeReadTool, numberLine } from "../../src/tools/Read.js"
import { onWorkspace } from "./fileSupport.js"
import { call, tempDir, text, writeFiles } from "./support.js"

const setup = (files: Record<string, string | Uint8Array>) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    writeFiles(dir, files)
    const { read, edit } = yield* Effect.all({ read: makeReadTool(), edit: makeEditTool() }).pipe(onWorkspace([dir]))
    return {
      dir,
      read,
      edit,
      readFile: (name: string) => fs.readFileSync(path.join(dir, name), "utf8"),
      readFirst: (name: string) => Effect.asVoid(call(read, { file_path: name }))
    }
  })

const leftovers = (dir: string): Array<string> =>
  fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) => name.includes(".sage-"))

const SOURCE = [
  "import a from 'a'",
  "",
  "function f() {",
  "  return 1",
  "}",
  "",
  "function g() {",
  "  return 1",
  "}",
  ""
].join("\n")

describe("Edit", () => {
  it.effect("replaces a unique string and shows the changed region with line numbers", () =>
    Effect.gen(function* () {
      const { dir, edit, readFile, readFirst } = yield* setup({ "f.ts": SOURCE })
      expect(edit).toMatchObject({ name: "Edit", kind: "edit", concurrency: { type: "sequential" } })
      yield* readFirst("f.ts")
      const result = yield* call(edit, {
        file_path: "f.ts",
        old_string: "function f() {\n  return 1",
        new_string: "function f() {\n  // one\n  return 1"
      })
      expect(result.status).toBe("success")
      expect(readFile("f.ts")).toBe(SOURCE.replace("function f() {\n", "function f() {\n  // one\n"))
      expect(text(result)).toBe(
        [
          `Edited ${path.join(dir, "f.ts")} (1 replacement). The changed region now reads:`,
          numberLine(1, "import a from 'a'"),
          numberLine(2, ""),
          numberLine(3, "function f() {"),
          numberLine(4, "  // one"),
          numberLine(5, "  return 1"),
          numberLine(6, "}"),
          numberLine(7, "")
        ].join("\n")
      )
      // The state was updated by the edit: a second edit needs no new read.
      const second = yield* call(edit, { file_path: "f.ts", old_string: "// one", new_string: "// first" })
      expect(second.status).toBe("success")
      expect(readFile("f.ts")).toContain("  // first\n")
      expect(leftovers(dir)).toEqual([])
    })
  )

  it.effect("refuses an ambiguous match unless replace_all, and a missing one with a whitespace hint", () =>
    Effect.gen(function* () {
      const { edit, readFile, readFirst } = yield* setup({ "f.ts": SOURCE })
      yield* readFirst("f.ts")
      const ambiguous = yield* call(edit, { file_path: "f.ts", old_string: "return 1", new_string: "return 2" })
      expect(ambiguous.status).toBe("error")
      expect(text(ambiguous)).toBe(
        "f.ts: old_string was found 2 times in the file, but must match exactly once. Add surrounding lines to make it unique, or set replace_all to true to replace every occurrence."
      )
      expect(readFile("f.ts")).toBe(SOURCE)

      const missing = yield* call(edit, { file_path: "f.ts", old_string: "\treturn 1", new_string: "x" })
      expect(missing.status).toBe("error")
      expect(text(missing)).toContain("old_string was not found in the file")
      expect(text(missing)).toContain("whitespace, indentation (tabs vs spaces)")
      expect(readFile("f.ts")).toBe(SOURCE)

      const same = yield* call(edit, { file_path: "f.ts", old_string: "return 1", new_string: "return 1" })
      expect(text(same)).toBe("f.ts: old_string and new_string are identical; there is nothing to change.")
      const empty = yield* call(edit, { file_path: "f.ts", old_string: "", new_string: "x" })
      expect(text(empty)).toContain("- old_string: ")

      const all = yield* call(edit, {
        file_path: "f.ts",
        old_string: "return 1",
        new_string: "return 2",
        replace_all: true
      })
      expect(all.status).toBe("success")
      expect(text(all)).toContain("(2 replacements)")
      expect(readFile("f.ts")).toBe(SOURCE.replaceAll("return 1", "return 2"))
    })
  )

  it.effect("keeps CRLF line endings when the model sends LF strings", () =>
    Effect.gen(function* () {
      const crlf = "one\r\ntwo\r\nthree\r\n"
      const { edit, readFile, readFirst } = yield* setup({ "win.txt": crlf, "unix.txt": "one\ntwo\n" })
      yield* readFirst("win.txt")
      const multi = yield* call(edit, { file_path: "win.txt", old_string: "one\ntwo", new_string: "1\n2\n2.5" })
      expect(multi.status).toBe("success")
      expect(readFile("win.txt")).toBe("1\r\n2\r\n2.5\r\nthree\r\n")
      expect(text(multi)).toContain(numberLine(3, "2.5"))
      expect(text(multi)).not.toContain("\r")
      // A single-line match; the inserted line break becomes CRLF too.
      yield* call(edit, { file_path: "win.txt", old_string: "three", new_string: "three\nfour" })
      expect(readFile("win.txt")).toBe("1\r\n2\r\n2.5\r\nthree\r\nfour\r\n")
      // Strings sent with CRLF match as they are.
      yield* call(edit, { file_path: "win.txt", old_string: "2\r\n2.5", new_string: "two" })
      expect(readFile("win.txt")).toBe("1\r\ntwo\r\nthree\r\nfour\r\n")
      // LF files are left alone.
      yield* readFirst("unix.txt")
      yield* call(edit, { file_path: "unix.txt", old_string: "one\ntwo", new_string: "1\n2" })
      expect(readFile("unix.txt")).toBe("1\n2\n")
    })
  )

  it.effect("needs a read first, refuses stale reads, and allows the edit after reading again", () =>
    Effect.gen(function* () {
      const { dir, edit, readFile, readFirst } = yield* setup({ "a.txt": "alpha\nbeta\n" })
      const unread = yield* call(edit, { file_path: "a.txt", old_string: "alpha", new_string: "ALPHA" })
      expect(unread.status).toBe("error")
      expect(text(unread)).toContain("Read it first")
      yield* readFirst("a.txt")
      fs.writeFileSync(path.join(dir, "a.txt"), "alpha\nbeta\ngamma\n")
      const stale = yield* call(edit, { file_path: "a.txt", old_string: "alpha", new_string: "ALPHA" })
      expect(text(stale)).toContain("modified since read; read it again")
      expect(readFile("a.txt")).toBe("alpha\nbeta\ngamma\n")
      yield* readFirst("a.txt")
      expect((yield* call(edit, { file_path: "a.txt", old_string: "alpha", new_string: "ALPHA" })).status).toBe(
        "success"
      )
      expect(readFile("a.txt")).toBe("ALPHA\nbeta\ngamma\n")
    })
  )

  it.effect("refuses missing, binary, non-UTF-8, huge, protected and outside files", () =>
    Effect.gen(function* () {
      const { dir, edit, readFirst } = yield* setup({
        "bin.dat": new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1]),
        "latin1.txt": new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a]),
        ".git/config": "[core]\n",
        "sub/x.txt": "x"
      })
      const attempt = (file_path: string) => call(edit, { file_path, old_string: "a", new_string: "b" })
      expect(text(yield* attempt("nope.txt"))).toBe("File does not exist: nope.txt. To create a new file, use Write.")
      expect(text(yield* attempt("sub"))).toBe("sub is a directory, not a file.")
      expect(text(yield* attempt("bin.dat"))).toBe("bin.dat looks like a binary file; Edit only changes text files.")
      expect(text(yield* attempt("latin1.txt"))).toBe(
        "latin1.txt is not valid UTF-8 text; Edit would damage it. Use Bash to change it."
      )
      expect(fs.readFileSync(path.join(dir, "latin1.txt"))).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]))
      expect(text(yield* attempt(".git/config"))).toContain("protected directory")
      expect(text(yield* attempt("/etc/hostname"))).toContain("outside the workspace")
      fs.writeFileSync(path.join(dir, "huge.txt"), Buffer.alloc(MAX_EDIT_BYTES + 1, 97))
      yield* readFirst("huge.txt")
      expect(text(yield* attempt("huge.txt"))).toContain(`Edit only changes files up to ${MAX_EDIT_BYTES} bytes`)
      expect(leftovers(dir)).toEqual([])
    })
  )
})

describe("Edit helpers", () => {
  it("detects the dominant line ending and converts to CRLF", () => {
    expect(usesCrlf("a\r\nb\r\nc\n")).toBe(true)
    expect(usesCrlf("a\nb\nc\r\n")).toBe(false)
    expect(usesCrlf("no breaks")).toBe(false)
    expect(usesCrlf("\nx")).toBe(false)
    expect(toCrlf("a\nb\r\nc")).toBe("a\r\nb\r\nc")
  })

  it("counts non-overlapping occurrences", () => {
    expect(countOccurrences("aaaa", "aa")).toBe(2)
    expect(countOccurrences("abc", "d")).toBe(0)
  })

  it("applyEdit refuses an empty old_string", () => {
    expect(applyEdit("abc", { old_string: "", new_string: "x" })).toEqual({
      ok: false,
      reason: "old_string is empty; give the exact text to replace."
    })
    expect(applyEdit("a\r\nb\r\n", { old_string: "a\nc", new_string: "x" })).toMatchObject({ ok: false })
  })

  it("changeSnippet shows the changed lines with context, bounded", () => {
    const before = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join("\n")
    const after = before.replace("line 50", "fifty")
    expect(changeSnippet(before, after, 1)).toBe(
      [numberLine(49, "line 49"), numberLine(50, "fifty"), numberLine(51, "line 51")].join("\n")
    )
    // Deleted lines: the context around the gap.
    expect(changeSnippet("a\nb\nc\n", "a\nc\n", 1)).toBe([numberLine(1, "a"), numberLine(2, "c")].join("\n"))
    expect(changeSnippet("a\n", "")).toBe("(the file is now empty)")
    const everything = before.replaceAll("line", "LINE")
    const capped = changeSnippet(before, everything, 3, 10).split("\n")
    expect(capped).toHaveLength(11)
    expect(capped[10]).toBe("[... 90 more changed or context lines not shown]")
  })
})
