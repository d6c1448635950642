import * as fs from "node:fs"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import fc from "fast-check"
import {
  type IgnoreLevel,
  IgnoreStack,
  matchIgnoreRules,
  parseIgnoreFile,
  parseIgnoreLine,
  readIgnoreLevel,
  walkFiles
} from "../../src/workspace/Gitignore.js"
import { tempDir, writeFiles } from "./support.js"

const ignored = (content: string, file: string, isDirectory = false) =>
  matchIgnoreRules(parseIgnoreFile(content), file, isDirectory)

const collect = <E, R>(stream: Stream.Stream<string, E, R>) => Stream.runCollect(stream)

describe("ignore file rules", () => {
  it.each([
    ["*.log", "a.log", false, "ignore"],
    ["*.log", "deep/dir/a.log", false, "ignore"],
    ["*.log", "a.logx", false, undefined],
    ["/build", "build", true, "ignore"],
    ["/build", "src/build", true, undefined],
    ["build/", "src/build", true, "ignore"],
    ["build/", "src/build", false, undefined],
    ["doc/*.txt", "doc/a.txt", false, "ignore"],
    ["doc/*.txt", "doc/sub/a.txt", false, undefined],
    ["doc/*.txt", "x/doc/a.txt", false, undefined],
    ["**/logs", "a/b/logs", true, "ignore"],
    ["**/logs/*.txt", "logs/x.txt", false, "ignore"],
    ["abc/**", "abc/x/y", false, "ignore"],
    ["abc/**", "abc", true, undefined],
    ["a/**/b", "a/b", false, "ignore"],
    ["a/**/b", "a/x/y/b", false, "ignore"],
    ["file?.txt", "file1.txt", false, "ignore"],
    ["[a-c].md", "b.md", false, "ignore"],
    ["[!a-c].md", "b.md", false, undefined],
    ["{a,b}.md", "{a,b}.md", false, "ignore"],
    ["{a,b}.md", "a.md", false, undefined],
    ["\\#notes", "#notes", false, "ignore"],
    ["\\!important", "!important", false, "ignore"],
    ["trailing\\ ", "trailing ", false, "ignore"],
    ["*.log\n!keep.log", "keep.log", false, "include"],
    ["*.log\n!keep.log", "other.log", false, "ignore"],
    ["!keep.log\n*.log", "keep.log", false, "ignore"],
    ["# comment\n\n   \n", "# comment", false, undefined]
  ])("%j on %s (dir: %s) => %s", (content, file, isDirectory, expected) => {
    expect(ignored(content, file, isDirectory)).toBe(expected)
  })

  it("parses the parts of a line", () => {
    expect(parseIgnoreLine("# comment")).toBeUndefined()
    expect(parseIgnoreLine("   ")).toBeUndefined()
    expect(parseIgnoreLine("!")).toBeUndefined()
    expect(parseIgnoreLine("/")).toBeUndefined()
    expect(parseIgnoreLine("!out/  \r")).toMatchObject({ source: "!out/", negated: true, directoryOnly: true })
    expect(parseIgnoreFile("a\r\nb\n#c\n")).toHaveLength(2)
  })
})

layer(NodeServices.layer)("IgnoreStack and walkFiles", (it) => {
  it.effect("walks files sorted by name, honouring nested, negated and parent ignore files", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      writeFiles(dir, {
        ".gitignore": "*.log\n!keep.log\nout/\n",
        "a.txt": "",
        "b/.gitignore": "!b.log\nlocal.txt\n",
        "b/b.log": "",
        "b/local.txt": "",
        "b/z.txt": "",
        "b.txt": "",
        "keep.log": "",
        "x.log": "",
        "out/o.txt": "",
        ".hidden/h.txt": "",
        ".git/HEAD": "",
        "c/.ignore": "*.txt\n",
        "c/.gitignore": "!c.txt\n",
        "c/c.txt": "",
        "c/d.md": "",
        "e/.rgignore": "!e.log\n",
        "e/e.log": ""
      })
      fs.symlinkSync(path.join(dir, "a.txt"), path.join(dir, "link.txt"))
      fs.symlinkSync(path.join(dir, "b"), path.join(dir, "link-dir"))
      const files = yield* collect(walkFiles(dir))
      expect(files.map((f) => path.relative(dir, f))).toEqual([
        ".gitignore",
        ".hidden/h.txt",
        "a.txt",
        "b/.gitignore",
        "b/b.log",
        "b/z.txt",
        "b.txt",
        "c/.gitignore",
        "c/.ignore",
        "c/d.md",
        "e/.rgignore",
        "e/e.log",
        "keep.log"
      ])

      // Starting below the root still applies the root's ignore file.
      const sub = yield* collect(walkFiles(path.join(dir, "b")))
      expect(sub.map((f) => path.relative(dir, f))).toEqual(["b/.gitignore", "b/b.log", "b/z.txt"])

      // A .gitignore above a directory holding .git does not apply below it; .ignore files still do.
      writeFiles(dir, { "repo/.git/HEAD": "", "repo/r.log": "", "repo/.ignore": "", "repo/skip.txt": "" })
      fs.writeFileSync(path.join(dir, ".ignore"), "skip.txt\n")
      const stack = yield* IgnoreStack.forDirectory(path.join(dir, "repo"))
      expect(stack.isIgnored(path.join(dir, "repo/r.log"), false)).toBe(false)
      expect(stack.isIgnored(path.join(dir, "repo/skip.txt"), false)).toBe(true)
      const level = yield* readIgnoreLevel(path.join(dir, "repo"))
      expect(level.hasGit).toBe(true)
      expect(IgnoreStack.of([]).isIgnored(path.join(dir, "x.log"), false)).toBe(false)

      // Unreadable or missing roots yield nothing; a consumer that stops early stops the walk.
      expect(yield* collect(walkFiles(path.join(dir, "missing")))).toEqual([])
      const first = yield* collect(walkFiles(dir).pipe(Stream.take(2)))
      expect(first.map((f) => path.relative(dir, f))).toEqual([".gitignore", ".hidden/h.txt"])
      // The same files in the same order with any concurrency.
      const serial = yield* collect(walkFiles(dir, { concurrency: 1 }))
      expect(serial).toEqual(yield* collect(walkFiles(dir, { concurrency: 64 })))
    })
  )
})

describe("IgnoreStack.entries", () => {
  const rulePool = [
    "*.log",
    "!keep.log",
    "build/",
    "/root.txt",
    "a/b",
    "b",
    "!b",
    "**/x",
    "x/**",
    "*.md",
    "!*.md",
    "a",
    "a/",
    "[ab]*",
    "#comment",
    "\\!bang",
    "c?",
    "sub/*.ts",
    "!sub/keep.ts",
    "sub/",
    "!build/",
    "**/sub/k.ts",
    "k*",
    "!k.ts"
  ]
  const names = [
    "a",
    "b",
    "build",
    "keep.log",
    "x.log",
    "root.txt",
    "x",
    "c1",
    "sub",
    "k.ts",
    "keep.ts",
    "!bang",
    "R.md"
  ]
  const levelDirectories = ["/r", "/r/a", "/r/a/sub"]
  const directories = ["/r", "/r/a", "/r/a/sub", "/r/a/sub/build", "/r/a/sub/x/b", "/r/a/sub/a/b"]
  const rules = fc
    .array(fc.constantFrom(...rulePool), { maxLength: 5 })
    .map((lines) => parseIgnoreFile(lines.join("\n")))
  const level = (directory: string) =>
    fc
      .record({ rules: fc.tuple(rules, rules, rules), hasGit: fc.boolean() })
      .map((l): IgnoreLevel => ({ directory, rules: l.rules, hasGit: l.hasGit }))

  it("decides every entry as isIgnored decides its path", () => {
    fc.assert(
      fc.property(
        fc.tuple(...levelDirectories.map(level)),
        fc.integer({ min: 1, max: levelDirectories.length }),
        fc.constantFrom(...directories),
        (levels, depth, candidate) => {
          const stack = IgnoreStack.of(levels.slice(0, depth))
          // A directory at or below the deepest level.
          const deepest = levelDirectories[depth - 1] ?? "/r"
          const directory = candidate.startsWith(deepest) ? candidate : path.join(deepest, path.basename(candidate))
          const isIgnored = stack.entries(directory)
          for (const name of names) {
            for (const isDirectory of [false, true]) {
              expect(isIgnored(name, isDirectory)).toBe(stack.isIgnored(path.join(directory, name), isDirectory))
            }
          }
        }
      ),
      { numRuns: 400 }
    )
  })

  it("marks files of only basename rules", () => {
    expect(parseIgnoreFile("*.log\n!keep.log\nbuild/\n").basenameOnly).toBe(true)
    expect(parseIgnoreFile("*.log\n/dist\n").basenameOnly).toBe(false)
    expect(parseIgnoreFile("!a/b\n").basenameOnly).toBe(false)
    expect(parseIgnoreFile("").basenameOnly).toBe(true)
  })
})
