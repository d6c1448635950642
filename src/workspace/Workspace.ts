/**
 * Path confinement for file tools: every path a tool touches is resolved to its real path (symlinks
 * included) and must lie inside one of the workspace roots.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { ConfigError } from "../errors/ConfigError.js"
import { ToolExecutionError } from "../errors/ToolError.js"

/**
 * The directories tools may touch. The first root is the working directory (relative paths resolve
 * against it). Roots should be absolute real paths (see `makeWorkspace`); `resolveInside` also resolves
 * them itself, so a hand-built workspace is safe too.
 */
export interface Workspace {
  readonly roots: ReadonlyArray<string>
}

/** Longest path accepted (Linux `PATH_MAX`). */
export const MAX_PATH_LENGTH = 4096

/** Directory names that file-changing tools must not touch. */
export const PROTECTED_DIRECTORIES: ReadonlyArray<string> = [".git", ".sage"]

const MAX_SYMLINK_HOPS = 40

/** The working directory: the first root (made absolute). */
export const workspaceCwd = (workspace: Workspace): string => path.resolve(workspace.roots[0] ?? ".")

/** A workspace whose roots are the real paths of `roots` (the first is the working directory); each must be a directory. */
export const makeWorkspace = (roots: ReadonlyArray<string>): Effect.Effect<Workspace, ConfigError> =>
  Effect.gen(function* () {
    if (roots.length === 0) return yield* new ConfigError({ message: "A workspace needs at least one root directory" })
    const real = yield* Effect.forEach(roots, (root) =>
      Effect.tryPromise({
        try: async () => {
          const resolved = await fs.realpath(path.resolve(root))
          const stat = await fs.stat(resolved)
          if (!stat.isDirectory()) throw new Error("not a directory")
          return resolved
        },
        catch: (error) =>
          new ConfigError({
            message: `Workspace root ${root} is not an accessible directory: ${errorMessage(error)}`,
            source: root
          })
      })
    )
    return { roots: real }
  })

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const errorCode = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined

/** Whether `child` is `parent` or lies under it (both absolute, normalized). */
export const isWithin = (parent: string, child: string): boolean => {
  const relative = path.relative(parent, child)
  return relative === "" || (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
}

class Refused extends Error {}

/**
 * The real path of `absolute`, which need not exist: the real path of its nearest existing ancestor plus the
 * rest. A dangling symlink on the way is followed to its target (so a link pointing outside is caught).
 */
const realPathOf = async (absolute: string, hops = 0): Promise<string> => {
  if (hops > MAX_SYMLINK_HOPS) throw new Refused("too many levels of symbolic links")
  const missing: Array<string> = []
  let current = absolute
  for (;;) {
    try {
      const real = await fs.realpath(current)
      return missing.length === 0 ? real : path.join(real, ...missing.reverse())
    } catch (error) {
      const code = errorCode(error)
      if (code === "ELOOP") throw new Refused("too many levels of symbolic links")
      if (code !== "ENOENT" && code !== "ENOTDIR") throw error
    }
    const link = await fs.readlink(current).catch(() => undefined)
    if (link !== undefined) {
      // A symlink whose target does not exist (yet): continue from its target.
      const target = path.resolve(path.dirname(current), link)
      return realPathOf(missing.length === 0 ? target : path.join(target, ...[...missing].reverse()), hops + 1)
    }
    const parent = path.dirname(current)
    if (parent === current) return path.join(current, ...missing.reverse())
    missing.push(path.basename(current))
    current = parent
  }
}

/** The real paths of the workspace roots (a root that cannot be resolved is used as given, made absolute). */
export const realRoots = (workspace: Workspace): Promise<ReadonlyArray<string>> =>
  Promise.all(workspace.roots.map((root) => fs.realpath(path.resolve(root)).catch(() => path.resolve(root))))

/**
 * Resolve a path given by the model: relative paths are taken from the working directory, the real path is
 * computed (symlinks followed, also for files that do not exist yet), and the result must lie inside a
 * workspace root. Refuses NUL bytes, paths longer than `MAX_PATH_LENGTH`, and anything outside the roots, with
 * a message written for the model. `tool` names the tool in the error.
 */
export const resolveInside = (
  workspace: Workspace,
  userPath: string,
  tool = "Workspace"
): Effect.Effect<string, ToolExecutionError> =>
  Effect.tryPromise({
    try: async () => {
      if (userPath.includes("\0")) throw new Refused("the path contains a NUL byte")
      if (userPath.trim() === "") throw new Refused("the path is empty")
      if (userPath.length > MAX_PATH_LENGTH)
        throw new Refused(`the path is ${userPath.length} characters long (the limit is ${MAX_PATH_LENGTH})`)
      const roots = await realRoots(workspace)
      const absolute = path.resolve(workspaceCwd(workspace), userPath)
      const real = await realPathOf(absolute)
      if (!roots.some((root) => isWithin(root, real))) {
        const via = real === absolute ? "" : ` (it resolves to ${real})`
        throw new Refused(
          `${userPath} is outside the workspace${via}; only paths under ${roots.join(", ")} can be used`
        )
      }
      return real
    },
    catch: (error) =>
      new ToolExecutionError({
        tool,
        message:
          error instanceof Refused
            ? `Cannot use path ${JSON.stringify(userPath.slice(0, 200))}: ${error.message}`
            : `Cannot resolve path ${JSON.stringify(userPath.slice(0, 200))}: ${errorMessage(error)}`
      })
  })

/**
 * Whether `target` lies in a protected directory (`.git`, `.sage`) that file-changing tools must refuse.
 * With a workspace, only the part of the path below the containing root is checked (a workspace that itself
 * lives under a `.sage` directory is usable); without one, every segment is checked.
 */
export const isProtected = (target: string, workspace?: Workspace): boolean => {
  const absolute = path.resolve(target)
  let relative = absolute
  if (workspace !== undefined) {
    const root = workspace.roots.map((r) => path.resolve(r)).find((r) => isWithin(r, absolute))
    if (root !== undefined) relative = path.relative(root, absolute)
  }
  return relative.split(/[\\/]+/).some((segment) => PROTECTED_DIRECTORIES.includes(segment))
}
