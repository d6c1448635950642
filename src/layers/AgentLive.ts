/**
 * The `Agent` layer: the agent loop (`src/agent/`) on the services it runs on. Building it checks the options
 * (a bad one fails with `ConfigError`). `Approver` and `Workspace` are used when present: without an approver an
 * `ask` is denied; the workspace's roots are named in the system prompt. The `ModelCatalog` (prices, context
 * windows) is the context's when it has one, else the built-in one with the settings' `models` on top.
 */
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Path from "effect/Path"
import { type AgentOptions, make } from "../agent/AgentLoop.js"
import type { ConfigError } from "../errors/ConfigError.js"
import { Agent } from "../services/Agent.js"
import type { EventBus } from "../services/EventBus.js"
import type { LLMClient } from "../services/LLMClient.js"
import { ModelCatalog } from "../services/ModelCatalog.js"
import type { Permissions } from "../services/Permissions.js"
import type { ToolRegistry } from "../services/ToolRegistry.js"
import * as ModelCatalogLive from "./ModelCatalogLive.js"

export type { AgentOptions } from "../agent/AgentLoop.js"

export type AgentRequirements = LLMClient | ToolRegistry | Permissions | EventBus | FileSystem.FileSystem | Path.Path

export const layer = (options: AgentOptions = {}): Layer.Layer<Agent, ConfigError, AgentRequirements> =>
  Layer.effect(
    Agent,
    Effect.flatMap(Effect.serviceOption(ModelCatalog), (catalog) =>
      Option.isSome(catalog)
        ? make(options)
        : Effect.flatMap(ModelCatalogLive.make(), (built) => Effect.provideService(make(options), ModelCatalog, built))
    )
  )
