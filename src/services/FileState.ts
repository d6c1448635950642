/**
 * The file-state contract: what the model has read in this session, so that file-changing tools can refuse to
 * overwrite a file the model has not seen, or one that changed on disk since it was read (by the user, a
 * formatter, a command). One per session: `Read` records every successful read; `Write`/`Edit`/`MultiEdit` check
 * before writing and record after. `FileStateLive.layer` (`src/layers/FileStateLive.ts`) implements it.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import { FileStateError } from "../errors/WorkspaceError.js"

export { FileStateError }

/** What was seen of one file (keyed by its real path). */
export interface FileRecord {
  readonly mtimeMs: number
  readonly size: number
  /** SHA-256 of the content, for files small enough to hash. */
  readonly hash?: string
}

export declare namespace FileState {
  interface Service {
    /**
     * Remember the current state of `path` (a real path, as `Workspace.resolve` returns) as seen by the model.
     * `content` is the file's full content when the caller has it (saves reading it again). A file that cannot be
     * read is forgotten instead.
     */
    readonly recordRead: (path: string, content?: Uint8Array) => Effect.Effect<void>
    /** The same as `recordRead`, after a successful write: the model knows what it wrote. */
    readonly recordWrite: (path: string, content?: Uint8Array) => Effect.Effect<void>
    /**
     * Succeeds when `path` may be written: it does not exist (a new file needs no read), or it was read in this
     * session and has not changed since (by content for small files, else by modification time and size).
     * `content` is the file's current content when the caller already read it.
     */
    readonly checkWritable: (path: string, content?: Uint8Array) => Effect.Effect<void, FileStateError>
    /** What was recorded for `path`. */
    readonly get: (path: string) => Effect.Effect<Option.Option<FileRecord>>
  }
}

export class FileState extends Context.Service<FileState, FileState.Service>()("sage/FileState") {}
