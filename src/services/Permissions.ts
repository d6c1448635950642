/**
 * The permission contract. Every tool call passes `check` before it runs. Modes decide the baseline; rule
 * files (allow / ask / deny, `Tool(pattern)`) plug in behind the same contract.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { PermissionError } from "../errors/PermissionError.js"
import type { ToolCall } from "../streams/ToolCall.js"
import type { ToolKind } from "./Tool.js"

export type PermissionMode = "default" | "acceptEdits" | "plan" | "bypassPermissions"
export const PERMISSION_MODES: ReadonlyArray<PermissionMode> = ["default", "acceptEdits", "plan", "bypassPermissions"]

export interface PermissionContext {
  readonly tool: { readonly name: string; readonly readOnly: boolean; readonly kind: ToolKind }
  readonly cwd: string
  readonly mode: PermissionMode
  /** The session the call belongs to: the rules allowed for that session (`allowForSession`) apply too. */
  readonly sessionId?: string
}

export type PermissionDecision =
  /** `source` names what allowed it: a mode, or a rule and the file it came from. */
  | { readonly type: "allow"; readonly source: string }
  /** `reason` is shown to the model. */
  | { readonly type: "deny"; readonly reason: string; readonly source: string }
  /**
   * Needs an answer from the user (or `canUseTool`). `suggestion` is the rule "allow always" would save. `hint`
   * says, for a person or a model, what would allow the call without a question (rules, a permission mode),
   * checked by deciding again, or that nothing short of changing an ask/deny rule would.
   */
  | {
      readonly type: "ask"
      readonly reason: string
      readonly source: string
      readonly suggestion?: string
      readonly hint?: string
    }

export declare namespace Permissions {
  interface Service {
    readonly check: (call: ToolCall, context: PermissionContext) => Effect.Effect<PermissionDecision, PermissionError>
    /** Remember an "allow always" answer (saved as a rule where the implementation keeps rules). */
    readonly allowAlways: (rule: string) => Effect.Effect<void, PermissionError>
    /**
     * Allow `rule` for the rest of session `sessionId` only (nothing saved): it applies to the checks whose context
     * names that session, until `endSession`. Without a session id, for every check of this service. Absent where
     * not supported.
     */
    readonly allowForSession?: (rule: string, sessionId?: string) => Effect.Effect<void, PermissionError>
    /** Forget the rules allowed for session `sessionId` (its conversation closed). Absent where not supported. */
    readonly endSession?: (sessionId: string) => Effect.Effect<void>
  }
}

export class Permissions extends Context.Service<Permissions, Permissions.Service>()("sage/Permissions") {}

/** An answer to an `ask`. */
export type ApprovalAnswer =
  | {
      readonly type: "allow"
      readonly updatedInput?: unknown
      /** Save the suggested rule (allow always). */
      readonly always?: boolean
      /** Allow the suggested rule for the rest of this session (recorded in the session log, not in settings). */
      readonly session?: boolean
    }
  | { readonly type: "deny"; readonly reason: string }

export declare namespace Approver {
  interface Service {
    /** Ask the user (terminal prompt, SDK `canUseTool`). Interruption cancels the question. */
    readonly approve: (
      call: ToolCall,
      request: { readonly reason: string; readonly suggestion?: string }
    ) => Effect.Effect<ApprovalAnswer>
  }
}

/** Answers `ask` decisions. When no approver is provided, the agent denies and names the flag that would allow. */
export class Approver extends Context.Service<Approver, Approver.Service>()("sage/Approver") {}
