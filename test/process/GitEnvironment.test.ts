/**
 * The hardened git environment of the commands Sage runs, against real git: a configuration the model wrote
 * (reached through `HOME`, a nested gitfile, `--git-dir`, an embedded bare repository) runs no code with it, and
 * runs code without it (so each check can fail); the user's own hooks still run.
 */
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as SandboxLive from "../../src/layers/SandboxLive.js"
import { GIT_CONFIG_OVERRIDES, globalGitConfig, hardenGitEnv } from "../../src/process/GitEnvironment.js"
import { Sandbox } from "../../src/services/Sandbox.js"

const tempRepo = Effect.acquireRelease(
  Effect.sync(() => {
    const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-git-")))
    const repo = path.join(base, "repo")
    const home = path.join(base, "home")
    fs.mkdirSync(home)
    fs.mkdirSync(path.join(repo, "src"), { recursive: true })
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home }
    const git = (...args: Array<string>) => execFileSync("git", args, { cwd: repo, env, stdio: "pipe" })
    git("init", "-q")
    fs.writeFileSync(path.join(repo, "a.txt"), "a\n")
    git("add", "a.txt")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    const marker = path.join(repo, "payload-ran")
    // What a model that may edit src/** writes: a script and git configurations that run it.
    fs.writeFileSync(path.join(repo, "src", "payload.sh"), `#!/bin/sh\ntouch '${marker}'\n`)
    const runPayload = `sh '${path.join(repo, "src", "payload.sh")}'`
    fs.writeFileSync(path.join(repo, "src", ".gitconfig"), `[core]\n\tfsmonitor = ${runPayload}\n`)
    for (const dir of ["objects", "refs"]) fs.mkdirSync(path.join(repo, "src", "r", dir), { recursive: true })
    fs.writeFileSync(path.join(repo, "src", "r", "HEAD"), "ref: refs/heads/main\n")
    fs.writeFileSync(
      path.join(repo, "src", "r", "config"),
      `[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tfsmonitor = ${runPayload}\n`
    )
    return { base, repo, home, env, marker, runPayload }
  }),
  ({ base }) => Effect.sync(() => fs.rmSync(base, { recursive: true, force: true }))
)

/** Runs `script` with bash in `cwd` and tells whether the payload ran (the marker is removed afterwards). */
const payloadRuns = (cwd: string, script: string, env: Record<string, string>, marker: string): boolean => {
  spawnSync("bash", ["-c", script], { cwd, env, stdio: "ignore", timeout: 20_000 })
  const ran = fs.existsSync(marker)
  fs.rmSync(marker, { force: true })
  return ran
}

describe("GitEnvironment", () => {
  it("adds the overrides after the user's own GIT_CONFIG entries and pins the global file", () => {
    const env = hardenGitEnv(
      { PATH: "/bin", HOME: "/home/u", GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "user.name", GIT_CONFIG_VALUE_0: "U" },
      () => false
    )
    expect(env.GIT_CONFIG_KEY_0).toBe("user.name")
    expect(env.GIT_CONFIG_COUNT).toBe(String(1 + GIT_CONFIG_OVERRIDES.length))
    expect(env.GIT_CONFIG_KEY_1).toBe("core.fsmonitor")
    expect(env.GIT_CONFIG_VALUE_1).toBe("false")
    expect(env.GIT_CONFIG_GLOBAL).toBe("/home/u/.gitconfig")
    expect(env.GIT_TERMINAL_PROMPT).toBe("0")
    // A bogus count is replaced (git would refuse to run with it).
    expect(hardenGitEnv({ GIT_CONFIG_COUNT: "x" }, () => false).GIT_CONFIG_COUNT).toBe(
      String(GIT_CONFIG_OVERRIDES.length)
    )
  })

  it("pins the XDG file when only that one exists, and keeps an explicit GIT_CONFIG_GLOBAL or a missing HOME", () => {
    const xdgOnly = (file: string) => file === "/x/git/config"
    expect(globalGitConfig({ HOME: "/home/u", XDG_CONFIG_HOME: "/x" }, xdgOnly)).toBe("/x/git/config")
    expect(globalGitConfig({ HOME: "/home/u" }, (f) => f === "/home/u/.config/git/config")).toBe(
      "/home/u/.config/git/config"
    )
    expect(globalGitConfig({ HOME: "/home/u" }, () => true)).toBe("/home/u/.gitconfig")
    expect(globalGitConfig({ HOME: "/home/u", GIT_CONFIG_GLOBAL: "/g" }, () => true)).toBeUndefined()
    expect(globalGitConfig({ PATH: "/bin" }, () => true)).toBeUndefined()
    expect(globalGitConfig({ HOME: "relative" }, () => true)).toBeUndefined()
    expect(hardenGitEnv({ HOME: "/home/u", GIT_CONFIG_GLOBAL: "/g" }, () => true).GIT_CONFIG_GLOBAL).toBe("/g")
  })

  it.live("the sandbox's command environment carries the overrides", () =>
    Effect.gen(function* () {
      const sandbox = yield* Effect.provide(
        Sandbox,
        SandboxLive.layer({ mode: "off", writableRoots: ["/"], network: false, env: { PATH: "/bin", HOME: "/h" } })
      )
      expect(sandbox.env).toMatchObject({
        GIT_CONFIG_KEY_0: "core.fsmonitor",
        GIT_CONFIG_VALUE_0: "false",
        GIT_CONFIG_GLOBAL: "/h/.gitconfig"
      })
    })
  )

  it.live(
    "a model-written git configuration runs its fsmonitor without the hardening and never with it",
    () =>
      Effect.gen(function* () {
        const { repo, env, marker, runPayload } = yield* tempRepo
        const hardened = hardenGitEnv(env)
        const variants: ReadonlyArray<readonly [string, string]> = [
          ["HOME in a for loop", "for HOME in src; do git status; done"],
          ["HOME in front", "HOME=src git status"],
          [
            "XDG_CONFIG_HOME",
            "mkdir -p src/x/git && cp src/.gitconfig src/x/git/config && XDG_CONFIG_HOME=src/x git status"
          ],
          ["--git-dir", "git --git-dir=src/r --work-tree=. status"],
          ["a nested gitfile", "printf 'gitdir: r\\n' > src/.git && cd src && git status; rm -f .git"],
          ["GIT_DIR", "GIT_DIR=src/r GIT_WORK_TREE=. git status"]
        ]
        for (const [name, script] of variants) {
          expect(payloadRuns(repo, script, env, marker), `${name}: runs without the hardening`).toBe(true)
          expect(payloadRuns(repo, script, hardened, marker), `${name}: hardened`).toBe(false)
        }
        // `-c` on the command line beats the environment: the permission check must ask for it (it does).
        expect(payloadRuns(repo, `git -c core.fsmonitor="${runPayload}" status`, hardened, marker)).toBe(true)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "a bare repository the model wrote is not picked up by discovery, and the user's hooks still run",
    () =>
      Effect.gen(function* () {
        const { repo, env } = yield* tempRepo
        const hardened = hardenGitEnv(env)
        const bare = path.join(repo, "src", "r")
        fs.writeFileSync(path.join(bare, "config"), "[core]\n\trepositoryformatversion = 0\n\tbare = true\n")
        const log = (e: Record<string, string>) =>
          spawnSync("git", ["log"], { cwd: bare, env: e, encoding: "utf8", timeout: 20_000 })
        // Without the hardening git uses the repository it finds (and its configuration); with it, it refuses.
        expect(log(env).stderr).toContain("does not have any commits yet")
        expect(log(hardened).stderr).toContain("cannot use bare repository")
        // The user's pre-commit hook (in .git/hooks, which the model cannot change) runs for a commit.
        const hook = path.join(repo, ".git", "hooks", "pre-commit")
        fs.writeFileSync(hook, `#!/bin/sh\ntouch '${path.join(repo, "hook-ran")}'\n`, { mode: 0o755 })
        fs.writeFileSync(path.join(repo, "a.txt"), "b\n")
        const commit = spawnSync(
          "git",
          ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "two"],
          { cwd: repo, env: hardened, encoding: "utf8", timeout: 20_000 }
        )
        expect(commit.status, commit.stderr).toBe(0)
        expect(fs.existsSync(path.join(repo, "hook-ran"))).toBe(true)
      }).pipe(Effect.scoped),
    60_000
  )
})
