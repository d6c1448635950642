/**
 * The `sage` CLI. `runCli(io)` is the whole program as an Effect over its inputs and outputs (argv, stdin, stdout,
 * stderr, env, signals), so tests run it in-process; `src/bin.ts` runs it for the real process under
 * `NodeRuntime.runMain`.
 *
 * Exit codes: 0 done (also when stdout is closed early), 1 error, 2 usage error, 130 interrupted.
 * SIGINT, SIGTERM and SIGHUP interrupt the turn (every finalizer runs: requests aborted, commands killed); a second
 * signal kills every process group this CLI started at once and exits 130.
 */
import * as fs from "node:fs"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Stream from "effect/Stream"
import { type ErrorInfo, errorInfo, fromCause, fromExit, type Outcome } from "../agent/Outcome.js"
import type { AgentExecution, RunResult } from "../services/Agent.js"
import { SessionStore } from "../services/SessionStore.js"
import { type AgentEvent, agentEventToJson, PROTOCOL_VERSION } from "../streams/AgentEvent.js"
import { sanitizeForTerminal } from "../streams/Sanitize.js"
import { parseArgs, type RunArgs, UsageError } from "./Args.js"
import { makeTerminalApprover } from "./approver.js"
import { mainHelp, permissionsHelp, sessionsHelp, useColor } from "./Help.js"
import { preloadAgent } from "./preload.js"
import { sageOptions } from "./options.js"
import { startupWatcher } from "./startup.js"
import { makeTextPrinter } from "./TextPrinter.js"
import { printMcpStatus } from "./mcpStatus.js"
import { VERSION } from "./version.js"

type Readable = NodeJS.ReadableStream & { readonly isTTY?: boolean | undefined }
type Writable = NodeJS.WritableStream & { readonly isTTY?: boolean | undefined }

/** Everything the CLI touches of the outside world. */
export interface CliIO {
  /** The arguments after `node` and the script. */
  readonly argv: ReadonlyArray<string>
  readonly stdin: Readable
  readonly stdout: Writable
  readonly stderr: Writable
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  /** Subscribe to interrupt requests (SIGINT, SIGTERM, SIGHUP); returns the unsubscribe. */
  readonly onSignal: (handler: (signal: string) => void) => () => void
  /** A second signal: kill every process group the CLI started, now, and exit with `code`. */
  readonly forceExit: (code: number) => void
  /** Called once the agent's modules are loaded (the binary persists V8's compile cache then). */
  readonly onLoaded?: () => void
  /**
   * Switches the process to a compact heap (the binary: `useCompactHeap`, process/Heap.ts). Called once start-up
   * speed no longer matters: by `sage -p` at its first model response, by the REPL and `sage mcp serve` at once.
   */
  readonly compactHeap?: () => void
}

/** One clear line for a failure (its tag and the first line of its message), never a stack trace. */
export const errorLine = (info: ErrorInfo): string => {
  const tag = info.tag === "UnknownError" || info.tag === "Error" ? "" : `${info.tag}: `
  return sanitizeForTerminal(`${tag}${info.message}`).split("\n")[0] ?? ""
}

export const describeError = (error: unknown): string => errorLine(errorInfo(error))

/** The prompt argument and piped stdin: stdin alone is the prompt; with an argument it is appended as context. */
export const composePrompt = (argument: string | undefined, stdin: string): string => {
  const piped = stdin.replace(/\s+$/, "")
  if (argument === undefined || argument.trim() === "") return piped
  if (piped.trim() === "") return argument
  return `${argument}\n\n<stdin>\n${piped}\n</stdin>`
}

/** A sink that drops everything once the reader is gone (EPIPE) and waits for `drain` otherwise. */
export interface Output {
  readonly write: (text: string) => Effect.Effect<void>
  /** Write now, without waiting for `drain` (for loggers). */
  readonly writeNow: (text: string) => void
  readonly closed: () => boolean
  /** Called once when a write fails (the reader is gone). */
  readonly onClosed: (f: () => void) => void
}

export const makeOutput = (stream: Writable): Output => {
  let closed = false
  let notify: () => void = () => undefined
  const close = () => {
    if (closed) return
    closed = true
    notify()
  }
  // A closed pipe (`sage -p ... | head`, EPIPE) or any other write error: nobody can read what follows.
  stream.on("error", close)
  const writeNow = (text: string): boolean => {
    if (closed || text === "") return true
    try {
      return stream.write(text)
    } catch {
      close()
      return true
    }
  }
  const write = (text: string): Effect.Effect<void> =>
    Effect.callback<void>((resume) => {
      if (writeNow(text) || closed) return resume(Effect.void)
      const done = () => {
        cleanup()
        resume(Effect.void)
      }
      const cleanup = () => {
        stream.off("drain", done)
        stream.off("error", done)
        stream.off("close", done)
      }
      stream.once("drain", done)
      stream.once("error", done)
      stream.once("close", done)
      return Effect.sync(cleanup)
    })
  return {
    write,
    writeNow: (text) => {
      writeNow(text)
    },
    closed: () => closed,
    onClosed: (f) => {
      notify = f
    }
  }
}

/** All of stdin as text ("" on a terminal: nobody is piping anything). */
const readStdin = (stdin: Readable): Effect.Effect<string> =>
  stdin.isTTY === true
    ? Effect.succeed("")
    : Effect.callback<string>((resume) => {
        const chunks: Array<Buffer> = []
        const onData = (chunk: Buffer | string) => {
          chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk)
        }
        const onEnd = () => {
          cleanup()
          resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
        }
        const cleanup = () => {
          stdin.off("data", onData)
          stdin.off("end", onEnd)
          stdin.off("error", onEnd)
          stdin.pause()
        }
        stdin.on("data", onData)
        stdin.once("end", onEnd)
        stdin.once("error", onEnd)
        stdin.resume()
        return Effect.sync(cleanup)
      })

/** Keys are read through Effect `Config` from the CLI's environment (the process's, or a test's). */
const definedEnv = (env: CliIO["env"]): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))

/** Library logs on the terminal: warnings and errors only, one plain line each. */
const terminalLogger = (stderr: Output) =>
  Logger.layer([
    Logger.make(({ logLevel, message }) => {
      if (!LogLevel.isGreaterThanOrEqualTo(logLevel, "Warn")) return
      const parts = Array.isArray(message) ? message : [message]
      const text = parts.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" ")
      stderr.writeNow(`sage: ${logLevel.toLowerCase()}: ${sanitizeForTerminal(text)}\n`)
    })
  ])

type Stop = "signal" | "closed"

interface Control {
  execution: AgentExecution | undefined
}

const resultJson = (outcome: Outcome<RunResult>, sessionId: string | undefined): string => {
  const result = outcome.status === "failed" ? undefined : outcome.result
  return JSON.stringify({
    type: "result",
    v: PROTOCOL_VERSION,
    status: outcome.status,
    ...(result === undefined
      ? {
          ...(sessionId === undefined ? {} : { sessionId }),
          stopReason: outcome.status === "failed" ? "error" : "interrupted"
        }
      : {
          sessionId: result.sessionId,
          stopReason: result.stopReason,
          steps: result.steps,
          text: result.text,
          usage: result.usage,
          ...(result.costUsd === undefined ? {} : { costUsd: result.costUsd }),
          ...(result.structuredOutput === undefined ? {} : { structuredOutput: result.structuredOutput })
        }),
    ...(outcome.status === "failed" ? { error: outcome.error } : {})
  })
}

const runTurn = (
  args: RunArgs,
  io: CliIO,
  prompt: string,
  wiring: Promise<typeof import("./agentModules.js")>,
  out: Output,
  err: Output,
  control: Control,
  stop: Deferred.Deferred<Stop>
) =>
  Effect.gen(function* () {
    const { layerNode, sessions, runInput: input } = yield* Effect.promise(() => wiring)
    io.onLoaded?.()
    // The session is chosen before the agent loads (`-r` without an id asks which one on a terminal).
    const store = yield* Effect.provide(SessionStore.use(Effect.succeed), sessions.storeLayer(io.env.HOME))
    const plan = yield* sessions.planRun(args, io.stdin, io.stderr).pipe(Effect.provideService(SessionStore, store))
    const interactive = io.stdin.isTTY === true && io.stderr.isTTY === true && args.prompt !== undefined
    // On a terminal, permission questions are asked inline; otherwise (pipes, CI) an ask is a deny.
    const options = sageOptions(args, io.env, interactive ? makeTerminalApprover(io.stdin, io.stderr) : undefined)
    const text = makeTextPrinter()
    const watchStartup = startupWatcher(io.compactHeap)
    const print = (event: AgentEvent): Effect.Effect<void> => {
      watchStartup(event)
      // Once the reader of stdout is gone the run ends quietly: nothing more on stderr either.
      if (out.closed()) return Effect.void
      switch (args.outputFormat) {
        case "stream-json":
          return out.write(`${agentEventToJson(event)}\n`)
        case "json":
          return Effect.void
        case "text":
          // With --json-schema the answer is printed as the validated JSON at the end, not as it streams.
          return Effect.forEach(
            text(event),
            (line) =>
              line.to === "stdout"
                ? args.jsonSchema === undefined
                  ? out.write(line.text)
                  : Effect.void
                : err.write(line.text),
            { discard: true }
          )
      }
    }
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const turn = yield* input.runInput(args, prompt)
        const conversation = yield* sessions.openConversation({ cwd: args.cwd, plan, persist: args.persistSession })
        const execution = yield* conversation.start(
          turn.prompt,
          turn.outputSchema === undefined ? {} : { outputSchema: turn.outputSchema }
        )
        control.execution = execution
        yield* Effect.forkScoped(Deferred.await(stop).pipe(Effect.andThen(execution.interrupt)))
        const printer = yield* Effect.forkScoped(Stream.runForEach(execution.events, print))
        yield* Effect.forkScoped(printMcpStatus(execution.sessionId, print))
        // Let the printer finish (a failed turn still prints its `failed` event) before reporting.
        const exit = yield* Effect.exit(execution.result)
        yield* Effect.ignore(Fiber.join(printer))
        return { exit, sessionId: execution.sessionId }
      })
    ).pipe(Effect.provide(layerNode(options).pipe(Layer.provide(Layer.succeed(SessionStore, store)))))
  })

const runPrint = (args: RunArgs, io: CliIO, out: Output, err: Output) =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function* () {
      const stop = yield* Deferred.make<Stop>()
      const requestStop = (why: Stop) => Effect.runSync(Deferred.succeed(stop, why))
      out.onClosed(() => requestStop("closed"))
      let signals = 0
      const unsubscribe = io.onSignal(() => {
        signals++
        if (signals === 1) requestStop("signal")
        else io.forceExit(130)
      })
      yield* Effect.addFinalizer(() => Effect.sync(unsubscribe))
      const wiring = preloadAgent(args.provider)
      const control: Control = { execution: undefined }

      const work = Effect.gen(function* () {
        const piped = yield* readStdin(io.stdin)
        const prompt = composePrompt(args.prompt, piped)
        if (prompt.trim() === "") return { _tag: "NoPrompt" as const }
        const turn = yield* runTurn(args, io, prompt, wiring, out, err, control, stop)
        return { _tag: "Ran" as const, ...turn }
      })
      // Until the turn has started, a stop request interrupts whatever is going on (reading stdin, loading).
      const fiber = yield* Effect.forkChild(restore(work))
      yield* Effect.forkChild(
        Deferred.await(stop).pipe(
          Effect.andThen(Effect.suspend(() => (control.execution === undefined ? Fiber.interrupt(fiber) : Effect.void)))
        )
      )
      const exit = yield* Fiber.await(fiber)

      if (Exit.isSuccess(exit) && exit.value._tag === "NoPrompt") {
        yield* err.write(
          'sage: no prompt. Usage: sage -p "your prompt" (or pipe the prompt on stdin); see sage --help\n'
        )
        return 2
      }
      const outcome: Outcome<RunResult> = Exit.isSuccess(exit)
        ? exit.value._tag === "Ran"
          ? fromExit(exit.value.exit)
          : { status: "interrupted", exitCode: 130 }
        : fromCause(exit.cause)
      const sessionId = Exit.isSuccess(exit) && exit.value._tag === "Ran" ? exit.value.sessionId : undefined
      // The reader went away: nothing more to say, and nothing went wrong.
      if (out.closed()) return 0
      if (args.outputFormat === "json") yield* out.write(`${resultJson(outcome, sessionId)}\n`)
      switch (outcome.status) {
        case "done":
          if (args.jsonSchema !== undefined && args.outputFormat === "text")
            yield* out.write(`${JSON.stringify(outcome.result.structuredOutput ?? null, null, 2)}\n`)
          if (outcome.result.stopReason === "max_steps")
            yield* err.write(`sage: stopped after ${outcome.result.steps} steps (--max-steps)\n`)
          if (outcome.result.stopReason === "max_budget")
            yield* err.write(
              `sage: stopped after ${outcome.result.steps} steps: the turn cost $${(outcome.result.costUsd ?? 0).toFixed(4)}, ` +
                `reaching the budget of $${args.maxBudgetUsd ?? 0} (--max-budget-usd)\n`
            )
          return 0
        case "interrupted":
          if (outcome.result === undefined && args.outputFormat === "text") yield* err.write("\nsage: interrupted\n")
          return 130
        case "failed":
          yield* err.write(`sage: ${errorLine(outcome.error)}\n`)
          return 1
      }
    }).pipe(Effect.scoped)
  )

/** The whole CLI; the exit code is the result. Never fails. */
export const runCli = (io: CliIO): Effect.Effect<number> =>
  Effect.gen(function* () {
    const parsed = parseArgs(io.argv, {
      cwd: io.cwd,
      env: io.env,
      isDirectory: (dir) => {
        try {
          return fs.statSync(dir).isDirectory()
        } catch {
          return false
        }
      }
    })
    const out = makeOutput(io.stdout)
    const err = makeOutput(io.stderr)
    if (parsed instanceof UsageError) {
      yield* err.write(`sage: ${parsed.message}\n`)
      return 2
    }
    const style = { color: useColor(io.stdout.isTTY, io.env) }
    switch (parsed._tag) {
      case "Version":
        yield* out.write(`${VERSION}\n`)
        return 0
      case "Help":
        yield* out.write(
          parsed.topic === "main"
            ? mainHelp(style)
            : parsed.topic === "sessions"
              ? sessionsHelp(style)
              : permissionsHelp(style)
        )
        return 0
      case "Sessions": {
        const sessions = yield* Effect.promise(() => import("./sessions.js"))
        return yield* sessions.runSessions(parsed, out.write, err.write).pipe(
          Effect.provide(sessions.storeLayer(io.env.HOME)),
          Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: definedEnv(io.env) }))),
          Effect.catch((error) => Effect.as(err.write(`sage: ${describeError(error)}\n`), 1))
        )
      }
      case "Mcp": {
        if (parsed.action === "serve") {
          const { runMcpServe } = yield* Effect.promise(() => import("./mcpServe.js"))
          return yield* runMcpServe(parsed.argv, io)
        }
        const { runMcp } = yield* Effect.promise(() => import("./mcp.js"))
        return yield* runMcp(parsed, io, out.write, err.write)
      }
      case "Check": {
        // The permission engine (and its shell parser) loads only for this command.
        const { runPermissionsCheck } = yield* Effect.promise(() => import("./permissions.js"))
        return yield* runPermissionsCheck(parsed, io.env.HOME, out.write, err.write)
      }
      case "Run": {
        // `sage` on a terminal without -p and a prompt: the interactive REPL.
        const repl =
          !parsed.print &&
          parsed.prompt === undefined &&
          parsed.outputFormat === "text" &&
          io.stdin.isTTY === true &&
          io.stdout.isTTY === true
        const session = repl
          ? Effect.flatMap(
              Effect.promise(() => import("./repl/Repl.js")),
              ({ runRepl }) => runRepl(parsed, io)
            )
          : runPrint(parsed, io, out, err)
        return yield* session.pipe(
          Effect.provide([
            terminalLogger(err),
            ConfigProvider.layer(ConfigProvider.fromEnv({ env: definedEnv(io.env) }))
          ])
        )
      }
    }
  }).pipe(
    Effect.catchCause((cause) =>
      Effect.sync(() => {
        io.stderr.write(`sage: ${describeError(Cause.squash(cause))}\n`)
        return 1
      })
    )
  )
