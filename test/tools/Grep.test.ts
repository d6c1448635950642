import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import fc from "fast-check"
import { findExecutable } from "../../src/process/Executable.js"
import { Workspace } from "../../src/services/Workspace.js"
import { type GrepOptions, makeGrepTool, pathOrder } from "../../src/tools/Grep.js"
import { compareCodePoints } from "../../src/workspace/Gitignore.js"
import { call, isAlive, tempDir, text, workspaceOf, writeFiles } from "./support.js"

const rgOnPath = fs.existsSync("/usr/bin/rg") ? "/usr/bin/rg" : undefined
const env = { PATH: process.env.PATH }

/** The Grep tool on `workspace`, with `PATH` as the configured search path. */
const grepTool = (workspace: Workspace.Service, options: GrepOptions = {}, PATH: string | undefined = env.PATH) =>
  makeGrepTool(options).pipe(
    Effect.provideService(Workspace, workspace),
    Effect.provide(NodeServices.layer),
    Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(PATH === undefined ? {} : { PATH })))
  )

/** The same tree for every backend; mtimes increase in the order listed. */
const TREE: Record<string, string | Uint8Array> = {
  ".gitignore": "ignored/\n*.log\n!keep.log\n/build\n",
  "src/a.ts": "import { foo } from './foo'\nconst x = foo(1)\n\nexport const bar = 2\n",
  "src/b.tsx": "export const Foo = () => null\n",
  "src/lib/c.ts": "line1\nline2\nfoo here\nline4\nline5\nline6\nline7\nfoo again\nline9\n",
  "src/lib/.gitignore": "secret.ts\n",
  "src/lib/secret.ts": "foo secret\n",
  "src/build/d.ts": "foo in a nested build dir (not ignored: /build is anchored)\n",
  "build/e.ts": "foo in the root build dir\n",
  "ignored/x.ts": "foo\n",
  "app.log": "foo\n",
  "keep.log": "foo kept\n",
  ".hidden/h.md": "# Foo\nfoo hidden\n",
  ".git/config": "foo\n",
  "bin.dat": new Uint8Array([0x66, 0x6f, 0x6f, 0x00, 0x01, 0x02]),
  "docs/readme.md": "Start\nFOO upper\nend\n",
  "py/main.py": "def foo():\n    return 'bar'\n",
  "crlf.txt": "foo\r\nbar\r\n",
  "multi.txt": "begin\nfoo\nbar\nfoo\nbar\nend foo\n"
}

const setup = (options: GrepOptions = {}) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    writeFiles(dir, TREE)
    Object.keys(TREE).forEach((f, i) => {
      const t = new Date(Date.UTC(2020, 0, 1) + i * 60_000)
      fs.utimesSync(path.join(dir, f), t, t)
    })
    const workspace = yield* workspaceOf([dir])
    const tools = {
      rg: yield* grepTool(workspace, { ...options, rgPath: rgOnPath ?? null }),
      builtin: yield* grepTool(workspace, { ...options, rgPath: null })
    }
    return { dir, workspace, ...tools }
  })

type Tools = Effect.Success<ReturnType<typeof setup>>

/** Run `input` with ripgrep and with the built-in search; both must give the same text. */
const both = (tools: Tools, input: Record<string, unknown>) =>
  Effect.gen(function* () {
    const viaRg = yield* call(tools.rg, input)
    const viaBuiltin = yield* call(tools.builtin, input)
    expect({ status: viaBuiltin.status, text: text(viaBuiltin) }).toEqual({
      status: viaRg.status,
      text: text(viaRg)
    })
    return text(viaRg)
  })

describe("Grep", () => {
  // .ci/run installs ripgrep: on CI its absence is a failure; elsewhere the built-in search is tested alone.
  it.runIf(process.env.CI === "true")("runs with a real ripgrep on CI", () => {
    expect(rgOnPath).toBeDefined()
  })

  it.live("lists matching files newest first, respecting ignore files, .git and binary files", () =>
    Effect.gen(function* () {
      const tools = yield* setup()
      const out = yield* both(tools, { pattern: "foo" })
      expect(out.split("\n")).toEqual([
        "Found 8 files",
        "multi.txt",
        "crlf.txt",
        "py/main.py",
        ".hidden/h.md",
        "keep.log",
        "src/build/d.ts",
        "src/lib/c.ts",
        "src/a.ts"
      ])
      expect(out).not.toMatch(/secret|ignored|app\.log|\.git\/|bin\.dat|b\.tsx|readme|build\/e/)
      expect(tools.rg).toMatchObject({ readOnly: true, kind: "read", concurrency: { type: "parallel" } })
    })
  )

  it.live("shows matching lines with line numbers, context and separators", () =>
    Effect.gen(function* () {
      const tools = yield* setup()
      expect(yield* both(tools, { pattern: "foo", path: "src/lib/c.ts", output_mode: "content" })).toBe(
        "src/lib/c.ts:3:foo here\nsrc/lib/c.ts:8:foo again"
      )
      expect(yield* both(tools, { pattern: "foo", path: "src/lib", output_mode: "content", "-C": 1 })).toBe(
        [
          "src/lib/c.ts-2-line2",
          "src/lib/c.ts:3:foo here",
          "src/lib/c.ts-4-line4",
          "--",
          "src/lib/c.ts-7-line7",
          "src/lib/c.ts:8:foo again",
          "src/lib/c.ts-9-line9"
        ].join("\n")
      )
      expect(
        yield* both(tools, { pattern: "foo", path: "src/lib/c.ts", output_mode: "content", "-A": 4, "-n": false })
      ).toBe(
        [
          "src/lib/c.ts:foo here",
          "src/lib/c.ts-line4",
          "src/lib/c.ts-line5",
          "src/lib/c.ts-line6",
          "src/lib/c.ts-line7",
          "src/lib/c.ts:foo again",
          "src/lib/c.ts-line9"
        ].join("\n")
      )
      expect(yield* both(tools, { pattern: "Foo", output_mode: "content", "-B": 1 })).toBe(
        [".hidden/h.md:1:# Foo", "--", "src/b.tsx:1:export const Foo = () => null"].join("\n")
      )
      expect(yield* both(tools, { pattern: "bar$", path: "crlf.txt", output_mode: "content" })).toBe("No matches found")
      expect(yield* both(tools, { pattern: "bar", path: "crlf.txt", output_mode: "content" })).toBe("crlf.txt:2:bar")
    })
  )

  it.live("counts matching lines per file, in path order", () =>
    Effect.gen(function* () {
      const tools = yield* setup()
      expect(yield* both(tools, { pattern: "foo", output_mode: "count", path: "src" })).toBe(
        ["src/a.ts:2", "src/build/d.ts:1", "src/lib/c.ts:2", "", "Found 5 matching lines in 3 files."].join("\n")
      )
      expect(yield* both(tools, { pattern: "nothing-like-this", output_mode: "count" })).toBe("No matches found")
    })
  )

  it.live("filters by glob and by type", () =>
    Effect.gen(function* () {
      const tools = yield* setup()
      const files = (input: Record<string, unknown>) =>
        Effect.map(both(tools, { pattern: "foo", "-i": true, ...input }), (out) => out.split("\n").slice(1).sort())
      expect(yield* files({ glob: "*.ts" })).toEqual(["src/a.ts", "src/build/d.ts", "src/lib/c.ts"])
      expect(yield* files({ glob: "*.{tsx,md}" })).toEqual([".hidden/h.md", "docs/readme.md", "src/b.tsx"])
      expect(yield* files({ glob: "src/*/*.ts" })).toEqual(["src/build/d.ts", "src/lib/c.ts"])
      expect(yield* files({ glob: "**/*.ts", path: "src/lib" })).toEqual(["src/lib/c.ts"])
      expect(yield* files({ glob: "!*.{ts,tsx,md}" })).toEqual(["crlf.txt", "keep.log", "multi.txt", "py/main.py"])
      expect(yield* files({ type: "ts" })).toEqual(["src/a.ts", "src/b.tsx", "src/build/d.ts", "src/lib/c.ts"])
      expect(yield* files({ type: "py" })).toEqual(["py/main.py"])
      expect(yield* files({ type: "ts", glob: "src/**" })).toEqual([
        "src/a.ts",
        "src/b.tsx",
        "src/build/d.ts",
        "src/lib/c.ts"
      ])
      const badType = yield* call(tools.rg, { pattern: "foo", type: "cobol" })
      expect(badType.status).toBe("error")
    })
  )

  it.live("is case-sensitive unless -i", () =>
    Effect.gen(function* () {
      const tools = yield* setup()
      expect(yield* both(tools, { pattern: "FOO", output_mode: "content" })).toBe("docs/readme.md:2:FOO upper")
      expect(yield* both(tools, { pattern: "FOO", "-i": true, path: "docs", output_mode: "content" })).toBe(
        "docs/readme.md:2:FOO upper"
      )
      expect(yield* both(tools, { pattern: "foo", "-i": true, path: ".hidden", output_mode: "count" })).toBe(
        ".hidden/h.md:2\n\nFound 2 matching lines in 1 file."
      )
    })
  )

  it.live("matches across lines with multiline", () =>
    Effect.gen(function* () {
      const tools = yield* setup()
      expect(
        yield* both(tools, { pattern: "foo\\nbar", path: "multi.txt", output_mode: "content", multiline: true })
      ).toBe(["multi.txt:2:foo", "multi.txt:3:bar", "multi.txt:4:foo", "multi.txt:5:bar"].join("\n"))
      expect(
        yield* both(tools, { pattern: "foo\\nbar", path: "multi.txt", output_mode: "count", multiline: true })
      ).toBe("multi.txt:2\n\nFound 2 matching lines in 1 file.")
      expect(
        yield* both(tools, { pattern: "begin.*end", path: "multi.txt", output_mode: "count", multiline: true })
      ).toBe("multi.txt:1\n\nFound 1 matching line in 1 file.")
      expect(yield* both(tools, { pattern: "o$", path: "multi.txt", output_mode: "count", multiline: true })).toBe(
        "multi.txt:3\n\nFound 3 matching lines in 1 file."
      )
      expect(yield* both(tools, { pattern: "import.*?foo\\(", output_mode: "content", multiline: true, "-A": 1 })).toBe(
        ["src/a.ts:1:import { foo } from './foo'", "src/a.ts:2:const x = foo(1)", "src/a.ts-3-"].join("\n")
      )
      expect(yield* both(tools, { pattern: "bar\\nfoo", multiline: true })).toBe("Found 1 file\nmulti.txt")
      for (const tool of [tools.rg, tools.builtin]) {
        const single = yield* call(tool, { pattern: "foo\\nbar" })
        expect(single.status).toBe("error")
        expect(text(single)).toContain("To match across lines, set multiline: true.")
        expect(text(single)).not.toContain("--multiline")
      }
    })
  )

  it.live("limits entries and lines with head_limit and says so", () =>
    Effect.gen(function* () {
      const tools = yield* setup()
      const files = yield* both(tools, { pattern: "foo", head_limit: 2 })
      expect(files.split("\n")).toEqual([
        "Found 8 files",
        "multi.txt",
        "crlf.txt",
        "(Showing the 2 most recently modified of 8 files; narrow the search or raise head_limit.)"
      ])
      const lines = yield* both(tools, { pattern: "foo", output_mode: "content", head_limit: 3 })
      expect(lines.split("\n")).toEqual([
        ".hidden/h.md:2:foo hidden",
        "crlf.txt:1:foo",
        "keep.log:1:foo kept",
        "",
        "(Output limited to 3 lines; there are more matches. Narrow the search or raise head_limit.)"
      ])
      const withContext = yield* both(tools, {
        pattern: "foo",
        path: "src/lib",
        output_mode: "content",
        "-C": 1,
        head_limit: 4
      })
      expect(withContext.split("\n").slice(0, 3)).toEqual([
        "src/lib/c.ts-2-line2",
        "src/lib/c.ts:3:foo here",
        "src/lib/c.ts-4-line4"
      ])
      expect(withContext).toContain("(Output limited to 4 lines")
      const counts = yield* both(tools, { pattern: "foo", output_mode: "count", head_limit: 1 })
      expect(counts.split("\n")).toEqual([
        ".hidden/h.md:1",
        "",
        "Found 1 matching line in 1 file.",
        "(Showing the first 1 files; there are more. Narrow the search or raise head_limit.)"
      ])
      const exact = yield* both(tools, { pattern: "foo", path: "src/lib/c.ts", output_mode: "content", head_limit: 2 })
      expect(exact).toBe("src/lib/c.ts:3:foo here\nsrc/lib/c.ts:8:foo again")
    })
  )

  it.live("bounds long lines and the whole output", () =>
    Effect.gen(function* () {
      const tools = yield* setup({ maxLineLength: 10, maxOutputChars: 60, maxFiles: 3 })
      expect(yield* both(tools, { pattern: "nested", output_mode: "content" })).toBe(
        "src/build/d.ts:1:foo in a n [... 49 more characters]"
      )
      const cut = yield* both(tools, { pattern: "foo", output_mode: "content" })
      expect(cut).toContain("(Output cut at 60 characters")
      for (const tool of [tools.rg, tools.builtin]) {
        const stopped = text(yield* call(tool, { pattern: "foo" })).split("\n")
        expect(stopped[0]).toBe("Found 3 files")
        expect(stopped.at(-1)).toBe("(The search stopped after 3 files; results are incomplete.)")
      }
    })
  )

  it.live("applies ignore files of parent directories and nested ones, and searches explicit paths", () =>
    Effect.gen(function* () {
      const tools = yield* setup()
      // The root .gitignore applies when searching a subdirectory; src/lib/.gitignore hides secret.ts.
      expect(yield* both(tools, { pattern: "foo", path: "src" })).not.toContain("secret")
      // An explicitly named ignored directory or file is searched.
      expect(yield* both(tools, { pattern: "foo", path: "ignored" })).toBe("Found 1 file\nignored/x.ts")
      expect(yield* both(tools, { pattern: "foo", path: "app.log", output_mode: "count" })).toBe(
        "app.log:1\n\nFound 1 matching line in 1 file."
      )
      // .ignore and .rgignore are honoured too, and a .gitignore above a .git directory is not.
      writeFiles(tools.dir, { "py/.ignore": "main.py\n", "docs/.rgignore": "*.md\n" })
      const out = yield* both(tools, { pattern: "foo", "-i": true })
      expect(out).not.toMatch(/main\.py|readme/)
      writeFiles(tools.dir, { "repo/.git/HEAD": "ref\n", "repo/x.log": "foo\n", "repo/y.txt": "foo\n" })
      const [older, newer] = [new Date(Date.UTC(2021, 0, 1)), new Date(Date.UTC(2021, 0, 2))]
      fs.utimesSync(path.join(tools.dir, "repo/x.log"), older, older)
      fs.utimesSync(path.join(tools.dir, "repo/y.txt"), newer, newer)
      expect(yield* both(tools, { pattern: "foo", path: "repo" })).toBe("Found 2 files\nrepo/y.txt\nrepo/x.log")
    })
  )

  it.live("does not follow symbolic links and refuses paths outside the workspace", () =>
    Effect.gen(function* () {
      const tools = yield* setup()
      const outside = yield* tempDir
      writeFiles(outside, { "o.txt": "foo outside\n" })
      fs.symlinkSync(outside, path.join(tools.dir, "out-dir"))
      fs.symlinkSync(path.join(outside, "o.txt"), path.join(tools.dir, "out-file.txt"))
      expect(yield* both(tools, { pattern: "outside" })).toBe("No files found")
      for (const tool of [tools.rg, tools.builtin]) {
        const escaped = yield* call(tool, { pattern: "foo", path: "out-dir" })
        expect(escaped.status).toBe("error")
        expect(text(escaped)).toContain("outside the workspace")
        const parent = yield* call(tool, { pattern: "foo", path: ".." })
        expect(text(parent)).toContain("outside the workspace")
      }
    })
  )

  it.live("reports missing paths, binary files and invalid patterns", () =>
    Effect.gen(function* () {
      const tools = yield* setup()
      const missing = yield* both(tools, { pattern: "foo", path: "nope" })
      expect(missing).toBe("Path does not exist: nope")
      expect(yield* both(tools, { pattern: "foo", path: "bin.dat" })).toBe(
        "bin.dat is a binary file; Grep does not search binary files."
      )
      for (const tool of [tools.rg, tools.builtin]) {
        const invalid = yield* call(tool, { pattern: "foo(" })
        expect(invalid.status).toBe("error")
        expect(text(invalid)).toMatch(/^Invalid regex pattern "foo\(": /)
        const empty = yield* call(tool, { pattern: "" })
        expect(empty.status).toBe("error")
      }
    })
  )

  it.live("built-in search: skips files over the size limit and stops at a late NUL byte", () =>
    Effect.gen(function* () {
      const { dir, workspace } = yield* setup()
      const late = Buffer.concat([Buffer.from("foo early\n"), Buffer.alloc(70_000, 0x61), Buffer.from("\nfoo late\0")])
      writeFiles(dir, { "big/huge.txt": `foo ${"y".repeat(200)}\n`, "late/nul.txt": late })
      const tool = yield* grepTool(workspace, { rgPath: null, maxFileBytes: 100 })
      expect(text(yield* call(tool, { pattern: "foo", path: "big" }))).toBe("No files found")
      const roomy = yield* grepTool(workspace, { rgPath: null })
      expect(text(yield* call(roomy, { pattern: "^foo", path: "late", output_mode: "count" }))).toBe(
        "late/nul.txt:1\n\nFound 1 matching line in 1 file."
      )
    })
  )

  it.live("times out a search and kills ripgrep", () =>
    Effect.gen(function* () {
      const { dir, workspace } = yield* setup()
      const bin = yield* tempDir
      const script = path.join(bin, "rg")
      fs.writeFileSync(script, `#!/bin/sh\necho $$ > ${bin}/pid\nexec sleep 30\n`, { mode: 0o755 })
      const tool = yield* grepTool(workspace, { timeout: "1 second" }, `${bin}:/usr/bin:/bin`)
      const result = yield* call(tool, { pattern: "foo" }, dir)
      expect(result.status).toBe("error")
      expect(text(result)).toContain("The search timed out after 1s")
      const pid = Number(fs.readFileSync(path.join(bin, "pid"), "utf8"))
      expect(isAlive(pid)).toBe(false)
    })
  )

  it.live("reports a ripgrep that fails or cannot start", () =>
    Effect.gen(function* () {
      const { workspace } = yield* setup()
      const bin = yield* tempDir
      const script = path.join(bin, "fake-rg")
      fs.writeFileSync(script, "#!/bin/sh\necho boom >&2\nexit 2\n", { mode: 0o755 })
      const failing = yield* call(yield* grepTool(workspace, { rgPath: script }), { pattern: "foo" })
      expect(failing.status).toBe("error")
      expect(text(failing)).toBe("ripgrep failed (exit code 2): boom")
      const absent = yield* call(yield* grepTool(workspace, { rgPath: path.join(bin, "absent") }), { pattern: "foo" })
      expect(absent.status).toBe("error")
      expect(text(absent)).toContain(`Could not start ${path.join(bin, "absent")}`)
    })
  )

  it.effect("finds rg on PATH, or falls back when it is absent", () =>
    Effect.gen(function* () {
      if (rgOnPath !== undefined) {
        expect(yield* findExecutable("rg", `/nonexistent:${path.dirname(rgOnPath)}`)).toBe(rgOnPath)
      }
      expect(yield* findExecutable("rg", "relative/dir:/nonexistent")).toBeUndefined()
      expect(yield* findExecutable("rg", "")).toBeUndefined()
    })
  )

  it.live("uses the built-in search when rg is not on PATH", () =>
    Effect.gen(function* () {
      const { workspace } = yield* setup()
      const tool = yield* grepTool(workspace, {}, "/nonexistent")
      // Only the built-in search names the JS reason for refusing \n in a single-line search.
      expect(text(yield* call(tool, { pattern: "a\\nb" }))).toContain("the literal \\n is not allowed")
      expect(text(yield* call(tool, { pattern: "kept" }))).toBe("Found 1 file\nkeep.log")
    })
  )
})

describe("pathOrder", () => {
  /** The definition: component by component, by code point; a path before the paths below it. */
  const reference = (a: string, b: string): number => {
    const left = a.split(path.sep)
    const right = b.split(path.sep)
    for (let i = 0; i < Math.min(left.length, right.length); i++) {
      const order = compareCodePoints(left[i] ?? "", right[i] ?? "")
      if (order !== 0) return order
    }
    return left.length - right.length
  }

  it("orders paths as a sorted walk visits them", () => {
    const name = fc.constantFrom("a", "a.b", "a-b", "ab", "A", "\u00e9", "\ud83d\ude00", "\uffff", " ", "b")
    const file = fc.array(name, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join(path.sep)}`)
    fc.assert(
      fc.property(file, file, (a, b) => {
        expect(Math.sign(pathOrder(a, b))).toBe(Math.sign(reference(a, b)))
      }),
      { numRuns: 2000 }
    )
    expect(["/a.b/c", "/a/z", "/a-b", "/a"].sort(pathOrder)).toEqual(["/a", "/a/z", "/a-b", "/a.b/c"])
  })
})
