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
import { ConfinedError, writeConfined } from "../../src/workspace/ConfinedFs.js"
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
      expect(refusal.message).toContain("protected directory (.git, .sage, .husky, .vscode, .idea, .devcontainer)")
      expect(yield* workspace.resolve(".git/config")).toBe(path.join(ws, ".git/config"))
      const allowing = yield* makeWorkspace([ws], (p) => p.endsWith("settings.json"))
      expect(yield* allowing.resolveWritable(".sage/settings.json")).toBe(path.join(ws, ".sage/settings.json"))
      expect((yield* Effect.flip(allowing.resolveWritable(".sage/other"))).reason).toBe("protected")
      expect(workspace.isProtected(path.join(ws, ".sage/x"))).toBe(true)
      // What runs code later on the user's machine: project git hooks and editor settings that start tasks.
      for (const place of [
        ".husky/pre-commit",
        ".vscode/tasks.json",
        "sub/.idea/workspace.xml",
        ".devcontainer",
        "mise.toml",
        "pkg/.pre-commit-config.yaml",
        "lefthook.yml"
      ]) {
        expect((yield* Effect.flip(workspace.resolveWritable(place))).reason).toBe("protected")
      }
      expect(workspace.isProtected(path.join(ws, "src/vscode/tasks.json"))).toBe(false)
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

  it.effect(
    "isProtected covers .git anywhere (also a file named .git), git configuration and shell start-up files",
    () =>
      Effect.sync(() => {
        const workspace = { roots: ["/repo"] }
        for (const p of [
          "/repo/.git",
          "/repo/src/.git",
          "/repo/a/b/.git/config",
          "/repo/.sage/settings.local.json",
          "/repo/.gitconfig",
          "/repo/src/home/.gitconfig",
          "/repo/.config/git/config",
          "/repo/x/.config/git/attributes",
          "/repo/.bashrc",
          "/repo/src/.profile",
          "/repo/h/.zshenv",
          "/repo/.bash_profile",
          "/repo/.GIT/config",
          "/repo/src/.Sage/x",
          "/repo/.BashRC",
          "/repo/.envrc",
          "/repo/services/api/.envrc"
        ])
          expect(isProtected(p, workspace), p).toBe(true)
        for (const p of [
          "/repo/.gitignore",
          "/repo/.github/workflows/ci.yml",
          "/repo/src/git/config",
          "/repo/.config/nvim/init.lua",
          "/repo/src/bashrc.ts",
          "/repo/.bashrc.d/x",
          "/repo/docs/.profile.md"
        ])
          expect(isProtected(p, workspace), p).toBe(false)
      })
  )

  it.effect("open reads through a descriptor: a symlink swapped in on the way is not followed", () =>
    Effect.gen(function* () {
      const { ws, outside, workspace } = yield* setup
      const real = yield* workspace.resolve("src/a.ts")
      const content = yield* Effect.scoped(Effect.flatMap(workspace.open(real), (file) => file.readAll))
      expect(new TextDecoder().decode(content)).toBe("a")
      // `src` becomes a symlink to outside after the path was resolved: the open fails instead of following it.
      fs.renameSync(path.join(ws, "src"), path.join(ws, "src.real"))
      fs.symlinkSync(outside, path.join(ws, "src"))
      fs.writeFileSync(path.join(outside, "a.ts"), "OUTSIDE")
      const moved = yield* Effect.flip(Effect.scoped(workspace.open(real)))
      expect(moved.reason).toBe("moved")
      expect(moved.message).toContain("nothing outside the workspace was touched")
      // The final component as a symlink is not followed either.
      fs.rmSync(path.join(ws, "src"))
      fs.renameSync(path.join(ws, "src.real"), path.join(ws, "src"))
      fs.rmSync(path.join(ws, "src", "a.ts"))
      fs.symlinkSync(path.join(outside, "a.ts"), path.join(ws, "src", "a.ts"))
      expect((yield* Effect.flip(Effect.scoped(workspace.open(real)))).reason).toBe("moved")
      const missing = yield* Effect.flip(Effect.scoped(workspace.open(path.join(ws, "nope.txt"))))
      expect(missing).toMatchObject({ reason: "io", code: "ENOENT" })
    })
  )

  it.effect("writeFile writes in the verified directory, never through a symlink swapped in on the way", () =>
    Effect.gen(function* () {
      const { ws, outside, workspace } = yield* setup
      const target = yield* workspace.resolveWritable("src/deep/new.txt")
      expect(yield* workspace.writeFile(target, new TextEncoder().encode("one"))).toEqual({
        realPath: target,
        created: true
      })
      expect(fs.readFileSync(target, "utf8")).toBe("one")
      fs.chmodSync(target, 0o640)
      expect((yield* workspace.writeFile(target, new TextEncoder().encode("two"))).created).toBe(false)
      expect(fs.statSync(target).mode & 0o777).toBe(0o640)
      // `src/deep` turns into a symlink to outside after the check.
      fs.renameSync(path.join(ws, "src", "deep"), path.join(ws, "deep.real"))
      fs.symlinkSync(outside, path.join(ws, "src", "deep"))
      const moved = yield* Effect.flip(workspace.writeFile(target, new TextEncoder().encode("pwned")))
      expect(moved.reason).toBe("moved")
      expect(fs.readdirSync(outside)).toEqual(["secret.txt"])
      // A symlink at the target itself is not replaced by a write that resolved it to a file.
      fs.rmSync(path.join(ws, "src", "deep"))
      fs.symlinkSync(path.join(outside, "secret.txt"), path.join(ws, "src", "file.txt"))
      const linked = yield* Effect.flip(workspace.writeFile(path.join(ws, "src", "file.txt"), new Uint8Array()))
      expect(linked.reason).toBe("moved")
      expect(fs.readFileSync(path.join(outside, "secret.txt"), "utf8")).toBe("s")
      // No temporary file is left behind.
      expect(fs.readdirSync(ws, { recursive: true, encoding: "utf8" }).filter((f) => f.includes(".sage-"))).toEqual([])
    })
  )

  it.effect("writeFile walks the checked path again: a directory moved into .git after the check is not written", () =>
    Effect.gen(function* () {
      const { ws, workspace } = yield* setup
      fs.mkdirSync(path.join(ws, ".git"))
      const target = yield* workspace.resolveWritable("src/hook")
      // Between the check and the write, `src` is moved to `.git/hooks` and a new, empty `src` takes its place.
      fs.renameSync(path.join(ws, "src"), path.join(ws, ".git", "hooks"))
      fs.mkdirSync(path.join(ws, "src"))
      yield* workspace.writeFile(target, new TextEncoder().encode("x"))
      expect(fs.existsSync(path.join(ws, ".git", "hooks", "hook"))).toBe(false)
      expect(fs.readFileSync(path.join(ws, "src", "hook"), "utf8")).toBe("x")
    })
  )

  it.effect("writeConfined takes a write back out of a directory that moved outside during the rename", () =>
    Effect.gen(function* () {
      const { ws, outside } = yield* setup
      fs.mkdirSync(path.join(ws, "d"))
      let checks = 0
      const error = yield* Effect.flip(
        Effect.try({
          try: () =>
            writeConfined([ws], path.join(ws, "d", "f.txt"), new TextEncoder().encode("x"), () => {
              // The second check runs right before the rename: move the directory out of the workspace then.
              if (++checks === 2) fs.renameSync(path.join(ws, "d"), path.join(outside, "d"))
              return true
            }),
          catch: (e) => e
        })
      )
      expect(error).toBeInstanceOf(ConfinedError)
      expect(error instanceof ConfinedError ? error.reason : undefined).toBe("moved")
      expect(checks).toBe(2)
      // The file was renamed into the moved directory and taken out again; no temporary file is left.
      expect(fs.readdirSync(path.join(outside, "d"))).toEqual([])
    })
  )

  it.effect("a dangling symlink cannot create a file outside; one pointing inside creates the file inside", () =>
    Effect.gen(function* () {
      const { ws, outside, workspace } = yield* setup
      fs.symlinkSync(path.join(outside, "new.txt"), path.join(ws, "out.txt"))
      fs.symlinkSync(path.join(outside, "newdir"), path.join(ws, "outdir"))
      expect((yield* Effect.flip(workspace.resolveWritable("out.txt"))).reason).toBe("outside")
      expect((yield* Effect.flip(workspace.resolveWritable("outdir/x.txt"))).reason).toBe("outside")
      fs.symlinkSync(path.join(ws, "src", "made.txt"), path.join(ws, "in.txt"))
      const target = yield* workspace.resolveWritable("in.txt")
      expect(target).toBe(path.join(ws, "src", "made.txt"))
      yield* workspace.writeFile(target, new TextEncoder().encode("inside"))
      expect(fs.readFileSync(path.join(ws, "src", "made.txt"), "utf8")).toBe("inside")
      expect(fs.readdirSync(outside)).toEqual(["secret.txt"])
    })
  )
})
