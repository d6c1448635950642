/**
 * What would allow a call that needs approval, checked by deciding again: the allow rules that together allow it
 * (each suggestion is added and the call decided again, so `ls && rm x` names both commands), and the permission
 * mode `acceptEdits` only when that mode really allows it. Written for CLI and SDK users alike.
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type { PermissionContext, PermissionDecision, PermissionMode } from "../services/Permissions.js"
import type { Rule } from "../services/Settings.js"
import type { ToolCall } from "../streams/ToolCall.js"
import { decideToolCall, withExtraRules } from "./Check.js"
import { parseRule } from "./Rule.js"
import type { RuleSet } from "./Settings.js"
import type { ShellAnalysis } from "./ShellParser.js"

/** What would allow a call without a question. */
export interface PermissionHint {
  /** Allow rules that, added together, allow the call (empty when no rule would). */
  readonly rules: ReadonlyArray<string>
  /** A more permissive mode that allows the call, when one does (`acceptEdits` is preferred). */
  readonly mode?: PermissionMode
}

/** At most this many rules are suggested for one call (a pipeline of many unknown commands). */
const MAX_RULES = 8

/** The option names a user types, per front end (see `SageAgentSDK` options and the CLI flags). */
const RULE_OPTIONS = "CLI: --allowed-tools; SDK: allowedTools; or permissions.allow in .sage/settings.json"
const modeOptions = (mode: PermissionMode) => `CLI: --permission-mode ${mode}; SDK: permissionMode: "${mode}"`

const withAllowRule = (rules: RuleSet, rule: Rule): RuleSet => withExtraRules(rules, [rule])

/**
 * The rules and mode that would allow a call the rules ask about, or `undefined` when nothing short of changing
 * an ask or deny rule would (or the decision is not `ask`). Never suggests a mode or rule that would still not
 * allow the call: each is checked by deciding again with it.
 */
export const permissionHint = Effect.fn("permissionHint")(function* (
  rules: RuleSet,
  call: ToolCall,
  context: PermissionContext,
  decision: PermissionDecision,
  analyses: Map<string, ShellAnalysis> = new Map()
) {
  if (decision.type !== "ask") return undefined
  const decideUnder = (r: RuleSet, mode: PermissionMode) =>
    decideToolCall(r, call, { ...context, mode }, analyses).pipe(Effect.catch(() => Effect.succeed(undefined)))

  // Rules: add each suggestion in turn until the call is allowed (or no further suggestion comes).
  let ruleHint: ReadonlyArray<string> = []
  const added: Array<string> = []
  let current: RuleSet = rules
  let next: PermissionDecision | undefined = decision
  while (next?.type === "ask" && next.suggestion !== undefined && added.length < MAX_RULES) {
    const parsed = parseRule(next.suggestion, "allow", "hint")
    if (Result.isFailure(parsed) || added.includes(parsed.success.text)) break
    added.push(parsed.success.text)
    current = withAllowRule(current, parsed.success)
    next = yield* decideUnder(current, context.mode)
  }
  if (next?.type === "allow") ruleHint = added
  else if (decision.suggestion === undefined) {
    // Nothing narrower to offer (a command that cannot be checked exactly): the whole tool, when that allows it.
    const whole = parseRule(context.tool.name, "allow", "hint")
    if (
      Result.isSuccess(whole) &&
      (yield* decideUnder(withAllowRule(rules, whole.success), context.mode))?.type === "allow"
    )
      ruleHint = [whole.success.text]
  }

  // Modes: only from the default mode, and only a mode that really allows the call.
  let mode: PermissionMode | undefined
  if (context.mode === "default") {
    if ((yield* decideUnder(rules, "acceptEdits"))?.type === "allow") mode = "acceptEdits"
    else if (ruleHint.length === 0 && (yield* decideUnder(rules, "bypassPermissions"))?.type === "allow")
      mode = "bypassPermissions"
  }
  if (ruleHint.length === 0 && mode === undefined) return undefined
  const hint: PermissionHint = { rules: ruleHint, ...(mode === undefined ? {} : { mode }) }
  return hint
})

/** The hint as one sentence, e.g. "To allow it, add the allow rule `Bash(git push:*)` (CLI: ...; SDK: ...)." */
export const formatHint = (hint: PermissionHint): string => {
  const parts: Array<string> = []
  if (hint.rules.length > 0) {
    const list = hint.rules.map((r) => `\`${r}\``).join(", ")
    parts.push(`add the allow rule${hint.rules.length === 1 ? "" : "s"} ${list} (${RULE_OPTIONS})`)
  }
  if (hint.mode !== undefined) {
    const everything = hint.mode === "bypassPermissions" ? ", which allows every tool call" : ""
    parts.push(`use the permission mode ${hint.mode}${everything} (${modeOptions(hint.mode)})`)
  }
  return `To allow it, ${parts.join(", or ")}.`
}

/**
 * What to tell the model (and the user) when an `ask` has nobody to answer it: the reason, and what would allow
 * the call (the decision's `hint`, when the `Permissions` service gave one).
 */
export const headlessDenial = (
  call: Pick<ToolCall, "name">,
  decision: { readonly reason: string; readonly hint?: string }
): string =>
  `Permission to use ${call.name} was not granted: ${decision.reason}. No one is available to approve it in this ` +
  `non-interactive run.${decision.hint === undefined ? "" : ` ${decision.hint}`}`
