/**
 * The hooks contract: user code that runs at fixed points of the agent loop and may change what happens there
 * (refuse a tool call, rewrite its input, add context, stop or continue a turn). The events, their inputs and the
 * answers follow Claude Code's hooks (`PreToolUse`, `PostToolUse`, `UserPromptSubmit`, `Stop`, ...), so the hooks
 * people already wrote for it work here unchanged.
 *
 * A hook is a shell command (from the settings files a user controls: `~/.sage/settings.json`,
 * `.sage/settings.json`, `.sage/settings.local.json`), an Effect (a `hooks` option of `layerNode`), or an async
 * function (the SDK's `hooks` option). All three receive the same input and give the same kind of answer.
 * `HooksLive` runs them (see `src/hooks/`); the loop calls `run` through `src/hooks/Run.ts`.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"

import type { HookEventName, HookInput, HookOutput } from "../streams/HookData.js"

export { HOOK_EVENTS, type HookEventName, type HookInput, type HookOutput } from "../streams/HookData.js"

/** An in-process hook (an Effect). It may fail or die: that is reported as the hook's error, never the turn's. */
export type HookCallback = (
  input: HookInput,
  context: { readonly toolUseId?: string }
  // biome-ignore lint/suspicious/noConfusingVoidType: an Effect of nothing (`Effect.void`) means "go on"
) => Effect.Effect<HookOutput | undefined | void, unknown>

export type HookHandler =
  /** A shell command (`bash -c`), with the input on stdin; `timeout` in seconds (default 60). */
  | { readonly type: "command"; readonly command: string; readonly timeout?: number }
  /** An Effect; `name` labels it in `hook` events; `timeout` in seconds (default 60). */
  | { readonly type: "callback"; readonly callback: HookCallback; readonly name?: string; readonly timeout?: number }

/**
 * Hooks for the events whose target `matcher` matches: the tool name (tool events; MCP tools are
 * `mcp__server__tool`), the source (SessionStart), the reason (SessionEnd), the trigger (PreCompact) or the
 * notification type (Notification). Empty, absent or `*`: every target. A `|` list of names matches those names
 * exactly; anything else is a regular expression matched against the whole target.
 */
export interface HookMatcher {
  readonly matcher?: string
  readonly hooks: ReadonlyArray<HookHandler>
}

export type HooksConfig = { readonly [E in HookEventName]?: ReadonlyArray<HookMatcher> }

/** How one hook run ended (the `hook` event). */
export interface HookReport {
  readonly event: HookEventName
  /** The command, or the callback's name. */
  readonly hook: string
  readonly outcome: "success" | "blocked" | "error" | "timeout"
  readonly durationMs: number
  readonly exitCode?: number
  /** stderr (blocked, error), the error, or a `systemMessage`; bounded. */
  readonly message?: string
}

/** The answers of all the hooks of one event, combined. */
export interface HookOutcome {
  /** A hook blocked (exit code 2, `decision: "block"`, or a PreToolUse `deny`): the reasons, joined. */
  readonly blocked?: string
  /** A hook said `continue: false`: the turn stops (the reason, possibly empty). */
  readonly stop?: string
  /** PreToolUse: deny beats ask beats allow. PermissionRequest: deny beats allow. */
  readonly permission?: { readonly decision: "allow" | "deny" | "ask"; readonly reason?: string }
  /** PreToolUse (`updatedInput`) and PermissionRequest (`decision.updatedInput`): the last hook's wins. */
  readonly updatedInput?: unknown
  /** Text for the model's context (JSON `additionalContext`; plain stdout of UserPromptSubmit and SessionStart). */
  readonly additionalContext: ReadonlyArray<string>
  readonly reports: ReadonlyArray<HookReport>
}

export const emptyOutcome: HookOutcome = { additionalContext: [], reports: [] }

export declare namespace Hooks {
  interface Service {
    /**
     * Runs the hooks of `input.hook_event_name` that match its target, in parallel (bounded; identical commands
     * once), each within its timeout, and combines their answers. Never fails: a failing, crashing or hanging hook
     * is a report. Interrupting it kills the running commands.
     */
    readonly run: (input: HookInput) => Effect.Effect<HookOutcome>
    /** Whether any hook is configured for `event` (so that callers can skip building its input). */
    readonly has: (event: HookEventName) => Effect.Effect<boolean>
  }
}

/** The session's hooks (see `HooksLive`). Without this service in the context, no hook runs. */
export class Hooks extends Context.Service<Hooks, Hooks.Service>()("sage/Hooks") {}
