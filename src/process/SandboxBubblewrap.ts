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
import * as Layer from "effect/Layer"
import { ToolExecutionError } from "../errors/ToolError.js"
import { Sandbox, type SandboxPolicy } from "../services/Sandbox.js"
import { findExecutable } from "../tools/Grep.js"

export type SandboxMode = "auto" | "require" | "off"

export interface BubblewrapOptions {
  readonly policy: SandboxPolicy
  /** Default `auto`. */
  readonly mode?: SandboxMode
  /** Where to look for `bwrap` (its PATH), unless `bwrapPath` is given. */
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly bwrapPath?: string
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

/** Commands run unconfined. */
export const none: Sandbox.Service = { name: Effect.succeed("none"), wrap: (argv) => Effect.succeed(argv) }

const probe = (argv: ReadonlyArray<string>) =>
  Effect.async<void, string>((resume) => {
    const child = execFile(argv[0]!, argv.slice(1), { timeout: 5000 }, (error, _stdout, stderr) =>
      resume(error === null ? Effect.void : Effect.fail(`${error.message.split("\n")[0]} ${stderr}`.trim()))
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

export const make = (options: BubblewrapOptions): Effect.Effect<Sandbox.Service> =>
  Effect.gen(function* () {
    const mode = options.mode ?? "auto"
    if (mode === "off") return none
    const available = yield* Effect.cached(
      Effect.gen(function* () {
        const bwrap = options.bwrapPath ?? (yield* Effect.promise(() => findExecutable("bwrap", options.env ?? {})))
        if (bwrap === undefined) return { ok: false as const, why: "bwrap (bubblewrap) is not on PATH" }
        const checked = yield* Effect.either(probe(bubblewrapArgv(bwrap, options.policy, ["true"])))
        return checked._tag === "Right"
          ? { ok: true as const, bwrap }
          : { ok: false as const, why: `bwrap cannot start here: ${checked.left}` }
      }).pipe(
        Effect.tap((found) =>
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
          if (found.ok) return Effect.succeed(bubblewrapArgv(found.bwrap, options.policy, argv))
          if (mode === "auto") return Effect.succeed(argv)
          return Effect.fail(
            new ToolExecutionError({
              tool: "Bash",
              message: `The OS sandbox is required but unavailable (${found.why}). Install bubblewrap, or run with --sandbox off.`
            })
          )
        })
    }
  })

export const layer = (options: BubblewrapOptions): Layer.Layer<Sandbox> => Layer.effect(Sandbox, make(options))
