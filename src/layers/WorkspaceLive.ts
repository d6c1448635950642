/** The `Workspace` service on effect's `FileSystem` (provide `NodeServices.layer` or `NodeFileSystem.layer`). */
import type * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import type { ConfigError } from "../errors/ConfigError.js"
import { Workspace } from "../services/Workspace.js"
import { make, type WorkspaceOptions } from "../workspace/Workspace.js"

export type { WorkspaceOptions } from "../workspace/Workspace.js"

/**
 * The workspace rooted at `cwd` plus `additionalDirectories` (each resolved to its real path; a missing root or a
 * file fails with `ConfigError`). `allowProtected` lets file-changing tools write a path in `.git/`/`.sage/`.
 */
export const layer = (options: WorkspaceOptions): Layer.Layer<Workspace, ConfigError, FileSystem.FileSystem> =>
  Layer.effect(Workspace, make(options))
