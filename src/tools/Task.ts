/**
 * Task: start a sub-agent (a fresh conversation on the same agent loop, with its own tools and prompt) and return its
 * final answer, with a one-line summary of what it used. The agent types it offers (built-in and custom) are listed
 * in its description, so the model can choose. Several Task calls in one response run in parallel, at most
 * `maxParallel` at once. The sub-agent is run by the agent that runs the tool (`ToolContext.subAgents`); outside an
 * agent the tool refuses.
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import type { Tool as ToolContract } from "../services/Tool.js"
import type { AgentDefinition, SubAgentResult } from "../services/SubAgents.js"
import { Tool } from "./Tool.js"

export const TASK_TOOL_NAME = "Task"

/** Sub-agents running at once (per turn) by default. */
export const DEFAULT_MAX_SUBAGENTS = 4

/** How long one sub-agent may run by default. */
export const DEFAULT_SUBAGENT_TIMEOUT = Duration.minutes(30)

export interface TaskToolOptions {
  /** The agent types offered (at least one), in the order the description lists them. */
  readonly agents: ReadonlyArray<AgentDefinition>
  /** Sub-agents running at once at most (an integer >= 1; default 4). */
  readonly maxParallel?: number
  /** How long one sub-agent may run (default 30 minutes). */
  readonly timeout?: Duration.Input
}

const toolsText = (definition: AgentDefinition): string => {
  const tools =
    definition.tools === undefined
      ? definition.readOnly === true
        ? "read-only tools"
        : "all of your tools"
      : definition.tools.join(", ")
  const less = definition.disallowedTools === undefined ? "" : ` except ${definition.disallowedTools.join(", ")}`
  return `${tools}${less}`
}

const oneLine = (text: string): string => text.replace(/\s+/g, " ").trim()

/** The description the model sees: what Task does, how to use it, and the agent types. */
export const taskDescription = (agents: ReadonlyArray<AgentDefinition>, maxParallel: number): string =>
  [
    "Launch a sub-agent to handle a task on its own. The sub-agent starts with a fresh context: it does not see " +
      "this conversation, so put everything it needs in `prompt` (the goal, file paths, what to return). It works " +
      "with its own tools and returns one final message, which becomes this tool's result (the user does not see it: " +
      "tell them what matters).",
    `Use it for broad searches, research or self-contained work that would fill your context. Several Task calls in one response run in parallel (up to ${maxParallel} at once); prefer that for independent tasks. Its tools and permissions are never wider than yours.`,
    "Available agent types (subagent_type):",
    ...agents.map((a) => `- ${a.name}: ${oneLine(a.description)} (Tools: ${toolsText(a)})`)
  ].join("\n")

/** The tool result: the sub-agent's answer, then one line on how it ended and what it used. */
export const resultText = (result: SubAgentResult, type: string): string => {
  const cost = result.costUsd === undefined ? "" : ` · $${result.costUsd.toFixed(4)}`
  const stop = result.stopReason === "end_turn" ? "" : ` · stopped: ${result.stopReason}`
  const answer = result.text.trim() === "" ? "(the sub-agent gave no answer)" : result.text
  return (
    `${answer}\n\n[sub-agent ${result.agentId} (${type}) · ${result.steps} step${result.steps === 1 ? "" : "s"} · ` +
    `${result.usage.inputTokens} input / ${result.usage.outputTokens} output tokens${cost}${stop}]`
  )
}

/** The Task tool offering `agents`. Throws `IllegalArgumentError` for an empty list or a bad `maxParallel`. */
export const makeTaskTool = (options: TaskToolOptions): ToolContract.Any => {
  const agents = options.agents
  const maxParallel = options.maxParallel ?? DEFAULT_MAX_SUBAGENTS
  if (agents.length === 0) throw new Cause.IllegalArgumentError("The Task tool needs at least one agent type")
  if (!(Number.isInteger(maxParallel) && maxParallel >= 1)) {
    throw new Cause.IllegalArgumentError(`maxSubagents must be an integer >= 1, got ${String(maxParallel)}`)
  }
  const byName = new Map(agents.map((a) => [a.name, a] as const))
  const names = agents.map((a) => a.name)
  return Tool.make({
    name: TASK_TOOL_NAME,
    description: taskDescription(agents, maxParallel),
    input: Schema.Struct({
      description: Schema.String.annotate({ description: "A short (3-5 word) description of the task" }),
      prompt: Schema.String.annotate({
        description: "The task for the sub-agent, with everything it needs to know (it does not see this conversation)"
      }),
      subagent_type: Schema.Literals(names).annotate({ description: "The type of sub-agent to use" })
    }),
    // Starting a sub-agent changes nothing by itself: each of its tool calls passes the permission checks.
    readOnly: true,
    kind: "other",
    concurrency: { type: "limited", max: maxParallel },
    timeout: options.timeout ?? DEFAULT_SUBAGENT_TIMEOUT,
    execute: (input, context) =>
      Effect.gen(function* () {
        const definition = byName.get(input.subagent_type)
        if (definition === undefined) {
          return yield* new ToolExecutionError({
            tool: TASK_TOOL_NAME,
            message: `Unknown subagent_type "${input.subagent_type}"; the types are: ${names.join(", ")}`
          })
        }
        const runner = context.subAgents
        if (runner === undefined) {
          return yield* new ToolExecutionError({
            tool: TASK_TOOL_NAME,
            message:
              "Task cannot start a sub-agent here: sub-agents cannot start sub-agents at this depth (maxAgentDepth)"
          })
        }
        const result = yield* runner
          .run({
            definition,
            prompt: input.prompt,
            description: input.description,
            onStart: (agentId) =>
              context.progress(`sub-agent ${agentId} (${definition.name}) started: ${oneLine(input.description)}`)
          })
          .pipe(
            Effect.mapError(
              (error) =>
                new ToolExecutionError({
                  tool: TASK_TOOL_NAME,
                  message: `The ${definition.name} sub-agent failed: ${error._tag}: ${error.message}`
                })
            )
          )
        return resultText(result, definition.name)
      })
  })
}
