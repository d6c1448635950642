/**
 * The background shells engine: each command runs as the leader of its own process group; its output (stdout
 * and stderr merged) is kept in a bounded buffer (the tail), read incrementally with `BashOutput`, and the group
 * is killed with `KillShell` or, at the latest, when the registry's scope closes.
 */
import { StringDecoder } from "node:string_decoder"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import { ToolExecutionError } from "../errors/ToolError.js"
import type {
  BackgroundShells,
  ShellCommand,
  ShellInfo,
  ShellOutput,
  ShellStatus
} from "../services/BackgroundShells.js"
import { type GroupProcess, groupAlive, pollUntil, spawnGroup, untrackGroup } from "./ProcessGroup.js"

export type { ShellCommand, ShellInfo, ShellOutput, ShellStatus } from "../services/BackgroundShells.js"

export interface BackgroundShellsOptions {
  /** Output characters kept per shell (the most recent). Default 100 000. */
  readonly maxBufferChars?: number
  /** Shells running at once. Default 16. */
  readonly maxRunning?: number
  /** Shells remembered (finished ones are forgotten oldest first). Default 64. */
  readonly maxRetained?: number
  /** Between SIGTERM and SIGKILL. Default 2 seconds. */
  readonly killGrace?: Duration.Input
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
      const first = this.chunks[0]
      if (first === undefined) break
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

/** `status` in words: `running`, `exited with code N`, `killed (SIGTERM)`. */
export const describeStatus = (status: ShellStatus): string =>
  status.state === "running"
    ? "running"
    : status.state === "exited"
      ? `exited with code ${status.exitCode}`
      : `killed${status.signal === null ? "" : ` (${status.signal})`}`

interface Shell {
  readonly id: string
  readonly command: string
  readonly group: GroupProcess
  readonly buffer: TailBuffer
  readOffset: number
  killRequested: boolean
}

const statusOf = (shell: Shell): ShellStatus => {
  const exit = shell.group.exit()
  if (exit === undefined) return { state: "running" }
  if (shell.killRequested || exit.code === null) return { state: "killed", signal: exit.signal }
  return { state: "exited", exitCode: exit.code }
}

const infoOf = (shell: Shell): ShellInfo => ({
  id: shell.id,
  pid: shell.group.pid,
  command: shell.command,
  status: statusOf(shell)
})

const spawnShell = (
  id: string,
  command: ShellCommand,
  maxBufferChars: number
): Effect.Effect<Shell, ToolExecutionError> => {
  const shell = command.shell ?? "bash"
  const [file = shell, ...args] = command.argv ?? [shell, "-c", 'exec "$0" -c "$1" 2>&1', shell, command.command]
  const buffer = new TailBuffer(maxBufferChars)
  const decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") }
  return Effect.map(
    spawnGroup({
      command: file,
      args,
      cwd: command.cwd,
      env: command.env,
      tool: "Bash",
      onOutput: (chunk, from) => buffer.push(decoders[from].write(chunk)),
      onClose: (from) => buffer.push(decoders[from].end())
    }),
    (group): Shell => ({ id, command: command.command, group, buffer, readOffset: 0, killRequested: false })
  )
}

/**
 * A registry of background shells that lives as long as the current scope: when the scope closes, every
 * shell's process group that is still alive is killed (also groups whose leader exited but left children).
 */
export const make = (
  options: BackgroundShellsOptions = {}
): Effect.Effect<BackgroundShells.Service, never, Scope.Scope> =>
  Effect.gen(function* () {
    const maxBufferChars = options.maxBufferChars ?? 100_000
    const maxRunning = options.maxRunning ?? 16
    const maxRetained = Math.max(options.maxRetained ?? 64, maxRunning)
    const killGrace = Duration.fromInputUnsafe(options.killGrace ?? Duration.seconds(2))
    const fail = (tool: string, message: string) => new ToolExecutionError({ tool, message })
    const shells = new Map<string, Shell>()
    const state = { next: 1, closed: false }
    // Starting is one step at a time, so that the running count and the registry stay consistent.
    const starting = yield* Semaphore.make(1)

    const stop = (shell: Shell): Effect.Effect<void> =>
      Effect.gen(function* () {
        if (shell.group.exit() === undefined) shell.killRequested = true
        yield* shell.group.kill(killGrace)
        // The leader is our child: wait (bounded) until Node has seen it exit, so its status is final.
        yield* pollUntil(() => shell.group.exit() !== undefined, Duration.sum(killGrace, Duration.seconds(5)))
      })

    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        state.closed = true
        yield* Effect.forEach([...shells.values()], stop, { concurrency: 8, discard: true })
      })
    )

    const find = (tool: string, id: string) =>
      Effect.suspend(() => {
        const shell = shells.get(id)
        if (shell !== undefined) return Effect.succeed(shell)
        const known = [...shells.keys()]
        return Effect.fail(
          fail(
            tool,
            `No background shell with id ${JSON.stringify(id)}. ${known.length === 0 ? "No shells have been started." : `Known shells: ${known.join(", ")}.`}`
          )
        )
      })

    const forgetFinished = () => {
      for (const shell of shells.values()) {
        if (shells.size <= maxRetained) return
        // A finished shell whose children still run is kept, so that the scope's end kills them.
        if (shell.group.exit() !== undefined && !groupAlive(shell.group.pid)) {
          shells.delete(shell.id)
          untrackGroup(shell.group.pid)
        }
      }
    }

    const closing = () => fail("Bash", "The session is closing; no new background shells can start.")

    const start = Effect.fn("BackgroundShells.start")(function* (command: ShellCommand) {
      if (state.closed) return yield* closing()
      const shell = yield* starting.withPermits(1)(
        Effect.gen(function* () {
          const running = [...shells.values()].filter((s) => s.group.exit() === undefined).length
          if (running >= maxRunning) {
            return yield* fail(
              "Bash",
              `${running} background shells are already running (the limit is ${maxRunning}). Stop one with KillShell first.`
            )
          }
          const id = `bash_${state.next++}`
          // Started and registered as one step, so that no shell escapes the registry (and the scope's end).
          return yield* Effect.uninterruptible(
            Effect.tap(spawnShell(id, command, maxBufferChars), (started) => Effect.sync(() => shells.set(id, started)))
          )
        })
      )
      if (state.closed) {
        // The scope closed while the shell was starting: the finalizer may have missed it.
        yield* stop(shell)
        return yield* closing()
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

    const list = Effect.sync(() => [...shells.values()].map(infoOf))

    return { start, read, kill, list } satisfies BackgroundShells.Service
  })
