/**
 * The workspace contract: the directories file tools may touch, and path confinement. Every path a tool is given
 * is resolved to its real path (symlinks followed, also for files that do not exist yet) and must lie inside one
 * of the roots; file-changing tools also stay out of protected directories (`.git`, `.sage`).
 * `WorkspaceLive.layer` (`src/layers/WorkspaceLive.ts`) implements it on the file system; a user may provide
 * their own.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import { WorkspacePathError } from "../errors/WorkspaceError.js"

export { WorkspacePathError }

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
    /** `resolve`, and also refuses a path inside a protected directory unless the workspace allows it. */
    readonly resolveWritable: (path: string) => Effect.Effect<string, WorkspacePathError>
    /** Whether a real path lies in a protected directory (`.git`, `.sage`) below its root. */
    readonly isProtected: (realPath: string) => boolean
  }
}

export class Workspace extends Context.Service<Workspace, Workspace.Service>()("sage/Workspace") {}
