/** Hooks from a project's settings file in `sage -p` (the CLI in this process, the scripted model, real commands). */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { anthropicEnv, answer, callTools, runInProcess, tempDir } from "../cli/support.js"
import * as WireServer from "../support/WireServer.js"
import { command, script, writeSettings } from "./support.js"

describe("sage -p with hooks", () => {
  it.live("a PreToolUse hook refuses a command; text mode says so; SessionStart and Stop hooks run", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const deny = script(cwd, "deny.sh", `echo "no shell in this project" >&2; exit 2`)
      const start = script(cwd, "start.sh", `echo "the project uses tabs"`)
      const stop = script(cwd, "stop.sh", `touch "${cwd}/stopped"`)
      writeSettings(cwd, {
        PreToolUse: [{ matcher: "Bash", hooks: [command(deny)] }],
        SessionStart: [{ hooks: [command(start)] }],
        Stop: [{ hooks: [command(stop)] }]
      })
      wire.enqueue(callTools([{ id: "b", name: "Bash", input: { command: "touch made" } }]), answer("fine"))
      const run = yield* runInProcess(
        ["-p", "go", "--permission-mode", "bypassPermissions", "--sandbox", "off"],
        anthropicEnv(wire.url, cwd),
        { cwd }
      )
      expect(run.code).toBe(0)
      expect(run.stdout).toContain("fine")
      expect(run.stderr).toContain(`sage: PreToolUse hook (${deny}) blocked: no shell in this project`)
      expect(fs.existsSync(path.join(cwd, "made"))).toBe(false)
      expect(fs.existsSync(path.join(cwd, "stopped"))).toBe(true)
      expect(JSON.stringify(wire.requests[0]?.body)).toContain("the project uses tabs")
    })
  )
})
