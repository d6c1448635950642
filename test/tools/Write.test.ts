import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { NodeServices } from "@effect/platform-node"
import * as FileSystem from "effect/FileSystem"
import { makeReadTool } from "../../src/tools/Read.js"
import { atomicWrite, makeWriteTool, writeFileAtomic } from "../../src/tools/Write.js"
import { onWorkspace } from "./fileSupport.js"
import { call, tempDir, text, writeFiles } from "./support.js"

const setup = (files: Record<string, string> = {}, options: { allowProtected?: (path: string) => boolean } = {}) =>
  Effect.gen(function* () {
    const root = yield* tempDir
    const dir = path.join(root, "ws")
    fs.mkdirSync(dir)
    writeFiles(dir, files)
    fs.writeFileSync(path.join(root, "outside.txt"), "outside")
    const tools = yield* Effect.all({ read: makeReadTool(), write: makeWriteTool() }).pipe(
      onWorkspace([dir], options.allowProtected)
    )
    return { root, dir, ...tools }
  })

/** Temporary files a write could have left behind. */
const leftovers = (dir: string): Array<string> =>
  fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) => name.includes(".sage-"))

describe("Write", () => {
  it.effect("creates a new file (and its directories) without a read, then may overwrite it", () =>
    Effect.gen(function* () {
      const { dir, write } = yield* setup()
      expect(write).toMatchObject({ name: "Write", kind: "edit", readOnly: false, concurrency: { type: "sequential" } })
      const created = yield* call(write, { file_path: "src/deep/new.ts", content: "export {}\nconst a = 1\n" })
      expect(created.status).toBe("success")
      expect(text(created)).toBe(`Created ${path.join(dir, "src/deep/new.ts")} (2 lines, 22 bytes).`)
      expect(fs.readFileSync(path.join(dir, "src/deep/new.ts"), "utf8")).toBe("export {}\nconst a = 1\n")
      // What the tool wrote is known: writing again needs no read.
      const again = yield* call(write, { file_path: path.join(dir, "src/deep/new.ts"), content: "x" })
      expect(text(again)).toBe(`Updated ${path.join(dir, "src/deep/new.ts")} (1 line, 1 byte).`)
      const empty = yield* call(write, { file_path: "empty.txt", content: "" })
      expect(text(empty)).toBe(`Created ${path.join(dir, "empty.txt")} (0 lines, 0 bytes).`)
      expect(fs.readFileSync(path.join(dir, "empty.txt"), "utf8")).toBe("")
      expect(leftovers(dir)).toEqual([])
    })
  )

  it.effect("refuses to overwrite a file that was not read, and one changed since it was read", () =>
    Effect.gen(function* () {
      const { dir, read, write } = yield* setup({ "a.txt": "original\n" })
      const file = path.join(dir, "a.txt")
      const unread = yield* call(write, { file_path: "a.txt", content: "new" })
      expect(unread.status).toBe("error")
      expect(text(unread)).toContain("Read it first")
      expect(fs.readFileSync(file, "utf8")).toBe("original\n")

      yield* call(read, { file_path: "a.txt" })
      fs.writeFileSync(file, "changed by the user\n")
      const stale = yield* call(write, { file_path: "a.txt", content: "new" })
      expect(stale.status).toBe("error")
      expect(text(stale)).toContain("modified since read; read it again")
      expect(fs.readFileSync(file, "utf8")).toBe("changed by the user\n")

      yield* call(read, { file_path: "a.txt" })
      const ok = yield* call(write, { file_path: "a.txt", content: "new" })
      expect(ok.status).toBe("success")
      expect(fs.readFileSync(file, "utf8")).toBe("new")
      expect(leftovers(dir)).toEqual([])
    })
  )

  it.effect("keeps the file mode and writes through symlinks to the real file", () =>
    Effect.gen(function* () {
      const { dir, read, write } = yield* setup({ "run.sh": "#!/bin/sh\n", "real.txt": "real" })
      const script = path.join(dir, "run.sh")
      fs.chmodSync(script, 0o750)
      yield* call(read, { file_path: "run.sh" })
      expect((yield* call(write, { file_path: "run.sh", content: "#!/bin/sh\necho hi\n" })).status).toBe("success")
      expect(fs.statSync(script).mode & 0o7777).toBe(0o750)

      fs.symlinkSync("real.txt", path.join(dir, "link.txt"))
      yield* call(read, { file_path: "link.txt" })
      expect((yield* call(write, { file_path: "link.txt", content: "via link" })).status).toBe("success")
      expect(fs.lstatSync(path.join(dir, "link.txt")).isSymbolicLink()).toBe(true)
      expect(fs.readFileSync(path.join(dir, "real.txt"), "utf8")).toBe("via link")
    })
  )

  it.effect("refuses protected directories unless explicitly allowed", () =>
    Effect.gen(function* () {
      const { dir, write } = yield* setup({ ".git/config": "[core]\n" })
      for (const target of [".git/config", ".git/hooks/pre-commit", ".sage/settings.json", "sub/.sage/x"]) {
        const result = yield* call(write, { file_path: target, content: "x" })
        expect(result.status).toBe("error")
        expect(text(result)).toBe(
          `${target} is protected: it is in or names a protected directory (.git, .sage, .husky, .vscode, .idea, .devcontainer), git configuration (.gitconfig, .config/git) or a start-up file (.bashrc, .profile, .envrc, ...); changing it requires an explicit allow rule for this path. Do not try to work around this.`
        )
      }
      expect(fs.readFileSync(path.join(dir, ".git/config"), "utf8")).toBe("[core]\n")
      expect(fs.existsSync(path.join(dir, ".sage"))).toBe(false)

      const allowed: Array<string> = []
      const { dir: dir2, write: permissive } = yield* setup(
        {},
        {
          allowProtected: (p) => {
            allowed.push(p)
            return p.endsWith("settings.json")
          }
        }
      )
      expect((yield* call(permissive, { file_path: ".sage/settings.json", content: "{}" })).status).toBe("success")
      expect(fs.readFileSync(path.join(dir2, ".sage/settings.json"), "utf8")).toBe("{}")
      expect((yield* call(permissive, { file_path: ".sage/other", content: "{}" })).status).toBe("error")
      // Asked for each path (again when the confined write verifies the directory before and after the rename).
      expect(new Set(allowed)).toEqual(
        new Set([path.join(dir2, ".sage/settings.json"), path.join(dir2, ".sage/other")])
      )
    })
  )

  it.effect("refuses paths outside the workspace, directories and special files", () =>
    Effect.gen(function* () {
      const { root, dir, write } = yield* setup({ "sub/x.txt": "x" })
      const outside = yield* call(write, { file_path: "../outside.txt", content: "pwned" })
      expect(outside.status).toBe("error")
      expect(text(outside)).toContain("is outside the workspace")
      fs.symlinkSync(path.join(root, "outside.txt"), path.join(dir, "escape"))
      expect(text(yield* call(write, { file_path: "escape", content: "pwned" }))).toContain("outside the workspace")
      expect(fs.readFileSync(path.join(root, "outside.txt"), "utf8")).toBe("outside")

      expect(text(yield* call(write, { file_path: "sub", content: "x" }))).toBe(
        "sub is a directory; give the path of a file."
      )
      execFileSync("mkfifo", [path.join(dir, "fifo")])
      expect(text(yield* call(write, { file_path: "fifo", content: "x" }))).toContain("is not a regular file")
      const underFile = yield* call(write, { file_path: "sub/x.txt/y.txt", content: "x" })
      expect(underFile.status).toBe("error")
      expect(text(underFile)).toMatch(/^Cannot write sub\/x.txt\/y.txt: .*EEXIST|ENOTDIR/)
      expect(leftovers(dir)).toEqual([])
    }).pipe(Effect.provide(NodeServices.layer))
  )
})

describe("writeFileAtomic", () => {
  it.effect("replaces the content and leaves no temporary file, also when the rename fails", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const target = path.join(dir, "a.txt")
      const files = yield* FileSystem.FileSystem
      const encode = (s: string) => new TextEncoder().encode(s)
      yield* writeFileAtomic(files, target, encode("first"))
      yield* writeFileAtomic(files, target, encode("second"))
      expect(fs.readFileSync(target, "utf8")).toBe("second")
      expect(fs.statSync(target).mode & 0o777).toBe(0o666 & ~process.umask())

      // A non-empty directory cannot be replaced by a file: the rename fails after the temp file was written.
      writeFiles(dir, { "busy/inner.txt": "inner" })
      const error = yield* Effect.flip(atomicWrite(files, path.join(dir, "busy"), encode("x"), "Write", "busy"))
      expect(error.message).toMatch(/^Cannot write busy: /)
      expect(fs.readFileSync(path.join(dir, "busy/inner.txt"), "utf8")).toBe("inner")
      expect(leftovers(dir)).toEqual([])
    }).pipe(Effect.provide(NodeServices.layer))
  )
})
