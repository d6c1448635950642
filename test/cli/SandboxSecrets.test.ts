/**
 * The built `sage` binary, with a provider key and other secrets in its environment, runs a Bash command (from the
 * scripted model) that hunts for them: in its own environment and in every `/proc/<pid>/environ` it can read,
 * counting matches so that redaction cannot hide a leak. Inside the sandbox nothing is found; with `--sandbox off`
 * the kernel's copy of Sage's environment is found (the check works, and the README says so).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { withdrawCredentials } from "../../src/cli/Credentials.js"
import * as WireServer from "../support/WireServer.js"
import { answer, anthropicEnv, callTools, spawnSage, tempDir } from "./support.js"

const bwrapAvailable =
  process.env.CI === "true" || (process.env.PATH ?? "").split(":").some((dir) => fs.existsSync(path.join(dir, "bwrap")))

const PASSPHRASE = "gpg-passphrase-do-not-leak"
const DB_PASSWORD = "db-password-do-not-leak"

const HUNT = [
  `echo "own: $(env | grep -c -e sk-ant-cli-test -e ${PASSPHRASE} -e ${DB_PASSWORD})"`,
  `echo "proc: $(cat /proc/$PPID/environ /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c -e sk-ant-cli-test -e ${PASSPHRASE} -e ${DB_PASSWORD})"`,
  `echo "db: $DATABASE_URL"`
].join("; ")

/** What the model was sent back as the Bash result (the second request's last message). */
const bashResult = (wire: WireServer.WireServer): string => JSON.stringify(wire.requests[1]?.body ?? "")

const hunt = (sandbox: "require" | "off") =>
  Effect.gen(function* () {
    const wire = yield* WireServer.make
    const cwd = yield* tempDir
    wire.enqueue(callTools([{ id: "b1", name: "Bash", input: { command: HUNT } }]), answer("done"))
    const run = yield* spawnSage(
      ["-p", "hunt", "--permission-mode", "bypassPermissions", "--sandbox", sandbox, "--cwd", cwd],
      {
        ...anthropicEnv(wire.url, cwd),
        GPG_PASSPHRASE: PASSPHRASE,
        DATABASE_URL: `postgres://app:${DB_PASSWORD}@db.internal/shop`
      }
    )
    expect(run.code, run.stderr).toBe(0)
    return bashResult(wire)
  })

describe("secrets stay out of commands", () => {
  it.live.runIf(bwrapAvailable)("inside the sandbox, no environment a command can read holds a secret", () =>
    Effect.gen(function* () {
      const seen = yield* hunt("require")
      expect(seen).toContain("own: 0")
      expect(seen).toContain("proc: 0")
      expect(seen).toContain("db: postgres://app@db.internal/shop")
    })
  )

  it.live("without the sandbox the command's own environment is clean, but Sage's /proc entry is readable", () =>
    Effect.gen(function* () {
      const seen = yield* hunt("off")
      expect(seen).toContain("own: 0")
      expect(seen).toMatch(/proc: [1-9]/)
    })
  )

  it("the CLI entry keeps a copy and deletes credentials from its live environment", () => {
    const live: Record<string, string | undefined> = {
      PATH: "/bin",
      ANTHROPIC_API_KEY: "sk-ant-x",
      GPG_PASSPHRASE: "p",
      SAGE_MODEL: "m",
      DATABASE_URL: "postgres://a:b@h/d"
    }
    const copy = withdrawCredentials(live)
    expect(copy).toEqual({
      PATH: "/bin",
      ANTHROPIC_API_KEY: "sk-ant-x",
      GPG_PASSPHRASE: "p",
      SAGE_MODEL: "m",
      DATABASE_URL: "postgres://a:b@h/d"
    })
    expect(live).toEqual({ PATH: "/bin", SAGE_MODEL: "m", DATABASE_URL: "postgres://a:b@h/d" })
  })
})
