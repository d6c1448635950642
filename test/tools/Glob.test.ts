import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { globToRegExp, makeGlobTool, matchGlob, splitGlobBase } from "../../src/tools/Glob.js"
import { makeWorkspace } from "../../src/tools/Workspace.js"
import { call, tempDir, text, writeFiles } from "./support.js"

const setup = (files: ReadonlyArray<string>, options?: Parameters<typeof makeGlobTool>[1]) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    writeFiles(dir, Object.fromEntries(files.map((f) => [f, f])))
    // Distinct mtimes, oldest first in `files` order.
    files.forEach((f, i) => {
      const t = new Date(Date.UTC(2020, 0, 1) + i * 60_000)
      fs.utimesSync(path.join(dir, f), t, t)
    })
    const workspace = yield* makeWorkspace([dir])
    return { dir, glob: makeGlobTool(workspace, options) }
  })

const relative = (dir: string, output: string) =>
  output.split("\n").map((line) => (line.startsWith(dir) ? path.relative(dir, line) : line))

describe("glob matching", () => {
  it.each([
    ["*.ts", "a.ts", true],
    ["*.ts", "src/a.ts", false],
    ["*.ts", ".hidden.ts", true],
    ["**/*.ts", "a.ts", true],
    ["**/*.ts", "src/deep/a.ts", true],
    ["**/*.ts", "src/a.tsx", false],
    ["src/**/*.ts", "src/a.ts", true],
    ["src/**/*.ts", "src/x/y/a.ts", true],
    ["src/**/*.ts", "lib/a.ts", false],
    ["src/**", "src/x/y.md", true],
    ["**", "any/thing", true],
    ["a?c.txt", "abc.txt", true],
    ["a?c.txt", "a/c.txt", false],
    ["[abc].md", "b.md", true],
    ["[abc].md", "d.md", false],
    ["[a-c]x", "bx", true],
    ["[!a-c]x", "dx", true],
    ["[!a-c]x", "ax", false],
    ["[^a]x", "bx", true],
    ["*.{ts,tsx}", "a.tsx", true],
    ["*.{ts,tsx}", "a.js", false],
    ["{src,test}/**/*.{ts,json}", "test/x/a.json", true],
    ["{src,test}/**/*.{ts,json}", "lib/a.ts", false],
    ["{a,{b,c}}.txt", "c.txt", true],
    ["{a}.txt", "{a}.txt", true],
    ["{a,b.txt", "{a,b.txt", true],
    ["[ab.txt", "[ab.txt", true],
    ["a\\*b", "a*b", true],
    ["a\\*b", "axb", false],
    ["a**b", "axxb", true],
    ["a**b", "ax/b", false],
    ["file(1).txt", "file(1).txt", true],
    ["a+b$.txt", "a+b$.txt", true]
  ])("%s matches %s: %s", (pattern, file, expected) => {
    expect(matchGlob(pattern, file)).toBe(expected)
  })

  it("compiles to an anchored RegExp and splits off the literal base", () => {
    expect(globToRegExp("*.ts").source).toBe("^[^/]*\\.ts$")
    expect(splitGlobBase("src/lib/**/*.ts")).toEqual({ base: "src/lib", rest: "**/*.ts" })
    expect(splitGlobBase("*.ts")).toEqual({ base: "", rest: "*.ts" })
    expect(splitGlobBase("/abs/dir/*.ts")).toEqual({ base: "/abs/dir", rest: "*.ts" })
    expect(splitGlobBase("/*.ts")).toEqual({ base: "/", rest: "*.ts" })
    expect(splitGlobBase("src/a.ts")).toEqual({ base: "src", rest: "a.ts" })
  })
})

describe("Glob", () => {
  it.scoped("returns absolute paths of matches, most recently modified first", () =>
    Effect.gen(function* () {
      const { dir, glob } = yield* setup(["old.ts", "src/mid.ts", "src/readme.md", "src/deep/new.ts"])
      const result = yield* call(glob, { pattern: "**/*.ts" })
      expect(result.status).toBe("success")
      expect(text(result).split("\n")).toEqual([
        path.join(dir, "src/deep/new.ts"),
        path.join(dir, "src/mid.ts"),
        path.join(dir, "old.ts")
      ])
      expect(relative(dir, text(yield* call(glob, { pattern: "*.ts" })))).toEqual(["old.ts"])
      expect(relative(dir, text(yield* call(glob, { pattern: "src/*.{ts,md}" })))).toEqual([
        "src/readme.md",
        "src/mid.ts"
      ])
      expect(glob).toMatchObject({ readOnly: true, concurrency: { type: "parallel" } })
    })
  )

  it.scoped("searches under path, and takes absolute patterns inside the workspace", () =>
    Effect.gen(function* () {
      const { dir, glob } = yield* setup(["a.ts", "src/b.ts", "src/c/d.ts"])
      expect(relative(dir, text(yield* call(glob, { pattern: "**/*.ts", path: "src" })))).toEqual([
        "src/c/d.ts",
        "src/b.ts"
      ])
      expect(relative(dir, text(yield* call(glob, { pattern: "*.ts", path: path.join(dir, "src") })))).toEqual([
        "src/b.ts"
      ])
      expect(relative(dir, text(yield* call(glob, { pattern: `${dir}/src/**/*.ts` })))).toEqual([
        "src/c/d.ts",
        "src/b.ts"
      ])
    })
  )

  it.scoped("skips .git and node_modules", () =>
    Effect.gen(function* () {
      const { dir, glob } = yield* setup([
        "index.js",
        ".git/hooks/pre-commit.js",
        "node_modules/pkg/index.js",
        "packages/x/node_modules/y/index.js",
        "packages/x/lib.js"
      ])
      expect(relative(dir, text(yield* call(glob, { pattern: "**/*.js" })))).toEqual(["packages/x/lib.js", "index.js"])
    })
  )

  it.scoped("caps the result count and says so", () =>
    Effect.gen(function* () {
      const files = Array.from({ length: 30 }, (_, i) => `f${String(i).padStart(2, "0")}.txt`)
      const { dir, glob } = yield* setup(files, { maxResults: 10 })
      const out = relative(dir, text(yield* call(glob, { pattern: "*.txt" })))
      expect(out).toHaveLength(11)
      expect(out.slice(0, 3)).toEqual(["f29.txt", "f28.txt", "f27.txt"])
      expect(out[10]).toBe(
        "(Showing the 10 most recently modified of 30 matches; use a more specific pattern or path.)"
      )
    })
  )

  it.scoped("stops after too many directory entries and says so", () =>
    Effect.gen(function* () {
      const files = Array.from({ length: 20 }, (_, i) => `d/f${i}.txt`)
      const { glob } = yield* setup(files, { maxEntries: 5 })
      const out = text(yield* call(glob, { pattern: "**/*.txt" }))
      expect(out).toContain("(The search stopped after 5 entries; results may be incomplete.)")
      const none = text(yield* call(glob, { pattern: "**/*.none" }))
      expect(none).toBe("No files found before the search stopped after 5 entries; use a narrower path.")
    })
  )

  it.scoped("lists symlinks without following them, and stays in the workspace", () =>
    Effect.gen(function* () {
      const { dir, glob } = yield* setup(["a.txt"])
      const outside = yield* tempDir
      writeFiles(outside, { "x.txt": "x" })
      fs.symlinkSync(outside, path.join(dir, "out-link"))
      expect(relative(dir, text(yield* call(glob, { pattern: "**/*" })))).toEqual(
        expect.arrayContaining(["a.txt", "out-link"])
      )
      expect(text(yield* call(glob, { pattern: "**/x.txt" }))).toBe("No files found")
      const escaped = yield* call(glob, { pattern: "*.txt", path: "out-link" })
      expect(escaped.status).toBe("error")
      expect(text(escaped)).toContain("outside the workspace")
      expect(text(yield* call(glob, { pattern: "../**/*.txt" }))).toContain("outside the workspace")
    })
  )

  it.scoped("reports a missing or non-directory search path", () =>
    Effect.gen(function* () {
      const { glob } = yield* setup(["a.txt"])
      const missing = yield* call(glob, { pattern: "*", path: "nope" })
      expect(missing.status).toBe("error")
      expect(text(missing)).toBe("Directory does not exist: nope")
      expect(text(yield* call(glob, { pattern: "*", path: "a.txt" }))).toBe("a.txt is not a directory.")
      expect(text(yield* call(glob, { pattern: "" }))).toContain('["pattern"]')
    })
  )
})
