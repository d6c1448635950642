/**
 * The `FileState` service (`src/services/FileState.ts`) on effect's `FileSystem`: what the model has read in this
 * session, keyed by real path, so that file-changing tools can refuse to overwrite a file the model has not seen
 * or one that changed on disk since it was read. `FileStateLive.layer` provides one per session.
 */
import { createHash } from "node:crypto"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import type * as PlatformError from "effect/PlatformError"
import * as Ref from "effect/Ref"
import { FileState, type FileRecord, FileStateError } from "../services/FileState.js"

export { type FileRecord, FileState, FileStateError } from "../services/FileState.js"

/** Files up to this size are compared by content (a hash), larger ones by modification time and size. */
export const HASH_LIMIT = 4 * 1024 * 1024

const sha256 = (content: Uint8Array): string => createHash("sha256").update(content).digest("hex")

/** The errno code (`ENOTDIR`, `ELOOP`) behind a file-system error, when the platform gave one. */
const errnoCode = (error: PlatformError.PlatformError): string | undefined => {
  const cause = error.reason.cause
  return typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined
}

const platformMessage = (error: PlatformError.PlatformError): string => {
  const cause = error.reason.cause
  return cause instanceof Error && cause.message !== "" ? cause.message : error.message
}

type Observed = { readonly exists: false } | { readonly exists: true; readonly record: FileRecord }

/** Whether the file as it is now (`now`) is what was recorded (`seen`). */
export const sameFile = (seen: FileRecord, now: FileRecord): boolean => {
  if (seen.size !== now.size) return false
  if (seen.hash !== undefined && now.hash !== undefined) return seen.hash === now.hash
  return seen.mtimeMs === now.mtimeMs
}

/** A `FileState` over an existing map of records. */
export const fromRef = (
  fs: FileSystem.FileSystem,
  files: Ref.Ref<ReadonlyMap<string, FileRecord>>
): FileState.Service => {
  /** Stat (and hash, when small enough) `path` as it is now. */
  const observe = (path: string, content?: Uint8Array) =>
    Effect.gen(function* () {
      const info = yield* fs.stat(path).pipe(
        Effect.map(Option.some),
        Effect.catch((error) =>
          error.reason._tag === "NotFound" || errnoCode(error) === "ENOTDIR"
            ? Effect.succeed(Option.none<FileSystem.File.Info>())
            : Effect.fail(error)
        )
      )
      if (Option.isNone(info)) return { exists: false } satisfies Observed
      const size = Number(info.value.size)
      const mtimeMs = Option.match(info.value.mtime, { onNone: () => 0, onSome: (d) => d.getTime() })
      if (info.value.type !== "File" || size > HASH_LIMIT) {
        return { exists: true, record: { mtimeMs, size } } satisfies Observed
      }
      const bytes = content !== undefined && content.length === size ? content : yield* fs.readFile(path)
      return { exists: true, record: { mtimeMs, size, hash: sha256(bytes) } } satisfies Observed
    })

  const set = (path: string, record: FileRecord | undefined) =>
    Ref.update(files, (map) => {
      const next = new Map(map)
      if (record === undefined) next.delete(path)
      else next.set(path, record)
      return next
    })

  const record = (path: string, content?: Uint8Array) =>
    observe(path, content).pipe(
      Effect.map((observed) => (observed.exists ? observed.record : undefined)),
      Effect.orElseSucceed(() => undefined),
      Effect.flatMap((seen) => set(path, seen))
    )

  const recordRead = Effect.fn("FileState.recordRead")(function* (path: string, content?: Uint8Array) {
    yield* record(path, content)
  })

  const recordWrite = Effect.fn("FileState.recordWrite")(function* (path: string, content?: Uint8Array) {
    yield* record(path, content)
  })

  const get = Effect.fn("FileState.get")(function* (path: string) {
    return Option.fromNullishOr((yield* Ref.get(files)).get(path))
  })

  const checkWritable = Effect.fn("FileState.checkWritable")(function* (path: string, content?: Uint8Array) {
    const observed = yield* observe(path, content).pipe(
      Effect.mapError(
        (error) =>
          new FileStateError({ path, reason: "unreadable", message: `Cannot check ${path}: ${platformMessage(error)}` })
      )
    )
    if (!observed.exists) return
    const seen = (yield* Ref.get(files)).get(path)
    if (seen === undefined) {
      return yield* new FileStateError({
        path,
        reason: "not-read",
        message: `${path} exists but has not been read in this session. Read it first (with the Read tool), then write or edit it.`
      })
    }
    if (!sameFile(seen, observed.record)) {
      return yield* new FileStateError({
        path,
        reason: "modified",
        message: `${path} was modified since read; read it again (it changed on disk after you last read it), then retry the change.`
      })
    }
  })

  return FileState.of({ recordRead, recordWrite, checkWritable, get })
}

/** A fresh, empty `FileState` (one per session). */
export const makeFileState: () => Effect.Effect<FileState.Service, never, FileSystem.FileSystem> = Effect.fn(
  "FileState.make"
)(function* () {
  const fs = yield* FileSystem.FileSystem
  return fromRef(fs, yield* Ref.make<ReadonlyMap<string, FileRecord>>(new Map()))
})
