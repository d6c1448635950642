/**
 * Where the agent loop meets the hooks: one function per hook point, called from `AgentLoop`, `ToolDispatch`,
 * `Compaction` and `Conversation`, so that those modules change by a line or two. Each builds its event's input,
 * runs the `Hooks` service (when the context has one), publishes one `hook` event per hook that ran, and turns
 * the combined answer into what its caller acts on.
 *
 * Decisions (where Claude Code leaves room):
 * - PreToolUse runs after the input was checked against the tool's schema and before the permission check. Its
 *   `deny` (or exit code 2) refuses the call; its `updatedInput` is checked against the schema again and then goes
 *   through the permission check like the model's input; its `allow` counts as `bypassPermissions` for that call: it
 *   skips the mode's question, never a deny rule, an ask rule, a protected path (`.sage/`, `.git/`, start-up files)
 *   or a command that needs approval in every mode. Its `ask` makes an allowed call ask.
 * - PermissionRequest runs where the user would be asked (also without an approver: then an unanswered question is
 *   a deny); its `allow` is bound like PreToolUse's, its `deny` refuses. Notification runs while the approver asks.
 * - Stop (SubagentStop for a sub-agent) runs when the model ends its turn; a block continues the turn with the
 *   reason as a user message, at most `MAX_STOP_CONTINUATIONS` times per turn (`stop_hook_active` is true after the
 *   first).
 * - `continue: false` from any hook of a turn stops the turn after the current step (stop reason `hook`).
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type { AgentEventBodyOf, Emit } from "../agent/AgentEvents.js"
import type { StepOutcome } from "../agent/Step.js"
import type { TurnTranscript } from "../agent/TranscriptRepair.js"
import { emptyOutcome, type HookInput, type HookOutcome, type HookReport, Hooks } from "../services/Hooks.js"
import { type Message, messageText } from "../streams/Message.js"
import type { ToolCall, ToolResult } from "../streams/ToolCall.js"

/** How many times Stop hooks may continue one turn. */
export const MAX_STOP_CONTINUATIONS = 3

/** The fields every input of a scope carries. */
export interface HookBase {
  readonly session_id: string
  readonly cwd: string
  readonly transcript_path?: string
  readonly permission_mode?: string
  readonly agent_id?: string
}

/** What the hook points of one turn (or session) share. */
export interface HookScope {
  readonly hooks: Hooks.Service
  readonly base: HookBase
  /** Where `hook` events go (none: they are logged at debug level). */
  readonly emit?: Emit
  readonly turnId?: string
  /** Set by a hook's `continue: false`: the turn stops after the current step with this reason. */
  readonly stopRequest?: Ref.Ref<string | undefined>
}

export const hookEventBody = (report: HookReport, turnId?: string): AgentEventBodyOf<"hook"> => ({
  type: "hook",
  ...(turnId === undefined ? {} : { turnId }),
  event: report.event,
  hook: report.hook,
  outcome: report.outcome,
  durationMs: report.durationMs,
  ...(report.exitCode === undefined ? {} : { exitCode: report.exitCode }),
  ...(report.message === undefined ? {} : { message: report.message })
})

/** Runs the hooks of `input` in `scope`, publishing a `hook` event per hook (and noting a `continue: false`). */
export const fire = (
  scope: HookScope | undefined,
  input: Omit<HookInput, keyof HookBase> & Partial<HookBase>
): Effect.Effect<HookOutcome> =>
  scope === undefined
    ? Effect.succeed(emptyOutcome)
    : Effect.gen(function* () {
        const outcome = yield* scope.hooks.run({ ...scope.base, ...input })
        for (const report of outcome.reports) {
          const body = hookEventBody(report, scope.turnId)
          if (scope.emit !== undefined) yield* scope.emit(body)
          else yield* Effect.logDebug("hook", body)
        }
        if (outcome.stop !== undefined && scope.stopRequest !== undefined) {
          const reason = outcome.stop
          yield* Ref.update(scope.stopRequest, (current) => current ?? reason)
        }
        return outcome
      })

/** A scope of `hooks` (none without them). */
export const scopeWith = (
  hooks: Option.Option<Hooks.Service>,
  base: HookBase,
  extra: Omit<HookScope, "hooks" | "base"> = {}
): HookScope | undefined => (Option.isNone(hooks) ? undefined : { hooks: hooks.value, base, ...extra })

/** The context's hooks as a scope (none without a `Hooks` service). */
export const scopeOf = (
  base: HookBase,
  extra: Omit<HookScope, "hooks" | "base"> = {}
): Effect.Effect<HookScope | undefined> =>
  Effect.map(Effect.serviceOption(Hooks), (hooks) => scopeWith(hooks, base, extra))

/** The user message carrying the additional context of `event`'s hooks (none when there is none). */
export const contextMessage = (event: string, context: ReadonlyArray<string>): Message | undefined => {
  const texts = context.map((c) => c.trim()).filter((c) => c !== "")
  if (texts.length === 0) return undefined
  return {
    role: "user",
    content: [{ type: "text", text: `<hook-context event="${event}">\n${texts.join("\n\n")}\n</hook-context>` }]
  }
}

// ---------------------------------------------------------------------------------------------------------------
// UserPromptSubmit

export type PromptVerdict =
  | { readonly type: "refused"; readonly reason: string }
  | { readonly type: "accepted"; readonly context: Message | undefined }

/** UserPromptSubmit: a block (or `continue: false`) refuses the prompt; context is added after it. */
export const userPromptSubmit = (scope: HookScope | undefined, prompt: string): Effect.Effect<PromptVerdict> =>
  Effect.map(fire(scope, { hook_event_name: "UserPromptSubmit", prompt }), (outcome): PromptVerdict => {
    if (outcome.blocked !== undefined) return { type: "refused", reason: outcome.blocked }
    if (outcome.stop !== undefined) return { type: "refused", reason: outcome.stop }
    return { type: "accepted", context: contextMessage("UserPromptSubmit", outcome.additionalContext) }
  })

// ---------------------------------------------------------------------------------------------------------------
// Tools

export type PreToolVerdict =
  | { readonly type: "refused"; readonly reason: string }
  | {
      readonly type: "go"
      /** The hooks' `updatedInput`, when they rewrote the input. */
      readonly updatedInput?: unknown
      /** `allow` (skip the mode's question) or `ask` (ask even when allowed). */
      readonly permission?: "allow" | "ask"
      readonly reason?: string
    }

export const toolInput = (call: ToolCall) => ({
  tool_name: call.name,
  tool_input: call.input,
  tool_use_id: call.id
})

/** PreToolUse (see the module comment). */
export const preToolUse = (scope: HookScope | undefined, call: ToolCall): Effect.Effect<PreToolVerdict> =>
  Effect.map(fire(scope, { hook_event_name: "PreToolUse", ...toolInput(call) }), (outcome): PreToolVerdict => {
    const permission = outcome.permission
    if (permission?.decision === "deny") {
      return { type: "refused", reason: permission.reason ?? outcome.blocked ?? "a PreToolUse hook denied the call" }
    }
    if (outcome.blocked !== undefined) return { type: "refused", reason: outcome.blocked }
    return {
      type: "go",
      ...(outcome.updatedInput === undefined ? {} : { updatedInput: outcome.updatedInput }),
      ...(permission === undefined ? {} : { permission: permission.decision }),
      ...(permission?.reason === undefined ? {} : { reason: permission.reason })
    }
  })

/** PostToolUse: a block and additional context are added to the result the model sees (its status unchanged). */
export const postToolUse = (
  scope: HookScope | undefined,
  call: ToolCall,
  result: ToolResult
): Effect.Effect<ToolResult> =>
  Effect.map(
    fire(scope, {
      hook_event_name: "PostToolUse",
      ...toolInput(call),
      tool_response: {
        status: result.status,
        output: result.output,
        text: result.output.flatMap((o) => (o.type === "text" ? [o.text] : [])).join("")
      }
    }),
    (outcome): ToolResult => {
      const notes = [
        ...(outcome.blocked === undefined ? [] : [`PostToolUse hook feedback: ${outcome.blocked}`]),
        ...(outcome.additionalContext.length === 0
          ? []
          : [`Context from a PostToolUse hook:\n${outcome.additionalContext.join("\n\n")}`])
      ]
      if (notes.length === 0) return result
      return { ...result, output: [...result.output, { type: "text", text: `\n\n${notes.join("\n\n")}` }] }
    }
  )

export type PermissionVerdict =
  | { readonly type: "allow"; readonly updatedInput?: unknown }
  | { readonly type: "deny"; readonly reason: string }
  | { readonly type: "none" }

/** PermissionRequest: the hooks may answer the permission question instead of the user. */
export const permissionRequest = (scope: HookScope | undefined, call: ToolCall): Effect.Effect<PermissionVerdict> =>
  Effect.map(
    fire(scope, { hook_event_name: "PermissionRequest", ...toolInput(call) }),
    (outcome): PermissionVerdict => {
      if (outcome.permission?.decision === "deny" || outcome.blocked !== undefined) {
        return {
          type: "deny",
          reason: outcome.permission?.reason ?? outcome.blocked ?? "a PermissionRequest hook denied the call"
        }
      }
      if (outcome.permission?.decision === "allow") {
        return { type: "allow", ...(outcome.updatedInput === undefined ? {} : { updatedInput: outcome.updatedInput }) }
      }
      return { type: "none" }
    }
  )

/** Notification (runs beside the question; its answer is not used). */
export const notification = (
  scope: HookScope | undefined,
  message: string,
  notificationType: string
): Effect.Effect<void> =>
  Effect.asVoid(fire(scope, { hook_event_name: "Notification", message, notification_type: notificationType }))

// ---------------------------------------------------------------------------------------------------------------
// Turn end, compaction, sessions

/**
 * A turn's step with its hooks: a `continue: false` seen during the step ends the turn (stop reason `hook`); when
 * the model ends its turn, Stop hooks (SubagentStop for a sub-agent) may continue it with their reason as a new user
 * message (at most `MAX_STOP_CONTINUATIONS` times).
 */
export const withStopHooks = <E>(
  scope: HookScope | undefined,
  options: {
    readonly event: "Stop" | "SubagentStop"
    readonly transcript: Ref.Ref<TurnTranscript>
    readonly onMessage: (message: Message) => Effect.Effect<void>
  },
  step: (n: number) => Effect.Effect<StepOutcome, E>
): Effect.Effect<(n: number) => Effect.Effect<StepOutcome, E>> =>
  Effect.map(Ref.make(0), (continued) => {
    if (scope === undefined) return step
    const stopped = scope.stopRequest === undefined ? Effect.succeed(undefined) : Ref.get(scope.stopRequest)
    return (n: number) =>
      Effect.gen(function* () {
        const outcome = yield* step(n)
        if ((yield* stopped) !== undefined) return { done: true, stopReason: "hook" } satisfies StepOutcome
        if (!outcome.done) return outcome
        const times = yield* Ref.get(continued)
        const last = (yield* Ref.get(options.transcript)).messages.findLast((m) => m.role === "assistant")
        const ended = yield* fire(scope, {
          hook_event_name: options.event,
          stop_hook_active: times > 0,
          ...(last === undefined ? {} : { last_assistant_message: messageText(last) })
        })
        if ((yield* stopped) !== undefined) return { done: true, stopReason: "hook" } satisfies StepOutcome
        if (ended.blocked === undefined || times >= MAX_STOP_CONTINUATIONS) return outcome
        yield* Ref.set(continued, times + 1)
        const message: Message = { role: "user", content: [{ type: "text", text: ended.blocked }] }
        yield* Effect.uninterruptible(
          Effect.andThen(
            Ref.update(options.transcript, (t) => ({ ...t, messages: [...t.messages, message] })),
            options.onMessage(message)
          )
        )
        return { done: false, stopReason: outcome.stopReason } satisfies StepOutcome
      })
  })

/**
 * SubagentStop for a sub-agent that is not run by the agent loop (the loop runs it by itself for an agent with a
 * `parentAgentId`): runs the context's hooks; `blocked` is the reason to continue the sub-agent with, when a hook
 * asks for that.
 */
export const runSubagentStop = (input: {
  readonly sessionId: string
  readonly cwd: string
  readonly agentId: string
  readonly stopHookActive: boolean
  readonly lastAssistantMessage?: string
  readonly emit?: Emit
  readonly turnId?: string
}): Effect.Effect<{ readonly blocked?: string }> =>
  Effect.flatMap(
    scopeOf(
      { session_id: input.sessionId, cwd: input.cwd, agent_id: input.agentId },
      {
        ...(input.emit === undefined ? {} : { emit: input.emit }),
        ...(input.turnId === undefined ? {} : { turnId: input.turnId })
      }
    ),
    (scope) =>
      Effect.map(
        fire(scope, {
          hook_event_name: "SubagentStop",
          stop_hook_active: input.stopHookActive,
          ...(input.lastAssistantMessage === undefined ? {} : { last_assistant_message: input.lastAssistantMessage })
        }),
        (outcome) => (outcome.blocked === undefined ? {} : { blocked: outcome.blocked })
      )
  )

/** PreCompact (its answer cannot stop the compaction; it is for logging and backups). */
export const preCompact = (
  scope: HookScope | undefined,
  trigger: "manual" | "auto",
  instructions?: string
): Effect.Effect<void> =>
  Effect.asVoid(
    fire(scope, {
      hook_event_name: "PreCompact",
      trigger,
      ...(instructions === undefined ? {} : { custom_instructions: instructions })
    })
  )

/** SessionStart: the context its hooks add (their plain stdout, or `additionalContext`) as a user message. */
export const sessionStart = (scope: HookScope | undefined, source: string): Effect.Effect<Message | undefined> =>
  Effect.map(fire(scope, { hook_event_name: "SessionStart", source }), (outcome) =>
    contextMessage("SessionStart", outcome.additionalContext)
  )

export const sessionEnd = (scope: HookScope | undefined, reason: string): Effect.Effect<void> =>
  Effect.asVoid(fire(scope, { hook_event_name: "SessionEnd", reason }))
