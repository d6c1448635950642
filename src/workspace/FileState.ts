/**
 * `FileState`: what the model has read in this session, so that file-changing tools can refuse to overwrite a
 * file the model has not seen, or one that changed on disk since it was read (by the user, a formatter, a
 * command). One per session; `Read` records every successful read, `Write`/`Edit`/`MultiEdit` check before
 * writing and record after.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { ToolExecutionError } from "../errors/ToolError.js"

/** What was seen of one file (keyed by its real path). */
export interface FileRecord {
  readonly mtimeMs: number
  readonly size: number
  /** SHA-256 of the content, for files up to `HASH_LIMIT` bytes. */
  readonly hash?: string
}

/** Files up to this size are compared by content (a hash), larger ones by modification time and size. */
export const HASH_LIMIT = 4 * 1024 * 1024

export interface FileState {
  readonly files: Ref.Ref<ReadonlyMap<string, FileRecord>>
  /**
   * Remember the current state of `path` (a real path, as `resolveInside` returns) as seen by the model.
   * `content` is the file's full content when the caller has it (saves reading it again). A file that cannot be
   * read is forgotten instead.
   */
  readonly recordRead: (path: string, content?: Uint8Array) => Effect.Effect<void>
  /** The same as `recordRead`, after a successful write: the model knows what it wrote, no new read is needed. */
  readonly recordWrite: (path: string, content?: Uint8Array) => Effect.Effect<void>
  /**
   * Succeeds when `path` may be written: it does not exist (a new file needs no read), or it was read in this
   * session and has not changed since. Changes are detected by content for files up to `HASH_LIMIT` bytes
   * (a touched file with the same content is still writable), else by modification time and size. `content`
   * is the file's current content when the caller already read it. `tool` names the tool in the error.
   */
  readonly checkWritable: (path: string, tool?: string, content?: Uint8Array) => Effect.Effect<void, ToolExecutionError>
  /** What was recorded for `path`. */
  readonly get: (path: string) => Effect.Effect<Option.Option<FileRecord>>
}

const sha256 = (content: Uint8Array): string => createHash("sha256").update(content).digest("hex")

type Observed = { readonly exists: false } | { readonly exists: true; readonly record: FileRecord }

/** Stat (and hash, when small enough) `path` as it is now. */
const observe = async (path: string, content?: Uint8Array): Promise<Observed> => {
  let stat: Awaited<ReturnType<typeof fs.stat>>
  try {
    stat = await fs.stat(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === "ENOENT" || code === "ENOTDIR") return { exists: false }
    throw error
  }
  if (!stat.isFile() || stat.size > HASH_LIMIT) {
    return { exists: true, record: { mtimeMs: stat.mtimeMs, size: stat.size } }
  }
  const bytes = content !== undefined && content.length === stat.size ? content : await fs.readFile(path)
  return { exists: true, record: { mtimeMs: stat.mtimeMs, size: stat.size, hash: sha256(bytes) } }
}

/** Whether the file as it is now (`now`) is what was recorded (`seen`). */
export const sameFile = (seen: FileRecord, now: FileRecord): boolean => {
  if (seen.size !== now.size) return false
  if (seen.hash !== undefined && now.hash !== undefined) return seen.hash === now.hash
  return seen.mtimeMs === now.mtimeMs
}

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const fromRef = (files: Ref.Ref<ReadonlyMap<string, FileRecord>>): FileState => {
  const set = (path: string, record: FileRecord | undefined) =>
    Ref.update(files, (map) => {
      const next = new Map(map)
      if (record === undefined) next.delete(path)
      else next.set(path, record)
      return next
    })

  const record = (path: string, content?: Uint8Array) =>
    Effect.promise(() =>
      observe(path, content).then(
        (observed) => (observed.exists ? observed.record : undefined),
        () => undefined
      )
    ).pipe(Effect.flatMap((seen) => set(path, seen)))

  const recordRead = Effect.fn("FileState.recordRead")(function* (path: string, content?: Uint8Array) {
    yield* record(path, content)
  })

  const recordWrite = Effect.fn("FileState.recordWrite")(function* (path: string, content?: Uint8Array) {
    yield* record(path, content)
  })

  const get = Effect.fn("FileState.get")(function* (path: string) {
    return Option.fromNullable((yield* Ref.get(files)).get(path))
  })

  const checkWritable = Effect.fn("FileState.checkWritable")(function* (
    path: string,
    tool = "Write",
    content?: Uint8Array
  ) {
    const fail = (message: string) => new ToolExecutionError({ tool, message })
    const observed = yield* Effect.tryPromise({
      try: () => observe(path, content),
      catch: (error) => fail(`Cannot check ${path}: ${errorMessage(error)}`)
    })
    if (!observed.exists) return
    const seen = (yield* Ref.get(files)).get(path)
    if (seen === undefined) {
      return yield* fail(
        `${path} exists but has not been read in this session. Read it first (with the Read tool), then write or edit it.`
      )
    }
    if (!sameFile(seen, observed.record)) {
      return yield* fail(
        `${path} was modified since read; read it again (it changed on disk after you last read it), then retry the change.`
      )
    }
  })

  return { files, recordRead, recordWrite, checkWritable, get }
}

/** A `FileState` built synchronously (for callers that cannot run an effect, like the pure `builtinTools`). */
export const unsafeMakeFileState = (): FileState => fromRef(Ref.unsafeMake<ReadonlyMap<string, FileRecord>>(new Map()))

/** A fresh, empty `FileState` (one per session). */
export const makeFileState = (): Effect.Effect<FileState> =>
  Effect.map(Ref.make<ReadonlyMap<string, FileRecord>>(new Map()), fromRef)
