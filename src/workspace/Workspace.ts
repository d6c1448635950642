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
import { Workspace, type WorkspaceFile, WorkspacePathError } from "../services/Workspace.js"
import {
  ConfinedError,
  closeConfined,
  openConfined,
  readAllConfined,
  readConfined,
  writeConfined
} from "./ConfinedFs.js"

export { Workspace, type WorkspaceFile, WorkspacePathError } from "../services/Workspace.js"

/** Longest path accepted (Linux `PATH_MAX`). */
export const MAX_PATH_LENGTH = 4096

import { PROTECTED_DESCRIPTION, PROTECTED_DIRECTORIES, PROTECTED_FILES } from "./ProtectedPaths.js"

export { PROTECTED_DESCRIPTION, PROTECTED_DIRECTORIES, PROTECTED_FILES } from "./ProtectedPaths.js"

const MAX_SYMLINK_HOPS = 40

export interface WorkspaceOptions {
  /** The working directory: the first root. */
  readonly cwd: string
  /** More directories the tools may use. */
  readonly additionalDirectories?: ReadonlyArray<string> | undefined
  /**
   * Whether a file-changing tool may write `realPath`, which is protected (`.git/`, `.sage/`, see `isProtected`).
   * Default: never. Wire it to an explicit permission allow rule for that path; the usual "ask" is not enough.
   */
  readonly allowProtected?: ((realPath: string) => boolean) | undefined
  /**
   * What the permission rules say about reading `realPath` (Grep, Glob and LS leave out of their results what is
   * not `allowed`). Default: everything is allowed. Wire it to `readAccessBy(rules)` from the permission engine.
   */
  readonly readAccess?: ((realPath: string) => "allowed" | "ask" | "denied") | undefined
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
 * Whether path segments (below a root) name a protected place: see `isProtected`. Case is ignored (`.GIT` is
 * `.git` on a case-insensitive file system).
 */
export const isProtectedSegments = (segments: ReadonlyArray<string>): boolean => {
  const lower = segments.map((segment) => segment.toLowerCase())
  return lower.some(
    (segment, i) =>
      PROTECTED_DIRECTORIES.includes(segment) ||
      (i === lower.length - 1 && PROTECTED_FILES.includes(segment)) ||
      (segment === ".config" && lower[i + 1] === "git")
  )
}

/**
 * Whether `target` is protected: inside (or named) a `.git` or `.sage` directory at any depth (a nested
 * `src/.git`, or a new file or directory named `.git`, which later git commands would read as a repository), a
 * git configuration file (`.gitconfig`, `.config/git/...`) or a shell start-up file (`.bashrc`, `.profile`, ...).
 * With roots, only the part of the path below the containing root is checked (a workspace that itself lives under
 * a `.sage` directory is usable); without, every segment is checked.
 */
export const isProtected = (target: string, workspace?: { readonly roots: ReadonlyArray<string> }): boolean => {
  const absolute = path.resolve(target)
  let relative = absolute
  if (workspace !== undefined) {
    const root = workspace.roots
      .map((r) => path.resolve(r))
      .filter((r) => isWithin(r, absolute))
      .sort((a, b) => b.length - a.length)[0]
    if (root !== undefined) relative = path.relative(root, absolute)
  }
  return isProtectedSegments(relative.split(/[\\/]+/).filter((segment) => segment !== ""))
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
  allowProtected: (realPath: string) => boolean = () => false,
  readAccess: (realPath: string) => "allowed" | "ask" | "denied" = () => "allowed"
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
        message: `${userPath} is protected: it is in or names ${PROTECTED_DESCRIPTION}; changing it requires an explicit allow rule for this path. Do not try to work around this.`
      })
    }
    return real
  })
  const confinedError = (realPath: string) => (error: unknown) =>
    error instanceof ConfinedError
      ? new WorkspacePathError({
          path: realPath,
          reason: error.reason,
          message: error.reason === "moved" ? error.message : `Cannot use ${realPath}: ${error.message}`,
          ...(error.code === undefined ? {} : { code: error.code })
        })
      : new WorkspacePathError({ path: realPath, reason: "io", message: `Cannot use ${realPath}: ${String(error)}` })
  const open = Effect.fn("Workspace.open")(function* (realPath: string) {
    const file = yield* Effect.acquireRelease(
      Effect.try({ try: () => openConfined(roots, realPath), catch: confinedError(realPath) }),
      (opened) => Effect.sync(() => closeConfined(opened))
    )
    const { stats } = file
    const read = (buffer: Uint8Array, position?: number) =>
      Effect.try({ try: () => readConfined(file, buffer, position ?? null), catch: confinedError(realPath) })
    const opened: WorkspaceFile = {
      realPath: file.realPath,
      type: stats.isFile() ? "File" : stats.isDirectory() ? "Directory" : "Other",
      size: stats.size,
      mtimeMs: stats.mtimeMs,
      read,
      readAll: Effect.try({ try: () => readAllConfined(file), catch: confinedError(realPath) })
    }
    return opened
  })
  const writeFile = Effect.fn("Workspace.writeFile")(function* (realPath: string, content: Uint8Array) {
    return yield* Effect.try({
      try: () => writeConfined(roots, realPath, content, (target) => !protectedPath(target) || allowProtected(target)),
      catch: confinedError(realPath)
    })
  })
  return Workspace.of({ roots, cwd, resolve, resolveWritable, isProtected: protectedPath, readAccess, open, writeFile })
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
  return fromRealRoots(fs, roots, options.allowProtected, options.readAccess)
})

/** `make` for a list of roots (the first is the working directory). */
export const makeWorkspace = (
  roots: ReadonlyArray<string>,
  allowProtected?: (realPath: string) => boolean,
  readAccess?: (realPath: string) => "allowed" | "ask" | "denied"
): Effect.Effect<Workspace.Service, ConfigError, FileSystem.FileSystem> => {
  const [cwd, ...additionalDirectories] = roots
  if (cwd === undefined)
    return Effect.fail(new ConfigError({ message: "A workspace needs at least one root directory" }))
  return make({ cwd, additionalDirectories, allowProtected, readAccess })
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
