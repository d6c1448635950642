/**
 * Path confinement for file tools, on effect's `FileSystem`: every path a tool touches is resolved to its real
 * path (symlinks included) and must lie inside one of the workspace roots. `make` builds the `Workspace` service
 * (`src/services/Workspace.ts`); `WorkspaceLive.layer` provides it.
 */
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import type * as PlatformError from "effect/PlatformError"
import { ConfigError } from "../errors/ConfigError.js"
import { ToolExecutionError } from "../errors/ToolError.js"
import { Workspace, WorkspacePathError } from "../services/Workspace.js"

export { Workspace, WorkspacePathError } from "../services/Workspace.js"

/** Longest path accepted (Linux `PATH_MAX`). */
export const MAX_PATH_LENGTH = 4096

/** Directory names that file-changing tools must not touch. */
export const PROTECTED_DIRECTORIES: ReadonlyArray<string> = [".git", ".sage"]

const MAX_SYMLINK_HOPS = 40

export interface WorkspaceOptions {
  /** The working directory: the first root. */
  readonly cwd: string
  /** More directories the tools may use. */
  readonly additionalDirectories?: ReadonlyArray<string> | undefined
  /**
   * Whether a file-changing tool may write `realPath`, which lies in a protected directory (`.git/`, `.sage/`).
   * Default: never. Wire it to an explicit permission allow rule for that path; the usual "ask" is not enough.
   */
  readonly allowProtected?: ((realPath: string) => boolean) | undefined
}

/** The working directory: the first root (made absolute). */
export const workspaceCwd = (workspace: { readonly roots: ReadonlyArray<string> }): string =>
  path.resolve(workspace.roots[0] ?? ".")

/** Whether `child` is `parent` or lies under it (both absolute, normalized). */
export const isWithin = (parent: string, child: string): boolean => {
  const relative = path.relative(parent, child)
  return relative === "" || (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
}

/**
 * Whether `target` lies in a protected directory (`.git`, `.sage`) that file-changing tools must refuse. With
 * roots, only the part of the path below the containing root is checked (a workspace that itself lives under a
 * `.sage` directory is usable); without, every segment is checked.
 */
export const isProtected = (target: string, workspace?: { readonly roots: ReadonlyArray<string> }): boolean => {
  const absolute = path.resolve(target)
  let relative = absolute
  if (workspace !== undefined) {
    const root = workspace.roots.map((r) => path.resolve(r)).find((r) => isWithin(r, absolute))
    if (root !== undefined) relative = path.relative(root, absolute)
  }
  return relative.split(/[\\/]+/).some((segment) => PROTECTED_DIRECTORIES.includes(segment))
}

const shown = (userPath: string): string => JSON.stringify(userPath.slice(0, 200))

const isMissing = (error: PlatformError.PlatformError): boolean =>
  error.reason._tag === "NotFound" || error.reason._tag === "BadResource"

/**
 * The real path of `absolute`, which need not exist: the real path of its nearest existing ancestor plus the
 * rest. A dangling symlink on the way is followed to its target (so a link pointing outside is caught); a loop
 * fails after `MAX_SYMLINK_HOPS` links.
 */
const realPathOf = (
  fs: FileSystem.FileSystem,
  absolute: string,
  userPath: string,
  hops = 0
): Effect.Effect<string, WorkspacePathError> =>
  Effect.gen(function* () {
    const invalid = (message: string) => new WorkspacePathError({ path: userPath, reason: "invalid", message })
    if (hops > MAX_SYMLINK_HOPS) {
      return yield* invalid(`Cannot use path ${shown(userPath)}: too many levels of symbolic links`)
    }
    const missing: Array<string> = []
    let current = absolute
    for (;;) {
      const real = yield* fs.realPath(current).pipe(
        Effect.map((r): string | undefined => r),
        Effect.catch((error) =>
          isMissing(error)
            ? Effect.succeed(undefined)
            : Effect.fail(
                new WorkspacePathError({
                  path: userPath,
                  reason: "unresolvable",
                  message: `Cannot resolve path ${shown(userPath)}: ${error.message}`
                })
              )
        )
      )
      if (real !== undefined) return missing.length === 0 ? real : path.join(real, ...[...missing].reverse())
      const link = yield* fs.readLink(current).pipe(Effect.option)
      if (link._tag === "Some") {
        // A symlink whose target does not exist (yet), or a loop: continue from its target.
        const target = path.resolve(path.dirname(current), link.value)
        return yield* realPathOf(
          fs,
          missing.length === 0 ? target : path.join(target, ...[...missing].reverse()),
          userPath,
          hops + 1
        )
      }
      const parent = path.dirname(current)
      if (parent === current) return path.join(current, ...[...missing].reverse())
      missing.push(path.basename(current))
      current = parent
    }
  })

/**
 * The `Workspace` service for real roots (already resolved, absolute; the first is the working directory).
 * `resolve` refuses NUL bytes, empty paths, paths longer than `MAX_PATH_LENGTH` and anything that resolves
 * outside the roots, with a message written for the model.
 */
export const fromRealRoots = (
  fs: FileSystem.FileSystem,
  roots: ReadonlyArray<string>,
  allowProtected: (realPath: string) => boolean = () => false
): Workspace.Service => {
  const cwd = workspaceCwd({ roots })
  const resolve = Effect.fn("Workspace.resolve")(function* (userPath: string) {
    const invalid = (why: string) =>
      new WorkspacePathError({
        path: userPath,
        reason: "invalid",
        message: `Cannot use path ${shown(userPath)}: ${why}`
      })
    if (userPath.includes("\0")) return yield* invalid("the path contains a NUL byte")
    if (userPath.trim() === "") return yield* invalid("the path is empty")
    if (userPath.length > MAX_PATH_LENGTH) {
      return yield* invalid(`the path is ${userPath.length} characters long (the limit is ${MAX_PATH_LENGTH})`)
    }
    const absolute = path.resolve(cwd, userPath)
    const real = yield* realPathOf(fs, absolute, userPath)
    if (!roots.some((root) => isWithin(root, real))) {
      const via = real === absolute ? "" : ` (it resolves to ${real})`
      return yield* new WorkspacePathError({
        path: userPath,
        reason: "outside",
        message: `Cannot use path ${shown(userPath)}: ${userPath} is outside the workspace${via}; only paths under ${roots.join(", ")} can be used`
      })
    }
    return real
  })
  const protectedPath = (realPath: string) => isProtected(realPath, { roots })
  const resolveWritable = Effect.fn("Workspace.resolveWritable")(function* (userPath: string) {
    const real = yield* resolve(userPath)
    if (protectedPath(real) && !allowProtected(real)) {
      return yield* new WorkspacePathError({
        path: userPath,
        reason: "protected",
        message: `${userPath} is inside a protected directory (${PROTECTED_DIRECTORIES.join(", ")}); changing files there requires an explicit allow rule for this path. Do not try to work around this.`
      })
    }
    return real
  })
  return Workspace.of({ roots, cwd, resolve, resolveWritable, isProtected: protectedPath })
}

/**
 * A `Workspace` whose roots are the real paths of `cwd` and `additionalDirectories` (each must be a directory).
 */
export const make = Effect.fn("Workspace.make")(function* (options: WorkspaceOptions) {
  const fs = yield* FileSystem.FileSystem
  const given = [options.cwd, ...(options.additionalDirectories ?? [])]
  const roots = yield* Effect.forEach(given, (root) =>
    Effect.gen(function* () {
      const real = yield* fs.realPath(path.resolve(root))
      const info = yield* fs.stat(real)
      if (info.type !== "Directory") {
        return yield* new ConfigError({ message: `Workspace root ${root} is not a directory`, source: root })
      }
      return real
    }).pipe(
      Effect.catchTag("PlatformError", (error) =>
        Effect.fail(
          new ConfigError({
            message: `Workspace root ${root} is not an accessible directory: ${error.message}`,
            source: root
          })
        )
      )
    )
  )
  return fromRealRoots(fs, roots, options.allowProtected)
})

/** `make` for a list of roots (the first is the working directory). */
export const makeWorkspace = (
  roots: ReadonlyArray<string>,
  allowProtected?: (realPath: string) => boolean
): Effect.Effect<Workspace.Service, ConfigError, FileSystem.FileSystem> => {
  const [cwd, ...additionalDirectories] = roots
  if (cwd === undefined)
    return Effect.fail(new ConfigError({ message: "A workspace needs at least one root directory" }))
  return make({ cwd, additionalDirectories, allowProtected })
}

/** `workspace.resolve`, with a refusal as the `ToolExecutionError` of `tool` (for tools built on the service). */
export const resolveInside = (
  workspace: Workspace.Service,
  userPath: string,
  tool = "Workspace"
): Effect.Effect<string, ToolExecutionError> =>
  Effect.mapError(workspace.resolve(userPath), (error) => new ToolExecutionError({ tool, message: error.message }))

/** `workspace.resolveWritable`, with a refusal as the `ToolExecutionError` of `tool`. */
export const resolveWritable = (
  workspace: Workspace.Service,
  userPath: string,
  tool: string
): Effect.Effect<string, ToolExecutionError> =>
  Effect.mapError(
    workspace.resolveWritable(userPath),
    (error) => new ToolExecutionError({ tool, message: error.message })
  )
