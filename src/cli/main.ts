/**
 * The `sage` CLI (an entry point: it runs effects). Print mode: `sage -p "prompt"` (or the prompt on stdin).
 *
 * Exit codes: 0 done, 1 error, 130 interrupted. Ctrl-C interrupts the turn cleanly (a second Ctrl-C exits).
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { layerNode, PROVIDERS, type SageOptions } from "../layers/SageLive.js"
import { Agent } from "../services/Agent.js"
import { PERMISSION_MODES } from "../services/Permissions.js"
import { type AgentEvent, agentEventToJson } from "../streams/AgentEvent.js"
import { sanitizeForTerminal } from "../streams/Sanitize.js"
import { toolOutputText } from "../streams/ToolCall.js"
import { makeTerminalApprover } from "./approver.js"
import { permissionsCommand } from "./permissions.js"
import { VERSION } from "./version.js"

const print = Options.boolean("print").pipe(
  Options.withAlias("p"),
  Options.withDescription("Print mode: answer the prompt (argument or stdin) and exit")
)
const provider = Options.choice("provider", PROVIDERS).pipe(
  Options.withFallbackConfig(Config.literal(...PROVIDERS)("SAGE_PROVIDER")),
  Options.withDefault("anthropic" as const),
  Options.withDescription("Model provider (env SAGE_PROVIDER)")
)
const model = Options.text("model").pipe(
  Options.withFallbackConfig(Config.string("SAGE_MODEL")),
  Options.optional,
  Options.withDescription("Model id (env SAGE_MODEL); defaults to the provider's default")
)
const outputFormat = Options.choice("output-format", ["text", "json", "stream-json"] as const).pipe(
  Options.withDefault("text" as const),
  Options.withDescription("text: the answer; json: one result object; stream-json: one AgentEvent JSON per line")
)
const maxSteps = Options.integer("max-steps").pipe(
  Options.optional,
  Options.withDescription("Stop after N model steps")
)
const permissionMode = Options.choice("permission-mode", PERMISSION_MODES).pipe(
  Options.optional,
  Options.withDescription(
    "default | acceptEdits | plan | bypassPermissions (default: the settings' defaultMode, else default)"
  )
)
const allowedTools = Options.text("allowed-tools").pipe(
  Options.repeated,
  Options.withDescription('Allow rules, comma or space separated: "Read,Bash(npm test:*)"')
)
const disallowedTools = Options.text("disallowed-tools").pipe(
  Options.repeated,
  Options.withDescription("Deny rules, comma or space separated")
)
const cwd = Options.directory("cwd", { exists: "yes" }).pipe(
  Options.optional,
  Options.withDescription("Workspace root (default: the current directory)")
)
const addDir = Options.directory("add-dir", { exists: "yes" }).pipe(
  Options.repeated,
  Options.withDescription("Another directory the tools may use")
)
const sandbox = Options.choice("sandbox", ["auto", "require", "off"] as const).pipe(
  Options.withDefault("auto" as const),
  Options.withDescription("OS sandbox for commands: auto (bubblewrap when available), require, off")
)
const prompt = Args.text({ name: "prompt" }).pipe(Args.optional)

const readStdin = Effect.promise(async () => {
  if (process.stdin.isTTY) return ""
  const chunks: Array<Buffer> = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString("utf8")
})

const stderr = (line: string) => Effect.sync(() => process.stderr.write(line))
const stdout = (text: string) => Effect.sync(() => process.stdout.write(text))

const compactInput = (input: unknown): string => {
  if (typeof input !== "object" || input === null) return ""
  const values = Object.values(input as Record<string, unknown>).filter((v) => typeof v === "string")
  const first = (values[0] as string | undefined) ?? ""
  return first.length > 80 ? `${first.slice(0, 77)}...` : first
}

/** Text mode: the answer on stdout as it streams, tool calls compactly on stderr. */
const printText = (event: AgentEvent): Effect.Effect<void> => {
  switch (event.type) {
    case "text.delta":
      return stdout(sanitizeForTerminal(event.text))
    case "tool.started":
      return stderr(`\n> ${event.call.name}(${sanitizeForTerminal(compactInput(event.call.input))})\n`)
    case "tool.completed": {
      const text = toolOutputText(event.result.output)
      const lines = text === "" ? 0 : text.split("\n").length
      const summary =
        event.result.status === "success"
          ? `${lines} line${lines === 1 ? "" : "s"}`
          : `${event.result.status}: ${sanitizeForTerminal(text.split("\n")[0] ?? "").slice(0, 160)}`
      return stderr(`  ${event.result.toolName} ${summary} (${event.result.durationMs} ms)\n`)
    }
    case "retry.scheduled":
      return stderr(
        `sage: ${event.reason}, retrying in ${Math.round(event.delayMs / 100) / 10}s (attempt ${event.attempt})\n`
      )
    case "turn.ended":
      return stdout(event.text.endsWith("\n") || event.text === "" ? "" : "\n")
    case "interrupted":
      return stderr("\nsage: interrupted\n")
    default:
      return Effect.void
  }
}

/** One clear line for a failure, never a stack trace. */
export const describeError = (error: unknown): string => {
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
    const tag = "_tag" in error && typeof error._tag === "string" ? `${error._tag}: ` : ""
    return `${tag}${error.message}`.split("\n")[0] ?? ""
  }
  return String(error)
}

const main = Command.make(
  "sage",
  {
    print,
    provider,
    model,
    outputFormat,
    maxSteps,
    permissionMode,
    allowedTools,
    disallowedTools,
    cwd,
    addDir,
    sandbox,
    prompt
  },
  (args) =>
    Effect.gen(function* () {
      const text = Option.getOrUndefined(args.prompt) ?? (yield* readStdin)
      if (text.trim() === "") {
        yield* stderr('sage: no prompt. Usage: sage -p "your prompt" (or pipe the prompt on stdin); see sage --help\n')
        process.exitCode = 1
        return
      }
      const workspace = Option.getOrElse(args.cwd, () => process.cwd())
      const options: SageOptions = {
        provider: args.provider,
        cwd: workspace,
        additionalDirectories: args.addDir,
        ...(Option.isSome(args.permissionMode) ? { permissionMode: args.permissionMode.value } : {}),
        allowedTools: args.allowedTools,
        disallowedTools: args.disallowedTools,
        env: process.env,
        sandbox: args.sandbox,
        // On a terminal, permission questions are asked inline; otherwise (pipes, CI) an ask is a deny.
        ...(process.stdin.isTTY === true && process.stderr.isTTY === true && Option.isSome(args.prompt)
          ? { approver: makeTerminalApprover(process.stdin, process.stderr) }
          : {}),
        ...(Option.isSome(args.model) ? { model: args.model.value } : {}),
        ...(Option.isSome(args.maxSteps) ? { maxSteps: args.maxSteps.value } : {})
      }
      const exit = yield* Effect.exit(
        Effect.scoped(
          Effect.gen(function* () {
            const agent = yield* Agent
            const execution = yield* agent.start(text)
            let interrupts = 0
            const onSigint = () => {
              interrupts++
              if (interrupts > 1) process.exit(130)
              Effect.runFork(execution.interrupt)
            }
            yield* Effect.acquireRelease(
              Effect.sync(() => process.on("SIGINT", onSigint)),
              () => Effect.sync(() => process.off("SIGINT", onSigint))
            )
            const printer = yield* Effect.fork(
              Stream.runForEach(execution.events, (event) =>
                args.outputFormat === "stream-json"
                  ? stdout(`${agentEventToJson(event)}\n`)
                  : args.outputFormat === "text"
                    ? printText(event)
                    : Effect.void
              )
            )
            // Let the printer finish (a failed turn still prints its `failed` event) before reporting.
            const outcome = yield* Effect.exit(execution.result)
            yield* Effect.ignore(Fiber.join(printer))
            return yield* outcome
          })
        ).pipe(Effect.provide(layerNode(options)))
      )
      if (Exit.isSuccess(exit)) {
        const result = exit.value
        if (args.outputFormat === "json") {
          yield* stdout(
            `${JSON.stringify({
              type: "result",
              sessionId: result.sessionId,
              stopReason: result.stopReason,
              steps: result.steps,
              text: result.text,
              usage: result.usage
            })}\n`
          )
        }
        if (result.stopReason === "max_steps")
          yield* stderr(`sage: stopped after ${result.steps} steps (--max-steps)\n`)
        process.exitCode = result.stopReason === "interrupted" ? 130 : 0
        return
      }
      const failure = Cause.failureOption(exit.cause)
      if (Option.isNone(failure) && Cause.isInterruptedOnly(exit.cause)) {
        process.exitCode = 130
        return
      }
      yield* stderr(`sage: ${describeError(Option.isSome(failure) ? failure.value : Cause.squash(exit.cause))}\n`)
      process.exitCode = 1
    })
).pipe(
  Command.withDescription("Sage: a concurrent, stream-first coding agent"),
  Command.withSubcommands([permissionsCommand])
)

export const cli = Command.run(main, { name: "sage", version: VERSION })

/** Library logs on the terminal: warnings and errors only, one plain line each. */
const terminalLogger = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ logLevel, message }) => {
    if (!LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)) return
    const text = (Array.isArray(message) ? message : [message]).map((m) =>
      typeof m === "string" ? m : JSON.stringify(m)
    )
    process.stderr.write(`sage: ${logLevel.label.toLowerCase()}: ${sanitizeForTerminal(text.join(" "))}\n`)
  })
)

export const runCli = (argv: ReadonlyArray<string>): void => {
  cli(argv).pipe(
    Effect.provide(NodeContext.layer),
    Effect.provide(terminalLogger),
    Effect.catchAll((error) =>
      Effect.sync(() => {
        // @effect/cli already printed validation errors with usage.
        if (
          !(typeof error === "object" && error !== null && "_tag" in error && String(error._tag).includes("Validation"))
        ) {
          process.stderr.write(`sage: ${describeError(error)}\n`)
        }
        process.exitCode = 1
      })
    ),
    Effect.runFork
  )
}
