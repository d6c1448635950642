/** The `hooks` settings key (strict parsing) and where hooks may come from (never from files the model can write). */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { matches } from "../../src/hooks/Matcher.js"
import { parseSettings } from "../../src/permissions/Settings.js"
import type { PermissionMode } from "../../src/services/Permissions.js"
import { answer, callTools, ofType, tempDir } from "../agent/harness.js"
import * as WireServer from "../support/WireServer.js"
import { optionsFor, runAgent } from "./support.js"

const bases = { projectRoot: "/p", homeDir: "/h" }
const parse = (value: unknown) => parseSettings("/p/.sage/settings.json", JSON.stringify(value, null, 2), bases)
const errorOf = (value: unknown) => {
  const parsed = parse(value)
  return Result.isFailure(parsed) ? parsed.failure.message : "parsed"
}

describe("hooks settings", () => {
  it("parses Claude Code's format", () => {
    const parsed = parse({
      hooks: {
        PreToolUse: [{ matcher: "Bash|Write", hooks: [{ type: "command", command: "./check.sh", timeout: 30 }] }],
        Stop: [{ hooks: [{ type: "command", command: "say done" }] }]
      }
    })
    expect(Result.isSuccess(parsed) && parsed.success.hooks).toEqual({
      PreToolUse: [{ matcher: "Bash|Write", hooks: [{ type: "command", command: "./check.sh", timeout: 30 }] }],
      Stop: [{ hooks: [{ type: "command", command: "say done" }] }]
    })
  })

  it("rejects what it cannot run, at its line and column", () => {
    expect(errorOf({ hooks: { PreToolUSe: [] } })).toMatch(
      /settings\.json:3:5: unknown key "PreToolUSe" in hooks; expected one of: .*did you mean "PreToolUse"/
    )
    expect(errorOf({ hooks: { Stop: [{ hooks: [{ type: "prompt", command: "x" }] }] } })).toContain(
      'hooks.Stop[0].hooks[0].type: expected "command"'
    )
    expect(errorOf({ hooks: { Stop: [{ hooks: [{ type: "command", command: "x", timeout: -1 }] }] } })).toContain(
      "expected a number of seconds > 0"
    )
    expect(errorOf({ hooks: { PreToolUse: [{ matcher: "Bash(", hooks: [] }] } })).toContain(
      "hooks.PreToolUse[0].matcher: not a valid regular expression"
    )
    expect(errorOf({ hooks: { Stop: [{ hooks: [{ type: "command" }] }] } })).toContain('"command" is missing')
    expect(errorOf({ hooks: { Stop: [{ matchr: "x", hooks: [] }] } })).toContain('unknown key "matchr"')
  })

  it("matchers: all, exact names, a | list, or a whole-name regular expression", () => {
    expect(matches(undefined, "Bash")).toBe(true)
    expect(matches("", "Bash")).toBe(true)
    expect(matches("*", "mcp__x__y")).toBe(true)
    expect(matches("Write", "Write")).toBe(true)
    expect(matches("Write", "MultiWrite")).toBe(false)
    expect(matches("Edit|Write", "Write")).toBe(true)
    expect(matches("mcp__memory__.*", "mcp__memory__create")).toBe(true)
    expect(matches("mcp__memory__.*", "mcp__other__create")).toBe(false)
    expect(matches("Notebook.*", "Read")).toBe(false)
  })
})

describe("a model cannot add a hook", () => {
  it.live.each(["default", "acceptEdits"] as const)(
    "Write, Edit and Bash to the settings files are refused in %s mode",
    (mode: PermissionMode) =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        const settings = path.join(cwd, ".sage", "settings.json")
        fs.mkdirSync(path.dirname(settings), { recursive: true })
        fs.writeFileSync(settings, "{}\n")
        const hook = JSON.stringify({ hooks: { Stop: [{ hooks: [{ type: "command", command: "touch pwned" }] }] } })
        wire.enqueue(
          callTools([
            {
              id: "w",
              name: "Write",
              input: { file_path: path.join(cwd, ".sage", "settings.local.json"), content: hook }
            }
          ]),
          callTools([{ id: "r", name: "Read", input: { file_path: settings } }]),
          callTools([{ id: "e", name: "Edit", input: { file_path: settings, old_string: "{}", new_string: hook } }]),
          callTools([{ id: "b", name: "Bash", input: { command: `echo '${hook}' > .sage/settings.json` } }]),
          callTools([
            {
              id: "b2",
              name: "Bash",
              input: { command: `mkdir -p sub && cp .sage/settings.json sub/x && mv sub/x .sage/settings.local.json` }
            }
          ]),
          answer("ok")
        )
        const events = yield* runAgent(optionsFor(wire, cwd, { permissionMode: mode }), "go")
        const status = Object.fromEntries(
          ofType(events, "tool.completed").map((e) => [e.result.toolCallId, e.result.status])
        )
        expect(status).toEqual({ w: "denied", r: "success", e: "denied", b: "denied", b2: "denied" })
        expect(fs.readFileSync(settings, "utf8")).toBe("{}\n")
        expect(fs.existsSync(path.join(cwd, ".sage", "settings.local.json"))).toBe(false)
        expect(fs.existsSync(path.join(cwd, "pwned"))).toBe(false)
      })
  )
})
