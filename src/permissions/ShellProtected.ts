/**
 * Places a shell command must not write without a question in any mode (bypassPermissions included), because a
 * write there changes what later commands or sessions do: `.git` and `.sage` path components anywhere (a `.git`
 * file or directory makes git read model-written configuration), `.envrc` files, and the shell and tool start-up
 * files in the home directory. Pure: lexical checks on absolute paths plus `existsSync` for recursive writes.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { HOME_PROTECTED, PROTECTED_DIRECTORIES } from "../workspace/ProtectedPaths.js"

/** Path components that are protected wherever they appear, inside the workspace or not. */
const ANYWHERE = new Set([...PROTECTED_DIRECTORIES, ".envrc"])

export interface ProtectedBases {
  /** Workspace roots (every spelling). */
  readonly roots: ReadonlyArray<string>
  /** Home directory (every spelling). */
  readonly homes: ReadonlyArray<string>
}

const within = (base: string, target: string): string | undefined => {
  const rel = path.relative(base, target)
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel)) ? rel : undefined
}

/** Why a shell write to `absolute` needs a question in every mode, or `undefined`. */
export const shellProtectedReason = (absolute: string, bases: ProtectedBases): string | undefined => {
  const segments = absolute.split(/[\\/]+/)
  const hit = segments.find((s) => ANYWHERE.has(s))
  if (hit !== undefined) return `a ${hit} path`
  for (const home of bases.homes) {
    const rel = within(home, absolute)
    if (rel === undefined || rel === "") continue
    // A workspace below the home directory (`~/.config/app`) is the user's project, not a start-up file.
    const inDeeperRoot = bases.roots.some((r) => {
      const below = within(home, r)
      return below !== undefined && below !== "" && within(r, absolute) !== undefined
    })
    if (inDeeperRoot) continue
    if (HOME_PROTECTED.some((f) => rel === f || rel.startsWith(`${f}/`)))
      return `a start-up or configuration file in the home directory (~/${rel})`
  }
  return undefined
}

/**
 * Why a write that may change everything under `absolute` (`rm -r`, `find -delete`, `cp -r` into it) needs a
 * question: a protected place lies under it (a workspace root's `.git`/`.sage`, the home directory's start-up
 * files, a `.git` or `.sage` entry directly inside it).
 */
export const recursiveProtectedReason = (absolute: string, bases: ProtectedBases): string | undefined => {
  const own = shellProtectedReason(absolute, bases)
  if (own !== undefined) return own
  for (const root of bases.roots) {
    if (within(absolute, root) !== undefined) return "a directory that contains a workspace root (and its .git, .sage)"
  }
  for (const home of bases.homes) {
    if (within(absolute, home) !== undefined) return "a directory that contains the home directory"
  }
  for (const name of ANYWHERE) {
    if (fs.existsSync(path.join(absolute, name))) return `a directory that contains ${name}`
  }
  return undefined
}

/**
 * Whether git, started in `dir`, could use a repository inside the workspace other than a real `.git`: a directory
 * that looks like a bare repository (`HEAD`, `objects/`, `refs/`) is one the model may have written, with a
 * configuration that runs programs (`core.fsmonitor`, `core.pager`, ...). Returns the suspicious directory.
 */
export const untrustedGitDir = (dir: string, roots: ReadonlyArray<string>): string | undefined => {
  let current = path.resolve(dir)
  for (let hops = 0; hops < 256; hops++) {
    if (!roots.some((r) => within(r, current) !== undefined)) return undefined
    if (current.split(/[\\/]+/).includes(".git")) return undefined
    if (fs.existsSync(path.join(current, ".git"))) return undefined
    const looksBare =
      fs.existsSync(path.join(current, "HEAD")) &&
      (fs.existsSync(path.join(current, "objects")) || fs.existsSync(path.join(current, "refs")))
    if (looksBare || fs.existsSync(path.join(current, "commondir")) || fs.existsSync(path.join(current, "gitdir")))
      return current
    const parent = path.dirname(current)
    if (parent === current) return undefined
    current = parent
  }
  return undefined
}
