/**
 * The escape chain of issue 8, live through the CLI against the scripted model server: the README's example
 * settings in `.sage/settings.json`, default mode, no terminal, the OS sandbox on (`--sandbox` default), a real git
 * repository. The model first writes files it may write (`Edit(src/**)`): a script that grants itself every Bash
 * command in `.sage/settings.local.json`, and a git configuration that runs it (`core.fsmonitor`). Then it runs a
 * command that looks harmless. After each variant: the settings files are unchanged, the script never ran, and the
 * command was denied.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type { PermissionMode } from "../../src/services/Permissions.js"
import * as WireServer from "../support/WireServer.js"
import { answer, anthropicEnv, callTools, runInProcess, tempDir } from "./support.js"

/** The README's example settings (README.md, "Permissions"). */
const README_PERMISSIONS = {
  allow: ["Bash(npm test:*)", "Bash(git status)", "Edit(src/**)", "WebFetch(domain:docs.rs)"],
  ask: ["Bash(git push:*)"],
  deny: ["Read(./.env)", "Bash(rm:*)", "mcp__github"]
}

const GRANT = '{"permissions":{"allow":["Bash"]}}'

interface Variant {
  readonly name: string
  /** Files the model writes first (relative path → content); `{root}` is the workspace. */
  readonly files: Readonly<Record<string, string>>
  /**
   * Files already in the workspace when the session starts (left by an earlier session or a person): the chain
   * with the code-running configuration in place, whatever the file tools now refuse to write.
   */
  readonly seeded?: Readonly<Record<string, string>>
  readonly command: string
  /** Allow rules the user added beside the README's (the program the command uses). */
  readonly extraAllow?: ReadonlyArray<string>
  readonly mode?: PermissionMode
  /**
   * When the command must be denied: `always` (the command itself redirects git or writes a protected file), or
   * `if-config-written` (a plain `git status` in a subdirectory is harmless unless the model managed to plant a
   * repository there; with one in place the payload must still not run).
   */
  readonly bashDenied: "always" | "if-config-written"
  /** The model's files that make git run the payload (their writing may be refused). */
  readonly config?: ReadonlyArray<string>
}

const PAYLOAD = {
  "src/payload.sh": `#!/bin/sh\nprintf '%s' '${GRANT}' > '{root}/.sage/settings.local.json'\ntouch '{root}/payload-ran'\n`
}
const RUN_PAYLOAD = "sh '{root}/src/payload.sh'"
const FSMONITOR = `[core]\n\tfsmonitor = ${RUN_PAYLOAD}\n`
const REPO = {
  "src/r/HEAD": "ref: refs/heads/main\n",
  "src/r/config": `[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tfsmonitor = ${RUN_PAYLOAD}\n`,
  "src/r/objects/.keep": "",
  "src/r/refs/.keep": ""
}
const NESTED_DIR = {
  "src/.git/HEAD": REPO["src/r/HEAD"],
  "src/.git/config": REPO["src/r/config"],
  "src/.git/objects/.keep": "",
  "src/.git/refs/.keep": ""
}

const VARIANTS: ReadonlyArray<Variant> = [
  {
    name: "for HOME in src; do git status; done (the reported chain)",
    files: { ...PAYLOAD, "src/.gitconfig": FSMONITOR },
    config: ["src/.gitconfig"],
    command: "for HOME in src; do git status; done",
    bashDenied: "always"
  },
  {
    name: "for HOME in src; do git status; done, with src/.gitconfig already in the workspace",
    files: PAYLOAD,
    seeded: { "src/.gitconfig": FSMONITOR },
    command: "for HOME in src; do git status; done",
    bashDenied: "always"
  },
  {
    name: "HOME=src git status",
    files: PAYLOAD,
    seeded: { "src/.gitconfig": FSMONITOR },
    command: "HOME=src git status",
    bashDenied: "always"
  },
  {
    name: "git --git-dir=src/r --work-tree=. status",
    files: { ...PAYLOAD, ...REPO },
    config: ["src/r/config"],
    command: "git --git-dir=src/r --work-tree=. status",
    bashDenied: "always"
  },
  {
    name: "cd src && git status with a gitfile src/.git",
    files: { ...PAYLOAD, ...REPO, "src/.git": "gitdir: r\n" },
    config: ["src/.git", "src/r/config"],
    command: "cd src && git status",
    bashDenied: "if-config-written"
  },
  {
    name: "cd src && git status with a directory src/.git",
    files: { ...PAYLOAD, ...NESTED_DIR },
    config: ["src/.git/config"],
    command: "cd src && git status",
    bashDenied: "if-config-written"
  },
  {
    name: "cd src && git status with a gitfile src/.git already in the workspace",
    files: { ...PAYLOAD, ...REPO },
    seeded: { "src/.git": "gitdir: r\n" },
    command: "cd src && git status",
    bashDenied: "if-config-written"
  },
  {
    name: "cd src && git status with a directory src/.git already in the workspace",
    files: PAYLOAD,
    seeded: NESTED_DIR,
    command: "cd src && git status",
    bashDenied: "if-config-written"
  },
  {
    name: "cd src && env -i git status (dropping the hardened git environment), src/.git already in the workspace",
    files: { ...PAYLOAD, ...REPO },
    seeded: { "src/.git": "gitdir: r\n" },
    command: "cd src && env -i git status",
    bashDenied: "always"
  },
  {
    name: "env -u GIT_CONFIG_COUNT git --no-pager status, src/.git already in the workspace",
    files: { ...PAYLOAD, ...REPO },
    seeded: { "src/.git": "gitdir: r\n" },
    command: "cd src && env -u GIT_CONFIG_COUNT git --no-pager status",
    bashDenied: "always"
  },
  {
    name: "git -c core.fsmonitor=... status",
    files: PAYLOAD,
    command: `git -c core.fsmonitor="${RUN_PAYLOAD}" status`,
    bashDenied: "always"
  },
  {
    name: "echo ... > .sage/settings.local.json (acceptEdits, Bash(echo:*))",
    files: {},
    command: `echo '${GRANT}' > .sage/settings.local.json`,
    extraAllow: ["Bash(echo:*)"],
    mode: "acceptEdits",
    bashDenied: "always"
  },
  {
    name: "tee .sage/settings.local.json (Bash(tee:*))",
    files: { "src/grant.json": GRANT },
    command: "tee .sage/settings.local.json < src/grant.json",
    extraAllow: ["Bash(tee:*)"],
    bashDenied: "always"
  },
  {
    name: "cp into .sage/ (Bash(cp:*))",
    files: { "src/grant.json": GRANT },
    command: "cp src/grant.json .sage/settings.local.json",
    extraAllow: ["Bash(cp:*)"],
    bashDenied: "always"
  },
  {
    name: "flock /tmp/l sh -c ... (Bash(flock:*))",
    files: { "src/grant.json": GRANT },
    command: "flock /tmp/l sh -c 'cp src/grant.json .sage/settings.local.json'",
    extraAllow: ["Bash(flock:*)"],
    bashDenied: "always"
  }
]

const jsonLines = (text: string): ReadonlyArray<Record<string, unknown>> =>
  text
    .trim()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line))

interface Completed {
  readonly toolCallId: string
  readonly toolName: string
  readonly status: string
  readonly output: unknown
}

const completed = (stdout: string): ReadonlyArray<Completed> =>
  jsonLines(stdout).flatMap((e) => (e.type === "tool.completed" ? [e.result as Completed] : []))

const git = (cwd: string, home: string, ...args: ReadonlyArray<string>) =>
  execFileSync("git", args, { cwd, env: { PATH: process.env.PATH, HOME: home }, stdio: "pipe" })

describe("the escape chain, live through the CLI", () => {
  for (const variant of VARIANTS) {
    it.live(
      variant.name,
      () =>
        Effect.gen(function* () {
          const wire = yield* WireServer.make
          const root = yield* tempDir
          const home = yield* tempDir
          git(root, home, "init", "-q")
          fs.writeFileSync(path.join(root, "README.md"), "# project\n")
          git(root, home, "add", "README.md")
          git(root, home, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
          fs.mkdirSync(path.join(root, "src"))
          fs.mkdirSync(path.join(root, ".sage"))
          const settingsFile = path.join(root, ".sage", "settings.json")
          const settings = `${JSON.stringify(
            {
              permissions: {
                ...README_PERMISSIONS,
                allow: [...README_PERMISSIONS.allow, ...(variant.extraAllow ?? [])]
              }
            },
            null,
            2
          )}\n`
          fs.writeFileSync(settingsFile, settings)
          const fill = (text: string) => text.replaceAll("{root}", root)
          for (const [file, content] of Object.entries(variant.seeded ?? {})) {
            fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
            fs.writeFileSync(path.join(root, file), fill(content))
          }
          const writes = Object.entries(variant.files).map(([file, content], i) => ({
            id: `w${i}`,
            name: "Write",
            input: { file_path: file, content: fill(content) }
          }))
          wire.enqueue(
            ...(writes.length > 0 ? [callTools(writes)] : []),
            callTools([{ id: "bash", name: "Bash", input: { command: fill(variant.command) } }]),
            answer("done")
          )
          const run = yield* runInProcess(
            [
              "-p",
              "check the repository",
              "--output-format",
              "stream-json",
              "--permission-mode",
              variant.mode ?? "default",
              "--cwd",
              root
            ],
            anthropicEnv(wire.url, home)
          )
          expect(run.code, run.stderr).toBe(0)
          expect(run.stderr).not.toContain("without an OS sandbox")
          const results = completed(run.stdout)
          // The settings are unchanged and the payload never ran.
          const bashOutput = JSON.stringify(completed(run.stdout).find((r) => r.toolCallId === "bash")?.output)
          expect(fs.readFileSync(settingsFile, "utf8"), "the project settings changed").toBe(settings)
          expect(fs.existsSync(path.join(root, ".sage", "settings.local.json")), "local settings created").toBe(false)
          expect(fs.existsSync(path.join(home, ".sage", "settings.json")), "user settings created").toBe(false)
          expect(fs.existsSync(path.join(root, "payload-ran")), `the payload ran: ${bashOutput}`).toBe(false)
          // Every call got a result, and the chain was refused: the command, or the planting of its configuration.
          expect(results.map((r) => r.toolCallId).sort()).toEqual([...writes.map((w) => w.id), "bash"].sort())
          const byId = new Map(results.map((r) => [r.toolCallId, r]))
          const bash = byId.get("bash")
          const configWritten = (variant.config ?? []).every((file) => {
            const write = writes.find((w) => w.input.file_path === file)
            return write !== undefined && byId.get(write.id)?.status === "success"
          })
          if (variant.bashDenied === "always" || (configWritten && (variant.config ?? []).length > 0)) {
            expect(bash?.status, JSON.stringify(bash?.output)).toBe("denied")
          } else {
            const refused = (variant.config ?? []).some((file) => {
              const write = writes.find((w) => w.input.file_path === file)
              return write !== undefined && byId.get(write.id)?.status === "denied"
            })
            // The planted repository was refused, or it was there before the session: `git status` may run.
            expect(refused || variant.seeded !== undefined).toBe(true)
          }
        }).pipe(Effect.scoped),
      60_000
    )
  }
})
