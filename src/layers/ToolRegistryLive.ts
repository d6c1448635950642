/** Wiring of the in-memory `ToolRegistry` (the engine is `src/tools/ToolRegistry.ts`). */
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import type { ToolRegistrationError } from "../errors/ToolError.js"
import type { FileState } from "../services/FileState.js"
import type { Sandbox } from "../services/Sandbox.js"
import type { Tool } from "../services/Tool.js"
import { ToolRegistry } from "../services/ToolRegistry.js"
import type { Workspace } from "../services/Workspace.js"
import { type BuiltinToolsOptions, makeBuiltinTools } from "../tools/index.js"
import { make } from "../tools/ToolRegistry.js"

export { make }

/** `ToolRegistry` holding `tools`. */
export const layer = (tools: ReadonlyArray<Tool.Any> = []): Layer.Layer<ToolRegistry, ToolRegistrationError> =>
  Layer.effect(ToolRegistry, make(tools))

/**
 * `ToolRegistry` holding the built-in tools (made on the services of the context: `Workspace`, `FileState`,
 * `Sandbox`, `FileSystem`, and `BackgroundShells` when present), then the caller's `tools`.
 */
export const layerWithBuiltins = (
  options: { readonly tools?: ReadonlyArray<Tool.Any>; readonly builtins?: BuiltinToolsOptions } = {}
): Layer.Layer<ToolRegistry, ToolRegistrationError, Workspace | FileState | Sandbox | FileSystem.FileSystem> =>
  Layer.effect(
    ToolRegistry,
    Effect.flatMap(makeBuiltinTools(options.builtins), (builtins) => make([...builtins, ...(options.tools ?? [])]))
  )
