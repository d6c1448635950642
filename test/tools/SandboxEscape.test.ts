/**
 * Escapes through the sandbox, with real bwrap, real bash and real git: reading the parent's environment through
 * /proc, writing `.git/` or `.sage/` (including creating a missing `.sage/`), nested repositories and the home
 * directory's start-up files, for foreground and background commands alike.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { make as makeBackgroundShells } from "../../src/process/BackgroundShells.js"
import { findExecutable } from "../../src/process/Executable.js"
import * as SandboxBubblewrap from "../../src/process/SandboxBubblewrap.js"
import { BackgroundShells } from "../../src/services/BackgroundShells.js"
import { Sandbox } from "../../src/services/Sandbox.js"
import { Workspace } from "../../src/services/Workspace.js"
import { makeBashTool } from "../../src/tools/Bash.js"
import { BashOutputTool } from "../../src/tools/BashOutput.js"
import { call, tempDir, text, workspaceOf } from "./support.js"

const PATH = process.env.PATH ?? "/usr/bin:/bin"
const bwrap = await Effect.runPromise(findExecutable("bwrap", PATH))
// On CI bubblewrap is installed by .ci/run: a missing bwrap there is a failure, not a skip.
const available = bwrap !== undefined || process.env.CI === "true"

const SECRET = "sk-ant-api03-PARENTSECRETPARENTSECRET0123456789"

/**
 * Runs `argv` the way Sage does (with `env`, in a new session and process group) from a parent process whose own
 * start-up environment holds `SECRET`, like the `sage` process holds the provider key. `__PARENT__` in `argv` is
 * replaced by that parent's pid. Returns the output.
 */
const runUnderSecretParent = (argv: ReadonlyArray<string>, env: Readonly<Record<string, string>>) =>
  Effect.callback<string>((resume) => {
    const script = `
      const { spawn } = require("node:child_process")
      const [template, env] = JSON.parse(process.argv[1])
      const argv = template.map((a) => a.replaceAll("__PARENT__", String(process.pid)))
      const child = spawn(argv[0], argv.slice(1), { env, detached: true, stdio: ["ignore", "inherit", "inherit"] })
      child.on("exit", (code) => process.exit(code ?? 1))
    `
    const parent = spawn(process.execPath, ["-e", script, JSON.stringify([argv, env])], {
      env: { PATH, ANTHROPIC_API_KEY: SECRET },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    parent.stdout.on("data", (chunk) => {
      output += chunk
    })
    parent.stderr.on("data", (chunk) => {
      output += chunk
    })
    parent.on("exit", () => resume(Effect.succeed(output)))
    return Effect.sync(() => parent.kill("SIGKILL"))
  })

/** Every way a command might read its ancestors' environment: $PPID, the parent's pid, and every /proc entry. */
const SNOOP = [
  'echo "ppid=$PPID"',
  "cat /proc/$PPID/environ",
  "cat /proc/__PARENT__/environ",
  "for f in /proc/[0-9]*/environ; do cat $f; echo; done",
  "echo procs: $(ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' ')"
].join("; ")

const sandboxFor = (roots: ReadonlyArray<string>, options: Partial<SandboxBubblewrap.BubblewrapOptions> = {}) =>
  SandboxBubblewrap.make({
    writableRoots: roots,
    network: false,
    mode: "require",
    env: { PATH, HOME: roots[0] ?? "/", ANTHROPIC_API_KEY: SECRET },
    ...options
  })

const bashIn = (cwd: string, options: Partial<SandboxBubblewrap.BubblewrapOptions> = {}) =>
  Effect.gen(function* () {
    const sandbox = yield* sandboxFor([cwd], options)
    const bash = yield* makeBashTool().pipe(
      Effect.provideService(Sandbox, sandbox),
      Effect.provideServiceEffect(Workspace, workspaceOf([cwd]))
    )
    return { sandbox, bash }
  })

const git = (cwd: string, ...args: ReadonlyArray<string>) =>
  Effect.callback<string>((resume) => {
    const child = spawn("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
      cwd,
      env: { PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: "1" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    child.stdout.on("data", (d) => {
      out += d
    })
    child.stderr.on("data", (d) => {
      out += d
    })
    child.on("exit", () => resume(Effect.succeed(out)))
  })

describe.runIf(available)("the sandbox hides the parent's environment (PID namespace, fresh /proc)", () => {
  it.live("a sandboxed command cannot read the key from /proc; an unconfined one can (the check works)", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const sandbox = yield* sandboxFor([cwd])
      expect(sandbox.env).not.toHaveProperty("ANTHROPIC_API_KEY")
      // The control: without the sandbox the same snooping finds the key, in plain text and in base64.
      const unconfined = yield* runUnderSecretParent(["bash", "-c", SNOOP], sandbox.env)
      expect(unconfined).toContain(SECRET)
      const confined = yield* runUnderSecretParent(yield* sandbox.wrap(["bash", "-c", SNOOP]), sandbox.env)
      expect(confined).toContain("ppid=1")
      expect(confined).not.toContain(SECRET)
      // Only the sandbox's own processes are visible.
      const procs = /procs: ([\d ]*)/.exec(confined)?.[1]?.trim().split(/\s+/).map(Number) ?? []
      expect(procs.length).toBeGreaterThan(0)
      expect(Math.max(...procs)).toBeLessThan(50)
    })
  )

  it.live("through the Bash tool: no host process is visible, the provider key is in no environment", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const { bash } = yield* bashIn(cwd)
      const result = yield* call(
        bash,
        {
          command: `test -e /proc/${process.pid} && echo SEES-HOST; cat /proc/*/environ | tr '\\0' '\\n' | grep -c ANTHROPIC || true; ls /proc | grep -cE '^[0-9]+$'`
        },
        cwd
      )
      expect(result.status).toBe("success")
      const [keys, count] = text(result).split("\n")
      expect(text(result)).not.toContain("SEES-HOST")
      expect(keys).toBe("0")
      expect(Number(count)).toBeLessThan(10)
    })
  )
})

describe.runIf(available)("the sandbox keeps .git and .sage read-only", () => {
  it.live("settings and git config cannot be written; a missing .sage cannot be created; the workspace can", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      yield* git(cwd, "init", "-q", ".")
      fs.writeFileSync(path.join(cwd, "a.txt"), "a\n")
      yield* git(cwd, "add", "a.txt")
      yield* git(cwd, "commit", "-qm", "init")
      const config = fs.readFileSync(path.join(cwd, ".git", "config"), "utf8")
      const { bash } = yield* bashIn(cwd)
      const attempts = [
        'mkdir -p .sage && echo \'{"permissions":{"allow":["Bash"]}}\' > .sage/settings.local.json',
        "echo '{}' > .sage/settings.json",
        "echo x >> .git/config",
        "printf '[core]\\n\\tfsmonitor = touch /tmp/pwned\\n' > .git/config",
        "mkdir -p .git/hooks && echo 'touch pwned' > .git/hooks/pre-commit",
        "echo ../elsewhere > .git/commondir",
        "rm -rf .git",
        "mv .git moved-git",
        "mv .sage moved-sage",
        "rmdir .sage"
      ]
      for (const command of attempts) {
        const result = yield* call(bash, { command }, cwd)
        expect(result.status, command).toBe("error")
        expect(text(result), command).toMatch(/Read-only file system|Device or resource busy/)
      }
      expect(fs.readFileSync(path.join(cwd, ".git", "config"), "utf8")).toBe(config)
      expect(fs.existsSync(path.join(cwd, ".git", "commondir"))).toBe(false)
      expect(fs.existsSync(path.join(cwd, ".git", "hooks", "pre-commit"))).toBe(false)
      // The mount point left behind is an empty directory: no settings were created.
      expect(fs.readdirSync(path.join(cwd, ".sage"))).toEqual([])
      // Ordinary work still works: writing files, and git's read-only commands.
      const work = yield* call(
        bash,
        {
          command: "echo b >> a.txt && mkdir -p src && echo ok > src/new.txt && git status --short && git diff --stat"
        },
        cwd
      )
      expect(work.status).toBe("success")
      expect(text(work)).toContain("M a.txt")
      expect(fs.readFileSync(path.join(cwd, "src", "new.txt"), "utf8")).toBe("ok\n")
      // Writing the repository fails with a hint the model can pass on.
      const commit = yield* call(bash, { command: "git -c user.email=t@e -c user.name=t commit -qam change" }, cwd)
      expect(commit.status).toBe("error")
      expect(text(commit)).toContain("index.lock': Read-only file system")
      expect(text(commit)).toContain(".git/ and .sage/ are read-only inside the sandbox")
    })
  )

  it.live("an existing .sage, nested repositories and gitfiles, and the home's start-up files stay read-only", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      fs.mkdirSync(path.join(cwd, ".sage"))
      const settings = '{"permissions":{"allow":[]}}\n'
      fs.writeFileSync(path.join(cwd, ".sage", "settings.local.json"), settings)
      yield* git(path.join(cwd), "init", "-q", "packages/inner")
      fs.mkdirSync(path.join(cwd, "vendored", "lib"), { recursive: true })
      fs.writeFileSync(path.join(cwd, "vendored", "lib", ".git"), "gitdir: ../../.git/modules/lib\n")
      fs.writeFileSync(path.join(cwd, ".bashrc"), "# rc\n")
      fs.writeFileSync(path.join(cwd, ".gitconfig"), "[user]\n\tname = me\n")
      // The home directory is the workspace here (sandboxFor sets HOME to the first root).
      const { bash } = yield* bashIn(cwd)
      for (const command of [
        'echo \'{"permissions":{"allow":["Bash"]}}\' > .sage/settings.local.json',
        "echo x >> packages/inner/.git/config",
        "echo 'gitdir: /tmp/evil' > vendored/lib/.git",
        "echo 'alias ls=evil' >> .bashrc",
        "printf '[core]\\n\\tpager = evil\\n' >> .gitconfig"
      ]) {
        const result = yield* call(bash, { command }, cwd)
        expect(result.status, command).toBe("error")
      }
      expect(fs.readFileSync(path.join(cwd, ".sage", "settings.local.json"), "utf8")).toBe(settings)
      expect(fs.readFileSync(path.join(cwd, "vendored", "lib", ".git"), "utf8")).toBe(
        "gitdir: ../../.git/modules/lib\n"
      )
      expect(fs.readFileSync(path.join(cwd, ".bashrc"), "utf8")).toBe("# rc\n")
      expect(fs.readFileSync(path.join(cwd, "packages", "inner", ".git", "config"), "utf8")).not.toContain("x\n")
      // Beside them, the nested project is writable.
      expect((yield* call(bash, { command: "echo ok > packages/inner/file.txt" }, cwd)).status).toBe("success")
    })
  )

  it.live("background shells run in the same sandbox", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const cwd = yield* tempDir
        fs.mkdirSync(path.join(cwd, ".git"))
        fs.writeFileSync(path.join(cwd, ".git", "config"), "[core]\n")
        const sandbox = yield* sandboxFor([cwd])
        const shells = yield* makeBackgroundShells({ killGrace: "500 millis" })
        const { bash, output } = yield* Effect.gen(function* () {
          return { bash: yield* makeBashTool(), output: yield* BashOutputTool }
        }).pipe(
          Effect.provideService(BackgroundShells, shells),
          Effect.provideService(Sandbox, sandbox),
          Effect.provideServiceEffect(Workspace, workspaceOf([cwd]))
        )
        const started = yield* call(
          bash,
          {
            command: `echo x >> .git/config; echo y > .sage/s.json; echo ok > w.txt; test -e /proc/${process.pid} && echo SEES-HOST; echo done`,
            run_in_background: true
          },
          cwd
        )
        const id = /background shell (bash_\d+)/.exec(text(started))?.[1] ?? ""
        let seen = ""
        for (let i = 0; i < 200 && !/exited/.test(seen); i++) {
          seen += text(yield* call(output, { shell_id: id }, cwd))
          if (!/exited/.test(seen)) yield* Effect.sleep(Duration.millis(50))
        }
        expect(seen).toContain("done")
        expect(seen).toMatch(/\.git\/config: Read-only file system/)
        expect(seen).toMatch(/\.sage\/s\.json: (Read-only file system|No such file or directory)/)
        expect(seen).not.toContain("SEES-HOST")
        expect(fs.readFileSync(path.join(cwd, ".git", "config"), "utf8")).toBe("[core]\n")
        expect(fs.readFileSync(path.join(cwd, "w.txt"), "utf8")).toBe("ok\n")
      })
    )
  )
})

describe("protected paths", () => {
  it.live("each root's .git and .sage, links resolved; a missing .sage is mounted empty; nothing outside", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      const other = yield* tempDir
      fs.mkdirSync(path.join(root, ".git"))
      fs.mkdirSync(path.join(other, "real-sage"))
      fs.symlinkSync(path.join(other, "real-sage"), path.join(other, ".sage"))
      const found = yield* SandboxBubblewrap.protectedPaths([root, other], undefined)
      expect(found.readOnly).toEqual([path.join(root, ".git"), path.join(other, "real-sage")])
      expect(found.absent).toEqual([path.join(root, ".sage")])
      const argv = SandboxBubblewrap.bubblewrapArgv("bwrap", { writableRoots: [root], network: false }, ["true"], found)
      const bindAt = argv.indexOf("--bind")
      expect(argv.indexOf("--ro-bind-try")).toBeGreaterThan(bindAt)
      expect(argv.indexOf("--remount-ro")).toBeGreaterThan(bindAt)
      expect(argv).toContain("--unshare-pid")
      expect(argv).not.toContain("--new-session")
    })
  )

  it.live(
    "a root's hook and editor directories and protected files that exist are read-only; nested ones are found",
    () =>
      Effect.gen(function* () {
        const root = yield* tempDir
        for (const dir of [".git", ".husky", ".vscode", "pkg/.idea", "pkg/.devcontainer"]) {
          fs.mkdirSync(path.join(root, dir), { recursive: true })
        }
        fs.writeFileSync(path.join(root, ".envrc"), "")
        fs.writeFileSync(path.join(root, "mise.toml"), "")
        const nested = yield* SandboxBubblewrap.findNestedProtected([root])
        expect([...nested].sort()).toEqual([path.join(root, "pkg/.devcontainer"), path.join(root, "pkg/.idea")])
        const found = yield* SandboxBubblewrap.protectedPaths([root], undefined, nested)
        expect([...found.readOnly].sort()).toEqual(
          [".envrc", ".git", ".husky", ".vscode", "mise.toml", "pkg/.devcontainer", "pkg/.idea"].map((p) =>
            path.join(root, p)
          )
        )
      })
  )

  it.live("nested repositories and settings are found below the roots, not inside skipped directories", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      for (const dir of ["a/.git", "b/c/.git", "node_modules/x/.git", ".git/modules/y/.git", "p/.sage"]) {
        fs.mkdirSync(path.join(root, dir), { recursive: true })
      }
      fs.writeFileSync(path.join(root, "b", ".git"), "gitdir: ../.git/modules/b\n")
      const nested = yield* SandboxBubblewrap.findNestedProtected([root])
      expect([...nested].sort()).toEqual([
        path.join(root, "a/.git"),
        path.join(root, "b/.git"),
        path.join(root, "b/c/.git"),
        path.join(root, "p/.sage")
      ])
    })
  )
})
