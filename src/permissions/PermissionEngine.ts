/**
 * The permission engine behind the `Permissions` service: one decision function, `checkPermission`, used by the
 * agent (through the service) and by `sage permissions check`, so the two never disagree. It decides from the
 * rules (deny beats ask beats allow), the mode, and the path policy of the built-in file tools (workspace roots,
 * protected directories), and adds to every `ask` a hint of what would allow the call.
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { PermissionError } from "../errors/PermissionError.js"
import type { PermissionContext, PermissionDecision, PermissionMode, Permissions } from "../services/Permissions.js"
import { Settings } from "../services/Settings.js"
import type { ToolCall } from "../streams/ToolCall.js"
import { decideToolCall } from "./Check.js"
import { formatHint, permissionHint } from "./DenialHint.js"
import { parseRule, type Rule } from "./Rule.js"
import type { RuleSet } from "./Settings.js"
import type { ShellAnalysis } from "./ShellParser.js"

export {
  decideToolCall,
  explicitlyAllowsEdit,
  PLAN_MODE_MESSAGE,
  PROTECTED_SOURCE,
  type ReadAccess,
  readAccessBy,
  WORKSPACE_SOURCE
} from "./Check.js"
export { formatHint, headlessDenial, type PermissionHint, permissionHint } from "./DenialHint.js"

/** The `hint` of an ask that no allow rule or mode would allow (an ask rule, a deny rule that may apply). */
export const NOTHING_ALLOWS = "No allow rule or permission mode would allow it as the rules stand."

/**
 * Decides one tool call: `allow`, `deny`, or `ask` with the reason, the rule "allow always" would save
 * (`suggestion`) and what would allow it without a question (`hint`). The one decision function of Sage.
 */
export const checkPermission = (
  rules: RuleSet,
  call: ToolCall,
  context: PermissionContext
): Effect.Effect<PermissionDecision, PermissionError> =>
  Effect.suspend(() => {
    const analyses = new Map<string, ShellAnalysis>()
    return Effect.flatMap(
      decideToolCall(rules, call, context, analyses),
      (decision): Effect.Effect<PermissionDecision> =>
        decision.type !== "ask"
          ? Effect.succeed(decision)
          : Effect.map(permissionHint(rules, call, context, decision, analyses), (hint) => ({
              ...decision,
              hint: hint === undefined ? NOTHING_ALLOWS : formatHint(hint)
            }))
    )
  })

/** The mode a session starts in: the explicit one, else the settings' `defaultMode`, else `default`. */
export const startingMode = (
  explicit: PermissionMode | undefined,
  rules: Pick<RuleSet, "defaultMode">
): PermissionMode => explicit ?? rules.defaultMode ?? "default"

/**
 * The sessions whose rules `makePermissions` keeps at most. A conversation ends its session's rules when it closes;
 * turns run with `Agent.run` under session ids of their own never do, so past this many sessions the least recently
 * granted one's rules are dropped (its calls ask again).
 */
export const MAX_SESSIONS_WITH_GRANTS = 1000

/**
 * The rule-based `Permissions` service on the session's `Settings`. Rules allowed for one session (source
 * `session`) are kept here by session id (for `MAX_SESSIONS_WITH_GRANTS` sessions at most) and join the settings'
 * rules only in the checks of that session; rules allowed without a session id go to the settings
 * (`Settings.addSessionRule`) and hold for every check.
 */
export const makePermissions: Effect.Effect<Permissions.Service, never, Settings> = Effect.gen(function* () {
  const settings = yield* Settings
  // Insertion order is grant order: the first key is the least recently granted session.
  const bySession = new Map<string, ReadonlyArray<Rule>>()
  const rulesFor = (rules: RuleSet, sessionId: string | undefined): RuleSet => {
    const own = sessionId === undefined ? undefined : bySession.get(sessionId)
    return own === undefined ? rules : { ...rules, rules: [...rules.rules, ...own] }
  }
  const check = Effect.fn("Permissions.check")(function* (call: ToolCall, context: PermissionContext) {
    return yield* checkPermission(rulesFor(yield* settings.ruleSet, context.sessionId), call, context)
  })
  const allowAlways = Effect.fn("Permissions.allowAlways")(function* (rule: string) {
    yield* settings.addAllowRule(rule)
  })
  const allowForSession = Effect.fn("Permissions.allowForSession")(function* (rule: string, sessionId?: string) {
    if (sessionId === undefined) {
      if (settings.addSessionRule !== undefined) yield* settings.addSessionRule(rule)
      return
    }
    const parsed = parseRule(rule, "allow", "session")
    if (Result.isFailure(parsed)) return yield* new PermissionError({ message: parsed.failure, source: "session" })
    const own = bySession.get(sessionId) ?? []
    if (own.some((r) => r.text === parsed.success.text)) return
    bySession.delete(sessionId)
    bySession.set(sessionId, [...own, parsed.success])
    for (const oldest of bySession.keys()) {
      if (bySession.size <= MAX_SESSIONS_WITH_GRANTS) break
      bySession.delete(oldest)
    }
  })
  const endSession = (sessionId: string): Effect.Effect<void> =>
    Effect.sync(() => {
      bySession.delete(sessionId)
    })
  return { check, allowAlways, allowForSession, endSession }
})
