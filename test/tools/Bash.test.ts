import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { killAllGroupsNow, OutputCollector, spawnGroup } from "../../src/process/ProcessGroup.js"
import { Sandbox } from "../../src/services/Sandbox.js"
import { Workspace } from "../../src/services/Workspace.js"
import {
  type BashOptions,
  isSecretEnvName,
  makeBashTool,
  scrubEnv,
  stripControlSequences
} from "../../src/tools/Bash.js"
import { call, isAlive, tempDir, text, unconfined, workspaceOf } from "./support.js"

const setup = (options: BashOptions & { readonly env?: Readonly<Record<string, string | undefined>> } = {}) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const workspace = yield* workspaceOf([dir])
    const sandbox = yield* unconfined([dir], options.env ?? process.env)
    const bash = yield* makeBashTool({ killGrace: "500 millis", ...options }).pipe(
      Effect.provideService(Workspace, workspace),
      Effect.provideService(Sandbox, sandbox)
    )
    return { dir, bash }
  })

/** Poll until `check` holds (or fail after a generous deadline: the machine may be loaded). */
const eventually = (what: string, check: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 300; i++) {
      if (check()) return
      yield* Effect.sleep(Duration.millis(50))
    }
    throw new Error(`timed out waiting for: ${what}`)
  })

const readPid = (file: string) =>
  Effect.gen(function* () {
    yield* eventually(
      `${file} to be written`,
      () => fs.existsSync(file) && /^\d+\n/.test(fs.readFileSync(file, "utf8"))
    )
    return Number(fs.readFileSync(file, "utf8").trim())
  })

describe("Bash", () => {
  it.live("runs in the workspace and returns stdout and stderr in the order written", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { dir, bash } = yield* setup()
        const result = yield* call(bash, { command: "pwd; echo out; echo err >&2; echo out2", description: "print" })
        expect(result.status).toBe("success")
        expect(text(result)).toBe(`${dir}\nout\nerr\nout2`)
        expect(text(yield* call(bash, { command: "true" }))).toBe("(no output)")
        expect(bash).toMatchObject({ kind: "execute", readOnly: false, concurrency: { type: "sequential" } })
      })
    )
  )

  it.live("reports a non-zero exit code as an error with the output", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { bash } = yield* setup()
        const result = yield* call(bash, { command: "echo partial; ls /definitely-missing-dir; exit 3" })
        expect(result.status).toBe("error")
        const out = text(result)
        expect(out.startsWith("partial\n")).toBe(true)
        expect(out).toContain("definitely-missing-dir")
        expect(out.endsWith("\n\nexit code 3")).toBe(true)
        const syntax = yield* call(bash, { command: "echo ok; if" })
        expect(text(syntax)).toMatch(/syntax error[\s\S]*exit code 2$/)
        const killed = yield* call(bash, { command: "kill -KILL $$" })
        expect(text(killed)).toBe("(no output)\n\nterminated by signal SIGKILL")
      })
    )
  )

  it.live("keeps the head and tail of long output and says how much was cut", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { bash } = yield* setup({ maxOutputBytes: 1000 })
        const out = text(yield* call(bash, { command: "seq 1 20000" }))
        expect(out.startsWith("1\n2\n3\n")).toBe(true)
        expect(out.endsWith("19999\n20000")).toBe(true)
        const total = Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join("").length
        expect(out).toContain(`[... ${total - 1000} bytes of output cut (${total} in total)`)
        expect(out.length).toBeLessThan(1200)
      })
    )
  )

  it.live("kills the whole process group on timeout and returns the partial output", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { dir, bash } = yield* setup()
        const pidFile = path.join(dir, "pid")
        const result = yield* call(bash, {
          command: `sleep 1000 & echo $! > ${pidFile}; echo started; sleep 1000`,
          timeout_ms: 1000
        })
        expect(result.status).toBe("error")
        expect(text(result)).toBe(
          "Command timed out after 1s and was killed (with everything it started). Output so far:\nstarted"
        )
        const grandchild = Number(fs.readFileSync(pidFile, "utf8").trim())
        yield* eventually("the background sleep to die", () => !isAlive(grandchild))
      })
    )
  )

  it.live("kills a process that ignores SIGTERM with SIGKILL after the grace period", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { dir, bash } = yield* setup({ killGrace: "300 millis" })
        const pidFile = path.join(dir, "pid")
        const result = yield* call(bash, {
          command: `bash -c 'trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done' & wait`,
          timeout_ms: 1000
        })
        expect(text(result)).toContain("timed out after 1s")
        const stubborn = Number(fs.readFileSync(pidFile, "utf8").trim())
        yield* eventually("the TERM-ignoring process to die", () => !isAlive(stubborn))
      })
    )
  )

  it.live("kills the whole process group, grandchildren included, when the call is interrupted", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { dir, bash } = yield* setup()
        const pidFile = path.join(dir, "pid")
        const fiber = yield* Effect.forkChild(call(bash, { command: `sleep 1000 & echo $! > ${pidFile}; wait` }))
        const grandchild = yield* readPid(pidFile)
        expect(isAlive(grandchild)).toBe(true)
        yield* Fiber.interrupt(fiber)
        const exit = yield* Fiber.await(fiber)
        expect(Exit.hasInterrupts(exit)).toBe(true)
        yield* eventually("the grandchild to die", () => !isAlive(grandchild))
      })
    )
  )

  it.live("an interrupted call ends even when the command ignores SIGTERM (SIGKILL after the grace period)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { dir, bash } = yield* setup({ killGrace: "300 millis" })
        const pidFile = path.join(dir, "pid")
        const fiber = yield* Effect.forkChild(
          call(bash, { command: `trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done` })
        )
        const stubborn = yield* readPid(pidFile)
        // The release runs uninterruptibly: the grace period must still end it.
        yield* Fiber.interrupt(fiber).pipe(Effect.timeout("20 seconds"))
        const exit = yield* Fiber.await(fiber)
        expect(Exit.hasInterrupts(exit)).toBe(true)
        yield* eventually("the TERM-ignoring shell to die", () => !isAlive(stubborn))
      })
    )
  )

  it.live("kills background children left behind when the command ends", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { dir, bash } = yield* setup()
        const pidFile = path.join(dir, "pid")
        const result = yield* call(bash, { command: `sleep 1000 & echo $! > ${pidFile}; echo done` })
        expect(result.status).toBe("success")
        expect(text(result)).toBe("done")
        const orphan = Number(fs.readFileSync(pidFile, "utf8").trim())
        yield* eventually("the background sleep to die", () => !isAlive(orphan))
      })
    )
  )

  it.live("runs with a scrubbed environment taken from its options", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { bash } = yield* setup({
          env: {
            PATH: process.env.PATH,
            KEEP_ME: "yes",
            ANTHROPIC_API_KEY: "sk-ant-secret",
            OPENAI_API_KEY: "sk-secret",
            GITHUB_TOKEN: "ghp_secret",
            CLIENT_SECRET: "s3cret",
            AWS_ACCESS_KEY_ID: "AKIA",
            AWS_SECRET_ACCESS_KEY: "aws-secret",
            AWS_SESSION_TOKEN: "aws-session",
            AWS_REGION: "eu-west-1",
            UNSET: undefined
          }
        })
        const out = text(yield* call(bash, { command: "env" }))
        expect(out).toContain("KEEP_ME=yes")
        expect(out).toContain("AWS_REGION=eu-west-1")
        expect(out).not.toMatch(/secret|ghp_|AKIA|aws-session|UNSET/)
      })
    )
  )

  it.live("strips terminal control sequences from the output", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { bash } = yield* setup()
        const out = text(yield* call(bash, { command: "printf '\\033[1;31mred\\033[0m \\033]0;title\\007plain\\n'" }))
        expect(out).toBe("red plain")
      })
    )
  )

  it.live("refuses a timeout above the maximum and reports a shell that cannot start", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { bash } = yield* setup({ maxTimeout: "10 seconds" })
        const tooLong = yield* call(bash, { command: "true", timeout_ms: 10_001 })
        expect(tooLong.status).toBe("error")
        expect(text(tooLong)).toContain("- timeout_ms: ")
        expect(Duration.toMillis(bash.timeout!)).toBe(10_000 + 500 + 10_000)
        const { bash: broken } = yield* setup({ shell: "/nonexistent/bash" })
        const result = yield* call(broken, { command: "true" })
        expect(result.status).toBe("error")
        expect(text(result)).toContain("Could not start /nonexistent/bash")
      })
    )
  )

  it.live("invalid input is an input error, not a run", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { bash } = yield* setup()
        const wrongField = yield* call(bash, { cmd: "ls" })
        expect(wrongField.status).toBe("error")
        expect(text(wrongField)).toContain("Invalid input for tool Bash")
        expect(text(wrongField)).toContain('"cmd"')
        const wrongType = yield* call(bash, { command: 12345 })
        expect(text(wrongType)).toContain("- command: ")
      })
    )
  )

  it.live("when Node exits during a kill grace period, every process group is SIGKILLed", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const pidFile = path.join(dir, "pid")
        // A group whose leader ignores SIGTERM, started and (deliberately) never released.
        const group = yield* spawnGroup({
          command: "bash",
          args: ["-c", `trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done`],
          cwd: dir,
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
          tool: "test",
          onOutput: () => undefined
        })
        const stubborn = yield* readPid(pidFile)
        expect(stubborn).toBe(group.pid)
        process.kill(-group.pid, "SIGTERM")
        yield* Effect.sleep(Duration.millis(200))
        expect(isAlive(stubborn)).toBe(true)
        // What the "exit" hook runs.
        killAllGroupsNow()
        yield* eventually("the TERM-ignoring group to die", () => !isAlive(stubborn))
        yield* group.kill("100 millis")
      })
    )
  )
})

describe("Bash helpers", () => {
  it("recognises secret variable names", () => {
    for (const name of [
      "ANTHROPIC_API_KEY",
      "openai_api_key",
      "API_KEY",
      "GH_TOKEN",
      "TOKEN",
      "MY_SECRET",
      "DB_PASSWORD"
    ])
      expect(isSecretEnvName(name)).toBe(true)
    for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "STRIPE_SECRET_KEY"])
      expect(isSecretEnvName(name)).toBe(true)
    for (const name of ["PATH", "HOME", "AWS_REGION", "TOKENIZERS_PARALLELISM", "KEYBOARD", "SECRETARY"])
      expect(isSecretEnvName(name)).toBe(false)
    expect(scrubEnv({ A: "1", B: undefined, X_TOKEN: "t" })).toEqual({ A: "1" })
  })

  it("strips control sequences but keeps tabs and newlines", () => {
    expect(stripControlSequences("a\tb\nc\r\n\u001b[2K\u001b(Bd\u0007e\u0000")).toBe("a\tb\nc\nde")
  })

  it("OutputCollector keeps head and tail across chunk boundaries", () => {
    const collector = new OutputCollector(10)
    for (const chunk of ["abc", "defgh", "ijklmnop", "qrstuvwxyz"]) collector.push(Buffer.from(chunk))
    expect(collector.total).toBe(26)
    expect(collector.cut).toBe(16)
    expect(collector.text()).toBe(
      "abcde\n\n[... 16 bytes of output cut (26 in total); the start and the end are shown ...]\n\nvwxyz"
    )
    const small = new OutputCollector(10)
    small.push(Buffer.from("0123456789"))
    expect(small.text()).toBe("0123456789")
  })
})
