import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import fc from "fast-check"
import { type GlobOptions, globToRegExp, makeGlobTool, matchGlob, splitGlobBase } from "../../src/tools/Glob.js"
import { nameMatcher } from "../../src/workspace/GlobPattern.js"
import { onWorkspace } from "./fileSupport.js"
import { call, context, tempDir, text, writeFiles } from "./support.js"

const setup = (files: ReadonlyArray<string>, options?: GlobOptions) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    writeFiles(dir, Object.fromEntries(files.map((f) => [f, f])))
    // Distinct mtimes, oldest first in `files` order.
    files.forEach((f, i) => {
      const t = new Date(Date.UTC(2020, 0, 1) + i * 60_000)
      fs.utimesSync(path.join(dir, f), t, t)
    })
    return { dir, glob: yield* makeGlobTool(options).pipe(onWorkspace([dir])) }
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
    expect(globToRegExp("*.ts").test("a.ts")).toBe(true)
    expect(globToRegExp("*.ts").test("src/a.ts")).toBe(false)
    expect(globToRegExp("*.ts").test("a.ts.bak")).toBe(false)
    expect(splitGlobBase("src/lib/**/*.ts")).toEqual({ base: "src/lib", rest: "**/*.ts" })
    expect(splitGlobBase("*.ts")).toEqual({ base: "", rest: "*.ts" })
    expect(splitGlobBase("/abs/dir/*.ts")).toEqual({ base: "/abs/dir", rest: "*.ts" })
    expect(splitGlobBase("/*.ts")).toEqual({ base: "/", rest: "*.ts" })
    expect(splitGlobBase("src/a.ts")).toEqual({ base: "src", rest: "a.ts" })
  })
})

describe("the last-segment test", () => {
  it("passes every name whose path matches, and decides for **/<segment>", () => {
    const piece = fc.constantFrom(
      "*",
      "**",
      "?",
      "a",
      "b",
      ".x",
      "*.ts",
      "{a,b}",
      "{a,b/c}",
      "[ab]",
      "[/]",
      "\\/",
      "x}",
      "{"
    )
    const pattern = fc.array(piece, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/"))
    const part = fc.constantFrom("a", "b", "c", ".x", "f.ts", "a.ts", "ab", "x}", "{", "*")
    const file = fc.array(part, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/"))
    fc.assert(
      fc.property(pattern, file, (p, f) => {
        const byName = nameMatcher(p)
        if (byName === undefined) return
        const name = f.slice(f.lastIndexOf("/") + 1)
        if (matchGlob(p, f)) expect(byName.test(name)).toBe(true)
        if (byName.exact) expect(byName.test(name)).toBe(matchGlob(p, f))
      }),
      { numRuns: 3000 }
    )
    expect(nameMatcher("**/*.ts")?.exact).toBe(true)
    expect(nameMatcher("src/**/*.ts")?.exact).toBe(false)
    expect(nameMatcher("*.ts")).toBeUndefined()
    expect(nameMatcher("src/**")).toBeUndefined()
    expect(nameMatcher("{a,b/c}.ts")).toBeUndefined()
  })
})

describe("Glob", () => {
  it.effect("returns absolute paths of matches, most recently modified first", () =>
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

  it.effect("searches under path, and takes absolute patterns inside the workspace", () =>
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

  it.effect("skips .git and node_modules", () =>
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

  it.effect("caps the result count and says so", () =>
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

  it.effect("stops after too many directory entries and says so", () =>
    Effect.gen(function* () {
      const files = Array.from({ length: 20 }, (_, i) => `d/f${i}.txt`)
      const { glob } = yield* setup(files, { maxEntries: 5 })
      const out = text(yield* call(glob, { pattern: "**/*.txt" }))
      expect(out).toContain("(The search stopped after 5 entries; results may be incomplete.)")
      const none = text(yield* call(glob, { pattern: "**/*.none" }))
      expect(none).toBe("No files found before the search stopped after 5 entries; use a narrower path.")
    })
  )

  it.effect("lists symlinks without following them, and stays in the workspace", () =>
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

  it.effect("reports a missing or non-directory search path", () =>
    Effect.gen(function* () {
      const { glob } = yield* setup(["a.txt"])
      const missing = yield* call(glob, { pattern: "*", path: "nope" })
      expect(missing.status).toBe("error")
      expect(text(missing)).toBe("Directory does not exist: nope")
      expect(text(yield* call(glob, { pattern: "*", path: "a.txt" }))).toBe("a.txt is not a directory.")
      expect(text(yield* call(glob, { pattern: "" }))).toContain("- pattern: ")
    })
  )
})

describe("Glob and ignore files", () => {
  const sorted = (dir: string, output: string) => relative(dir, output).sort()

  it.effect("does not return gitignored files, returns negated ones, and prunes ignored directories", () =>
    Effect.gen(function* () {
      const { dir, glob } = yield* setup([
        "a.log",
        "keep.log",
        "src/b.log",
        "src/keep.log",
        "src/main.ts",
        "build/out.ts",
        "build/keep.log",
        "notes.txt"
      ])
      writeFiles(dir, { ".gitignore": "# generated\n*.log\n!keep.log\nbuild/\n" })
      expect(sorted(dir, text(yield* call(glob, { pattern: "**/*.log" })))).toEqual(["keep.log", "src/keep.log"])
      // build/ is pruned as a whole: its keep.log stays hidden although the negation would match it.
      expect(sorted(dir, text(yield* call(glob, { pattern: "**/*.ts" })))).toEqual(["src/main.ts"])
      expect(sorted(dir, text(yield* call(glob, { pattern: "**/*" })))).toEqual([
        ".gitignore",
        "keep.log",
        "notes.txt",
        "src/keep.log",
        "src/main.ts"
      ])
      expect(text(yield* call(glob, { pattern: "*.log" }))).toBe(path.join(dir, "keep.log"))
    })
  )

  it.effect("searches an ignored directory that is named explicitly, as ripgrep does", () =>
    Effect.gen(function* () {
      const { dir, glob } = yield* setup(["build/out.ts", "build/deep/x.ts", "build/debug.log"])
      writeFiles(dir, { ".gitignore": "build/\n*.log\n" })
      expect(text(yield* call(glob, { pattern: "**/*.ts" }))).toBe("No files found")
      expect(sorted(dir, text(yield* call(glob, { pattern: "**/*.ts", path: "build" })))).toEqual([
        "build/deep/x.ts",
        "build/out.ts"
      ])
      expect(sorted(dir, text(yield* call(glob, { pattern: "build/**/*" })))).toEqual([
        "build/deep/x.ts",
        "build/out.ts"
      ])
    })
  )

  it.effect("applies nested .gitignore files relative to their own directory", () =>
    Effect.gen(function* () {
      const { dir, glob } = yield* setup([
        "local.txt",
        "a.tmp",
        "pkg/local.txt",
        "pkg/a.tmp",
        "pkg/deep/local.txt",
        "pkg/deep/b.tmp",
        "pkg/gen/x.txt",
        "other/gen/y.txt"
      ])
      writeFiles(dir, {
        ".gitignore": "*.tmp\n",
        // Anchored to pkg/: ignores pkg/local.txt and pkg/gen, not pkg/deep/local.txt or other/gen.
        "pkg/.gitignore": "/local.txt\n/gen/\n!a.tmp\n"
      })
      expect(sorted(dir, text(yield* call(glob, { pattern: "**/*.{txt,tmp}" })))).toEqual([
        "local.txt",
        "other/gen/y.txt",
        "pkg/a.tmp",
        "pkg/deep/local.txt"
      ])
    })
  )

  it.effect("honours .ignore and .rgignore over .gitignore, and stops .gitignore at a nested repository", () =>
    Effect.gen(function* () {
      const { dir, glob } = yield* setup([
        "a.gen",
        "b.gen",
        "c.gen",
        "secret.txt",
        "vendor/repo/x.gen",
        "vendor/repo/y.txt",
        "vendor/repo/.git/HEAD"
      ])
      writeFiles(dir, {
        ".gitignore": "*.gen\n",
        ".ignore": "!b.gen\nsecret.txt\n",
        ".rgignore": "!c.gen\n*.txt\n!y.txt\n"
      })
      expect(sorted(dir, text(yield* call(glob, { pattern: "**/*.{gen,txt}" })))).toEqual([
        "b.gen",
        "c.gen",
        // The root .gitignore does not apply inside vendor/repo (it has its own .git); .rgignore still does.
        "vendor/repo/x.gen",
        "vendor/repo/y.txt"
      ])
    })
  )

  it.effect("reads ignore files only where they exist, and tolerates one that cannot be read", () =>
    Effect.gen(function* () {
      const { dir, glob } = yield* setup(["a.txt", "b.md", ".ignore/inner.md"])
      // A directory named .gitignore cannot be read as a file: it adds no rules (and is walked as a directory).
      writeFiles(dir, { ".gitignore/x.txt": "x", "sub/.gitignore": "*.md\n", "sub/c.md": "c", "sub/d.txt": "d" })
      expect(sorted(dir, text(yield* call(glob, { pattern: "**/*.{txt,md}" })))).toEqual([
        ".gitignore/x.txt",
        ".ignore/inner.md",
        "a.txt",
        "b.md",
        "sub/d.txt"
      ])
    })
  )

  it.effect("excludes an ignored symlink and still lists a symlink that is not ignored", () =>
    Effect.gen(function* () {
      const { dir, glob } = yield* setup(["target.txt"])
      fs.symlinkSync(path.join(dir, "target.txt"), path.join(dir, "link.txt"))
      fs.symlinkSync(path.join(dir, "target.txt"), path.join(dir, "hidden-link.txt"))
      writeFiles(dir, { ".gitignore": "hidden-*\n" })
      expect(sorted(dir, text(yield* call(glob, { pattern: "*.txt" })))).toEqual(["link.txt", "target.txt"])
    })
  )

  it.effect("skips node_modules by default, and not when ignoreDirectories is empty", () =>
    Effect.gen(function* () {
      const { dir, glob } = yield* setup(["node_modules/pkg/index.js", "lib.js"])
      const everything = yield* makeGlobTool({ ignoreDirectories: [] }).pipe(onWorkspace([dir]))
      expect(sorted(dir, text(yield* call(glob, { pattern: "**/*.js" })))).toEqual(["lib.js"])
      expect(sorted(dir, text(yield* call(everything, { pattern: "**/*.js" })))).toEqual([
        "lib.js",
        "node_modules/pkg/index.js"
      ])
      // A .gitignore still applies to a directory that ignoreDirectories lets through.
      writeFiles(dir, { ".gitignore": "node_modules/\n" })
      expect(sorted(dir, text(yield* call(everything, { pattern: "**/*.js" })))).toEqual(["lib.js"])
    })
  )

  it.effect("does not read directories deeper than a pattern without ** can match", () =>
    Effect.gen(function* () {
      const files = ["a.txt", ...Array.from({ length: 20 }, (_, i) => `deep/sub/f${i}.txt`)]
      const { dir, glob } = yield* setup(files, { maxEntries: 5 })
      // Only the top directory (2 entries) is read for "*.txt", one more level for "*/*.txt".
      expect(text(yield* call(glob, { pattern: "*.txt" }))).toBe(path.join(dir, "a.txt"))
      expect(text(yield* call(glob, { pattern: "*/*.txt" }))).toBe("No files found")
      expect(text(yield* call(glob, { pattern: "*/*/*.txt" }))).toContain("The search stopped after 5 entries")
      expect(text(yield* call(glob, { pattern: "{deep,x}/*/*.txt" }))).toContain("The search stopped after 5 entries")
    })
  )

  it.effect("gives the same newest-first result with any concurrency", () =>
    Effect.gen(function* () {
      const files = Array.from({ length: 60 }, (_, i) => `d${i % 6}/e${i % 4}/f${i}.ts`)
      const { dir, glob } = yield* setup(files)
      writeFiles(dir, { ".gitignore": "d5/\n", "d1/.gitignore": "e2/\n" })
      const serial = yield* makeGlobTool({ concurrency: 1 }).pipe(onWorkspace([dir]))
      const expected = files
        .filter((f) => !f.startsWith("d5/") && !f.startsWith("d1/e2/"))
        .reverse()
        .map((f) => path.join(dir, f))
      expect(text(yield* call(glob, { pattern: "**/*.ts" })).split("\n")).toEqual(expected)
      expect(text(yield* call(serial, { pattern: "**/*.ts" })).split("\n")).toEqual(expected)
    })
  )

  it.live.skipIf(process.platform === "win32")("is interrupted while a read hangs, and the walk then stops", () =>
    Effect.gen(function* () {
      const { dir, glob } = yield* setup(["a.txt", "sub/b.txt", "sub/deeper/c.txt"])
      // Opening a FIFO for reading blocks until a writer opens it: the walk hangs on sub/.gitignore.
      const fifo = path.join(dir, "sub", ".gitignore")
      execFileSync("mkfifo", [fifo])
      const release = Effect.sync(() => {
        // Succeeds only once the walk has the FIFO open for reading; closing it gives the reader an empty file.
        const fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)
        fs.closeSync(fd)
      }).pipe(Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo({ duration: "10 seconds" }))), Effect.orDie)
      const fiber = yield* Effect.forkChild(glob.execute({ pattern: "**/*.txt" }, context(dir)))
      yield* Effect.sleep("100 millis")
      yield* Fiber.interrupt(fiber)
      expect(Exit.hasInterrupts(yield* Fiber.await(fiber))).toBe(true)
      yield* release // unblocks the abandoned walk, which sees the abort and stops
      // The FIFO is gone; the same tool works again.
      fs.rmSync(fifo)
      expect(sorted(dir, text(yield* call(glob, { pattern: "**/*.txt" })))).toEqual([
        "a.txt",
        "sub/b.txt",
        "sub/deeper/c.txt"
      ])
    })
  )
})
