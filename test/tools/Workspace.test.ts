import * as fs from "node:fs"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import {
  isProtected,
  isWithin,
  MAX_PATH_LENGTH,
  makeWorkspace,
  resolveInside,
  type Workspace,
  WorkspacePathError,
  workspaceCwd
} from "../../src/workspace/Workspace.js"
import { tempDir, writeFiles } from "./support.js"

/** A workspace `ws/` beside an `outside/` directory, both in one temp dir. */
const setup = Effect.gen(function* () {
  const dir = yield* tempDir
  const ws = path.join(dir, "ws")
  const outside = path.join(dir, "outside")
  writeFiles(ws, { "src/a.ts": "a", "README.md": "r" })
  writeFiles(outside, { "secret.txt": "s" })
  const workspace = yield* makeWorkspace([ws])
  return { dir, ws, outside, workspace }
})

const refused = (workspace: Workspace.Service, userPath: string) =>
  Effect.map(Effect.flip(resolveInside(workspace, userPath, "Read")), (error) => {
    expect(error._tag).toBe("ToolExecutionError")
    expect(error.tool).toBe("Read")
    return error.message
  })

layer(NodeServices.layer)("Workspace", (it) => {
  it.effect("resolves relative and absolute paths inside the workspace to real paths", () =>
    Effect.gen(function* () {
      const { ws, workspace } = yield* setup
      expect(workspaceCwd(workspace)).toBe(ws)
      expect(yield* resolveInside(workspace, "src/a.ts")).toBe(path.join(ws, "src/a.ts"))
      expect(yield* resolveInside(workspace, path.join(ws, "README.md"))).toBe(path.join(ws, "README.md"))
      expect(yield* resolveInside(workspace, "src/../README.md")).toBe(path.join(ws, "README.md"))
      expect(yield* resolveInside(workspace, ".")).toBe(ws)
    })
  )

  it.effect("accepts a file that does not exist yet, below missing directories", () =>
    Effect.gen(function* () {
      const { ws, workspace } = yield* setup
      expect(yield* resolveInside(workspace, "new/deep/file.ts")).toBe(path.join(ws, "new/deep/file.ts"))
      // Below a file: resolved (the tool using it reports ENOTDIR).
      expect(yield* resolveInside(workspace, "README.md/x")).toBe(path.join(ws, "README.md/x"))
    })
  )

  it.effect("refuses `..` escapes and absolute paths outside", () =>
    Effect.gen(function* () {
      const { outside, workspace } = yield* setup
      expect(yield* refused(workspace, "../outside/secret.txt")).toContain("is outside the workspace")
      expect(yield* refused(workspace, path.join(outside, "secret.txt"))).toContain("is outside the workspace")
      expect(yield* refused(workspace, "/etc/passwd")).toContain("is outside the workspace")
      expect(yield* refused(workspace, "src/../../outside/new.txt")).toContain("outside")
    })
  )

  it.effect("refuses symlink escapes: file links, directory links, and dangling links", () =>
    Effect.gen(function* () {
      const { ws, outside, workspace } = yield* setup
      fs.symlinkSync(path.join(outside, "secret.txt"), path.join(ws, "file-link"))
      fs.symlinkSync(outside, path.join(ws, "dir-link"))
      fs.symlinkSync(path.join(outside, "not-yet.txt"), path.join(ws, "dangling"))
      fs.symlinkSync(path.join(outside, "missing-dir"), path.join(ws, "dangling-dir"))
      const message = yield* refused(workspace, "file-link")
      expect(message).toContain(`(it resolves to ${path.join(outside, "secret.txt")})`)
      expect(yield* refused(workspace, "dir-link/secret.txt")).toContain("outside the workspace")
      expect(yield* refused(workspace, "dir-link/new-file.txt")).toContain("outside the workspace")
      expect(yield* refused(workspace, "dangling")).toContain("outside the workspace")
      expect(yield* refused(workspace, "dangling-dir/x/y.txt")).toContain("outside the workspace")
    })
  )

  it.effect("follows symlinks that stay inside, and refuses symlink loops", () =>
    Effect.gen(function* () {
      const { ws, workspace } = yield* setup
      fs.symlinkSync(path.join(ws, "src"), path.join(ws, "src-link"))
      fs.symlinkSync("src/new.ts", path.join(ws, "dangling-inside"))
      fs.symlinkSync("loop-b", path.join(ws, "loop-a"))
      fs.symlinkSync("loop-a", path.join(ws, "loop-b"))
      expect(yield* resolveInside(workspace, "src-link/a.ts")).toBe(path.join(ws, "src/a.ts"))
      expect(yield* resolveInside(workspace, "dangling-inside")).toBe(path.join(ws, "src/new.ts"))
      expect(yield* refused(workspace, "loop-a")).toContain("too many levels of symbolic links")
    })
  )

  it.effect("refuses NUL bytes, empty and very long paths", () =>
    Effect.gen(function* () {
      const { workspace } = yield* setup
      expect(yield* refused(workspace, "a\0b")).toContain("NUL byte")
      expect(yield* refused(workspace, "  ")).toContain("empty")
      const long = "a/".repeat(MAX_PATH_LENGTH / 2 + 1)
      expect(yield* refused(workspace, long)).toContain(`(the limit is ${MAX_PATH_LENGTH})`)
    })
  )

  it.effect("allows every root, resolves relative paths against the first, and works with unresolved roots", () =>
    Effect.gen(function* () {
      const { dir, ws, outside } = yield* setup
      const workspace = yield* makeWorkspace([ws, outside])
      expect(yield* resolveInside(workspace, "../outside/secret.txt")).toBe(path.join(outside, "secret.txt"))
      // A root given through a symlink is resolved to its real path.
      fs.symlinkSync(ws, path.join(dir, "ws-link"))
      const linked = yield* makeWorkspace([path.join(dir, "ws-link")])
      expect(linked.roots).toEqual([ws])
      expect(yield* resolveInside(linked, "src/a.ts")).toBe(path.join(ws, "src/a.ts"))
      expect(yield* refused(linked, "../outside/secret.txt")).toContain("outside")
      // The service fails with a typed error saying why.
      const typed = yield* Effect.flip(linked.resolve("../outside/secret.txt"))
      expect(typed).toBeInstanceOf(WorkspacePathError)
      expect(typed.reason).toBe("outside")
      expect((yield* Effect.flip(linked.resolve("a\0b"))).reason).toBe("invalid")
    })
  )

  it.effect("makeWorkspace refuses missing roots, files and an empty list", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup
      const missing = yield* Effect.flip(makeWorkspace([path.join(ws, "nope")]))
      expect(missing._tag).toBe("ConfigError")
      expect(missing.message).toContain("is not an accessible directory")
      const file = yield* Effect.flip(makeWorkspace([path.join(ws, "README.md")]))
      expect(file.message).toContain("not a directory")
      expect((yield* Effect.flip(makeWorkspace([]))).message).toContain("at least one root")
    })
  )

  it.effect("resolveWritable refuses protected directories unless the workspace allows the path", () =>
    Effect.gen(function* () {
      const { ws, workspace } = yield* setup
      const refusal = yield* Effect.flip(workspace.resolveWritable(".git/config"))
      expect(refusal.reason).toBe("protected")
      expect(refusal.message).toContain("protected directory (.git, .sage)")
      expect(yield* workspace.resolve(".git/config")).toBe(path.join(ws, ".git/config"))
      const allowing = yield* makeWorkspace([ws], (p) => p.endsWith("settings.json"))
      expect(yield* allowing.resolveWritable(".sage/settings.json")).toBe(path.join(ws, ".sage/settings.json"))
      expect((yield* Effect.flip(allowing.resolveWritable(".sage/other"))).reason).toBe("protected")
      expect(workspace.isProtected(path.join(ws, ".sage/x"))).toBe(true)
    })
  )

  it.effect("isWithin compares whole segments", () =>
    Effect.sync(() => {
      expect(isWithin("/a/b", "/a/b")).toBe(true)
      expect(isWithin("/a/b", "/a/b/c")).toBe(true)
      expect(isWithin("/a/b", "/a/bc")).toBe(false)
      expect(isWithin("/a/b", "/a")).toBe(false)
      expect(isWithin("/a/b", "/a/b/..foo")).toBe(true)
    })
  )

  it.effect("isProtected spots .git and .sage below the root only", () =>
    Effect.sync(() => {
      const workspace = { roots: ["/home/u/.sage/project"] }
      expect(isProtected("/home/u/.sage/project/src/a.ts", workspace)).toBe(false)
      expect(isProtected("/home/u/.sage/project/.git/config", workspace)).toBe(true)
      expect(isProtected("/home/u/.sage/project/.sage/settings.json", workspace)).toBe(true)
      expect(isProtected("/home/u/.sage/project/sub/.git", workspace)).toBe(true)
      expect(isProtected("/home/u/.sage/project/.github/x.yml", workspace)).toBe(false)
      expect(isProtected("/repo/.git/HEAD")).toBe(true)
      expect(isProtected("/repo/src/git.ts")).toBe(false)
      expect(isProtected("/elsewhere/.git/HEAD", workspace)).toBe(true)
    })
  )
})
