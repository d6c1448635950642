/**
 * Tool dispatch: one tool call from the model to its `ToolResult`. The input is checked against the tool's
 * schema, then the permission service decides (asking the `Approver` when it says `ask`), then the tool runs
 * under the turn's concurrency bounds: every call takes one of `maxConcurrency` permits, a `sequential` tool
 * takes all of them (it runs alone), a `limited(k)` tool also takes one of its own `k`. Whatever happens, the
 * result is a `ToolResult` (failures and defects included); only interruption propagates.
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Semaphore from "effect/Semaphore"
import type { Approver, PermissionDecision, PermissionMode, Permissions } from "../services/Permissions.js"
import type { SubAgentRunner } from "../services/SubAgents.js"
import { headlessDenial } from "../permissions/DenialHint.js"
import * as HookRun from "../hooks/Run.js"
import type { Tool } from "../services/Tool.js"
import type { ToolRegistry } from "../services/ToolRegistry.js"
import { capText, redactJson, redactSecrets } from "../streams/Redact.js"
import type { ResponseToolCall } from "../streams/Response.js"
import type { ToolCall, ToolResult } from "../streams/ToolCall.js"
import { decodeToolInput, runToolCall } from "../tools/Tool.js"
import * as AgentEvents from "./AgentEvents.js"
import { syntheticResult } from "./TranscriptRepair.js"

/** The services a dispatcher uses (all from the agent's context). */
export interface DispatchServices {
  readonly registry: ToolRegistry.Service
  readonly permissions: Permissions.Service
  readonly approver: Option.Option<Approver.Service>
  /** One question to the user at a time, across turns. */
  readonly approvals: Semaphore.Semaphore
  /** The turn's hooks (PreToolUse, PostToolUse, PermissionRequest, Notification), when there are any. */
  readonly hooks?: HookRun.HookScope
}

/** The turn a dispatcher belongs to. */
export interface DispatchSettings {
  readonly turnId: string
  readonly sessionId: string
  readonly cwd: string
  readonly mode: PermissionMode
  /** The fan-out bound (>= 1). */
  readonly maxConcurrency: number
  readonly defaultTimeout: Duration.Duration
  /** Text output beyond this is cut (head and tail kept) before events and the model see it. */
  readonly maxToolOutputChars: number
  readonly emit: AgentEvents.Emit
  readonly state: AgentEvents.StateCell
  /** Called with each finished result, just before its `tool.completed` event. */
  readonly onCompleted: (result: ToolResult) => Effect.Effect<void>
  /** Starts sub-agents for the tools that do (`Task`); given to them in their `ToolContext`. */
  readonly subAgents?: SubAgentRunner
  /** Who is asking, put before the reason of a question to the approver (a sub-agent's name). */
  readonly asker?: string
}

type Decision =
  | { readonly type: "allow"; readonly source: string; readonly input: unknown; readonly rule?: string }
  | { readonly type: "deny"; readonly source: string; readonly reason: string }

/** What the model and the events see of a result: secrets redacted (JSON values too), text bounded. */
const hygiene = (result: ToolResult, maxChars: number): ToolResult => ({
  ...result,
  output: result.output.map((o) =>
    o.type === "text"
      ? { type: "text", text: capText(redactSecrets(o.text), maxChars) }
      : o.type === "json"
        ? { type: "json", value: redactJson(o.value) }
        : o
  )
})

/** Builds the turn's dispatcher: a function from a model tool call to its (hygienic) result. */
export const makeDispatcher = Effect.fn("ToolDispatch.make")(function* (
  services: DispatchServices,
  settings: DispatchSettings
) {
  const { registry, permissions, approver, approvals, hooks } = services
  const { turnId, emit, state } = settings
  const all = yield* Semaphore.make(settings.maxConcurrency)
  const limited = (yield* registry.list).flatMap((tool) =>
    tool.concurrency.type === "limited" ? [[tool.name, Math.max(1, tool.concurrency.max)] as const] : []
  )
  const own = new Map(
    yield* Effect.forEach(limited, ([name, max]) => Effect.map(Semaphore.make(max), (s) => [name, s] as const))
  )

  /** Runs `effect` within the bounds of `tool`'s concurrency mode. */
  const bounded = <A, E, R>(tool: Tool.Any, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
    const mode = tool.concurrency
    if (mode.type === "parallel") return all.withPermits(1)(effect)
    const mine = mode.type === "limited" ? own.get(tool.name) : undefined
    // A sequential tool (or a limited one registered after the turn began) runs alone.
    return mine === undefined
      ? all.withPermits(settings.maxConcurrency)(effect)
      : mine.withPermits(1)(all.withPermits(1)(effect))
  }

  const ask = (tool: Tool.Any, call: ToolCall, asked: Extract<PermissionDecision, { type: "ask" }>) =>
    Effect.gen(function* () {
      yield* emit(AgentEvents.permissionRequested(turnId, call, asked.reason))
      // PermissionRequest hooks may answer instead of the user (an allow only where bypassPermissions would allow).
      const hooked = yield* HookRun.permissionRequest(hooks, call)
      if (hooked.type === "deny") return { type: "deny", source: "hook", reason: hooked.reason } satisfies Decision
      if (hooked.type === "allow") {
        const input = hooked.updatedInput ?? call.input
        const valid = Result.isSuccess(yield* Effect.result(decodeToolInput(tool, input)))
        if (valid && (yield* bypassAllows(tool, { ...call, input }))) {
          return { type: "allow", source: "hook", input } satisfies Decision
        }
      }
      if (Option.isNone(approver)) {
        // The decision's hint says what would allow the call (rules, a mode that really would), for CLI and SDK.
        return { type: "deny", source: "headless", reason: headlessDenial(call, asked) } satisfies Decision
      }
      const answer = yield* approvals.withPermits(1)(
        Effect.gen(function* () {
          const previous = yield* state.get
          yield* state.set("waiting_for_permission")
          const reason = settings.asker === undefined ? asked.reason : `${settings.asker}: ${asked.reason}`
          // Notification hooks run beside the question, never delaying it (they end with this call at the latest).
          yield* Effect.forkChild(
            HookRun.notification(hooks, `Sage needs your permission to use ${call.name}`, "permission_prompt"),
            { startImmediately: true }
          )
          const reply = yield* approver.value.approve(
            call,
            asked.suggestion === undefined ? { reason } : { reason, suggestion: asked.suggestion }
          )
          yield* state.set(previous)
          return reply
        })
      )
      if (answer.type === "deny") {
        return { type: "deny", source: "user", reason: `the user denied it: ${answer.reason}` } satisfies Decision
      }
      if (answer.always === true && asked.suggestion !== undefined) {
        yield* permissions
          .allowAlways(asked.suggestion)
          .pipe(Effect.catch((error) => Effect.logWarning("could not save the permission rule", error.message)))
      }
      // "For this session": the rule holds until the session ends (and again when it is resumed: the session log
      // keeps it through the `permission.resolved` event's `rule`).
      const forSession = answer.always !== true && answer.session === true && asked.suggestion !== undefined
      if (forSession && asked.suggestion !== undefined && permissions.allowForSession !== undefined) {
        yield* permissions
          .allowForSession(asked.suggestion, settings.sessionId)
          .pipe(Effect.catch((error) => Effect.logWarning("could not add the permission rule", error.message)))
      }
      const granted = answer.always === true || forSession ? asked.suggestion : undefined
      return {
        type: "allow",
        source: answer.always === true ? "user:always" : forSession ? "user:session" : "user",
        input: answer.updatedInput ?? call.input,
        ...(granted === undefined ? {} : { rule: granted })
      } satisfies Decision
    })

  const check = (tool: Tool.Any, call: ToolCall, mode: PermissionMode) =>
    permissions.check(call, {
      tool: { name: tool.name, readOnly: tool.readOnly, kind: tool.kind },
      cwd: settings.cwd,
      mode,
      sessionId: settings.sessionId
    })

  /** Whether the call would be allowed in bypassPermissions mode (what a hook's allow may skip to). */
  const bypassAllows = (tool: Tool.Any, call: ToolCall): Effect.Effect<boolean> =>
    check(tool, call, "bypassPermissions").pipe(
      Effect.map((decision) => decision.type === "allow"),
      Effect.orElseSucceed(() => false)
    )

  const decide = (tool: Tool.Any, call: ToolCall, hooked?: HookRun.PreToolVerdict): Effect.Effect<Decision> =>
    check(tool, call, settings.mode).pipe(
      Effect.catch((error) =>
        Effect.succeed<PermissionDecision>({
          type: "deny",
          reason: `the permission check failed: ${error.message}`,
          source: "error"
        })
      ),
      Effect.flatMap((decision): Effect.Effect<PermissionDecision> => {
        // A PreToolUse hook's allow skips the mode's question (never a deny or ask rule, or a protected path).
        const permission = hooked?.type === "go" ? hooked.permission : undefined
        if (decision.type === "ask" && permission === "allow") {
          return Effect.map(bypassAllows(tool, call), (ok) => (ok ? { type: "allow", source: "hook" } : decision))
        }
        if (decision.type === "allow" && permission === "ask") {
          const why = hooked?.type === "go" ? hooked.reason : undefined
          return Effect.succeed({ type: "ask", source: "hook", reason: why ?? "a PreToolUse hook asks for approval" })
        }
        return Effect.succeed(decision)
      }),
      Effect.flatMap(
        (decision): Effect.Effect<Decision> =>
          decision.type === "ask"
            ? ask(tool, call, decision)
            : Effect.succeed(
                decision.type === "allow"
                  ? { type: "allow", source: decision.source, input: call.input }
                  : { type: "deny", source: decision.source, reason: decision.reason }
              )
      )
    )

  const execute = (tool: Tool.Any, original: ToolCall): Effect.Effect<ToolResult> =>
    Effect.gen(function* () {
      // PreToolUse hooks: refuse, or rewrite the input (checked by the schema again, then by the permission check).
      const hooked = yield* HookRun.preToolUse(hooks, original)
      if (hooked.type === "refused") {
        yield* emit(
          AgentEvents.permissionResolved(turnId, original.id, { type: "deny", source: "hook", reason: hooked.reason })
        )
        return syntheticResult(original, "denied", `A PreToolUse hook refused this call: ${hooked.reason}`)
      }
      const call: ToolCall = hooked.updatedInput === undefined ? original : { ...original, input: hooked.updatedInput }
      if (hooked.updatedInput !== undefined) {
        const rewritten = yield* Effect.result(decodeToolInput(tool, call.input))
        if (Result.isFailure(rewritten)) {
          return syntheticResult(
            original,
            "error",
            `A PreToolUse hook rewrote the input, and the new input was rejected: ${rewritten.failure.message}`
          )
        }
      }
      const decision = yield* decide(tool, call, hooked)
      yield* emit(
        AgentEvents.permissionResolved(
          turnId,
          call.id,
          decision.type === "deny" ? decision : { type: "allow", source: decision.source, rule: decision.rule }
        )
      )
      if (decision.type === "deny") return syntheticResult(call, "denied", decision.reason)
      const approved: ToolCall = { id: call.id, name: call.name, input: decision.input }
      const result = yield* bounded(
        tool,
        Effect.andThen(
          emit(AgentEvents.toolStarted(turnId, approved)),
          runToolCall(
            tool,
            approved,
            {
              callId: call.id,
              sessionId: settings.sessionId,
              cwd: settings.cwd,
              progress: (message: string) => emit(AgentEvents.toolProgress(turnId, call.id, message)),
              emit: (event) => emit(AgentEvents.todosUpdated(event.todos)),
              ...(settings.subAgents === undefined ? {} : { subAgents: settings.subAgents })
            },
            { defaultTimeout: settings.defaultTimeout }
          )
        )
      )
      return yield* HookRun.postToolUse(hooks, approved, result)
    })

  const resolve = (call: ResponseToolCall): Effect.Effect<ToolResult> =>
    Effect.gen(function* () {
      const found = yield* Effect.option(registry.get(call.name))
      if (Option.isNone(found)) {
        const names = (yield* registry.list).map((t) => t.name).join(", ")
        return syntheticResult(call, "error", `Unknown tool "${call.name}". Available tools: ${names || "none"}.`)
      }
      if (call.parseError !== undefined) {
        return syntheticResult(
          call,
          "error",
          `The arguments of ${call.name} were rejected: ${call.parseError}. Send valid JSON.`
        )
      }
      // Bad input is an input error for the model to fix, never a permission question.
      const decoded = yield* Effect.result(decodeToolInput(found.value, call.input))
      if (Result.isFailure(decoded)) return syntheticResult(call, "error", decoded.failure.message)
      return yield* execute(found.value, call)
    })

  return (call: ResponseToolCall): Effect.Effect<ToolResult> =>
    resolve(call).pipe(
      // A defect anywhere in the path becomes an error result; siblings and the loop go on.
      Effect.catchDefect((defect) =>
        Effect.succeed(syntheticResult(call, "error", `${call.name} failed unexpectedly: ${String(defect)}`))
      ),
      Effect.map((result) => hygiene(result, settings.maxToolOutputChars)),
      // Recorded for transcript repair and published together, so an interrupt sees both or neither.
      Effect.tap((result) =>
        Effect.uninterruptible(
          Effect.andThen(settings.onCompleted(result), emit(AgentEvents.toolCompleted(turnId, result)))
        )
      )
    )
})

export type Dispatch = (call: ResponseToolCall) => Effect.Effect<ToolResult>
