import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { PLAN_MODE_MESSAGE, WORKSPACE_SOURCE } from "../../src/permissions/PermissionEngine.js"
import type { PermissionMode } from "../../src/services/Permissions.js"
import { decideWith, makeSandbox, mcpTool, rulesFor, type Sandbox, TOOLS, type ToolSpec } from "./helpers.js"

let sandbox: Sandbox
beforeAll(() => {
  sandbox = makeSandbox()
})
afterAll(() => sandbox.cleanup())

const KINDS: ReadonlyArray<readonly [string, ToolSpec, unknown]> = [
  ["read", TOOLS.Read, { file_path: "src/a.ts" }],
  ["read without a path", TOOLS.Glob, { pattern: "**/*.ts" }],
  ["edit", TOOLS.Edit, { file_path: "src/a.ts", old_string: "a", new_string: "b" }],
  ["execute", TOOLS.Bash, { command: "npm test" }],
  ["network", TOOLS.WebFetch, { url: "https://example.com" }],
  ["other", TOOLS.Task, { prompt: "x" }],
  ["mcp", mcpTool("mcp__srv__do"), {}]
]

const EXPECTED: Record<PermissionMode, ReadonlyArray<"allow" | "ask" | "deny">> = {
  default: ["allow", "allow", "ask", "ask", "ask", "ask", "ask"],
  acceptEdits: ["allow", "allow", "allow", "ask", "ask", "ask", "ask"],
  // WebFetch is read-only but may carry data out: it asks in plan mode too (a domain rule allows it).
  plan: ["allow", "allow", "deny", "deny", "ask", "deny", "deny"],
  bypassPermissions: ["allow", "allow", "allow", "allow", "allow", "allow", "allow"]
}

describe("modes x tool kinds (no rules)", () => {
  for (const [mode, expected] of Object.entries(EXPECTED) as Array<[PermissionMode, typeof EXPECTED.default]>) {
    for (const [i, [kind, tool, input]] of KINDS.entries()) {
      it.effect(`${mode}: ${kind} -> ${expected[i]}`, () =>
        Effect.gen(function* () {
          const rules = yield* rulesFor(sandbox, {})
          const decision = yield* decideWith(rules, tool, input, mode)
          expect(decision.type).toBe(expected[i])
          expect(decision.source).toBe(`mode:${mode}`)
          if (decision.type === "deny") expect(decision.reason).toBe(PLAN_MODE_MESSAGE)
        })
      )
    }
  }
})

describe("rules override modes", () => {
  it.effect("an allow rule allows in default mode and names the rule and its source", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, { allow: ["Bash(npm test:*)"] })
      const decision = yield* decideWith(rules, TOOLS.Bash, { command: "npm test -- -t x" })
      expect(decision).toEqual({ type: "allow", source: "rule:Bash(npm test:*) in options" })
    })
  )

  it.effect("a deny rule denies in bypassPermissions", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, { deny: ["WebFetch"] })
      const decision = yield* decideWith(rules, TOOLS.WebFetch, { url: "https://a.b" }, "bypassPermissions")
      expect(decision.type).toBe("deny")
      expect(decision.source).toBe("rule:WebFetch in options")
    })
  )

  it.effect("an ask rule asks even for a read-only tool", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, { ask: ["Read(docs/**)"], allow: ["Read"] })
      const decision = yield* decideWith(rules, TOOLS.Read, { file_path: "docs/x.md" }, "bypassPermissions")
      expect(decision.type).toBe("ask")
      expect(decision.source).toBe("rule:Read(docs/**) in options")
    })
  )

  it.effect("plan mode denies a non-read-only tool even with an allow rule", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, { allow: ["Edit"] })
      const decision = yield* decideWith(rules, TOOLS.Edit, { file_path: "a.ts" }, "plan")
      expect(decision).toEqual({ type: "deny", reason: PLAN_MODE_MESSAGE, source: "mode:plan" })
    })
  )

  it.effect(
    "reads outside the workspace: the file tools refuse, other tools ask; additionalDirectories extends it",
    () =>
      Effect.gen(function* () {
        const outside = `${sandbox.base}/shared/notes.md`
        const plain = yield* rulesFor(sandbox, {})
        // Read refuses every path outside the workspace roots: the decision says so instead of asking in vain.
        const refused = yield* decideWith(plain, TOOLS.Read, { file_path: outside })
        expect(refused).toMatchObject({ type: "deny", source: WORKSPACE_SOURCE })
        if (refused.type === "deny") expect(refused.reason).toContain("outside the workspace")
        // A tool that is not confined to the workspace (a custom one) asks, with the rule allow-always would save.
        const asked = yield* decideWith(plain, { name: "Notes", readOnly: true, kind: "read" }, { file_path: outside })
        expect(asked.type).toBe("ask")
        if (asked.type === "ask") {
          expect(asked.reason).toContain("outside the workspace")
          expect(asked.suggestion).toBe(`Read(/${outside})`)
        }
        const widened = { ...plain, additionalDirectories: [`${sandbox.base}/shared`] }
        expect((yield* decideWith(widened, TOOLS.Read, { file_path: outside })).type).toBe("allow")
        expect((yield* decideWith(widened, TOOLS.Write, { file_path: outside }, "acceptEdits")).type).toBe("allow")
      })
  )

  it.effect("asks carry the rule that allow-always would save", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, {})
      const bash = yield* decideWith(rules, TOOLS.Bash, { command: "git commit -m 'x'" })
      expect(bash).toMatchObject({ type: "ask", suggestion: "Bash(git commit:*)" })
      const edit = yield* decideWith(rules, TOOLS.Edit, { file_path: "src/a.ts" })
      expect(edit).toMatchObject({ type: "ask", suggestion: "Edit(./src/a.ts)" })
      const fetch = yield* decideWith(rules, TOOLS.WebFetch, { url: "https://docs.rs/x" })
      expect(fetch).toMatchObject({ type: "ask", suggestion: "WebFetch(domain:docs.rs)" })
      const mcp = yield* decideWith(rules, mcpTool("mcp__srv__do"), {})
      expect(mcp).toMatchObject({ type: "ask", suggestion: "mcp__srv__do" })
    })
  )

  it.effect("a shell tool without a command string asks", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, { allow: ["Bash"] })
      expect((yield* decideWith(rules, TOOLS.Bash, { command: 42 })).type).toBe("ask")
      expect((yield* decideWith(rules, TOOLS.Bash, { command: "anything | goes" })).type).toBe("allow")
    })
  )

  it.effect("an execute tool with another name is checked as a shell", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, { deny: ["Bash(rm:*)"] })
      const shell = { name: "Shell", readOnly: false, kind: "execute" } as const
      expect((yield* decideWith(rules, shell, { command: "ls; rm x" }, "bypassPermissions")).type).toBe("deny")
    })
  )

  it.effect("edit tools without a path ask under a path deny rule, even in bypass mode", () =>
    Effect.gen(function* () {
      const rules = yield* rulesFor(sandbox, { deny: ["Edit(.env)"] })
      const patch = { name: "ApplyPatch", readOnly: false, kind: "edit" } as const
      expect((yield* decideWith(rules, patch, { patch: "..." }, "bypassPermissions")).type).toBe("ask")
      expect((yield* decideWith(rules, patch, { patch: "..." }, "acceptEdits")).type).toBe("ask")
      const none = yield* rulesFor(sandbox, {})
      expect((yield* decideWith(none, patch, { patch: "..." }, "acceptEdits")).type).toBe("allow")
    })
  )

  it.effect("unknown shell syntax is allowed by bypass mode only without shell deny rules", () =>
    Effect.gen(function* () {
      const none = yield* rulesFor(sandbox, {})
      const command = { command: "f() { ls; }; f" }
      expect((yield* decideWith(none, TOOLS.Bash, command, "bypassPermissions")).type).toBe("allow")
      expect((yield* decideWith(none, TOOLS.Bash, command, "default")).type).toBe("ask")
      const denying = yield* rulesFor(sandbox, { deny: ["Bash(curl:*)"] })
      const decision = yield* decideWith(denying, TOOLS.Bash, command, "bypassPermissions")
      expect(decision.type).toBe("ask")
      expect(decision.source).toContain("Bash(curl:*)")
    })
  )
})
