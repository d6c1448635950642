/**
 * Running a command in its own process group, so that the command and everything it started can be killed
 * together: on timeout, on interruption, and when the command ends but left background children behind.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as Clock from "effect/Clock"
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
      const first = this.tail[0]!
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

export interface ProcessGroupOptions {
  /** Executable and arguments (no shell is added). */
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  /** After this long the whole group is killed and `timedOut` is set. */
  readonly timeout: Duration.DurationInput
  /** Between SIGTERM and SIGKILL. */
  readonly killGrace: Duration.DurationInput
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
const POLL = Duration.millis(20)

interface Running {
  readonly child: ChildProcess
  readonly pid: number
  readonly output: OutputCollector
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  closed: boolean
  readonly waiters: Set<() => void>
}

const notify = (running: Running) => {
  for (const waiter of running.waiters) waiter()
}

/** Resolves when `ready(running)` holds, checking after every process event. */
const waitUntil = (running: Running, ready: (r: Running) => boolean): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (ready(running)) return resume(Effect.void)
    const waiter = () => {
      if (ready(running)) {
        running.waiters.delete(waiter)
        resume(Effect.void)
      }
    }
    running.waiters.add(waiter)
    return Effect.sync(() => running.waiters.delete(waiter))
  })

const sendToGroup = (pgid: number, signal: NodeJS.Signals | 0): boolean => {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/**
 * Whether a live (non-zombie) process remains in group `pgid`. Where `/proc` exists, zombies are not counted:
 * an init that does not reap orphans (common in containers) must not make us wait for dead processes.
 */
export const groupAlive = (pgid: number): boolean => {
  if (!sendToGroup(pgid, 0)) return false
  let entries: Array<string>
  try {
    entries = fs.readdirSync("/proc")
  } catch {
    return true
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8")
      // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") return true
    } catch {
      // The process ended while we looked.
    }
  }
  return false
}

/** Real time: waiting for OS processes must not depend on a test's virtual clock. */
const liveClock = Clock.make()

/**
 * Check `done` every 20 ms of real time until it holds (true) or `within` has passed (false). Bounded by counting
 * polls, not by interruption, so it also ends inside uninterruptible regions (scope finalizers, `acquireRelease`
 * releases), where `Effect.timeout` would wait forever for an effect that never completes. It always uses the
 * live clock (a `TestClock` would never advance inside a finalizer).
 */
export const pollUntil = (done: () => boolean, within: Duration.DurationInput): Effect.Effect<boolean> =>
  Effect.gen(function* () {
    const polls = Math.max(1, Math.ceil(Duration.toMillis(within) / Duration.toMillis(POLL)))
    for (let i = 0; i < polls; i++) {
      if (done()) return true
      yield* Effect.sleep(POLL)
    }
    return done()
  }).pipe(Effect.withClock(liveClock))

/**
 * SIGTERM to the whole group, then SIGKILL if anything is still alive after `grace`. Safe to use in
 * finalizers (see `pollUntil`).
 */
export const killGroup = (pgid: number, grace: Duration.DurationInput): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (!groupAlive(pgid)) return
    sendToGroup(pgid, "SIGTERM")
    const gone = yield* pollUntil(() => !groupAlive(pgid), grace)
    if (!gone) sendToGroup(pgid, "SIGKILL")
  })

const spawnGroup = (options: ProcessGroupOptions): Effect.Effect<Running, ToolExecutionError> =>
  Effect.async<Running, ToolExecutionError>((resume) => {
    const child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"]
    })
    const fail = (error: Error) =>
      resume(
        Effect.fail(
          new ToolExecutionError({
            tool: options.tool,
            message: `Could not start ${options.command} in ${options.cwd}: ${error.message}`
          })
        )
      )
    if (child.pid === undefined) {
      child.once("error", fail)
      return
    }
    const running: Running = {
      child,
      pid: child.pid,
      output: new OutputCollector(options.maxOutputBytes),
      exit: undefined,
      closed: false,
      waiters: new Set()
    }
    const collect = (chunk: Buffer) => running.output.push(chunk)
    child.stdout?.on("data", collect)
    child.stderr?.on("data", collect)
    child.on("error", () => undefined)
    child.once("exit", (code, signal) => {
      running.exit = { code, signal }
      notify(running)
    })
    child.once("close", () => {
      running.closed = true
      notify(running)
    })
    resume(Effect.succeed(running))
  })

/**
 * Run a command as the leader of a new process group and wait for it. When it ends, times out or the fiber is
 * interrupted, the whole group is killed (SIGTERM, then SIGKILL after `killGrace`): nothing it started survives.
 */
export const runProcessGroup = (options: ProcessGroupOptions): Effect.Effect<ProcessOutcome, ToolExecutionError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const running = yield* Effect.acquireRelease(spawnGroup(options), (r) =>
        Effect.gen(function* () {
          yield* killGroup(r.pid, options.killGrace)
          r.child.stdout?.destroy()
          r.child.stderr?.destroy()
        })
      )
      const exited = yield* waitUntil(running, (r) => r.exit !== undefined).pipe(Effect.timeoutOption(options.timeout))
      const timedOut = Option.isNone(exited)
      if (timedOut) {
        yield* killGroup(running.pid, options.killGrace)
        yield* waitUntil(running, (r) => r.exit !== undefined)
      }
      // Let the pipes drain; a background child that still holds them is killed on release.
      yield* waitUntil(running, (r) => r.closed).pipe(Effect.timeoutOption(DRAIN_AFTER_EXIT))
      return {
        pid: running.pid,
        exitCode: running.exit?.code ?? null,
        signal: running.exit?.signal ?? null,
        timedOut,
        output: running.output.text(),
        totalBytes: running.output.total,
        cutBytes: running.output.cut
      } satisfies ProcessOutcome
    })
  )
