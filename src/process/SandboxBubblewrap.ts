/**
 * Bubblewrap (`bwrap`) as Sage's OS sandbox on Linux: the whole file system read-only, the workspace roots
 * writable except their `.git` and `.sage` (see `protectedPaths`), a private /tmp, a fresh /dev, a PID namespace
 * with its own /proc (a command sees only its own processes: not Sage's `/proc/<pid>/environ`, where the
 * provider keys are), no network unless the policy allows it, and the sandbox dies with its parent.
 *
 * No `--new-session`: the command is already started in a new session (`spawnGroup` uses `setsid`), so it has no
 * controlling terminal to push input into, and its bwrap stays the leader of the process group that Sage kills;
 * when that bwrap dies, the PID namespace ends and the kernel kills everything left in it.
 *
 * Whether bwrap works is probed once, on first use (not at start-up): `auto` falls back to running commands
 * unconfined (with a warning in the log), `require` fails every command with a message saying why.
 */
import { execFile } from "node:child_process"
import * as fsp from "node:fs/promises"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { ToolExecutionError } from "../errors/ToolError.js"
import type { Sandbox, SandboxPolicy } from "../services/Sandbox.js"
import { HOME_PROTECTED, PROTECTED_DIRECTORIES, PROTECTED_FILES } from "../workspace/ProtectedPaths.js"
import { commandEnvReport } from "./CommandEnv.js"
import { configuredSearchPath, findExecutable } from "./Executable.js"
import { gitHardenedEnv } from "./GitEnvironment.js"

export { isSecretEnvName, scrubEnv } from "./CommandEnv.js"

export type SandboxMode = "auto" | "require" | "off"

export interface BubblewrapOptions extends SandboxPolicy {
  /** Default `auto`. */
  readonly mode?: SandboxMode
  /**
   * The environment commands start from; credentials are removed (`commandEnv`). Default: only the configured
   * `PATH`.
   */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Variables passed to commands unchanged although they look like credentials (`NAME` or `PREFIX*`). */
  readonly envPassthrough?: ReadonlyArray<string>
  /**
   * The user's home directory: when it lies inside a writable root, its `.sage`, git and shell start-up files
   * stay read-only too. Default: `HOME` of `env`.
   */
  readonly homeDir?: string
  /** The bwrap executable; default: `bwrap` looked up on the `PATH` of `env` (else of the configuration). */
  readonly bwrapPath?: string
}

/** Paths inside the writable roots that stay read-only in the sandbox. */
export interface ProtectedPaths {
  /** Existing files and directories, bound read-only over themselves (skipped if gone by then). */
  readonly readOnly: ReadonlyArray<string>
  /** Missing directories that commands must not create: an empty read-only directory is mounted there. */
  readonly absent: ReadonlyArray<string>
}

const NOTHING_PROTECTED: ProtectedPaths = { readOnly: [], absent: [] }

/** The bwrap argv that runs `argv` under `policy`, with `protect` read-only inside the writable roots. */
export const bubblewrapArgv = (
  bwrap: string,
  policy: SandboxPolicy,
  argv: ReadonlyArray<string>,
  protect: ProtectedPaths = NOTHING_PROTECTED
): ReadonlyArray<string> => [
  bwrap,
  "--ro-bind",
  "/",
  "/",
  "--dev",
  "/dev",
  "--unshare-pid",
  "--proc",
  "/proc",
  "--tmpfs",
  "/tmp",
  // Outer roots first, so that a root nested in another keeps its own bind.
  ...[...policy.writableRoots].sort((a, b) => a.length - b.length).flatMap((root) => ["--bind", root, root]),
  // After the writable binds, so that they win inside them.
  ...protect.readOnly.flatMap((file) => ["--ro-bind-try", file, file]),
  ...protect.absent.flatMap((dir) => ["--tmpfs", dir, "--remount-ro", dir]),
  ...(policy.network ? [] : ["--unshare-net"]),
  "--die-with-parent",
  "--",
  ...argv
]

const isInside = (root: string, file: string): boolean => {
  const relative = path.relative(root, file)
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative))
}

const insideAny = (roots: ReadonlyArray<string>, file: string) => roots.some((root) => isInside(root, file))

type Found = { readonly kind: "missing" } | { readonly kind: "exists"; readonly real: string }

/** What is at `file`: missing (nothing, or a dangling link), or its real path. */
const lookAt = (file: string): Effect.Effect<Found> =>
  Effect.tryPromise(() => fsp.realpath(file)).pipe(
    Effect.map((real): Found => ({ kind: "exists", real })),
    Effect.orElseSucceed((): Found => ({ kind: "missing" }))
  )

/** Directories not searched for nested repositories (large, and not where repositories live). */
const SKIPPED_DIRS = new Set([
  "node_modules",
  ".git",
  ".sage",
  "dist",
  "build",
  "target",
  "vendor",
  ".venv",
  "venv",
  "__pycache__",
  ".cache",
  ".next"
])

const NESTED_DEPTH = 4
const NESTED_MAX_DIRS = 2000

/**
 * `.git` entries (directories or gitfiles), `.sage` directories and the other `PROTECTED_DIRECTORIES` below the
 * roots, at most `NESTED_DEPTH` levels down, looking at no more than `NESTED_MAX_DIRS` directories and never
 * following links: submodules, nested repositories, the settings of projects inside the workspace, their hooks and
 * editor settings.
 */
export const findNestedProtected = (roots: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<string>> =>
  Effect.gen(function* () {
    const found: Array<string> = []
    let level = [...roots]
    let visited = 0
    for (let depth = 1; depth <= NESTED_DEPTH && level.length > 0 && visited < NESTED_MAX_DIRS; depth++) {
      const dirs = level.slice(0, NESTED_MAX_DIRS - visited)
      visited += dirs.length
      const listed = yield* Effect.forEach(
        dirs,
        (dir) =>
          Effect.tryPromise(() => fsp.readdir(dir, { withFileTypes: true })).pipe(
            Effect.map((entries) => ({ dir, entries })),
            Effect.orElseSucceed(() => ({ dir, entries: [] }))
          ),
        { concurrency: 16 }
      )
      const next: Array<string> = []
      for (const { dir, entries } of listed) {
        for (const entry of entries) {
          if (PROTECTED_DIRECTORIES.includes(entry.name) && depth > 1) found.push(path.join(dir, entry.name))
          if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name)) next.push(path.join(dir, entry.name))
        }
      }
      level = next
    }
    return found
  })

/**
 * What stays read-only inside the writable `roots`: each root's `.git`, `.sage` (a missing `.sage` becomes an
 * empty read-only directory, so that a command cannot create settings there), the other `PROTECTED_DIRECTORIES`
 * and the `PROTECTED_FILES` (`.envrc`, `mise.toml`, ...) that exist, the `nested` ones, and,
 * when the home directory lies in a root, its `.sage` and the start-up and configuration files in `HOME_PROTECTED`.
 * Links are resolved: what is protected is the real file, where it lies in a root.
 */
export const protectedPaths = (
  roots: ReadonlyArray<string>,
  homeDir: string | undefined,
  nested: ReadonlyArray<string> = []
): Effect.Effect<ProtectedPaths> =>
  Effect.gen(function* () {
    const home = homeDir !== undefined && homeDir !== "" && insideAny(roots, homeDir) ? homeDir : undefined
    const mustExist = [
      ...roots.flatMap((root) =>
        [...PROTECTED_DIRECTORIES.filter((name) => name !== ".sage"), ...PROTECTED_FILES].map((name) =>
          path.join(root, name)
        )
      ),
      ...nested,
      ...(home === undefined ? [] : HOME_PROTECTED.map((file) => path.join(home, file)))
    ]
    const settingsDirs = [...roots, ...(home === undefined ? [] : [home])].map((dir) => path.join(dir, ".sage"))
    const readOnly = new Set<string>()
    const absent = new Set<string>()
    for (const file of mustExist) {
      const found = yield* lookAt(file)
      if (found.kind === "exists" && insideAny(roots, found.real)) readOnly.add(found.real)
    }
    for (const dir of settingsDirs) {
      const found = yield* lookAt(dir)
      if (found.kind === "exists") {
        if (insideAny(roots, found.real)) readOnly.add(found.real)
        continue
      }
      // Missing (or a dangling link): mount an empty read-only directory there, unless something else is.
      const isLink = yield* Effect.tryPromise(() => fsp.lstat(dir)).pipe(
        Effect.map((stat) => stat.isSymbolicLink()),
        Effect.orElseSucceed(() => false)
      )
      if (!isLink) {
        // A directory commands cannot write to needs no guard (and bwrap could not make the mount point there).
        const writable = yield* Effect.tryPromise(() => fsp.access(path.dirname(dir), fsp.constants.W_OK)).pipe(
          Effect.as(true),
          Effect.orElseSucceed(() => false)
        )
        if (writable) absent.add(dir)
      } else {
        const target = yield* Effect.tryPromise(() => fsp.readlink(dir)).pipe(Effect.orElseSucceed(() => ""))
        const resolved = path.resolve(path.dirname(dir), target)
        if (target !== "" && insideAny(roots, resolved)) absent.add(resolved)
      }
    }
    return { readOnly: [...readOnly], absent: [...absent].filter((dir) => !readOnly.has(dir)) }
  })

/** Commands run unconfined, with environment `env`. */
export const none = (env: Readonly<Record<string, string>>): Sandbox.Service => ({
  name: Effect.succeed("none"),
  wrap: (argv) => Effect.succeed(argv),
  env
})

const probe = (argv: ReadonlyArray<string>, env: Readonly<Record<string, string>>) =>
  Effect.callback<void, string>((resume) => {
    const [file = "", ...args] = argv
    const child = execFile(file, args, { timeout: 5000, env }, (error, _stdout, stderr) =>
      resume(error === null ? Effect.void : Effect.fail(`${error.message.split("\n")[0]} ${stderr}`.trim()))
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

type Probed = { readonly ok: true; readonly bwrap: string } | { readonly ok: false; readonly why: string }

/**
 * The environment commands start with: `options.env` without credentials (`commandEnv`, names on
 * `envPassthrough` kept), or only the configured `PATH`. What was withheld is logged (names only) at debug level.
 */
const commandEnvironment = (options: BubblewrapOptions): Effect.Effect<Record<string, string>> =>
  Effect.gen(function* () {
    if (options.env === undefined) {
      const PATH = yield* configuredSearchPath
      return PATH === "" ? {} : { PATH }
    }
    const scrubbed = commandEnvReport(options.env, { passthrough: options.envPassthrough ?? [] })
    if (scrubbed.removed.length > 0 || scrubbed.changed.length > 0) {
      yield* Effect.logDebug(
        `commands run without ${scrubbed.removed.join(", ") || "no variable"}; URL credentials cut from ${scrubbed.changed.join(", ") || "none"} (settings sandbox.envPassthrough passes a variable through)`
      )
    }
    return scrubbed.env
  })

/** The sandbox for `options` (bwrap is probed lazily, once, on the first command). */
export const make = (options: BubblewrapOptions): Effect.Effect<Sandbox.Service> =>
  Effect.gen(function* () {
    const mode = options.mode ?? "auto"
    const env = yield* gitHardenedEnv(yield* commandEnvironment(options))
    if (mode === "off") return none(env)
    const policy: SandboxPolicy = { writableRoots: options.writableRoots, network: options.network }
    const homeDir = options.homeDir ?? options.env?.HOME
    const available = yield* Effect.cached(
      Effect.gen(function* () {
        const bwrap = options.bwrapPath ?? (yield* findExecutable("bwrap", env.PATH ?? (yield* configuredSearchPath)))
        if (bwrap === undefined) return { ok: false, why: "bwrap (bubblewrap) is not on PATH" } satisfies Probed
        const checked = yield* Effect.result(probe(bubblewrapArgv(bwrap, policy, ["true"]), env))
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
    // Nested repositories and settings are looked for once; each command re-checks what exists now.
    const nested = yield* Effect.cached(findNestedProtected(options.writableRoots))
    return {
      name: Effect.map(available, (found) => (found.ok ? "bubblewrap" : "none")),
      wrap: (argv) =>
        Effect.flatMap(available, (found) => {
          if (found.ok) {
            return nested.pipe(
              Effect.flatMap((dirs) => protectedPaths(options.writableRoots, homeDir, dirs)),
              Effect.map((protect) => bubblewrapArgv(found.bwrap, policy, argv, protect))
            )
          }
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
