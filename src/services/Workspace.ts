/**
 * The workspace contract: the directories file tools may touch, and path confinement. Every path a tool is given
 * is resolved to its real path (symlinks followed, also for files that do not exist yet) and must lie inside one
 * of the roots; file-changing tools also stay out of protected directories (`.git`, `.sage`).
 * `WorkspaceLive.layer` (`src/layers/WorkspaceLive.ts`) implements it on the file system; a user may provide
 * their own.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { WorkspacePathError } from "../errors/WorkspaceError.js"

export { WorkspacePathError }

/**
 * A file opened inside the workspace (see `Workspace.open`): reads go through the descriptor that was verified to
 * lie inside a root, so a path swapped after the check cannot redirect them.
 */
export interface WorkspaceFile {
  /** Where the opened file is (the kernel's name for it when it was verified). */
  readonly realPath: string
  readonly type: "File" | "Directory" | "Other"
  readonly size: number
  readonly mtimeMs: number
  /** Reads into `buffer` at `position` (or at the current offset): the bytes read, 0 at the end. */
  readonly read: (buffer: Uint8Array, position?: number) => Effect.Effect<number, WorkspacePathError>
  /** The whole content, from the start. */
  readonly readAll: Effect.Effect<Uint8Array, WorkspacePathError>
}

export declare namespace Workspace {
  interface Service {
    /** The real, absolute root directories; the first is the working directory. */
    readonly roots: ReadonlyArray<string>
    /** The working directory (the first root): relative paths resolve against it. */
    readonly cwd: string
    /**
     * The real path of `path` (relative paths from `cwd`), which need not exist; fails unless it lies inside a
     * root.
     */
    readonly resolve: (path: string) => Effect.Effect<string, WorkspacePathError>
    /** `resolve`, and also refuses a protected path (see `isProtected`) unless the workspace allows it. */
    readonly resolveWritable: (path: string) => Effect.Effect<string, WorkspacePathError>
    /**
     * Whether a real path is protected below its root: inside or named `.git` or `.sage` (at any depth), a git
     * configuration file (`.gitconfig`, `.config/git/`) or a shell start-up file (`.bashrc`, `.profile`, ...).
     */
    readonly isProtected: (realPath: string) => boolean
    /**
     * What the permission rules say about reading a real path (`Read(...)` deny and ask rules): search and listing
     * tools leave out of their results what is not `allowed` and refuse a search root that is `denied`.
     */
    readonly readAccess: (realPath: string) => "allowed" | "ask" | "denied"
    /**
     * Opens a real path (from `resolve`) for reading, one component at a time without following symlinks, and
     * verifies that what was opened lies inside a root; closed with the scope. A missing file fails with reason
     * `io` and code `ENOENT`; a path swapped meanwhile with reason `moved`.
     */
    readonly open: (realPath: string) => Effect.Effect<WorkspaceFile, WorkspacePathError, Scope.Scope>
    /**
     * Replaces a real path (from `resolveWritable`) with `content` atomically: parent directories opened (and
     * made) one component at a time without following symlinks, a temporary file in the opened directory renamed
     * over the target, the directory verified (inside a root, not protected) before and after. An existing file
     * keeps its permission bits.
     */
    readonly writeFile: (
      realPath: string,
      content: Uint8Array
    ) => Effect.Effect<{ readonly realPath: string; readonly created: boolean }, WorkspacePathError>
  }
}

export class Workspace extends Context.Service<Workspace, Workspace.Service>()("sage/Workspace") {}
