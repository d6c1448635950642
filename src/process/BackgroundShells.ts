/**
 * `BackgroundShells`: the commands `Bash` started with `run_in_background`, one registry per session. Each
 * command runs as the leader of its own process group; its output (stdout and stderr merged) is kept in a
 * bounded buffer (the tail), read incrementally with `BashOutput`, and the group is killed with `KillShell` or,
 * at the latest, when the registry's scope closes.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { StringDecoder } from "node:string_decoder"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { ToolExecutionError } from "../errors/ToolError.js"
import { groupAlive, killGroup, pollUntil } from "./ProcessGroup.js"

export type ShellStatus =
  | { readonly state: "running" }
  | { readonly state: "exited"; readonly exitCode: number }
  /** Stopped by `kill` (or the scope closing) or ended by a signal; `signal` is what ended the leader. */
  | { readonly state: "killed"; readonly signal: string | null }

export interface ShellInfo {
  readonly id: string
  readonly pid: number
  readonly command: string
  readonly status: ShellStatus
}

/** New output of a shell since the previous read. */
export interface ShellOutput extends ShellInfo {
  readonly output: string
  /** Characters that were produced since the previous read but no longer fit in the buffer. */
  readonly dropped: number
}

export interface ShellCommand {
  /** The command line, run with `shell -c`. */
  readonly command: string
  readonly cwd: string
  /** The complete environment (already scrubbed). */
  readonly env: Readonly<Record<string, string>>
  /** Default `bash`. */
  readonly shell?: string
  /** The exact argv to spawn (e.g. the command wrapped by the OS sandbox); overrides `shell -c command`. */
  readonly argv?: ReadonlyArray<string>
}

export interface BackgroundShells {
  /** Start `command` in the background; fails when it cannot start or too many shells are running. */
  readonly start: (command: ShellCommand) => Effect.Effect<ShellInfo, ToolExecutionError>
  /** The output produced since the previous `read` of this shell, and its status. */
  readonly read: (id: string) => Effect.Effect<ShellOutput, ToolExecutionError>
  /** Kill the shell's whole process group (SIGTERM, then SIGKILL after the grace period). */
  readonly kill: (id: string) => Effect.Effect<ShellInfo, ToolExecutionError>
  /** Every shell still known, oldest first. */
  readonly list: Effect.Effect<ReadonlyArray<ShellInfo>>
}

export interface BackgroundShellsOptions {
  /** Output characters kept per shell (the most recent). Default 100 000. */
  readonly maxBufferChars?: number
  /** Shells running at once. Default 16. */
  readonly maxRunning?: number
  /** Shells remembered (finished ones are forgotten oldest first). Default 64. */
  readonly maxRetained?: number
  /** Between SIGTERM and SIGKILL. Default 2 seconds. */
  readonly killGrace?: Duration.DurationInput
}

/** Keeps the last `max` characters of a text stream, and where each character is in the whole stream. */
export class TailBuffer {
  private chunks: Array<string> = []
  private kept = 0
  /** Characters seen in total. */
  total = 0

  constructor(private readonly max: number) {}

  push(text: string): void {
    if (text === "") return
    this.chunks.push(text)
    this.kept += text.length
    this.total += text.length
    while (this.kept > this.max) {
      const first = this.chunks[0]!
      const excess = this.kept - this.max
      if (first.length <= excess) {
        this.chunks.shift()
        this.kept -= first.length
      } else {
        this.chunks[0] = first.slice(excess)
        this.kept -= excess
      }
    }
  }

  /** The text from stream position `offset` on, and how much of it is no longer kept. */
  since(offset: number): { readonly text: string; readonly dropped: number } {
    const start = this.total - this.kept
    const from = Math.max(offset, start)
    const all = this.chunks.join("")
    this.chunks = all === "" ? [] : [all]
    return { text: all.slice(from - start), dropped: from - offset }
  }
}

interface Shell {
  readonly id: string
  readonly pid: number
  readonly command: string
  readonly child: ChildProcess
  readonly buffer: TailBuffer
  readOffset: number
  exit: { readonly code: number | null; readonly signal: NodeJS.Signals | null } | undefined
  killRequested: boolean
}

const statusOf = (shell: Shell): ShellStatus => {
  if (shell.exit === undefined) return { state: "running" }
  if (shell.killRequested || shell.exit.code === null) return { state: "killed", signal: shell.exit.signal }
  return { state: "exited", exitCode: shell.exit.code }
}

const infoOf = (shell: Shell): ShellInfo => ({
  id: shell.id,
  pid: shell.pid,
  command: shell.command,
  status: statusOf(shell)
})

/** `status` in words: `running`, `exited with code N`, `killed (SIGTERM)`. */
export const describeStatus = (status: ShellStatus): string =>
  status.state === "running"
    ? "running"
    : status.state === "exited"
      ? `exited with code ${status.exitCode}`
      : `killed${status.signal === null ? "" : ` (${status.signal})`}`

const spawnShell = (
  id: string,
  command: ShellCommand,
  maxBufferChars: number
): Effect.Effect<Shell, ToolExecutionError> =>
  Effect.async<Shell, ToolExecutionError>((resume) => {
    const shell = command.shell ?? "bash"
    const argv = command.argv ?? [shell, "-c", 'exec "$0" -c "$1" 2>&1', shell, command.command]
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: command.cwd,
      env: command.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"]
    })
    if (child.pid === undefined) {
      child.once("error", (error) =>
        resume(
          Effect.fail(
            new ToolExecutionError({
              tool: "Bash",
              message: `Could not start ${shell} in ${command.cwd}: ${error.message}`
            })
          )
        )
      )
      return
    }
    const running: Shell = {
      id,
      pid: child.pid,
      command: command.command,
      child,
      buffer: new TailBuffer(maxBufferChars),
      readOffset: 0,
      exit: undefined,
      killRequested: false
    }
    for (const stream of [child.stdout, child.stderr]) {
      const decoder = new StringDecoder("utf8")
      stream?.on("data", (chunk: Buffer) => running.buffer.push(decoder.write(chunk)))
      stream?.once("close", () => running.buffer.push(decoder.end()))
    }
    child.on("error", () => undefined)
    child.once("exit", (code, signal) => {
      running.exit = { code, signal }
    })
    resume(Effect.succeed(running))
  })

/**
 * A registry of background shells that lives as long as the current scope: when the scope closes, every
 * shell's process group that is still alive is killed (also groups whose leader exited but left children).
 */
export const makeBackgroundShells = (
  options: BackgroundShellsOptions = {}
): Effect.Effect<BackgroundShells, never, Scope.Scope> => {
  const maxBufferChars = options.maxBufferChars ?? 100_000
  const maxRunning = options.maxRunning ?? 16
  const maxRetained = Math.max(options.maxRetained ?? 64, maxRunning)
  const killGrace = Duration.decode(options.killGrace ?? Duration.seconds(2))
  const fail = (tool: string, message: string) => new ToolExecutionError({ tool, message })

  const stop = (shell: Shell): Effect.Effect<void> =>
    Effect.gen(function* () {
      if (shell.exit === undefined) shell.killRequested = true
      yield* killGroup(shell.pid, killGrace)
      // The leader is our child: wait (bounded) until Node has seen it exit, so its status is final.
      yield* pollUntil(() => shell.exit !== undefined, Duration.sum(killGrace, Duration.seconds(5)))
    })

  return Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => ({ shells: new Map<string, Shell>(), next: 1, closed: false })),
      (state) =>
        Effect.gen(function* () {
          state.closed = true
          yield* Effect.forEach(
            [...state.shells.values()].filter((shell) => groupAlive(shell.pid)),
            (shell) => stop(shell),
            { concurrency: 8, discard: true }
          )
          for (const shell of state.shells.values()) {
            shell.child.stdout?.destroy()
            shell.child.stderr?.destroy()
          }
        })
    ),
    (state): BackgroundShells => {
      const find = (tool: string, id: string) =>
        Effect.suspend(() => {
          const shell = state.shells.get(id)
          if (shell !== undefined) return Effect.succeed(shell)
          const known = [...state.shells.keys()]
          return Effect.fail(
            fail(
              tool,
              `No background shell with id ${JSON.stringify(id)}. ${known.length === 0 ? "No shells have been started." : `Known shells: ${known.join(", ")}.`}`
            )
          )
        })

      const forgetFinished = () => {
        for (const shell of state.shells.values()) {
          if (state.shells.size <= maxRetained) return
          // A finished shell whose children still run is kept, so that the scope's end kills them.
          if (shell.exit !== undefined && !groupAlive(shell.pid)) state.shells.delete(shell.id)
        }
      }

      const start = Effect.fn("BackgroundShells.start")(function* (command: ShellCommand) {
        if (state.closed) return yield* fail("Bash", "The session is closing; no new background shells can start.")
        const running = [...state.shells.values()].filter((shell) => shell.exit === undefined).length
        if (running >= maxRunning) {
          return yield* fail(
            "Bash",
            `${running} background shells are already running (the limit is ${maxRunning}). Stop one with KillShell first.`
          )
        }
        const id = `bash_${state.next++}`
        // Started and registered as one step, so that no shell escapes the registry (and the scope's end).
        const shell = yield* Effect.uninterruptible(
          Effect.tap(spawnShell(id, command, maxBufferChars), (started) =>
            Effect.sync(() => state.shells.set(id, started))
          )
        )
        if (state.closed) {
          // The scope closed while the shell was starting: the finalizer may have missed it.
          yield* stop(shell)
          return yield* fail("Bash", "The session is closing; no new background shells can start.")
        }
        forgetFinished()
        return infoOf(shell)
      })

      const read = Effect.fn("BackgroundShells.read")(function* (id: string) {
        const shell = yield* find("BashOutput", id)
        const info = infoOf(shell)
        const { text, dropped } = shell.buffer.since(shell.readOffset)
        shell.readOffset = shell.buffer.total
        return { ...info, output: text, dropped } satisfies ShellOutput
      })

      const kill = Effect.fn("BackgroundShells.kill")(function* (id: string) {
        const shell = yield* find("KillShell", id)
        yield* stop(shell)
        return infoOf(shell)
      })

      const list = Effect.sync(() => [...state.shells.values()].map(infoOf))

      return { start, read, kill, list }
    }
  )
}
