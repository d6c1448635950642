/**
 * The data of hooks (see `services/Hooks.ts`): the event names, what a hook receives and what it may answer. Plain
 * types (no Effect), shared by the library and the SDK. Field names are Claude Code's, so hooks written for it work.
 */

export const HOOK_EVENTS = [
  "PreToolUse",
  "PostToolUse",
  "UserPromptSubmit",
  "Stop",
  "SubagentStop",
  "SessionStart",
  "SessionEnd",
  "PreCompact",
  "Notification",
  "PermissionRequest"
] as const
export type HookEventName = (typeof HOOK_EVENTS)[number]

/**
 * What a hook receives (as JSON on stdin for a command): the common fields, then those of its event. Field names
 * are Claude Code's (snake_case).
 */
export interface HookInput {
  readonly hook_event_name: HookEventName
  readonly session_id: string
  /** The session log, when the session is saved. */
  readonly transcript_path?: string
  readonly cwd: string
  readonly permission_mode?: string
  /** The agent (`main`, or a sub-agent's id). */
  readonly agent_id?: string
  /** PreToolUse, PostToolUse, PermissionRequest. */
  readonly tool_name?: string
  readonly tool_input?: unknown
  readonly tool_use_id?: string
  /** PostToolUse: the tool's result (`status`, `output`, and `text`: the output as text). */
  readonly tool_response?: unknown
  /** UserPromptSubmit. */
  readonly prompt?: string
  /** Stop, SubagentStop: true when the turn already continued because of a Stop hook. */
  readonly stop_hook_active?: boolean
  /** Stop, SubagentStop: the text of the last assistant message. */
  readonly last_assistant_message?: string
  /** SessionStart: `startup`, `resume`, `clear` or `compact`. */
  readonly source?: string
  /** SessionEnd: `clear`, `logout`, `prompt_input_exit` or `other`. */
  readonly reason?: string
  /** PreCompact: `manual` or `auto`. */
  readonly trigger?: "manual" | "auto"
  readonly custom_instructions?: string
  /** Notification. */
  readonly message?: string
  readonly notification_type?: string
}

/** What a hook may answer (a command: as JSON on stdout, with exit code 0). Unknown fields are ignored. */
export interface HookOutput {
  /** False: stop the turn (after this hook's event) with `stopReason` shown to the user. */
  readonly continue?: boolean
  readonly stopReason?: string
  /** Keep the hook's stdout out of the logs. */
  readonly suppressOutput?: boolean
  /** A message for the user (shown with the `hook` event). */
  readonly systemMessage?: string
  /**
   * `block`: refuse (PreToolUse: the call; UserPromptSubmit: the prompt; PostToolUse: the result is annotated;
   * Stop/SubagentStop: the turn goes on with `reason` as a new user message). `approve`: the older spelling of
   * PreToolUse's `permissionDecision: "allow"`.
   */
  readonly decision?: "block" | "approve"
  readonly reason?: string
  readonly hookSpecificOutput?: {
    readonly hookEventName?: string
    /** PreToolUse. */
    readonly permissionDecision?: "allow" | "deny" | "ask"
    readonly permissionDecisionReason?: string
    /** PreToolUse: the input the tool runs with instead (checked by its schema and the permission rules again). */
    readonly updatedInput?: unknown
    /** UserPromptSubmit, SessionStart, PostToolUse, PreToolUse: text added to the model's context. */
    readonly additionalContext?: string
    /** PermissionRequest: the answer to the permission question. */
    readonly decision?: {
      readonly behavior: "allow" | "deny"
      readonly updatedInput?: unknown
      readonly message?: string
    }
  }
}
