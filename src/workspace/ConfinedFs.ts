/**
 * File access that cannot be raced out of the workspace. A path checked and then opened by name is two
 * operations: between them another process can swap a directory on the way for a symlink to somewhere else
 * (`renameat2(RENAME_EXCHANGE)`, or a loop of renames), and the open lands outside. Here the check and the use
 * are one operation:
 *
 * - the real path is opened one component at a time from its workspace root, each directory with
 *   `O_DIRECTORY | O_NOFOLLOW` relative to the directory opened before it (Node has no `openat`, so through the
 *   Linux magic link `/proc/self/fd/<fd>/<name>`, which the kernel resolves to the opened directory itself, not to
 *   a path), and the file last with `O_NOFOLLOW`: a symlink anywhere on the way fails the open instead of being
 *   followed;
 * - what was opened is verified by the kernel's own name for it (`readlink /proc/self/fd/<fd>`): still inside a
 *   root and, for writes, still not a protected path;
 * - a write goes to a temporary file created (`O_EXCL | O_NOFOLLOW`) in the opened directory and renamed into
 *   place within it; the directory is verified before and after the rename, and a write whose directory moved
 *   out of the workspace meanwhile is removed again and reported.
 *
 * Without `/proc` (macOS) the same steps run on path strings (each component `O_NOFOLLOW`, the real path of each
 * directory compared before use): narrower windows, not none.
 */
import { randomBytes } from "node:crypto"
import * as nodeFs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const C = nodeFs.constants
/** `O_CLOEXEC` (Linux: 0o2000000), which Node's constants leave out: no descriptor leaks into a child process. */
const CLOEXEC = os.platform() === "linux" ? 0o2000000 : 0
const DIRECTORY_FLAGS = C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW | CLOEXEC
/** A FIFO would block an open for reading; a non-blocking open returns at once and `fstat` tells what it is. */
const READ_FLAGS = C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | CLOEXEC
const CREATE_FLAGS = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | CLOEXEC

/** Why a confined operation failed: the path moved (a race, or a symlink where a directory was), or an OS error. */
export class ConfinedError extends Error {
  constructor(
    readonly reason: "moved" | "io",
    message: string,
    readonly code?: string
  ) {
    super(message)
  }
}

const errnoCode = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined

let procFd: boolean | undefined

/** Whether `/proc/self/fd/<fd>/<name>` opens relative to an open directory (Linux with `/proc` mounted). */
export const hasProcFd = (): boolean => {
  if (procFd === undefined) {
    try {
      const fd = nodeFs.openSync("/", DIRECTORY_FLAGS)
      try {
        procFd =
          nodeFs.readlinkSync(`/proc/self/fd/${fd}`) === "/" && nodeFs.statSync(`/proc/self/fd/${fd}/.`).isDirectory()
      } finally {
        nodeFs.closeSync(fd)
      }
    } catch {
      procFd = false
    }
  }
  return procFd
}

/** An open directory: its descriptor and the path it was opened by. */
interface Dir {
  readonly fd: number
  readonly opened: string
}

/** `name` inside the open directory `dir`, as a path the kernel resolves through the descriptor. */
const at = (dir: Dir, name: string): string =>
  hasProcFd() ? `/proc/self/fd/${dir.fd}/${name}` : path.join(dir.opened, name)

/** Where an open descriptor is now, by the kernel's name for it (`undefined` when it was deleted). */
export const whereIs = (fd: number, opened: string): string | undefined => {
  if (!hasProcFd()) {
    try {
      return nodeFs.realpathSync.native(opened)
    } catch {
      return undefined
    }
  }
  try {
    const now = nodeFs.readlinkSync(`/proc/self/fd/${fd}`)
    return now.endsWith(" (deleted)") || !path.isAbsolute(now) ? undefined : now
  } catch {
    return undefined
  }
}

const isWithin = (parent: string, child: string): boolean => {
  const relative = path.relative(parent, child)
  return relative === "" || (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
}

/** The root of `roots` that holds `real`, and the segments below it. */
const locate = (
  roots: ReadonlyArray<string>,
  real: string
): { readonly root: string; readonly segments: ReadonlyArray<string> } => {
  const root = roots.filter((r) => isWithin(r, real)).sort((a, b) => b.length - a.length)[0]
  if (root === undefined) throw new ConfinedError("moved", `${real} is outside the workspace`)
  const relative = path.relative(root, real)
  return { root, segments: relative === "" ? [] : relative.split(path.sep) }
}

const closeQuietly = (fd: number): void => {
  try {
    nodeFs.closeSync(fd)
  } catch {
    // already closed
  }
}

const moved = (what: string) =>
  new ConfinedError(
    "moved",
    `${what} changed while it was being used (a directory on the way was replaced, moved or turned into a symbolic link); nothing outside the workspace was touched. Try again.`
  )

const ioError = (error: unknown): ConfinedError =>
  error instanceof ConfinedError
    ? error
    : new ConfinedError("io", error instanceof Error ? error.message : String(error), errnoCode(error))

/**
 * The error for a failed no-follow open of `name` in `dir`: a symlink there (`ELOOP`, or `ENOTDIR` for a
 * directory open) means the path changed since it was resolved (`moved`); anything else is the OS error.
 */
const openFailure = (dir: Dir, name: string, error: unknown, what: string): ConfinedError => {
  const code = errnoCode(error)
  if (code === "ELOOP" || code === "ENOTDIR") {
    try {
      if (nodeFs.lstatSync(at(dir, name)).isSymbolicLink()) return moved(what)
    } catch {
      // gone again: report the open's own error
    }
  }
  return ioError(error)
}

/**
 * Opens the directory `segments` below `root` one component at a time, never following a symlink; with `create`,
 * missing directories are made (mode `0o777` minus umask, as `mkdir -p`). The caller closes the result.
 */
const openDirectory = (root: string, segments: ReadonlyArray<string>, create: boolean, what: string): Dir => {
  let dir: Dir
  try {
    dir = { fd: nodeFs.openSync(root, DIRECTORY_FLAGS), opened: root }
  } catch (error) {
    throw ioError(error)
  }
  try {
    if (whereIs(dir.fd, root) !== root) throw moved(what)
    for (const name of segments) {
      const next = at(dir, name)
      let fd: number
      try {
        fd = nodeFs.openSync(next, DIRECTORY_FLAGS)
      } catch (error) {
        if (!create || errnoCode(error) !== "ENOENT") throw openFailure(dir, name, error, what)
        try {
          nodeFs.mkdirSync(next, 0o777)
        } catch (made) {
          if (errnoCode(made) !== "EEXIST") throw ioError(made)
        }
        try {
          fd = nodeFs.openSync(next, DIRECTORY_FLAGS)
        } catch (again) {
          throw openFailure(dir, name, again, what)
        }
      }
      closeQuietly(dir.fd)
      dir = { fd, opened: path.join(dir.opened, name) }
    }
    return dir
  } catch (error) {
    closeQuietly(dir.fd)
    throw ioError(error)
  }
}

/** A file opened inside the workspace: read through `fd`, which is what was verified. */
export interface ConfinedFile {
  readonly fd: number
  /** Where the file is (the kernel's name for the descriptor when it was verified). */
  readonly realPath: string
  readonly stats: nodeFs.Stats
}

/**
 * Opens `real` (a real path inside one of `roots`) for reading without following any symlink, and verifies that
 * what was opened lies inside a root. The caller closes `fd` (`closeConfined`). `ENOENT` and friends come back as
 * `ConfinedError("io")` with their `code`.
 */
export const openConfined = (roots: ReadonlyArray<string>, real: string, what = real): ConfinedFile => {
  const { root, segments } = locate(roots, real)
  const name = segments[segments.length - 1]
  const dir = openDirectory(root, name === undefined ? [] : segments.slice(0, -1), false, what)
  let fd: number
  if (name === undefined) fd = dir.fd
  else {
    try {
      fd = nodeFs.openSync(at(dir, name), READ_FLAGS)
    } catch (error) {
      const failure = openFailure(dir, name, error, what)
      closeQuietly(dir.fd)
      throw failure
    }
    closeQuietly(dir.fd)
  }
  try {
    const where = whereIs(fd, real)
    if (where === undefined || !roots.some((r) => isWithin(r, where))) throw moved(what)
    return { fd, realPath: where, stats: nodeFs.fstatSync(fd) }
  } catch (error) {
    closeQuietly(fd)
    throw ioError(error)
  }
}

export const closeConfined = (file: ConfinedFile): void => closeQuietly(file.fd)

/** Reads up to `buffer.length` bytes at `position` (or the current offset) of an open file. */
export const readConfined = (file: ConfinedFile, buffer: Uint8Array, position: number | null = null): number => {
  for (;;) {
    try {
      return nodeFs.readSync(file.fd, buffer, 0, buffer.length, position)
    } catch (error) {
      // A FIFO opened non-blocking: nothing to read now.
      if (errnoCode(error) === "EAGAIN") return 0
      throw ioError(error)
    }
  }
}

/** The whole content of an open file, from its start. */
export const readAllConfined = (file: ConfinedFile): Uint8Array => {
  const chunks: Array<Uint8Array> = []
  let position = 0
  for (;;) {
    const chunk = new Uint8Array(
      Math.min(Math.max(64 * 1024, Number(file.stats.size) - position + 1), 16 * 1024 * 1024)
    )
    const read = readConfined(file, chunk, position)
    if (read === 0) break
    chunks.push(chunk.subarray(0, read))
    position += read
  }
  return Buffer.concat(chunks)
}

export interface ConfinedWrite {
  /** Where the file was written (the verified directory's path and the name). */
  readonly realPath: string
  /** Whether the file did not exist before. */
  readonly created: boolean
}

/**
 * Replaces `real` (a real path inside one of `roots`) with `content` atomically, confined: the parent directories
 * are opened (and made) one component at a time without following symlinks, a temporary file is created in the
 * opened directory, written, synced and renamed over the target within that directory. `acceptable` judges the
 * directory's actual place (inside a root, not protected) before and after the rename; a write found outside is
 * removed again. An existing file keeps its permission bits; an existing symlink or non-file at the target fails.
 */
export const writeConfined = (
  roots: ReadonlyArray<string>,
  real: string,
  content: Uint8Array,
  acceptable: (target: string) => boolean,
  what = real
): ConfinedWrite => {
  const { root, segments } = locate(roots, real)
  const name = segments[segments.length - 1]
  if (name === undefined) throw new ConfinedError("io", `${what} is a directory`, "EISDIR")
  const dir = openDirectory(root, segments.slice(0, -1), true, what)
  const verify = (): string => {
    const where = whereIs(dir.fd, dir.opened)
    if (where === undefined) throw moved(what)
    const target = path.join(where, name)
    if (!roots.some((r) => isWithin(r, target)) || !acceptable(target)) throw moved(what)
    return target
  }
  const temp = `.${name.slice(0, 100)}.sage-${randomBytes(6).toString("hex")}.tmp`
  let tempCreated = false
  try {
    verify()
    const existing = nodeFs.lstatSync(at(dir, name), { throwIfNoEntry: false })
    if (existing !== undefined) {
      if (existing.isSymbolicLink()) throw moved(what)
      if (existing.isDirectory()) throw new ConfinedError("io", `${what} is a directory`, "EISDIR")
      if (!existing.isFile()) throw new ConfinedError("io", `${what} is not a regular file`, "EINVAL")
    }
    const mode = existing === undefined ? undefined : existing.mode & 0o7777
    const fd = nodeFs.openSync(at(dir, temp), CREATE_FLAGS, mode ?? 0o666)
    tempCreated = true
    try {
      let written = 0
      while (written < content.length) written += nodeFs.writeSync(fd, content, written, content.length - written)
      if (mode !== undefined) nodeFs.fchmodSync(fd, mode)
      nodeFs.fsyncSync(fd)
    } finally {
      closeQuietly(fd)
    }
    verify()
    nodeFs.renameSync(at(dir, temp), at(dir, name))
    tempCreated = false
    let target: string
    try {
      target = verify()
    } catch (error) {
      // The directory moved out of the workspace while the file was renamed into it: take the file back out.
      try {
        nodeFs.unlinkSync(at(dir, name))
      } catch {
        // gone already
      }
      throw error
    }
    try {
      nodeFs.fsyncSync(dir.fd)
    } catch {
      // best effort: some file systems cannot sync a directory
    }
    return { realPath: target, created: existing === undefined }
  } catch (error) {
    if (tempCreated) {
      try {
        nodeFs.unlinkSync(at(dir, temp))
      } catch {
        // gone already
      }
    }
    throw ioError(error)
  } finally {
    closeQuietly(dir.fd)
  }
}
