/**
 * One decision (issue 8, class 9): `sage permissions check` (the real CLI, in process) and the agent's path (the
 * `Permissions` service, the `ToolRegistry` of built-in tools and the `Workspace`, wired by `SageLive.pieces` as
 * `layerNode` wires them) never disagree. For each call: the CLI's decision and the service's are the same; a call
 * that is allowed (or asked about, then approved) is not refused by the tool for a policy reason; a call denied
 * for a policy reason (outside the workspace, a protected path) is refused by the tool too; what the rules deny
 * reading does not show up in the output of a call they allow.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { pieces } from "../../src/layers/SageLive.js"
import { Permissions, type PermissionMode } from "../../src/services/Permissions.js"
import { ToolRegistry } from "../../src/services/ToolRegistry.js"
import { toolOutputText } from "../../src/streams/ToolCall.js"
import { runToolCall } from "../../src/tools/Tool.js"
import { baseEnv, runInProcess, tempDir } from "../cli/support.js"

interface Case {
  readonly tool: string
  readonly input: Record<string, unknown>
  readonly mode?: PermissionMode
  readonly allow?: ReadonlyArray<string>
  readonly deny?: ReadonlyArray<string>
  /** Ask rules, written to the project's `.sage/settings.json`. */
  readonly ask?: ReadonlyArray<string>
  /** Text that must not appear in the output of the real call (denied content). */
  readonly hidden?: ReadonlyArray<string>
}

const CASES: ReadonlyArray<Case> = [
  { tool: "Read", input: { file_path: "/etc/passwd" }, allow: ["Read"] },
  { tool: "Read", input: { file_path: "/etc/passwd" }, mode: "bypassPermissions" },
  { tool: "Read", input: { file_path: "../outside/secret.txt" }, allow: ["Read"] },
  { tool: "Read", input: { file_path: "src/out/secret.txt" }, allow: ["Read"] },
  { tool: "Read", input: { file_path: "src/a.txt" } },
  { tool: "Read", input: { file_path: ".env" }, deny: ["Read(./.env)"] },
  { tool: "Write", input: { file_path: "src/new.txt", content: "x" }, mode: "acceptEdits" },
  { tool: "Write", input: { file_path: "src/new2.txt", content: "x" }, allow: ["Write"] },
  { tool: "Write", input: { file_path: ".git/config", content: "x" }, mode: "bypassPermissions" },
  { tool: "Write", input: { file_path: "src/.git", content: "gitdir: /tmp" }, mode: "bypassPermissions" },
  { tool: "Write", input: { file_path: "src/sub/.git/config", content: "x" }, allow: ["Write"] },
  { tool: "Write", input: { file_path: "src/dl", content: "x" }, mode: "bypassPermissions" },
  { tool: "Write", input: { file_path: "src/out/new.txt", content: "x" }, mode: "bypassPermissions" },
  { tool: "Write", input: { file_path: "../escape.txt", content: "x" }, allow: ["Write"] },
  { tool: "Write", input: { file_path: ".bashrc", content: "x" }, mode: "acceptEdits" },
  { tool: "Write", input: { file_path: "src/.gitconfig", content: "x" }, mode: "bypassPermissions" },
  { tool: "Write", input: { file_path: "src/.config/git/config", content: "x" }, mode: "bypassPermissions" },
  { tool: "Write", input: { file_path: ".sage/settings.local.json", content: "{}" }, mode: "bypassPermissions" },
  { tool: "Write", input: { file_path: ".git/hooks/pre-commit", content: "x" }, allow: ["Edit(.git/hooks/**)"] },
  { tool: "Edit", input: { file_path: ".git/config", old_string: "a", new_string: "b" }, allow: ["Edit"] },
  {
    tool: "MultiEdit",
    input: { file_path: ".sage/settings.json", edits: [{ old_string: "a", new_string: "b" }] },
    mode: "bypassPermissions"
  },
  { tool: "LS", input: { path: "src" } },
  { tool: "LS", input: { path: "src/out" }, mode: "bypassPermissions" },
  { tool: "LS", input: { path: "." }, deny: ["Read(./.env)"], hidden: [".env"] },
  { tool: "LS", input: { path: "secrets" }, deny: ["Read(./secrets/**)"] },
  { tool: "Glob", input: { pattern: "/etc/*" } },
  { tool: "Glob", input: { pattern: "**/*.txt" }, deny: ["Read(./secrets/**)"], hidden: ["key.txt"] },
  { tool: "Glob", input: { pattern: "*", path: "src/out" }, mode: "bypassPermissions" },
  {
    tool: "Grep",
    input: { pattern: ".", glob: ".env", output_mode: "content" },
    deny: ["Read(./.env)"],
    hidden: ["envsecret"]
  },
  { tool: "Grep", input: { pattern: "KEY", output_mode: "content" }, deny: ["Read(secrets)"], hidden: ["KEYDATA"] },
  { tool: "Grep", input: { pattern: ".", path: ".env" }, deny: ["Read(./.env)"] },
  { tool: "Grep", input: { pattern: "root", path: "/etc" }, mode: "bypassPermissions" },
  { tool: "Grep", input: { pattern: ".", path: "src/out" } },
  { tool: "Write", input: { file_path: "src/ask.txt", content: "x" } },
  { tool: "Read", input: { file_path: "secrets/key.txt" }, allow: ["Read"], deny: [] },
  { tool: "Grep", input: { pattern: ".", output_mode: "content" }, hidden: ["envsecret"], deny: ["Read(.env)"] },
  { tool: "LS", input: { path: "secrets" }, ask: ["Read(./secrets/**)"], mode: "bypassPermissions" },
  { tool: "Grep", input: { pattern: "." }, ask: ["Read(./secrets/**)"], hidden: ["key.txt"] },
  { tool: "Grep", input: { pattern: ".", path: "secrets" }, ask: ["Read(./secrets/**)"] }
]

/** Per case: the decision, what decided it (`workspace`, `protected-path`, `rule`, `mode`) and the tool's result. */
const EXPECTED: ReadonlyArray<string> = [
  "deny:workspace:refused",
  "deny:workspace:refused",
  "deny:workspace:refused",
  "deny:workspace:refused",
  "allow::success",
  "deny:rule:success",
  "allow::success",
  "allow::success",
  "deny:protected-path:refused",
  "deny:protected-path:refused",
  "deny:protected-path:refused",
  "deny:workspace:refused",
  "deny:workspace:refused",
  "deny:workspace:refused",
  "deny:protected-path:refused",
  "deny:protected-path:refused",
  "deny:protected-path:refused",
  "deny:protected-path:refused",
  "allow::success",
  "deny:protected-path:refused",
  "deny:protected-path:refused",
  "allow::success",
  "deny:workspace:refused",
  "allow::success",
  "deny:rule:refused",
  "deny:workspace:refused",
  "allow::success",
  "deny:workspace:refused",
  "allow::success",
  "allow::success",
  "deny:rule:refused",
  "deny:workspace:refused",
  "deny:workspace:refused",
  "ask:mode:success",
  "allow::success",
  "allow::success",
  "ask:rule:success",
  "allow::success",
  "ask:rule:success"
]

/** A tool refusal for a policy reason (the workspace's confinement, protected paths, read deny rules). */
const POLICY_REFUSAL = /outside the workspace|is protected|may not be read/

const describeCase = (c: Case) =>
  `${c.tool} ${JSON.stringify(c.input)} [${c.mode ?? "default"}]${c.allow ? ` allow=${c.allow.join(",")}` : ""}${c.deny ? ` deny=${c.deny.join(",")}` : ""}`

describe("sage permissions check and the agent make one decision", () => {
  it.live(
    `${CASES.length} calls: the CLI check, the service and the real tool agree`,
    () =>
      Effect.gen(function* () {
        const seen: Array<string> = []
        for (const c of CASES) {
          yield* Effect.scoped(
            Effect.gen(function* () {
              const base = yield* tempDir
              const root = path.join(base, "project")
              const home = path.join(base, "home")
              const outside = path.join(base, "outside")
              for (const dir of [root, home, outside, path.join(root, "src"), path.join(root, ".git", "hooks")])
                fs.mkdirSync(dir, { recursive: true })
              fs.mkdirSync(path.join(root, "secrets"))
              fs.mkdirSync(path.join(root, ".sage"))
              fs.writeFileSync(
                path.join(root, ".sage", "settings.json"),
                JSON.stringify({ permissions: { ask: c.ask ?? [] } })
              )
              fs.writeFileSync(path.join(root, "src", "a.txt"), "hello A\n")
              fs.writeFileSync(path.join(root, ".env"), "SECRET=envsecret\n")
              fs.writeFileSync(path.join(root, "secrets", "key.txt"), "KEYDATA\n")
              fs.writeFileSync(path.join(root, ".git", "config"), "[core]\na\n")
              fs.writeFileSync(path.join(outside, "secret.txt"), "OUTSIDE\n")
              fs.symlinkSync(outside, path.join(root, "src", "out"))
              fs.symlinkSync(path.join(outside, "new.txt"), path.join(root, "src", "dl"))
              const mode = c.mode ?? "default"
              const allow = c.allow ?? []
              const deny = c.deny ?? []

              // The CLI, as a user runs it.
              const argv = ["permissions", "check", c.tool, JSON.stringify(c.input), "--cwd", root]
              for (const rule of allow) argv.push("--allowed-tools", rule)
              for (const rule of deny) argv.push("--disallowed-tools", rule)
              if (mode !== "default") argv.push("--permission-mode", mode)
              const cli = yield* runInProcess(argv, { ...baseEnv(), HOME: home })
              expect(cli.code, `${describeCase(c)}: ${cli.stderr}`).toBe(0)
              const checked = cli.stdout.split(" ")[0]

              // The agent's services, wired as layerNode wires them.
              const p = pieces({
                provider: "anthropic",
                cwd: root,
                homeDir: home,
                sandbox: "off",
                allowedTools: allow,
                disallowedTools: deny
              })
              const settings = p.settings
              const workspace = p.workspace.pipe(Layer.provideMerge(settings))
              const session = Layer.mergeAll(p.fileState, p.sandbox, p.backgroundShells, p.permissions).pipe(
                Layer.provideMerge(workspace)
              )
              const services = p.toolRegistry.pipe(Layer.provideMerge(session), Layer.provideMerge(NodeServices.layer))
              const { decision, result } = yield* Effect.gen(function* () {
                const registry = yield* ToolRegistry
                const permissions = yield* Permissions
                const tool = yield* registry.get(c.tool)
                const call = { id: "call-1", name: c.tool, input: c.input }
                const decision = yield* permissions.check(call, {
                  tool: { name: tool.name, readOnly: tool.readOnly, kind: tool.kind },
                  cwd: root,
                  mode
                })
                // Run it whatever the decision (as if a person approved an ask), to see whether the tool refuses.
                const result = yield* runToolCall(
                  tool,
                  call,
                  { callId: "call-1", sessionId: "s", cwd: root, progress: () => Effect.void },
                  { defaultTimeout: "30 seconds" }
                )
                return { decision, result }
              }).pipe(Effect.provide(services), Effect.orDie)

              const output = toolOutputText(result.output)
              const refused = result.status === "error" && POLICY_REFUSAL.test(output)
              const name = `${describeCase(c)} -> check ${cli.stdout.trim().split("\n")[0]} / tool ${result.status}: ${output.slice(0, 200)}`
              seen.push(
                `${decision.type}:${decision.type === "allow" ? "" : decision.source.split(":")[0]}:${refused ? "refused" : result.status}`
              )
              expect(checked, name).toBe(decision.type)
              if (decision.type === "allow" || decision.type === "ask") expect(refused, name).toBe(false)
              if (decision.type === "deny" && (decision.source === "workspace" || decision.source === "protected-path"))
                expect(refused, name).toBe(true)
              if (decision.type !== "deny") for (const text of c.hidden ?? []) expect(output, name).not.toContain(text)
              expect(fs.readFileSync(path.join(outside, "secret.txt"), "utf8")).toBe("OUTSIDE\n")
              expect(fs.readdirSync(outside)).toEqual(["secret.txt"])
            })
          )
        }
        // The cases cover every outcome: allowed and run, asked, denied by policy and refused, denied by a rule.
        expect(seen).toEqual(EXPECTED)
      }),
    120_000
  )
})
