/** The built `sage` binary as a child process: what only a real process shows (signals, a closed pipe, start-up). */
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { VERSION } from "../../src/cli/version.js"
import { anthropicEvents } from "../support/anthropicSse.js"
import * as WireServer from "../support/WireServer.js"
import {
  answer,
  anthropicEnv,
  baseEnv,
  callTools,
  hang,
  isAlive,
  realSleep,
  spawnSage,
  tempDir,
  waitFor
} from "./support.js"

const jsonLines = (text: string): ReadonlyArray<Record<string, unknown>> =>
  text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line))

/** A Bash call whose command (and its child) ignore SIGTERM and write their pids to `pidFile`. */
const stubbornBash = (pidFile: string) =>
  callTools([
    {
      id: "b1",
      name: "Bash",
      input: { command: `trap '' TERM; sleep 120 & echo "$$ $!" > ${pidFile}; wait` }
    }
  ])

const pidsIn = (file: string): ReadonlyArray<number> =>
  fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split(/\s+/).filter(Boolean).map(Number) : []

/** Start `sage` on a turn whose Bash command ignores SIGTERM; resolves once the command runs. */
const startStubborn = (signalCwd: string, wire: WireServer.WireServer) =>
  Effect.gen(function* () {
    const pidFile = path.join(signalCwd, "pids")
    wire.enqueue(stubbornBash(pidFile), answer("never"))
    let child: ChildProcess | undefined
    const running = yield* Effect.forkChild(
      spawnSage(
        [
          "-p",
          "run it",
          "--permission-mode",
          "bypassPermissions",
          "--sandbox",
          "off",
          "--output-format",
          "stream-json",
          "--cwd",
          signalCwd
        ],
        anthropicEnv(wire.url, signalCwd),
        {
          onSpawn: (c) => {
            child = c
          }
        }
      )
    )
    expect(yield* waitFor(() => pidsIn(pidFile).length === 2)).toBe(true)
    yield* realSleep(100)
    return { running, child: () => child, pids: pidsIn(pidFile) }
  })

describe("sage binary", () => {
  it.live("prints its version (matching package.json) and help without ANSI codes when piped", () =>
    Effect.gen(function* () {
      const version = yield* spawnSage(["--version"], baseEnv())
      expect(version.code).toBe(0)
      expect(version.stdout.trim()).toBe(VERSION)
      const pkg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "../../package.json"), "utf8"))
      expect(VERSION).toBe(pkg.version)
      const help = yield* spawnSage(["--help"], baseEnv())
      expect(help.code).toBe(0)
      for (const flag of [
        "--print",
        "--provider",
        "--model",
        "--output-format",
        "--max-steps",
        "--permission-mode",
        "--allowed-tools",
        "--cwd"
      ])
        expect(help.stdout).toContain(flag)
      expect(help.stdout).not.toContain("\u001b")
      const bad = yield* spawnSage(["--x"], baseEnv())
      expect(bad.code).toBe(2)
      expect(bad.stderr).toBe("sage: unknown option --x (see sage --help)\n")
    })
  )

  it.live("Ctrl-C interrupts the turn: the request is aborted and the exit code is 130", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(hang({ steps: [{ text: ["thinking about it"] }], noEnd: true }))
      const aborted = wire.nextClientAbort()
      let child: ChildProcess | undefined
      const running = yield* Effect.forkChild(
        spawnSage(["-p", "long task", "--output-format", "stream-json", "--cwd", cwd], anthropicEnv(wire.url, cwd), {
          onSpawn: (c) => {
            child = c
          }
        })
      )
      expect(yield* waitFor(() => wire.requests.length > 0)).toBe(true)
      yield* realSleep(200)
      child?.kill("SIGINT")
      yield* Effect.promise(() => aborted)
      const run = yield* Fiber.join(running)
      expect(run.code).toBe(130)
      expect(jsonLines(run.stdout).at(-1)?.type).toBe("interrupted")
    })
  )

  for (const signal of ["SIGTERM", "SIGHUP"] as const) {
    it.live(`${signal} with --sandbox off interrupts the turn and kills a Bash child that ignores SIGTERM`, () =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        const { running, child, pids } = yield* startStubborn(cwd, wire)
        child()?.kill(signal)
        const run = yield* Fiber.join(running)
        expect(run.code).toBe(130)
        expect(jsonLines(run.stdout).at(-1)?.type).toBe("interrupted")
        for (const pid of pids) expect(yield* waitFor(() => !isAlive(pid), 3000)).toBe(true)
        expect(run.stderr).not.toContain("    at ")
      })
    )
  }

  it.live("a second Ctrl-C during the kill grace still kills every process group, then exits 130", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const { running, child, pids } = yield* startStubborn(cwd, wire)
      const started = Date.now()
      child()?.kill("SIGINT")
      yield* realSleep(150)
      child()?.kill("SIGINT")
      const run = yield* Fiber.join(running)
      expect(run.code).toBe(130)
      // Well before the 2 s kill grace ran out.
      expect(Date.now() - started).toBeLessThan(1500)
      for (const pid of pids) expect(yield* waitFor(() => !isAlive(pid), 1000)).toBe(true)
    })
  )

  it.live("sage -p hi | head -c 3: a closed stdout ends the run quietly with exit 0", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const chunks = anthropicEvents({ steps: [{ text: Array.from({ length: 40 }, (_, i) => `word${i} `) }] })
      // The answer keeps streaming (slowly, and never ends) after the reader has gone.
      wire.enqueue({ kind: "hang", chunks: chunks.map((data, i) => ({ data, delayMs: i < 3 ? 0 : 30 })) })
      let child: ChildProcess | undefined
      const running = yield* Effect.forkChild(
        spawnSage(["-p", "hi", "--cwd", cwd], anthropicEnv(wire.url, cwd), {
          onSpawn: (c) => {
            child = c
            let seen = 0
            c.stdout?.on("data", (d: Buffer) => {
              seen += d.length
              if (seen >= 3) c.stdout?.destroy()
            })
          }
        })
      )
      const run = yield* Fiber.join(running)
      expect(child).toBeDefined()
      expect(run.code).toBe(0)
      expect(run.stderr).not.toContain("EPIPE")
      expect(run.stderr).not.toContain("    at ")
    })
  )
})
