/**
 * The `Bash` tool: runs a shell command in the workspace, in its own process group, in the OS sandbox, with a
 * scrubbed environment, bounded output and a timeout that kills everything the command started.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import { runProcessGroup } from "../process/ProcessGroup.js"
import { BackgroundShells } from "../services/BackgroundShells.js"
import { Sandbox } from "../services/Sandbox.js"
import { Workspace } from "../services/Workspace.js"
import { sanitizeForTerminal } from "../streams/Sanitize.js"
import { Tool } from "./Tool.js"

export { isSecretEnvName, scrubEnv } from "../process/SandboxBubblewrap.js"

export interface BashOptions {
  /** Default 120 seconds. */
  readonly defaultTimeout?: Duration.Input
  /** The most a call may ask for with `timeout_ms`. Default 600 seconds. */
  readonly maxTimeout?: Duration.Input
  /** Output bytes kept (the first and last half). Default 30 000. */
  readonly maxOutputBytes?: number
  /** Between SIGTERM and SIGKILL when the command is stopped. Default 2 seconds. */
  readonly killGrace?: Duration.Input
  /** Default `bash`. */
  readonly shell?: string
}

/** A hint for the model when a command failed writing into one of the sandbox's read-only protected directories. */
const protectedWriteNote = (output: string): string =>
  /(?:^|[/'\s])\.(?:git|sage|husky|vscode|idea|devcontainer)\b[^\n]*Read-only file system/m.test(output)
    ? "\n\n.git/ and .sage/ are read-only inside the sandbox (so are .husky/, .vscode/, .idea/ and .devcontainer/): commands cannot change the repository (commit, add, checkout), Sage's settings, git hooks or editor settings. Tell the user which command to run themselves."
    : ""

/** Text without terminal control sequences (colours, cursor movement, titles): the shared output hygiene. */
export const stripControlSequences = sanitizeForTerminal

/**
 * The `Bash` tool, on the `Sandbox` (how commands are wrapped and their environment) and the `Workspace` (the
 * working directory). Runs `bash -c command` with stdout and stderr merged in the order written. When a
 * `BackgroundShells` service is present, `run_in_background` starts the command there and the call returns its
 * shell id at once (no timeout; it runs until it ends, `KillShell` stops it, or the session's scope closes);
 * without one, such a call fails with a message saying so.
 *
 * Concurrency: `sequential`. A command can change anything (files, git state, running servers), so it runs
 * alone, like edits.
 */
export const makeBashTool = Effect.fn("makeBashTool")(function* (options: BashOptions = {}) {
  const sandbox = yield* Sandbox
  const workspace = yield* Workspace
  const shells = Option.getOrUndefined(yield* Effect.serviceOption(BackgroundShells))
  const defaultTimeout = Duration.fromInputUnsafe(options.defaultTimeout ?? Duration.seconds(120))
  const maxTimeout = Duration.fromInputUnsafe(options.maxTimeout ?? Duration.seconds(600))
  const killGrace = Duration.fromInputUnsafe(options.killGrace ?? Duration.seconds(2))
  const maxOutputBytes = options.maxOutputBytes ?? 30_000
  const shell = options.shell ?? "bash"
  const maxMs = Duration.toMillis(maxTimeout)
  const fail = (message: string) => new ToolExecutionError({ tool: "Bash", message })

  const runInBackground = (command: string, argv: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      if (shells === undefined) {
        return yield* fail(
          "Background shells are not available in this session; run the command without run_in_background."
        )
      }
      const started = yield* shells.start({ command, cwd: workspace.cwd, env: sandbox.env, shell, argv })
      return `Started background shell ${started.id} (pid ${started.pid}). Read its output with BashOutput (shell_id "${started.id}") and stop it with KillShell.`
    })

  const runInForeground = (argv: ReadonlyArray<string>, timeout: Duration.Duration) =>
    Effect.gen(function* () {
      const [command = shell, ...args] = argv
      const outcome = yield* runProcessGroup({
        command,
        args,
        cwd: workspace.cwd,
        env: sandbox.env,
        timeout,
        killGrace,
        maxOutputBytes,
        tool: "Bash"
      })
      const output = stripControlSequences(outcome.output).replace(/\s+$/, "")
      const shown = output === "" ? "(no output)" : output
      if (outcome.timedOut) {
        return yield* fail(
          `Command timed out after ${Duration.format(timeout)} and was killed (with everything it started). Output so far:\n${shown}`
        )
      }
      if (outcome.exitCode === 0) return shown
      const status =
        outcome.exitCode === null ? `terminated by signal ${outcome.signal}` : `exit code ${outcome.exitCode}`
      return yield* fail(`${shown}\n\n${status}${protectedWriteNote(output)}`)
    })

  return Tool.make({
    name: "Bash",
    description: [
      "Run a bash command in the workspace directory and return its output (stdout and stderr together).",
      "Each call starts a fresh shell: `cd` and variables do not carry over; chain with `&&` instead.",
      `The command is killed after ${Duration.format(defaultTimeout)} unless timeout_ms says otherwise (at most ${Duration.format(maxTimeout)}).`,
      "Background processes are killed when the command ends. A non-zero exit code is reported as an error.",
      `Output beyond ${maxOutputBytes} bytes is cut in the middle. Prefer Read and Glob for reading and finding files.`,
      ...(shells === undefined
        ? []
        : [
            "For long-running commands (dev servers, watchers), set run_in_background: the call returns a shell id at once; read new output with BashOutput and stop it with KillShell."
          ])
    ].join(" "),
    input: Schema.Struct({
      command: Schema.String.check(Schema.isMinLength(1)).annotate({ description: "The command to run" }),
      timeout_ms: Schema.optionalKey(
        Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: maxMs })).annotate({
          description: `Timeout in milliseconds (default ${Duration.toMillis(defaultTimeout)}, max ${maxMs})`
        })
      ),
      description: Schema.optionalKey(
        Schema.String.annotate({ description: "What the command does, in 5-10 words (shown to the user)" })
      ),
      run_in_background: Schema.optionalKey(
        Schema.Boolean.annotate({
          description:
            "Start the command in the background and return a shell id at once (read its output with BashOutput, stop it with KillShell); timeout_ms does not apply"
        })
      )
    }),
    kind: "execute",
    concurrency: { type: "sequential" },
    // Our own timeout governs (up to maxTimeout); the agent's default must not cut a longer requested one.
    timeout: Duration.sum(Duration.sum(maxTimeout, killGrace), Duration.seconds(10)),
    execute: ({ command, timeout_ms, run_in_background }) =>
      Effect.gen(function* () {
        // The outer shell only merges stderr into stdout and execs the real `bash -c command`.
        const argv = yield* sandbox.wrap([shell, "-c", 'exec "$0" -c "$1" 2>&1', shell, command])
        if (run_in_background === true) return yield* runInBackground(command, argv)
        return yield* runInForeground(argv, timeout_ms === undefined ? defaultTimeout : Duration.millis(timeout_ms))
      })
  })
})

/** The `Bash` tool with the default options. */
export const BashTool = makeBashTool()
