/**
 * Sub-agents on the one agent loop. A turn may start sub-agents (the `Task` tool) through the `SubAgentRunner` its
 * dispatcher gives to tools. A sub-agent's turn is a turn of the same loop (`AgentLoop`'s `start` with a `TurnRole`),
 * forked into the scope of the `Task` call that started it, so interrupting the parent interrupts it. It has:
 *
 * - a fresh conversation (the task is its only user message) and its definition's prompt in place of the system
 *   prompt's first section;
 * - its parent's tools intersected with its definition's (`Task` only while the depth allows; a fresh todo list);
 * - its definition's permission mode made no wider than its parent's, its parent's rules, approver and session grants;
 * - its own `agentId` (`<parent>/task-<n>`) and `parentAgentId` on its events, which go on its parent's stream (all
 *   but the deltas and state changes);
 * - its usage and cost added to its parent's turn when it ends (however it ends), and its parent's budget.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import { ConfigError } from "../errors/ConfigError.js"
import type { AgentExecution, RunOptions } from "../services/Agent.js"
import type { PermissionMode } from "../services/Permissions.js"
import type { AgentDefinition, SubAgentRunner } from "../services/SubAgents.js"
import type { ToolRegistry } from "../services/ToolRegistry.js"
import type { AgentEvent } from "../streams/AgentEvent.js"
import { Usage } from "../streams/Usage.js"
import { TASK_TOOL_NAME } from "../tools/Task.js"
import { makeTodoWriteTool } from "../tools/TodoWrite.js"
import type { SubAgentTotals } from "./Turn.js"

/** How deep sub-agents may nest by default: the main agent's sub-agents cannot start their own. */
export const DEFAULT_MAX_AGENT_DEPTH = 1

/** Who runs a turn: the main agent, or a sub-agent (`sub`). */
export interface TurnRole {
  readonly agentId: string
  readonly parentAgentId: string | undefined
  /** 0 for the main agent. */
  readonly depth: number
  /** The tools of this agent. */
  readonly registry: ToolRegistry.Service
  readonly sub?: {
    /** Where its events go (its parent's stream). */
    readonly publish: (event: AgentEvent) => Effect.Effect<void>
    /** Its system prompt's first section. */
    readonly intro: string
    /** What its ancestors' turns have spent so far (USD), for the budget. */
    readonly spentOutside: Effect.Effect<number>
    /** Put before the reason of its permission questions. */
    readonly asker: string
    /** Adds its usage and cost to its parent's turn (when it ends, however it ends). */
    readonly rollup: (totals: SubAgentTotals) => Effect.Effect<void>
  }
}

/** The turn that starts sub-agents, as the runner needs it. */
export interface ParentTurn {
  readonly role: TurnRole
  readonly sessionId: string
  readonly mode: PermissionMode
  /** The run's model option (absent: the provider's default model). */
  readonly model: string | undefined
  readonly maxSteps: number
  readonly maxConcurrency: number
  readonly maxTokens: number | undefined
  readonly maxBudgetUsd: number | undefined
  /** Where the parent's events go. */
  readonly publish: (event: AgentEvent) => Effect.Effect<void>
  /** What the parent's turn (and its ancestors') spent so far, in USD. */
  readonly spent: Effect.Effect<number>
  /** The parent's sub-agent totals. */
  readonly rolled: Ref.Ref<SubAgentTotals>
}

export interface RunnerConfig {
  readonly maxAgentDepth: number
  /** Numbers sub-agents (`task-<n>`), agent-wide. */
  readonly counter: Ref.Ref<number>
  /** The provider's default model. */
  readonly defaultModel: string
  /** The loop's `start` for a role. */
  readonly start: (
    prompt: string,
    options: RunOptions,
    role: TurnRole
  ) => Effect.Effect<AgentExecution, never, Scope.Scope>
}

const WIDTH: Record<PermissionMode, number> = { plan: 0, default: 1, acceptEdits: 2, bypassPermissions: 3 }

/** The narrower of two modes: a sub-agent's mode is its own when that is narrower than its parent's, else its parent's. */
export const narrowerMode = (parent: PermissionMode, own: PermissionMode | undefined): PermissionMode =>
  own !== undefined && WIDTH[own] < WIDTH[parent] ? own : parent

/** Event types a sub-agent does not publish on its parent's stream (its answer arrives in its `message` events). */
const NOT_FORWARDED: ReadonlySet<string> = new Set([
  "text.delta",
  "reasoning.delta",
  "tool_call.delta",
  "state.changed"
])

export const forwarded = (publish: (event: AgentEvent) => Effect.Effect<void>) => (event: AgentEvent) =>
  NOT_FORWARDED.has(event.type) ? Effect.void : publish(event)

/** The first section of a sub-agent's system prompt: its definition's prompt and what a sub-agent is. */
export const introOf = (definition: AgentDefinition): string =>
  `${definition.prompt.trim()}\n\n` +
  `You are running as a sub-agent (type ${definition.name}) started by another agent with the Task tool. You do ` +
  "not see its conversation: the task you are given is all you are told. When you are done, end with one final " +
  "message that answers the task completely: it is all the other agent sees of your work, so include what it needs " +
  "(file paths with line numbers, commands and their results, what you could not do)."

/**
 * A sub-agent's tools: its parent's, intersected with its definition's `tools` (all when absent), less its
 * `disallowedTools`, only read-only ones for a read-only definition, and `Task` only when it may nest. `TodoWrite` is
 * a fresh one (its own list).
 */
export const registryFor = (parent: ToolRegistry.Service, definition: AgentDefinition, canNest: boolean) =>
  Effect.gen(function* () {
    const allowed = definition.tools === undefined ? undefined : new Set(definition.tools)
    const denied = new Set(definition.disallowedTools ?? [])
    const registry = yield* parent.filter(
      (tool) =>
        (canNest || tool.name !== TASK_TOOL_NAME) &&
        (allowed === undefined || allowed.has(tool.name)) &&
        !denied.has(tool.name) &&
        (definition.readOnly !== true || tool.readOnly)
    )
    const todo = yield* Effect.option(registry.get("TodoWrite"))
    if (Option.isSome(todo)) {
      const fresh = yield* makeTodoWriteTool()
      yield* Effect.ignore(Effect.andThen(registry.unregister("TodoWrite"), registry.register(fresh)))
    }
    return registry
  })

/** The runner a parent turn gives its tools. */
export const makeRunner = (config: RunnerConfig, parent: ParentTurn): SubAgentRunner => ({
  agentId: parent.role.agentId,
  depth: parent.role.depth,
  run: (request) =>
    Effect.scoped(
      Effect.gen(function* () {
        const depth = parent.role.depth + 1
        if (depth > config.maxAgentDepth) {
          return yield* new ConfigError({
            message: `${parent.role.agentId} may not start a sub-agent: sub-agents nest at most ${config.maxAgentDepth} deep (maxAgentDepth)`,
            source: "maxAgentDepth"
          })
        }
        const n = yield* Ref.updateAndGet(config.counter, (k) => k + 1)
        const agentId = `${parent.role.agentId}/task-${n}`
        const definition = request.definition
        const registry = yield* registryFor(parent.role.registry, definition, depth < config.maxAgentDepth)
        const tools = (yield* registry.list).map((tool) => tool.name)
        const mode = narrowerMode(parent.mode, definition.permissionMode)
        const model = definition.model === undefined || definition.model === "inherit" ? parent.model : definition.model
        if (request.onStart !== undefined) yield* request.onStart(agentId)
        // A turn whose budget is used up starts no sub-agent (its first model request would exceed it).
        const budget = parent.maxBudgetUsd
        if (budget !== undefined && (yield* parent.spent) >= budget) {
          return {
            agentId,
            turnId: "",
            text: `Not started: the turn's budget of $${budget} is used up.`,
            stopReason: "max_budget" as const,
            steps: 0,
            usage: Usage.empty,
            model: model ?? config.defaultModel,
            permissionMode: mode,
            tools
          }
        }
        const role: TurnRole = {
          agentId,
          parentAgentId: parent.role.agentId,
          depth,
          registry,
          sub: {
            publish: forwarded(parent.publish),
            intro: introOf(definition),
            spentOutside: parent.spent,
            asker: `sub-agent ${agentId} (${definition.name})`,
            rollup: (totals) =>
              Ref.update(parent.rolled, (r) => ({
                usage: r.usage.add(totals.usage),
                costUsd: r.costUsd + totals.costUsd
              }))
          }
        }
        const execution = yield* config.start(
          request.prompt,
          {
            sessionId: parent.sessionId,
            permissionMode: mode,
            maxSteps: definition.maxSteps ?? parent.maxSteps,
            maxConcurrency: parent.maxConcurrency,
            ...(model === undefined ? {} : { model }),
            ...(parent.maxTokens === undefined ? {} : { maxTokens: parent.maxTokens }),
            ...(parent.maxBudgetUsd === undefined ? {} : { maxBudgetUsd: parent.maxBudgetUsd })
          },
          role
        )
        const result = yield* execution.result
        return {
          agentId,
          turnId: result.turnId,
          text: result.text,
          stopReason: result.stopReason,
          steps: result.steps,
          usage: result.usage,
          ...(result.costUsd === undefined ? {} : { costUsd: result.costUsd }),
          model: model ?? config.defaultModel,
          permissionMode: mode,
          tools
        }
      })
    )
})
