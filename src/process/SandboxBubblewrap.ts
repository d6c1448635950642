/**
 * Bubblewrap (`bwrap`) as Sage's OS sandbox on Linux: the whole file system read-only, the workspace roots
 * writable, a private /tmp, fresh /dev and /proc, no network unless the policy allows it, and the sandbox dies
 * with its parent. No new session and no PID namespace, so killing the command's process group still kills
 * everything it started.
 *
 * Whether bwrap works is probed once, on first use (not at start-up): `auto` falls back to running commands
 * unconfined (with a warning in the log), `require` fails every command with a message saying why.
 */
import { execFile } from "node:child_process"
import * as Effect from "effect/Effect"
import { ToolExecutionError } from "../errors/ToolError.js"
import type { Sandbox, SandboxPolicy } from "../services/Sandbox.js"
import { configuredSearchPath, findExecutable } from "./Executable.js"

export type SandboxMode = "auto" | "require" | "off"

export interface BubblewrapOptions extends SandboxPolicy {
  /** Default `auto`. */
  readonly mode?: SandboxMode
  /**
   * The environment commands start from; credentials are removed (`scrubEnv`). Default: only the configured
   * `PATH`.
   */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** The bwrap executable; default: `bwrap` looked up on the `PATH` of `env` (else of the configuration). */
  readonly bwrapPath?: string
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

/** The bwrap argv that runs `argv` under `policy`. */
export const bubblewrapArgv = (
  bwrap: string,
  policy: SandboxPolicy,
  argv: ReadonlyArray<string>
): ReadonlyArray<string> => [
  bwrap,
  "--ro-bind",
  "/",
  "/",
  "--dev",
  "/dev",
  "--proc",
  "/proc",
  "--tmpfs",
  "/tmp",
  ...policy.writableRoots.flatMap((root) => ["--bind", root, root]),
  ...(policy.network ? [] : ["--unshare-net"]),
  "--die-with-parent",
  "--",
  ...argv
]

/** Commands run unconfined, with environment `env`. */
export const none = (env: Readonly<Record<string, string>>): Sandbox.Service => ({
  name: Effect.succeed("none"),
  wrap: (argv) => Effect.succeed(argv),
  env
})

const probe = (argv: ReadonlyArray<string>) =>
  Effect.callback<void, string>((resume) => {
    const [file = "", ...args] = argv
    const child = execFile(file, args, { timeout: 5000 }, (error, _stdout, stderr) =>
      resume(error === null ? Effect.void : Effect.fail(`${error.message.split("\n")[0]} ${stderr}`.trim()))
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

type Probed = { readonly ok: true; readonly bwrap: string } | { readonly ok: false; readonly why: string }

/** The environment commands start with: `options.env` scrubbed, or only the configured `PATH`. */
const commandEnv = (options: BubblewrapOptions): Effect.Effect<Record<string, string>> =>
  options.env === undefined
    ? Effect.map(configuredSearchPath, (PATH): Record<string, string> => (PATH === "" ? {} : { PATH }))
    : Effect.succeed(scrubEnv(options.env))

/** The sandbox for `options` (bwrap is probed lazily, once, on the first command). */
export const make = (options: BubblewrapOptions): Effect.Effect<Sandbox.Service> =>
  Effect.gen(function* () {
    const mode = options.mode ?? "auto"
    const env = yield* commandEnv(options)
    if (mode === "off") return none(env)
    const policy: SandboxPolicy = { writableRoots: options.writableRoots, network: options.network }
    const available = yield* Effect.cached(
      Effect.gen(function* () {
        const bwrap = options.bwrapPath ?? (yield* findExecutable("bwrap", env.PATH ?? (yield* configuredSearchPath)))
        if (bwrap === undefined) return { ok: false, why: "bwrap (bubblewrap) is not on PATH" } satisfies Probed
        const checked = yield* Effect.result(probe(bubblewrapArgv(bwrap, policy, ["true"])))
        return (
          checked._tag === "Success"
            ? { ok: true, bwrap }
            : { ok: false, why: `bwrap cannot start here: ${checked.failure}` }
        ) satisfies Probed
      }).pipe(
        Effect.tap((found: Probed) =>
          found.ok || mode === "require"
            ? Effect.void
            : Effect.logWarning(`commands run without an OS sandbox: ${found.why}`)
        )
      )
    )
    return {
      name: Effect.map(available, (found) => (found.ok ? "bubblewrap" : "none")),
      wrap: (argv) =>
        Effect.flatMap(available, (found) => {
          if (found.ok) return Effect.succeed(bubblewrapArgv(found.bwrap, policy, argv))
          if (mode === "auto") return Effect.succeed(argv)
          return Effect.fail(
            new ToolExecutionError({
              tool: "Bash",
              message: `The OS sandbox is required but unavailable (${found.why}). Install bubblewrap, or run with --sandbox off.`
            })
          )
        }),
      env
    } satisfies Sandbox.Service
  })
