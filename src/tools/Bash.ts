/**
 * The `Bash` tool: runs a shell command in the workspace, in its own process group, with a scrubbed
 * environment, bounded output and a timeout that kills everything the command started.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { sanitizeForTerminal } from "../streams/Sanitize.js"
import { ToolExecutionError } from "../errors/ToolError.js"
import type { Sandbox } from "../services/Sandbox.js"
import type { BackgroundShells } from "../process/BackgroundShells.js"
import { runProcessGroup } from "../process/ProcessGroup.js"
import { Tool } from "./Tool.js"
import { type Workspace, workspaceCwd } from "../workspace/Workspace.js"

export interface BashOptions {
  readonly workspace: Workspace
  /** The environment commands start from; secrets are removed with `scrubEnv`. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Default 120 seconds. */
  readonly defaultTimeout?: Duration.DurationInput
  /** The most a call may ask for with `timeout_ms`. Default 600 seconds. */
  readonly maxTimeout?: Duration.DurationInput
  /** Output bytes kept (the first and last half). Default 30 000. */
  readonly maxOutputBytes?: number
  /** Between SIGTERM and SIGKILL when the command is stopped. Default 2 seconds. */
  readonly killGrace?: Duration.DurationInput
  /** Default `bash`. */
  readonly shell?: string
  /**
   * Where `run_in_background` commands live (one registry per session, see `makeBackgroundShells`). Without
   * it, a call with `run_in_background: true` fails with a message saying background shells are unavailable.
   */
  readonly backgroundShells?: BackgroundShells
  /** The OS sandbox commands run in (foreground and background); without it they run unconfined. */
  readonly sandbox?: Sandbox.Service
}

const SECRET_PATTERNS: ReadonlyArray<RegExp> = [
  /(^|_)API_?KEY$/i,
  /(^|_)TOKEN$/i,
  /(^|_)SECRET$/i,
  /_SECRET_KEY$/i,
  /_ACCESS_KEY$/i,
  /(^|_)PASSWORD$/i,
  /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|SECURITY_TOKEN|CREDENTIAL_EXPIRATION)$/i
]

/** Whether an environment variable name looks like a credential (`*_API_KEY`, `*_TOKEN`, `*_SECRET`, AWS keys, ...). */
export const isSecretEnvName = (name: string): boolean => SECRET_PATTERNS.some((pattern) => pattern.test(name))

/** `env` without unset values and without credentials. */
export const scrubEnv = (env: Readonly<Record<string, string | undefined>>): Record<string, string> => {
  const clean: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !isSecretEnvName(name)) clean[name] = value
  }
  return clean
}

/** Text without terminal control sequences (colours, cursor movement, titles): the shared output hygiene. */
export const stripControlSequences = sanitizeForTerminal

/**
 * Runs `bash -c command` with stdout and stderr merged in the order written. With `run_in_background`, the
 * command is started in `options.backgroundShells` and the call returns its shell id at once (no timeout; it
 * runs until it ends, `KillShell` stops it, or the session's scope closes).
 *
 * Concurrency: `sequential`. A command can change anything (files, git state, running servers), so it runs
 * alone, like edits; parallel read-only commands would need the parsed-command analysis of the permission
 * layer to be safe, which is a later step.
 */
export const makeBashTool = (options: BashOptions) => {
  const defaultTimeout = Duration.decode(options.defaultTimeout ?? Duration.seconds(120))
  const maxTimeout = Duration.decode(options.maxTimeout ?? Duration.seconds(600))
  const killGrace = Duration.decode(options.killGrace ?? Duration.seconds(2))
  const maxOutputBytes = options.maxOutputBytes ?? 30_000
  const shell = options.shell ?? "bash"
  const env = scrubEnv(options.env)
  const maxMs = Duration.toMillis(maxTimeout)

  return Tool.make({
    name: "Bash",
    description: [
      "Run a bash command in the workspace directory and return its output (stdout and stderr together).",
      "Each call starts a fresh shell: `cd` and variables do not carry over; chain with `&&` instead.",
      `The command is killed after ${Duration.format(defaultTimeout)} unless timeout_ms says otherwise (at most ${Duration.format(maxTimeout)}).`,
      "Background processes are killed when the command ends. A non-zero exit code is reported as an error.",
      `Output beyond ${maxOutputBytes} bytes is cut in the middle. Prefer Read and Glob for reading and finding files.`,
      ...(options.backgroundShells === undefined
        ? []
        : [
            "For long-running commands (dev servers, watchers), set run_in_background: the call returns a shell id at once; read new output with BashOutput and stop it with KillShell."
          ])
    ].join(" "),
    input: Schema.Struct({
      command: Schema.String.pipe(Schema.minLength(1)).annotations({ description: "The command to run" }),
      timeout_ms: Schema.optional(
        Schema.Int.pipe(Schema.between(1, maxMs)).annotations({
          description: `Timeout in milliseconds (default ${Duration.toMillis(defaultTimeout)}, max ${maxMs})`
        })
      ),
      description: Schema.optional(
        Schema.String.annotations({ description: "What the command does, in 5-10 words (shown to the user)" })
      ),
      run_in_background: Schema.optional(
        Schema.Boolean.annotations({
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
        const plain = [shell, "-c", 'exec "$0" -c "$1" 2>&1', shell, command]
        const argv = options.sandbox === undefined ? plain : yield* options.sandbox.wrap(plain)
        if (run_in_background === true) {
          if (options.backgroundShells === undefined) {
            return yield* new ToolExecutionError({
              tool: "Bash",
              message: "Background shells are not available in this session; run the command without run_in_background."
            })
          }
          const started = yield* options.backgroundShells.start({
            command,
            cwd: workspaceCwd(options.workspace),
            env,
            shell,
            argv
          })
          return `Started background shell ${started.id} (pid ${started.pid}). Read its output with BashOutput (shell_id "${started.id}") and stop it with KillShell.`
        }
        const timeout = timeout_ms === undefined ? defaultTimeout : Duration.millis(timeout_ms)
        const outcome = yield* runProcessGroup({
          command: argv[0]!,
          args: argv.slice(1),
          cwd: workspaceCwd(options.workspace),
          env,
          timeout,
          killGrace,
          maxOutputBytes,
          tool: "Bash"
        })
        const output = stripControlSequences(outcome.output).replace(/\s+$/, "")
        const shown = output === "" ? "(no output)" : output
        if (outcome.timedOut) {
          return yield* new ToolExecutionError({
            tool: "Bash",
            message: `Command timed out after ${Duration.format(timeout)} and was killed (with everything it started). Output so far:\n${shown}`
          })
        }
        if (outcome.exitCode === 0) return shown
        const status =
          outcome.exitCode === null ? `terminated by signal ${outcome.signal}` : `exit code ${outcome.exitCode}`
        return yield* new ToolExecutionError({ tool: "Bash", message: `${shown}\n\n${status}` })
      })
  })
}
