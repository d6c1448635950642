import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import { PermissionError } from "../../src/errors/PermissionError.js"
import { layerWithSettings as layer } from "../../src/layers/PermissionsLive.js"
import { MAX_SESSIONS_WITH_GRANTS, makePermissions, startingMode } from "../../src/permissions/PermissionEngine.js"
import {
  lineColumn,
  loadRuleSet,
  locateJsonPath,
  makeSettings,
  parseSettings,
  type SettingsOptions,
  splitRuleList
} from "../../src/permissions/Settings.js"
import { Permissions } from "../../src/services/Permissions.js"
import { Settings } from "../../src/services/Settings.js"
import { makeSandbox, type Sandbox, settingsJson, TOOLS } from "./helpers.js"

let sandbox: Sandbox
beforeEach(() => {
  sandbox = makeSandbox()
})
afterEach(() => sandbox.cleanup())

const userFile = () => "home/.sage/settings.json"
const projectFile = () => "project/.sage/settings.json"
const localFile = () => "project/.sage/settings.local.json"

const bash = (command: string) => ({ id: "c", name: "Bash", input: { command } })
const ctx = (mode: "default" | "bypassPermissions" = "default") => ({ tool: TOOLS.Bash, cwd: sandbox.root, mode })

/** The Permissions service on its own Settings, with the current rule set beside it. */
const make = (options: SettingsOptions) =>
  Effect.gen(function* () {
    const settings = yield* makeSettings(options)
    const permissions = yield* Effect.provideService(makePermissions, Settings, settings)
    return { ...permissions, rules: settings.ruleSet }
  })

const failure = <A>(effect: Effect.Effect<A, PermissionError>) =>
  Effect.gen(function* () {
    const exit = yield* Effect.exit(effect)
    if (Exit.isSuccess(exit)) throw new Error("expected a failure")
    const error = yield* Effect.flip(exit)
    expect(error).toBeInstanceOf(PermissionError)
    return error
  })

describe("settings precedence and merge", () => {
  it.effect("merges all files; deny beats ask beats allow across files", () =>
    Effect.gen(function* () {
      sandbox.write(userFile(), settingsJson({ allow: ["Bash(npm test:*)", "Bash(git log:*)", "Bash(ls:*)"] }))
      const project = sandbox.write(projectFile(), settingsJson({ deny: ["Bash(npm test:*)"], ask: ["Bash(ls:*)"] }))
      const local = sandbox.write(localFile(), settingsJson({ allow: ["Bash(npm run build)"], defaultMode: "plan" }))
      const service = yield* make({ cwd: sandbox.root, homeDir: sandbox.home })
      const rules = yield* service.rules
      expect(rules.files).toEqual([path.join(sandbox.home, ".sage/settings.json"), project, local])
      expect(startingMode(undefined, rules)).toBe("plan")
      expect(startingMode("acceptEdits", rules)).toBe("acceptEdits")

      const denied = yield* service.check(bash("npm test"), ctx())
      expect(denied).toMatchObject({ type: "deny", source: `rule:Bash(npm test:*) in ${project}` })
      const asked = yield* service.check(bash("ls -la"), ctx())
      expect(asked).toMatchObject({ type: "ask", source: `rule:Bash(ls:*) in ${project}` })
      const allowed = yield* service.check(bash("git log --oneline && npm run build"), ctx())
      expect(allowed.type).toBe("allow")
      expect(allowed.source).toContain(`rule:Bash(git log:*) in ${path.join(sandbox.home, ".sage/settings.json")}`)
      expect(allowed.source).toContain(`rule:Bash(npm run build) in ${local}`)
    })
  )

  it.effect("CLI flags add rules on top; --disallowed-tools denies what settings allow", () =>
    Effect.gen(function* () {
      sandbox.write(projectFile(), settingsJson({ allow: ["Bash(git push:*)"] }))
      const service = yield* make({
        cwd: sandbox.root,
        homeDir: sandbox.home,
        flags: { allowed: ["Read,Bash(git log:*) Bash(npm run lint)"], disallowed: ["Bash(git push:*)"] }
      })
      expect(yield* service.check(bash("git push"), ctx())).toMatchObject({
        type: "deny",
        source: "rule:Bash(git push:*) in --disallowed-tools"
      })
      expect(yield* service.check(bash("git log -1; npm run lint"), ctx())).toMatchObject({ type: "allow" })
    })
  )

  it.effect("additionalDirectories resolve against the project and home", () =>
    Effect.gen(function* () {
      sandbox.write(userFile(), settingsJson({ additionalDirectories: ["~/notes"] }))
      sandbox.write(projectFile(), settingsJson({ additionalDirectories: ["../shared", "/opt/data"] }))
      const rules = yield* loadRuleSet({ cwd: sandbox.root, homeDir: sandbox.home })
      expect(rules.additionalDirectories).toEqual([
        path.join(sandbox.home, "notes"),
        path.join(sandbox.base, "shared"),
        "/opt/data"
      ])
    })
  )

  it.effect("no settings files at all is fine", () =>
    Effect.gen(function* () {
      const rules = yield* loadRuleSet({ cwd: sandbox.root, homeDir: sandbox.home })
      expect(rules.rules).toEqual([])
      expect(rules.files).toEqual([])
      expect(rules.defaultMode).toBeUndefined()
    })
  )
})

describe("malformed settings", () => {
  it.effect("bad JSON fails with the file and line, and allowAlways leaves the file unchanged", () =>
    Effect.gen(function* () {
      const text = '{\n  "permissions": {\n    "allow": ["Read",]\n  }\n}\n'
      const file = sandbox.write(localFile(), text)
      const error = yield* failure(loadRuleSet({ cwd: sandbox.root, homeDir: sandbox.home }))
      expect(error.message.startsWith(`${file}:3:`)).toBe(true)
      expect(error.message).toContain("invalid JSON")
      expect(error.source).toBe(file)
      const built = yield* Effect.exit(Effect.provide(Permissions, layer({ cwd: sandbox.root, homeDir: sandbox.home })))
      expect(Exit.isFailure(built)).toBe(true)
      expect(fs.readFileSync(file, "utf8")).toBe(text)
    })
  )

  it.effect("a bad shape names the key and its line", () =>
    Effect.gen(function* () {
      const file = sandbox.write(projectFile(), '{\n  "model": "x",\n  "permissions": {\n    "deny": "Bash"\n  }\n}')
      const error = yield* failure(loadRuleSet({ cwd: sandbox.root, homeDir: sandbox.home }))
      expect(error.message).toContain(`${file}:4:`)
      expect(error.message).toContain("permissions.deny")
    })
  )

  it.effect("an invalid defaultMode is an error", () =>
    Effect.gen(function* () {
      sandbox.write(userFile(), '{"permissions": {"defaultMode": "yolo"}}')
      const error = yield* failure(loadRuleSet({ cwd: sandbox.root, homeDir: sandbox.home }))
      expect(error.message).toContain(":1:")
      expect(error.message).toContain("defaultMode")
    })
  )

  it.effect("an unparsable rule names its line", () =>
    Effect.gen(function* () {
      const file = sandbox.write(
        projectFile(),
        settingsJson({ allow: ["Read", "Edit(src/**)"], ask: ["Bash(npm test"] }, { env: {} })
      )
      const error = yield* failure(loadRuleSet({ cwd: sandbox.root, homeDir: sandbox.home }))
      const line =
        fs
          .readFileSync(file, "utf8")
          .split("\n")
          .findIndex((l) => l.includes("Bash(npm test")) + 1
      expect(error.message).toContain(`${file}:${line}:`)
      expect(error.message).toContain('missing ")"')
    })
  )

  it.effect("the top level must be an object; a settings path that is a directory is an error", () =>
    Effect.gen(function* () {
      sandbox.write(projectFile(), "[1, 2]")
      expect((yield* failure(loadRuleSet({ cwd: sandbox.root, homeDir: sandbox.home }))).message).toContain(":1:1:")
      fs.rmSync(path.join(sandbox.root, ".sage"), { recursive: true })
      fs.mkdirSync(path.join(sandbox.root, ".sage", "settings.json"), { recursive: true })
      expect((yield* failure(loadRuleSet({ cwd: sandbox.root, homeDir: sandbox.home }))).message).toContain(
        "cannot read"
      )
    })
  )

  it.effect("an invalid flag rule fails naming the flag", () =>
    Effect.gen(function* () {
      const error = yield* failure(
        loadRuleSet({ cwd: sandbox.root, homeDir: sandbox.home, flags: { allowed: [], disallowed: ["Bash(:*)"] } })
      )
      expect(error.message).toContain("--disallowed-tools")
      expect(error.source).toBe("--disallowed-tools")
    })
  )

  it("reports truncated JSON at its last line", () => {
    const result = parseSettings("/x.json", '{\n"permissions": {\n', { projectRoot: "/p", homeDir: "/h" })
    expect(Result.isFailure(result) && result.failure.message).toMatch(/^\/x\.json:3:1: invalid JSON/)
  })

  it("locates JSON paths and lines", () => {
    const text = '{\n  "a": [1, {"b": "x\\"y"}],\n  "c": {"d": true}\n}'
    expect(lineColumn(text, locateJsonPath(text, ["a", 1, "b"]))).toEqual({ line: 2, column: 18 })
    expect(lineColumn(text, locateJsonPath(text, ["c", "d"]))).toEqual({ line: 3, column: 14 })
    expect(lineColumn(text, locateJsonPath(text, ["c", "missing"]))).toEqual({ line: 3, column: 8 })
    expect(splitRuleList("Read, Bash(git log:*)  Edit(a b)")).toEqual(["Read", "Bash(git log:*)", "Edit(a b)"])
  })
})

describe("allowAlways", () => {
  it.effect("appends to settings.local.json, creating it, and the next check allows", () =>
    Effect.gen(function* () {
      const service = yield* make({ cwd: sandbox.root, homeDir: sandbox.home })
      expect((yield* service.check(bash("npm run build"), ctx())).type).toBe("ask")
      yield* service.allowAlways("Bash(npm run build:*)")
      yield* service.allowAlways("Bash(npm run build:*)")
      const file = path.join(sandbox.root, ".sage", "settings.local.json")
      expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual({ permissions: { allow: ["Bash(npm run build:*)"] } })
      expect(yield* service.check(bash("npm run build -- --prod"), ctx())).toEqual({
        type: "allow",
        source: `rule:Bash(npm run build:*) in ${file}`
      })
      expect(fs.readdirSync(path.dirname(file))).toEqual(["settings.local.json"])
    })
  )

  it.effect("keeps the other content of an existing file", () =>
    Effect.gen(function* () {
      const file = sandbox.write(
        localFile(),
        JSON.stringify({ model: "m", permissions: { allow: ["Read"], deny: ["Bash(rm:*)"], defaultMode: "plan" } })
      )
      yield* Effect.provide(
        Effect.flatMap(Permissions, (p) => p.allowAlways("WebFetch(domain:docs.rs)")),
        layer({ cwd: sandbox.root, homeDir: sandbox.home })
      )
      expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual({
        model: "m",
        permissions: { allow: ["Read", "WebFetch(domain:docs.rs)"], deny: ["Bash(rm:*)"], defaultMode: "plan" }
      })
    })
  )

  it.effect("rejects an invalid rule without writing anything", () =>
    Effect.gen(function* () {
      const service = yield* make({ cwd: sandbox.root, homeDir: sandbox.home })
      const error = yield* failure(service.allowAlways("Bash("))
      expect(error.message).toContain("invalid rule")
      expect(fs.existsSync(path.join(sandbox.root, ".sage"))).toBe(false)
    })
  )

  it.effect("refuses to overwrite a file that became malformed", () =>
    Effect.gen(function* () {
      const service = yield* make({ cwd: sandbox.root, homeDir: sandbox.home })
      const file = sandbox.write(localFile(), "{ not json")
      const error = yield* failure(service.allowAlways("Read"))
      expect(error.message).toContain(`${file}:1:`)
      expect(fs.readFileSync(file, "utf8")).toBe("{ not json")
    })
  )

  it.effect("reports a write failure and leaves no temporary file", () =>
    Effect.gen(function* () {
      const service = yield* make({ cwd: sandbox.root, homeDir: sandbox.home })
      // the target path is a directory: the rename fails
      fs.mkdirSync(path.join(sandbox.root, ".sage", "settings.local.json", "x"), { recursive: true })
      const error = yield* failure(service.allowAlways("Read"))
      expect(error.message).toContain("cannot")
      expect(fs.readdirSync(path.join(sandbox.root, ".sage"))).toEqual(["settings.local.json"])
    })
  )
})

describe("allowForSession", () => {
  const inSession = (sessionId: string) => ({ ...ctx(), sessionId })

  it.effect("allows in that session only, until endSession; writes no file", () =>
    Effect.gen(function* () {
      const service = yield* make({ cwd: sandbox.root, homeDir: sandbox.home })
      if (service.allowForSession === undefined || service.endSession === undefined)
        throw new Error("no session grants")
      yield* service.allowForSession("Bash(npm run build:*)", "a")
      yield* service.allowForSession("Bash(npm run build:*)", "a")
      expect(yield* service.check(bash("npm run build"), inSession("a"))).toEqual({
        type: "allow",
        source: "rule:Bash(npm run build:*) in session"
      })
      expect((yield* service.check(bash("npm run build"), inSession("b"))).type).toBe("ask")
      expect((yield* service.check(bash("npm run build"), ctx())).type).toBe("ask")
      yield* service.endSession("a")
      expect((yield* service.check(bash("npm run build"), inSession("a"))).type).toBe("ask")
      expect(fs.existsSync(path.join(sandbox.root, ".sage"))).toBe(false)
      const error = yield* failure(service.allowForSession("Bash(", "a"))
      expect(error.message).toContain("invalid rule")
    })
  )

  it.effect(`keeps the rules of ${MAX_SESSIONS_WITH_GRANTS} sessions at most: the least recently granted go`, () =>
    Effect.gen(function* () {
      const service = yield* make({ cwd: sandbox.root, homeDir: sandbox.home })
      const allow = service.allowForSession
      if (allow === undefined) throw new Error("no session grants")
      yield* allow("Bash(npm run build:*)", "first")
      yield* allow("Bash(npm run build:*)", "second")
      for (let i = 0; i < MAX_SESSIONS_WITH_GRANTS - 2; i++) yield* allow("Bash(make:*)", `session-${i}`)
      // A new rule for "first" makes it the most recently granted: "second" is now the oldest.
      yield* allow("Bash(npm test)", "first")
      yield* allow("Bash(make:*)", "one-more")
      expect((yield* service.check(bash("npm run build"), inSession("second"))).type).toBe("ask")
      expect((yield* service.check(bash("npm run build && npm test"), inSession("first"))).type).toBe("allow")
      expect((yield* service.check(bash("make all"), inSession("session-0"))).type).toBe("allow")
      yield* allow("Bash(make:*)", "and-another")
      expect((yield* service.check(bash("make all"), inSession("session-0"))).type).toBe("ask")
      expect((yield* service.check(bash("make all"), inSession("session-1"))).type).toBe("allow")
    })
  )
})

describe("settings typos and unknown names are errors with positions", () => {
  const load = (extra: Partial<SettingsOptions> = {}) =>
    failure(loadRuleSet({ cwd: sandbox.root, homeDir: sandbox.home, ...extra }))

  it.effect("an unknown top-level key names the file, line, the key, the valid keys and the closest", () =>
    Effect.gen(function* () {
      const file = sandbox.write(projectFile(), '{\n  "permisions": {\n    "allow": ["Read"]\n  }\n}\n')
      const error = yield* load()
      expect(error.message).toBe(
        `${file}:2:3: unknown key "permisions" at the top level; expected one of: $schema, permissions, model, env, models, compaction, sandbox, hooks, mcpServers (did you mean "permissions"?)`
      )
      expect(error.source).toBe(file)
    })
  )

  it.effect("an unknown key in permissions names the valid keys and the closest", () =>
    Effect.gen(function* () {
      const file = sandbox.write(localFile(), '{\n  "permissions": {\n    "deny": [],\n    "alow": ["Read"]\n  }\n}\n')
      const error = yield* load()
      expect(error.message).toBe(
        `${file}:4:5: unknown key "alow" in permissions; expected one of: allow, ask, deny, additionalDirectories, defaultMode (did you mean "allow"?)`
      )
    })
  )

  it.effect("a rule naming an unknown tool names it, the known tools and the closest", () =>
    Effect.gen(function* () {
      const file = sandbox.write(
        userFile(),
        '{\n  "permissions": {\n    "allow": [\n      "Raed(./src/**)"\n    ]\n  }\n}'
      )
      const error = yield* load()
      expect(
        error.message.startsWith(
          `${file}:4:7: invalid rule "Raed(./src/**)": unknown tool "Raed"; expected one of Bash, BashOutput, KillShell, Read,`
        )
      ).toBe(true)
      expect(error.message).toContain('(did you mean "Read"?)')
      expect(error.message).toContain("mcp__<server>")
      expect(error.message).toContain("(in permissions.allow[0])")
    })
  )

  it.effect("allow rules must spell tool names exactly; deny and ask rules may use any case", () =>
    Effect.gen(function* () {
      sandbox.write(projectFile(), settingsJson({ deny: ["bash(rm:*)"], ask: ["READ(./x)"] }))
      expect((yield* loadRuleSet({ cwd: sandbox.root, homeDir: sandbox.home })).rules.length).toBe(2)
      sandbox.write(projectFile(), settingsJson({ allow: ["bash(ls:*)"] }))
      expect((yield* load()).message).toContain('case-sensitive in allow rules (did you mean "Bash"?)')
    })
  )

  it.effect("custom tool names and MCP names are accepted; flags are checked too", () =>
    Effect.gen(function* () {
      sandbox.write(projectFile(), settingsJson({ allow: ["deploy", "mcp__github__create_issue", "mcp__jira"] }))
      expect((yield* load()).message).toContain('unknown tool "deploy"')
      const rules = yield* loadRuleSet({ cwd: sandbox.root, homeDir: sandbox.home, toolNames: ["deploy"] })
      expect(rules.rules.map((r) => r.tool)).toEqual(["deploy", "mcp__github__create_issue", "mcp__jira"])
      fs.rmSync(path.join(sandbox.root, ".sage"), { recursive: true })
      const flag = yield* load({ flags: { allowed: ["Read,Grpe"], disallowed: [] } })
      expect(flag.message).toContain('--allowed-tools: invalid rule "Grpe": unknown tool "Grpe"')
      expect(flag.message).toContain('did you mean "Grep"?')
    })
  )

  it.effect("wrong types and modes say what was found and what was expected", () =>
    Effect.gen(function* () {
      sandbox.write(projectFile(), '{"permissions": {"defaultMode": "acceptEdit"}}')
      expect((yield* load()).message).toContain(
        'invalid settings at permissions.defaultMode: expected one of default, acceptEdits, plan, bypassPermissions (did you mean "acceptEdits"?), found a string "acceptEdit"'
      )
      sandbox.write(projectFile(), '{"permissions": {"allow": ["Read", 3]}}')
      expect((yield* load()).message).toContain(
        ":1:36: invalid settings at permissions.allow[1]: expected a string, found a number 3"
      )
      sandbox.write(projectFile(), '{"permissions": ["Read"]}')
      expect((yield* load()).message).toContain("expected an object, found an array")
      sandbox.write(projectFile(), '{\n  // a comment\n  "permissions": {}\n}')
      expect((yield* load()).message).toContain(":2:3: invalid JSON: comments are not allowed")
    })
  )

  it.effect("allowAlways keeps the layout of an existing file", () =>
    Effect.gen(function* () {
      const text = '{\n    "model": "m",\n    "permissions": {\n        "allow": ["Read"]\n    }\n}\n'
      const file = sandbox.write(localFile(), text)
      const service = yield* make({ cwd: sandbox.root, homeDir: sandbox.home })
      yield* service.allowAlways("Bash(make:*)")
      const updated = fs.readFileSync(file, "utf8")
      expect(updated.startsWith('{\n    "model": "m",\n    "permissions": {\n')).toBe(true)
      expect(JSON.parse(updated)).toEqual({ model: "m", permissions: { allow: ["Read", "Bash(make:*)"] } })
      const other = sandbox.write(localFile(), '{"model": "m"}')
      yield* service.allowAlways("Bash(make:*)")
      expect(JSON.parse(fs.readFileSync(other, "utf8"))).toEqual({
        model: "m",
        permissions: { allow: ["Bash(make:*)"] }
      })
    })
  )
})
