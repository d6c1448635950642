import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { ToolNotFoundError, ToolRegistrationError } from "../errors/ToolError.js"
import type { ToolDefinition } from "../streams/ToolCall.js"
import type { Tool } from "./Tool.js"

export declare namespace ToolRegistry {
  interface Service {
    /** Fails with `ToolRegistrationError` on a duplicate or invalid name. */
    readonly register: (tool: Tool.Any) => Effect.Effect<void, ToolRegistrationError>
    readonly unregister: (name: string) => Effect.Effect<void, ToolNotFoundError>
    readonly get: (name: string) => Effect.Effect<Tool.Any, ToolNotFoundError>
    /** In registration order. */
    readonly list: Effect.Effect<ReadonlyArray<Tool.Any>>
    /** What the model sees. */
    readonly definitions: Effect.Effect<ReadonlyArray<ToolDefinition>>
    /** A new registry holding the subset of tools for which `keep` is true (for sub-agents, `--allowed-tools`). */
    readonly filter: (keep: (tool: Tool.Any) => boolean) => Effect.Effect<ToolRegistry.Service>
  }
}

export class ToolRegistry extends Context.Service<ToolRegistry, ToolRegistry.Service>()("sage/ToolRegistry") {}
