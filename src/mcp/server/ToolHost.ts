/**
 * What `sage mcp serve` offers an MCP client, independent of the MCP SDK: the built-in tools (each call checked and
 * run by the agent's own dispatcher, `ToolDispatch`: input decoding, the permission service, the tool's concurrency
 * bounds, output hygiene) and an `agent` tool that runs one Sage turn and answers with its final text.
 *
 * There is no approver: a call the rules `ask` about is denied, and the error result says so (and what would allow
 * it). Cancellation is fiber interruption: interrupting `call` stops the tool (its processes killed by the tool's own
 * finalizers) or the turn.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Duration from "effect/Duration"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import * as AgentEvents from "../../agent/AgentEvents.js"
import { makeDispatcher } from "../../agent/ToolDispatch.js"
import { Agent } from "../../services/Agent.js"
import { Approver, type PermissionMode, Permissions } from "../../services/Permissions.js"
import { Settings } from "../../services/Settings.js"
import { ToolRegistry } from "../../services/ToolRegistry.js"
import { Workspace } from "../../services/Workspace.js"
import type { AgentEvent } from "../../streams/AgentEvent.js"
import type { ToolResult } from "../../streams/ToolCall.js"

/** A tool as `tools/list` shows it. */
export interface McpTool {
  readonly name: string
  readonly description: string
  readonly inputSchema: Readonly<Record<string, unknown>>
  readonly readOnly: boolean
}

export type McpContent =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "image"; readonly data: string; readonly mimeType: string }

/** A `tools/call` result. */
export interface McpCallResult {
  readonly content: ReadonlyArray<McpContent>
  readonly isError: boolean
  readonly structuredContent?: Readonly<Record<string, unknown>>
}

/** Reports progress of a running call (sent as `notifications/progress` when the client asked for it). */
export type Progress = (message: string) => Effect.Effect<void>

export interface ToolHost {
  readonly tools: ReadonlyArray<McpTool>
  /** Never fails: every failure is an error result. Interruption stops the call. */
  readonly call: (name: string, args: unknown, progress: Progress) => Effect.Effect<McpCallResult>
}

export const AGENT_TOOL = "agent"

const AGENT_TOOL_DEFINITION: McpTool = {
  name: AGENT_TOOL,
  description:
    "Runs one turn of the Sage coding agent in the server's workspace: it reads, edits and runs commands under the " +
    "server's permission rules and sandbox (a call the rules would ask about is denied: nobody can approve it), " +
    "then answers with its final message. Progress notifications report its steps and tool calls.",
  inputSchema: {
    type: "object",
    properties: {
      prompt: { type: "string", description: "The task or question for the agent." },
      maxSteps: { type: "integer", minimum: 1, description: "Model requests at most (default: the server's)." }
    },
    required: ["prompt"],
    additionalProperties: false
  },
  readOnly: false
}

const randomId = (prefix: string): Effect.Effect<string> =>
  Effect.sync(() => `${prefix}_${globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`)

const errorResult = (text: string): McpCallResult => ({ content: [{ type: "text", text }], isError: true })

/** A tool result as MCP content: text as is, JSON as text, images as images. */
export const toMcpResult = (result: ToolResult): McpCallResult => ({
  content: result.output.map(
    (o): McpContent =>
      o.type === "text"
        ? { type: "text", text: o.text }
        : o.type === "json"
          ? { type: "text", text: JSON.stringify(o.value) }
          : { type: "image", data: o.data, mimeType: o.mediaType }
  ),
  isError: result.status !== "success"
})

/** One line of progress for the events worth telling a client about (steps and tool calls). */
export const progressLine = (event: AgentEvent): string | undefined => {
  switch (event.type) {
    case "step.started":
      return `step ${event.step}`
    case "tool.started":
      return `tool ${event.call.name} started`
    case "tool.completed":
      return `tool ${event.result.toolName} ${event.result.status}`
    case "tool.progress":
      return event.message
    default:
      return undefined
  }
}

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

export interface ToolHostOptions {
  /** The permission mode of tool calls (default: the settings' `defaultMode`, else `default`), as for a run. */
  readonly permissionMode?: PermissionMode
  /** The server's session id in events and tool contexts. */
  readonly sessionId?: string
}

/** The tools of the services in context (`layerNode`'s), served one call at a time per request. */
export const make = Effect.fn("McpToolHost.make")(function* (options: ToolHostOptions = {}) {
  const registry = yield* ToolRegistry
  const permissions = yield* Permissions
  const agent = yield* Agent
  const workspace = yield* Workspace
  const settings = yield* Settings
  const approver = yield* Effect.serviceOption(Approver)
  const approvals = yield* Semaphore.make(1)
  const sessionId = options.sessionId ?? (yield* randomId("mcp"))
  const mode = options.permissionMode ?? (yield* settings.ruleSet).defaultMode ?? "default"
  const builtins = yield* registry.list
  const tools: ReadonlyArray<McpTool> = [
    ...builtins.map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: tool.jsonSchema,
      readOnly: tool.readOnly
    })),
    ...(builtins.some((tool) => tool.name === AGENT_TOOL) ? [] : [AGENT_TOOL_DEFINITION])
  ]

  /** A built-in tool call, through the same dispatcher a turn uses (a fresh one per call, like a turn). */
  const callTool = (name: string, args: unknown, progress: Progress): Effect.Effect<McpCallResult> =>
    Effect.gen(function* () {
      const turnId = yield* randomId("mcpcall")
      const callId = yield* randomId("toolu")
      const emit: AgentEvents.Emit = (body) =>
        body.type === "tool.progress"
          ? progress(body.message)
          : body.type === "permission.requested"
            ? progress(`permission requested: ${body.reason}`)
            : Effect.void
      const state = yield* AgentEvents.makeStateCell(emit)
      const dispatch = yield* makeDispatcher(
        { registry, permissions, approver, approvals },
        {
          turnId,
          sessionId,
          cwd: workspace.cwd,
          mode,
          maxConcurrency: 1,
          defaultTimeout: Duration.minutes(2),
          maxToolOutputChars: 100_000,
          emit,
          state,
          onCompleted: () => Effect.void
        }
      )
      const result = yield* dispatch({ id: callId, name, input: args })
      return toMcpResult(result)
    })

  const callAgent = (args: unknown, progress: Progress): Effect.Effect<McpCallResult> => {
    if (!isRecord(args) || typeof args.prompt !== "string" || args.prompt.trim() === "") {
      return Effect.succeed(errorResult('The agent tool needs {"prompt": "..."} (a non-empty string).'))
    }
    const maxSteps = args.maxSteps
    if (maxSteps !== undefined && !(typeof maxSteps === "number" && Number.isInteger(maxSteps) && maxSteps >= 1)) {
      return Effect.succeed(errorResult("maxSteps must be an integer >= 1."))
    }
    const unknownKeys = Object.keys(args).filter((key) => key !== "prompt" && key !== "maxSteps")
    if (unknownKeys.length > 0) {
      return Effect.succeed(errorResult(`Unknown argument(s) of the agent tool: ${unknownKeys.join(", ")}.`))
    }
    const prompt = args.prompt
    return Effect.scoped(
      Effect.gen(function* () {
        const execution = yield* agent.start(prompt, {
          ...(maxSteps === undefined ? {} : { maxSteps }),
          ...(options.permissionMode === undefined ? {} : { permissionMode: options.permissionMode })
        })
        yield* Effect.forkScoped(
          Stream.runForEach(execution.events, (event) => {
            const line = progressLine(event)
            return line === undefined ? Effect.void : progress(line)
          }).pipe(Effect.ignore)
        )
        const result = yield* execution.result
        return {
          content: [{ type: "text", text: result.text }],
          isError: false,
          structuredContent: {
            sessionId: result.sessionId,
            stopReason: result.stopReason,
            steps: result.steps,
            ...(result.costUsd === undefined ? {} : { costUsd: result.costUsd })
          }
        } satisfies McpCallResult
      })
    ).pipe(Effect.catch((error) => Effect.succeed(errorResult(`The agent turn failed: ${error.message}`))))
  }

  const call: ToolHost["call"] = (name, args, progress) =>
    (name === AGENT_TOOL && !builtins.some((tool) => tool.name === AGENT_TOOL)
      ? callAgent(args, progress)
      : callTool(name, args, progress)
    ).pipe(
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.failCause(cause)
          : Effect.succeed(errorResult(`${name} failed unexpectedly: ${Cause.pretty(cause)}`))
      )
    )

  return { tools, call } satisfies ToolHost
})
