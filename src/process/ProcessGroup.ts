/**
 * Running a command in its own process group, so that the command and everything it started can be killed
 * together: on timeout, on interruption, and when the command ends but left background children behind.
 *
 * This is Sage's one boundary to `node:child_process` (Bash, background shells and ripgrep all spawn through
 * it). It is not built on `effect/process`: that module counts zombies as live group members (orphans are not
 * reaped in many containers, so every kill would wait out the whole grace period) and reports a death by signal
 * only inside an error message.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { ToolExecutionError } from "../errors/ToolError.js"

/** Keeps the first and last `max / 2` bytes of a byte stream and counts what lies between. */
export class OutputCollector {
  private readonly headLimit: number
  private readonly tailLimit: number
  private readonly head: Array<Buffer> = []
  private headBytes = 0
  private tail: Array<Buffer> = []
  private tailBytes = 0
  /** Every byte seen. */
  total = 0

  constructor(max: number) {
    this.headLimit = Math.ceil(max / 2)
    this.tailLimit = Math.floor(max / 2)
  }

  push(chunk: Buffer): void {
    this.total += chunk.length
    let rest = chunk
    if (this.headBytes < this.headLimit) {
      const take = Math.min(this.headLimit - this.headBytes, rest.length)
      this.head.push(rest.subarray(0, take))
      this.headBytes += take
      rest = rest.subarray(take)
    }
    if (rest.length === 0 || this.tailLimit === 0) return
    this.tail.push(rest)
    this.tailBytes += rest.length
    while (this.tailBytes > this.tailLimit) {
      const first = this.tail[0]
      if (first === undefined) break
      const excess = this.tailBytes - this.tailLimit
      if (first.length <= excess) {
        this.tail.shift()
        this.tailBytes -= first.length
      } else {
        this.tail[0] = first.subarray(excess)
        this.tailBytes -= excess
      }
    }
  }

  /** Bytes dropped from the middle. */
  get cut(): number {
    return this.total - this.headBytes - this.tailBytes
  }

  /** The kept text; when bytes were dropped, a marker in the middle says how many. */
  text(): string {
    const head = Buffer.concat(this.head).toString("utf8")
    const tail = Buffer.concat(this.tail).toString("utf8")
    if (this.cut === 0) return head + tail
    return `${head}\n\n[... ${this.cut} bytes of output cut (${this.total} in total); the start and the end are shown ...]\n\n${tail}`
  }
}

/** How the leader of a group ended. */
export interface LeaderExit {
  /** `null` when the process was ended by a signal. */
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface SpawnOptions {
  /** Executable and arguments (no shell is added). */
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  /** Names the tool in errors. */
  readonly tool: string
  /** Every chunk of stdout and stderr, as it arrives. */
  readonly onOutput: (chunk: Buffer, from: "stdout" | "stderr") => void
  /** Called once per pipe when it closes. */
  readonly onClose?: (from: "stdout" | "stderr") => void
  /** Written to the process's stdin, which is then closed (without it, stdin is closed at once). */
  readonly stdin?: string
}

/** A running process group whose leader is our child. */
export interface GroupProcess {
  readonly pid: number
  /** How the leader ended, once it has. */
  readonly exit: () => LeaderExit | undefined
  /** Waits until the leader has exited. */
  readonly exited: Effect.Effect<LeaderExit>
  /** Waits until both output pipes are closed (children that inherited them may keep them open). */
  readonly closed: Effect.Effect<void>
  /** SIGTERM to the whole group, SIGKILL after `grace` if anything is left; also closes our ends of the pipes. */
  readonly kill: (grace: Duration.Input) => Effect.Effect<void>
}

const POLL_MILLIS = 20

const sendToGroup = (pgid: number, signal: NodeJS.Signals | 0): boolean => {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/**
 * The command names of the live (non-zombie) processes in group `pgid`: empty when none is left, `undefined` when
 * some process remains but `/proc` cannot tell which. Zombies are not counted: an init that does not reap orphans
 * (common in containers) must not make us wait for dead processes.
 */
const liveMembers = (pgid: number): ReadonlyArray<string> | undefined => {
  if (!sendToGroup(pgid, 0)) return []
  let entries: Array<string>
  try {
    entries = fs.readdirSync("/proc")
  } catch {
    return undefined
  }
  const names: Array<string> = []
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8")
      // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
      const close = stat.lastIndexOf(")")
      const fields = stat.slice(close + 2).split(" ")
      if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") {
        names.push(stat.slice(stat.indexOf("(") + 1, close))
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return names
}

/** Whether a live (non-zombie) process remains in group `pgid`. */
export const groupAlive = (pgid: number): boolean => liveMembers(pgid)?.length !== 0

/**
 * Whether nothing in the group needs the grace period any more: no process is left, or only bubblewrap's own
 * processes are. bubblewrap blocks SIGTERM while it sets the sandbox up, and once the command inside has ended it
 * has nothing to clean up, so waiting out the grace for it would only delay an interrupt.
 */
const settled = (pgid: number): boolean => liveMembers(pgid)?.every((name) => name === "bwrap") ?? false

/**
 * Check `done` every 20 ms of real time until it holds (true) or `within` has passed (false). It uses the
 * native timer, not the Effect clock: waiting for OS processes must not depend on a test's virtual clock, and
 * it must end inside uninterruptible regions (finalizers), where a `TestClock` never advances.
 */
export const pollUntil = (done: () => boolean, within: Duration.Input): Effect.Effect<boolean> =>
  Effect.callback<boolean>((resume) => {
    if (done()) return resume(Effect.succeed(true))
    let left = Math.max(1, Math.ceil(Duration.toMillis(Duration.fromInputUnsafe(within)) / POLL_MILLIS))
    const timer = setInterval(() => {
      if (done()) {
        clearInterval(timer)
        resume(Effect.succeed(true))
      } else if (--left <= 0) {
        clearInterval(timer)
        resume(Effect.succeed(done()))
      }
    }, POLL_MILLIS)
    return Effect.sync(() => clearInterval(timer))
  })

/** Process groups started here and not yet known to be gone: killed with SIGKILL if Node exits first. */
const liveGroups = new Set<number>()
let exitHookInstalled = false

/**
 * SIGKILL every process group Sage started that may still be alive. Runs by itself when Node exits (also on
 * `process.exit` during a kill grace period, e.g. a second Ctrl-C), so no command outlives Sage.
 */
export const killAllGroupsNow = (): void => {
  for (const pgid of liveGroups) sendToGroup(pgid, "SIGKILL")
  liveGroups.clear()
}

/** Stop tracking group `pgid` (known to be gone), so that the exit hook never signals a reused group id. */
export const untrackGroup = (pgid: number): void => {
  liveGroups.delete(pgid)
}

/**
 * Track group `pgid` (a process started detached, in its own group, by code that does not use `spawnGroup`), so
 * that it is killed with the others if Node exits first; `untrackGroup` once it is known to be gone.
 */
export const trackGroup = (pgid: number): void => {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once("exit", killAllGroupsNow)
  }
  liveGroups.add(pgid)
}

/**
 * SIGTERM to the whole group, then SIGKILL if anything is still alive after `grace`. Safe to use in
 * finalizers (see `pollUntil`).
 */
export const killGroup = (pgid: number, grace: Duration.Input): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (!groupAlive(pgid)) {
      liveGroups.delete(pgid)
      return
    }
    sendToGroup(pgid, "SIGTERM")
    yield* pollUntil(() => settled(pgid), grace)
    if (groupAlive(pgid)) {
      sendToGroup(pgid, "SIGKILL")
      yield* pollUntil(() => !groupAlive(pgid), Duration.seconds(5))
    }
    liveGroups.delete(pgid)
  })

const destroyPipes = (child: ChildProcess): void => {
  child.stdout?.destroy()
  child.stderr?.destroy()
}

/**
 * Start `command` as the leader of a new process group (stdin closed, stdout and stderr piped to `onOutput`).
 * Not scoped: the caller owns the group and must `kill` it (see `runProcessGroup` for the scoped form).
 */
export const spawnGroup = (options: SpawnOptions): Effect.Effect<GroupProcess, ToolExecutionError> =>
  Effect.callback<GroupProcess, ToolExecutionError>((resume) => {
    const fail = (error: Error) =>
      resume(
        Effect.fail(
          new ToolExecutionError({
            tool: options.tool,
            message: `Could not start ${options.command} in ${options.cwd}: ${error.message}`
          })
        )
      )
    let child: ChildProcess
    try {
      child = spawn(options.command, [...options.args], {
        cwd: options.cwd,
        env: options.env,
        detached: true,
        stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"]
      })
    } catch (error) {
      return fail(error instanceof Error ? error : new Error(String(error)))
    }
    const pid = child.pid
    if (pid === undefined) {
      child.once("error", fail)
      return
    }
    trackGroup(pid)
    if (options.stdin !== undefined && child.stdin !== null) {
      // A process that does not read its input closes the pipe early (EPIPE): not an error.
      child.stdin.on("error", () => undefined)
      child.stdin.end(options.stdin)
    }
    const exited = Deferred.makeUnsafe<LeaderExit>()
    const stdoutClosed = Deferred.makeUnsafe<void>()
    const stderrClosed = Deferred.makeUnsafe<void>()
    let exit: LeaderExit | undefined
    child.stdout?.on("data", (chunk: Buffer) => options.onOutput(chunk, "stdout"))
    child.stderr?.on("data", (chunk: Buffer) => options.onOutput(chunk, "stderr"))
    child.stdout?.once("close", () => {
      options.onClose?.("stdout")
      Deferred.doneUnsafe(stdoutClosed, Effect.void)
    })
    child.stderr?.once("close", () => {
      options.onClose?.("stderr")
      Deferred.doneUnsafe(stderrClosed, Effect.void)
    })
    child.on("error", () => undefined)
    child.once("exit", (code, signal) => {
      exit = { code, signal }
      Deferred.doneUnsafe(exited, Effect.succeed(exit))
    })
    resume(
      Effect.succeed({
        pid,
        exit: () => exit,
        exited: Deferred.await(exited),
        closed: Effect.andThen(Deferred.await(stdoutClosed), Deferred.await(stderrClosed)),
        kill: (grace) =>
          Effect.andThen(
            killGroup(pid, grace),
            Effect.sync(() => destroyPipes(child))
          )
      })
    )
  })

export interface ProcessGroupOptions {
  /** Executable and arguments (no shell is added). */
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  /** After this long the whole group is killed and `timedOut` is set. */
  readonly timeout: Duration.Input
  /** Between SIGTERM and SIGKILL. */
  readonly killGrace: Duration.Input
  /** Output bytes kept (head and tail). */
  readonly maxOutputBytes: number
  /** Names the tool in errors. */
  readonly tool: string
}

export interface ProcessOutcome {
  readonly pid: number
  /** `null` when the process was ended by a signal. */
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
  readonly timedOut: boolean
  /** stdout and stderr as they arrived, bounded (see `OutputCollector`). */
  readonly output: string
  readonly totalBytes: number
  readonly cutBytes: number
}

/** How long to wait for the output pipes to close after the process exited (background children may hold them). */
const DRAIN_AFTER_EXIT = Duration.millis(200)

/**
 * Run a command as the leader of a new process group and wait for it. When it ends, times out or the fiber is
 * interrupted, the whole group is killed by a finalizer (SIGTERM, then SIGKILL after `killGrace`): nothing it
 * started survives.
 */
export const runProcessGroup = (options: ProcessGroupOptions): Effect.Effect<ProcessOutcome, ToolExecutionError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const output = new OutputCollector(options.maxOutputBytes)
      const group = yield* Effect.acquireRelease(
        spawnGroup({ ...options, onOutput: (chunk) => output.push(chunk) }),
        (g) => g.kill(options.killGrace)
      )
      const exited = yield* group.exited.pipe(Effect.timeoutOption(options.timeout))
      const timedOut = Option.isNone(exited)
      if (timedOut) {
        yield* killGroup(group.pid, options.killGrace)
        yield* group.exited
      }
      // Let the pipes drain; a background child that still holds them is killed on release.
      yield* group.closed.pipe(Effect.timeoutOption(DRAIN_AFTER_EXIT))
      const exit = group.exit()
      return {
        pid: group.pid,
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        timedOut,
        output: output.text(),
        totalBytes: output.total,
        cutBytes: output.cut
      } satisfies ProcessOutcome
    })
  )
