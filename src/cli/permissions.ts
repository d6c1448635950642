/** `sage permissions check TOOL ['INPUT-JSON'] [--cwd DIR]`: what the permission rules decide, and why. */
import * as Effect from "effect/Effect"
import * as os from "node:os"
import { checkPermission } from "../permissions/PermissionEngine.js"
import { loadRuleSet } from "../permissions/Settings.js"
import { sanitizeForTerminal } from "../streams/Sanitize.js"
import { builtinToolSummaries } from "../tools/index.js"
import type { CheckArgs } from "./Args.js"

/** Prints `allow|ask|deny <source>[: reason]` on stdout; exit 0, or 1 for bad input JSON or a malformed settings file. */
export const runPermissionsCheck = (
  args: CheckArgs,
  homeDir: string | undefined,
  out: (text: string) => Effect.Effect<void>,
  err: (text: string) => Effect.Effect<void>
): Effect.Effect<number> =>
  Effect.gen(function* () {
    let parsed: unknown
    try {
      parsed = JSON.parse(args.input)
    } catch (error) {
      yield* err(`sage: the input is not valid JSON: ${error instanceof Error ? error.message : String(error)}\n`)
      return 2
    }
    // What the engine needs of the tool (as the built-in declares it); unknown names (MCP, custom tools) are
    // neither read-only nor of a known kind, as the agent would treat them.
    const known = builtinToolSummaries.find((tool) => tool.name === args.tool)
    const rules = yield* loadRuleSet({
      cwd: args.cwd,
      homeDir: homeDir ?? os.homedir(),
      flags: { allowed: args.allowedTools, disallowed: args.disallowedTools }
    })
    // The same decision function the agent calls before every tool call.
    const decision = yield* checkPermission(
      rules,
      { id: "cli", name: args.tool, input: parsed },
      {
        tool: { name: args.tool, readOnly: known?.readOnly ?? false, kind: known?.kind ?? "other" },
        cwd: args.cwd,
        mode: args.permissionMode
      }
    )
    const why = decision.type === "allow" ? decision.source : `${decision.source}: ${decision.reason}`
    const hint = decision.type === "ask" && decision.hint !== undefined ? `\n  ${decision.hint}` : ""
    yield* out(`${decision.type} ${sanitizeForTerminal(why + hint)}\n`)
    return 0
  }).pipe(
    Effect.catch((error) =>
      err(`sage: ${sanitizeForTerminal(`${error._tag}: ${error.message}`).split("\n")[0] ?? ""}\n`).pipe(Effect.as(1))
    )
  )
