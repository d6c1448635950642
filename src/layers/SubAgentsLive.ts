/**
 * Wiring of sub-agents: registers the `Task` tool, offering the agent types of `AgentDefinitions.loadAgents`
 * (built-in, `~/.sage/agents`, `<cwd>/.sage/agents`, the options), into the context's `ToolRegistry`. Building it
 * fails with `ConfigError` for a malformed agent file or option. With `maxAgentDepth: 0`, or a registry that already
 * has a `Task` tool, it registers nothing.
 */
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Path from "effect/Path"
import { type AgentOption, loadAgents } from "../agents/AgentDefinitions.js"
import { ConfigError } from "../errors/ConfigError.js"
import { ToolRegistry } from "../services/ToolRegistry.js"
import { makeTaskTool, TASK_TOOL_NAME } from "../tools/Task.js"

export interface SubAgentsOptions {
  /** The project root (its `.sage/agents` is read). */
  readonly cwd: string
  /** The user's home (its `.sage/agents` is read). */
  readonly homeDir?: string
  /** Agent types given programmatically, by name (they win over files of the same name). */
  readonly agents?: Readonly<Record<string, AgentOption>>
  /** Sub-agents running at once per turn at most (default 4). */
  readonly maxSubagents?: number
  /** 0: no sub-agents (no `Task` tool). */
  readonly maxAgentDepth?: number
}

export const layer = (
  options: SubAgentsOptions
): Layer.Layer<never, ConfigError, ToolRegistry | FileSystem.FileSystem | Path.Path> =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      if (options.maxAgentDepth === 0) return
      const registry = yield* ToolRegistry
      if (Option.isSome(yield* Effect.option(registry.get(TASK_TOOL_NAME)))) return
      const max = options.maxSubagents
      if (max !== undefined && !(Number.isInteger(max) && max >= 1)) {
        return yield* new ConfigError({
          message: `maxSubagents must be an integer >= 1, got ${String(max)}`,
          source: "maxSubagents"
        })
      }
      const agents = yield* loadAgents({
        cwd: options.cwd,
        ...(options.homeDir === undefined ? {} : { homeDir: options.homeDir }),
        ...(options.agents === undefined ? {} : { agents: options.agents })
      })
      yield* registry
        .register(makeTaskTool({ agents, ...(max === undefined ? {} : { maxParallel: max }) }))
        .pipe(Effect.mapError((error) => new ConfigError({ message: error.message, source: TASK_TOOL_NAME })))
    })
  )
