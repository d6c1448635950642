import { NodeServices } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import type { ConfigError } from "../../src/errors/ConfigError.js"
import * as FileStateLive from "../../src/layers/FileStateLive.js"
import * as WorkspaceLive from "../../src/layers/WorkspaceLive.js"
import type { FileState } from "../../src/services/FileState.js"
import type { Workspace } from "../../src/services/Workspace.js"

/** A workspace on `roots` (the first is the working directory), a fresh file state and the Node file system. */
export const fileLayer = (
  roots: ReadonlyArray<string>,
  allowProtected?: (realPath: string) => boolean
): Layer.Layer<Workspace | FileState | FileSystem.FileSystem, ConfigError> =>
  Layer.mergeAll(
    WorkspaceLive.layer({ cwd: roots[0] ?? "/", additionalDirectories: roots.slice(1), allowProtected }),
    FileStateLive.layer
  ).pipe(Layer.provideMerge(NodeServices.layer))

/** Build tools (or run anything) on one workspace and one shared file state. */
export const onWorkspace =
  (roots: ReadonlyArray<string>, allowProtected?: (realPath: string) => boolean) =>
  <A, E>(effect: Effect.Effect<A, E, Workspace | FileState | FileSystem.FileSystem>) =>
    Effect.provide(effect, fileLayer(roots, allowProtected))
