import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as BackgroundShellsLive from "../../src/layers/BackgroundShellsLive.js"
import {
  type BackgroundShellsOptions,
  describeStatus,
  make as makeBackgroundShells,
  TailBuffer
} from "../../src/process/BackgroundShells.js"
import { BackgroundShells } from "../../src/services/BackgroundShells.js"
import { Sandbox } from "../../src/services/Sandbox.js"
import { Workspace } from "../../src/services/Workspace.js"
import { makeBashTool } from "../../src/tools/Bash.js"
import { BashOutputTool } from "../../src/tools/BashOutput.js"
import { KillShellTool } from "../../src/tools/KillShell.js"
import { call, isAlive, tempDir, text, unconfined, workspaceOf } from "./support.js"

/** Poll until `check` holds (or fail after a generous deadline: the machine may be loaded). */
const eventually = <A>(what: string, check: () => Effect.Effect<A | undefined> | A | undefined) =>
  Effect.gen(function* () {
    for (let i = 0; i < 300; i++) {
      const value = check()
      const result = Effect.isEffect(value) ? yield* value : value
      if (result !== undefined && result !== false) return result
      yield* Effect.sleep(Duration.millis(50))
    }
    throw new Error(`timed out waiting for: ${what}`)
  })

/** Whether `pid` no longer exists at all (`process.kill(pid, 0)` fails). */
const gone = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return false
  } catch {
    return true
  }
}

const tools = (shells: BackgroundShells.Service, dir: string) =>
  Effect.gen(function* () {
    const bash = yield* makeBashTool()
    const output = yield* BashOutputTool
    const kill = yield* KillShellTool
    return { dir, shells, bash, output, kill }
  }).pipe(
    Effect.provideService(BackgroundShells, shells),
    Effect.provideServiceEffect(Workspace, workspaceOf([dir])),
    Effect.provideServiceEffect(Sandbox, unconfined([dir]))
  )

const setup = (options: BackgroundShellsOptions = {}) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const shells = yield* makeBackgroundShells({ killGrace: "500 millis", ...options })
    return yield* tools(shells, dir)
  })

const shellId = (started: string): string => {
  const match = /^Started background shell (bash_\d+) \(pid (\d+)\)/.exec(started)
  if (match === null) throw new Error(`unexpected start message: ${started}`)
  return match[1]!
}

const readPid = (file: string) =>
  Effect.map(
    eventually(`${file} to be written`, () => fs.existsSync(file) && /^\d+\n/.test(fs.readFileSync(file, "utf8"))),
    () => Number(fs.readFileSync(file, "utf8").trim())
  )

describe("Background shells", () => {
  it.live("start at once, report new output and status, and stop with KillShell", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { dir, shells, bash, output, kill } = yield* setup()
        const started = yield* call(bash, { command: "pwd; echo ready; sleep 1000", run_in_background: true })
        expect(started.status).toBe("success")
        const id = shellId(text(started))
        expect(text(started)).toBe(
          `Started background shell ${id} (pid ${(yield* shells.list)[0]!.pid}). Read its output with BashOutput (shell_id "${id}") and stop it with KillShell.`
        )
        const first = yield* eventually("the first output", () =>
          Effect.map(call(output, { shell_id: id }), (r) => (text(r).includes("ready") ? text(r) : undefined))
        )
        const pid = (yield* shells.list)[0]!.pid
        expect(first).toBe(`Shell ${id} (pid ${pid}): running\n${dir}\nready`)
        expect(text(yield* call(output, { shell_id: id }))).toBe(`Shell ${id} (pid ${pid}): running\n(no new output)`)
        expect(isAlive(pid)).toBe(true)

        const killed = yield* call(kill, { shell_id: id })
        expect(killed.status).toBe("success")
        expect(text(killed)).toBe(`Killed shell ${id} (pwd; echo ready; sleep 1000).`)
        expect(text(yield* call(output, { shell_id: id }))).toBe(
          `Shell ${id} (pid ${pid}): killed (SIGTERM)\n(no new output)`
        )
        yield* eventually("the shell to be gone", () => gone(pid))
        expect(output).toMatchObject({ readOnly: true, concurrency: { type: "parallel" } })
        expect(kill).toMatchObject({ kind: "execute", readOnly: false })
      })
    )
  )

  it.live("report the exit code, filter lines, and tell an already finished shell from a killed one", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { bash, output, kill } = yield* setup()
        const id = shellId(
          text(
            yield* call(bash, {
              command: "printf 'apple 1\\nbanana 2\\napricot 3\\n'; printf '\\033[31mred\\033[0m\\n'; exit 3",
              run_in_background: true
            })
          )
        )
        const read = yield* eventually("the shell to exit", () =>
          Effect.map(call(output, { shell_id: id, filter: "^a|red" }), (r) =>
            text(r).includes("exited") ? text(r) : undefined
          )
        )
        // Output produced before the exit was seen may arrive with the status or on the next read.
        const rest = text(yield* call(output, { shell_id: id, filter: "^a|red" }))
        const lines = [...read.split("\n").slice(1), ...rest.split("\n").slice(1)].filter(
          (line) => line !== "(no new output)"
        )
        expect(read.split("\n")[0]).toMatch(/^Shell bash_1 \(pid \d+\): exited with code 3$/)
        expect(lines).toEqual(["apple 1", "apricot 3", "red"])
        expect(text(yield* call(kill, { shell_id: id }))).toBe(
          `Shell ${id} had already finished (exited with code 3); anything it left running was stopped.`
        )
        const bad = yield* call(output, { shell_id: id, filter: "([" })
        expect(bad.status).toBe("error")
        expect(text(bad)).toMatch(/^Invalid filter regular expression "\(\[": /)
      })
    )
  )

  it.live("keep only the tail of unread output and say how much was dropped", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { shells, bash, output } = yield* setup({ maxBufferChars: 1000 })
        const total = Array.from({ length: 100000 }, (_, i) => `${i + 1}\n`).join("").length
        const exited = (id: string) =>
          eventually(`${id} to exit`, () =>
            Effect.map(shells.list, (list) => list.find((s) => s.id === id && s.status.state === "exited"))
          )
        // Registry level: every character is either returned or counted as dropped.
        const id = shellId(text(yield* call(bash, { command: "seq 1 100000", run_in_background: true })))
        yield* exited(id)
        let seen = ""
        let dropped = 0
        yield* eventually("all output to be accounted for", () =>
          Effect.map(Effect.orDie(shells.read(id)), (read) => {
            seen += read.output
            dropped += read.dropped
            return seen.length + dropped === total ? true : undefined
          })
        )
        expect(dropped).toBeGreaterThan(0)
        expect(seen.endsWith("99999\n100000\n")).toBe(true)
        // Tool level: the note.
        const again = shellId(text(yield* call(bash, { command: "seq 1 100000", run_in_background: true })))
        yield* exited(again)
        expect(text(yield* call(output, { shell_id: again }))).toMatch(
          /^Shell bash_2 \(pid \d+\): exited with code 0\n\[\d+ characters of earlier output were dropped; only the most recent is kept\]\n/
        )
      })
    )
  )

  it.live("closing the scope kills every background process group", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const pids = yield* Effect.scoped(
          Effect.gen(function* () {
            const shells = yield* makeBackgroundShells({ killGrace: "500 millis" })
            const { bash } = yield* tools(shells, dir)
            const pidFile = path.join(dir, "pid")
            yield* call(bash, { command: `sleep 1000 & echo $! > ${pidFile}; sleep 1000`, run_in_background: true })
            yield* call(bash, { command: "trap '' TERM; while :; do sleep 0.05; done", run_in_background: true })
            const grandchild = yield* readPid(pidFile)
            const leaders = (yield* shells.list).map((shell) => shell.pid)
            for (const pid of [...leaders, grandchild]) expect(isAlive(pid)).toBe(true)
            return { leaders, grandchild }
          })
        )
        for (const pid of pids.leaders) yield* eventually(`leader ${pid} to be gone`, () => gone(pid))
        yield* eventually("the grandchild to die", () => !isAlive(pids.grandchild))
      })
    )
  )

  it.live("refuse unknown ids, too many shells, a closed registry, and report a shell that cannot start", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const closed = yield* Effect.scoped(
          Effect.gen(function* () {
            const shells = yield* makeBackgroundShells({ maxRunning: 1, maxRetained: 1, killGrace: "200 millis" })
            const { bash, output, kill } = yield* tools(shells, dir)
            const none = yield* call(output, { shell_id: "bash_9" })
            expect(none.status).toBe("error")
            expect(text(none)).toBe('No background shell with id "bash_9". No shells have been started.')
            const first = shellId(text(yield* call(bash, { command: "sleep 1000", run_in_background: true })))
            const full = yield* call(bash, { command: "true", run_in_background: true })
            expect(text(full)).toBe(
              "1 background shells are already running (the limit is 1). Stop one with KillShell first."
            )
            expect(text(yield* call(kill, { shell_id: "bash_7" }))).toBe(
              `No background shell with id "bash_7". Known shells: ${first}.`
            )
            yield* call(kill, { shell_id: first })
            // The limit counts running shells; the finished one is forgotten beyond maxRetained.
            const second = shellId(text(yield* call(bash, { command: "true", run_in_background: true })))
            expect((yield* shells.list).map((s) => s.id)).toEqual([second])
            return shells
          })
        )
        const { bash } = yield* tools(closed, dir)
        expect(text(yield* call(bash, { command: "true", run_in_background: true }))).toBe(
          "The session is closing; no new background shells can start."
        )
        const broken = yield* Effect.scoped(
          Effect.gen(function* () {
            const shells = yield* makeBackgroundShells()
            return yield* Effect.flip(shells.start({ command: "true", cwd: dir, env: {}, shell: "/nonexistent/sh" }))
          })
        )
        expect(broken.message).toBe(`Could not start /nonexistent/sh in ${dir}: spawn /nonexistent/sh ENOENT`)
        const without = yield* makeBashTool().pipe(
          Effect.provideServiceEffect(Workspace, workspaceOf([dir])),
          Effect.provideServiceEffect(Sandbox, unconfined([dir]))
        )
        expect(text(yield* call(without, { command: "true", run_in_background: true }))).toBe(
          "Background shells are not available in this session; run the command without run_in_background."
        )
        expect(without.description).not.toContain("run_in_background")
      })
    )
  )
})

describe("BackgroundShellsLive", () => {
  it.live("is a scoped layer: closing it kills every shell", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const pid = yield* Effect.scoped(
          Effect.gen(function* () {
            const context = yield* Layer.build(BackgroundShellsLive.layer({ killGrace: "200 millis" }))
            const shells = yield* Effect.provideContext(
              Effect.gen(function* () {
                return yield* BackgroundShells
              }),
              context
            )
            const started = yield* shells.start({
              command: "sleep 1000",
              cwd: dir,
              env: { PATH: process.env.PATH ?? "" }
            })
            expect(isAlive(started.pid)).toBe(true)
            return started.pid
          })
        )
        yield* eventually("the shell to be gone", () => gone(pid))
      })
    )
  )
})

describe("Background shell helpers", () => {
  it("TailBuffer keeps the last characters and positions in the whole stream", () => {
    const buffer = new TailBuffer(5)
    buffer.push("abc")
    buffer.push("")
    expect(buffer.since(0)).toEqual({ text: "abc", dropped: 0 })
    buffer.push("defgh")
    expect(buffer.total).toBe(8)
    expect(buffer.since(3)).toEqual({ text: "defgh", dropped: 0 })
    expect(buffer.since(0)).toEqual({ text: "defgh", dropped: 3 })
    buffer.push("ijklmnopq")
    expect(buffer.since(8)).toEqual({ text: "mnopq", dropped: 4 })
    expect(buffer.since(17)).toEqual({ text: "", dropped: 0 })
  })

  it("describeStatus", () => {
    expect(describeStatus({ state: "running" })).toBe("running")
    expect(describeStatus({ state: "exited", exitCode: 0 })).toBe("exited with code 0")
    expect(describeStatus({ state: "killed", signal: "SIGKILL" })).toBe("killed (SIGKILL)")
    expect(describeStatus({ state: "killed", signal: null })).toBe("killed")
  })
})
