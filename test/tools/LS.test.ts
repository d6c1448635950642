import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { type LSOptions, makeLSTool } from "../../src/tools/LS.js"
import { onWorkspace } from "./fileSupport.js"
import { call, tempDir, text, writeFiles } from "./support.js"

const setup = (files: Record<string, string>, options?: LSOptions) =>
  Effect.gen(function* () {
    const root = yield* tempDir
    const dir = path.join(root, "ws")
    fs.mkdirSync(dir)
    writeFiles(dir, files)
    return { root, dir, ls: yield* makeLSTool(options).pipe(onWorkspace([dir])) }
  })

describe("LS", () => {
  it.effect("lists one level, sorted, directories with a trailing slash", () =>
    Effect.gen(function* () {
      const { dir, ls } = yield* setup({
        "b.txt": "b",
        "a.txt": "a",
        "src/index.ts": "x",
        ".hidden": "h",
        "node_modules/x/y.js": "y",
        "Zeta/z": "z",
        "debug.log": "l"
      })
      fs.symlinkSync("src", path.join(dir, "src-link"))
      fs.symlinkSync("a.txt", path.join(dir, "a-link"))
      fs.symlinkSync("missing", path.join(dir, "dangling"))
      expect(ls).toMatchObject({ name: "LS", readOnly: true, kind: "read", concurrency: { type: "parallel" } })
      const result = yield* call(ls, { path: "." })
      expect(result.status).toBe("success")
      expect(text(result)).toBe(
        [
          `${dir}/`,
          "  .hidden",
          "  Zeta/",
          "  a-link",
          "  a.txt",
          "  b.txt",
          "  dangling",
          "  debug.log",
          "  node_modules/",
          "  src/",
          "  src-link/"
        ].join("\n")
      )
      const filtered = yield* call(ls, { path: dir, ignore: ["node_modules/", "*.log", ".*", "*link*", ""] })
      expect(text(filtered)).toBe([`${dir}/`, "  Zeta/", "  a.txt", "  b.txt", "  dangling", "  src/"].join("\n"))
      expect(text(yield* call(ls, { path: "src" }))).toBe(`${dir}/src/\n  index.ts`)
    })
  )

  it.effect("bounds the entries and reports empty directories", () =>
    Effect.gen(function* () {
      const files = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${String(i).padStart(2, "0")}`, ""]))
      const { dir, ls } = yield* setup({ ...files, "only-log/x.log": "" }, { maxEntries: 5 })
      fs.mkdirSync(path.join(dir, "empty"))
      const out = text(yield* call(ls, { path: "." })).split("\n")
      expect(out).toEqual([`${dir}/`, "  empty/", "  f00", "  f01", "  f02", "  f03", "[... 9 more entries not shown]"])
      expect(text(yield* call(ls, { path: "empty" }))).toBe(`${dir}/empty/\n(empty)`)
      expect(text(yield* call(ls, { path: "only-log", ignore: ["*.log"] }))).toBe(
        `${dir}/only-log/\n(empty; 1 ignored entry)`
      )
    })
  )

  it.effect("refuses missing directories, files and paths outside the workspace", () =>
    Effect.gen(function* () {
      const { root, dir, ls } = yield* setup({ "a.txt": "a" })
      const missing = yield* call(ls, { path: "nope" })
      expect(missing.status).toBe("error")
      expect(text(missing)).toBe("Directory does not exist: nope")
      expect(text(yield* call(ls, { path: "a.txt" }))).toBe(
        "a.txt is a file, not a directory; use Read to see its content."
      )
      expect(text(yield* call(ls, { path: root }))).toContain("is outside the workspace")
      fs.symlinkSync(root, path.join(dir, "up"))
      expect(text(yield* call(ls, { path: "up" }))).toContain("is outside the workspace")
    })
  )
})
