/** `sage permissions check '<Tool>' '<input JSON>' [--cwd DIR]`: what the permission rules decide, and why. */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as PermissionsLive from "../layers/PermissionsLive.js"
import { PERMISSION_MODES, type PermissionMode } from "../services/Permissions.js"
import { builtinTools } from "../tools/index.js"

const tool = Args.text({ name: "tool" }).pipe(Args.withDescription("Tool name, e.g. Bash, Edit, mcp__server__tool"))
const input = Args.text({ name: "input" }).pipe(
  Args.withDefault("{}"),
  Args.withDescription('The tool input as JSON, e.g. \'{"command":"npm test"}\'')
)
const cwd = Options.directory("cwd", { exists: "yes" }).pipe(Options.optional)
const mode = Options.choice("permission-mode", PERMISSION_MODES).pipe(Options.withDefault("default" as PermissionMode))
const allowedTools = Options.text("allowed-tools").pipe(Options.repeated)
const disallowedTools = Options.text("disallowed-tools").pipe(Options.repeated)

export const checkCommand = Command.make("check", { tool, input, cwd, mode, allowedTools, disallowedTools }, (args) =>
  Effect.gen(function* () {
    const root = Option.getOrElse(args.cwd, () => process.cwd())
    let parsed: unknown
    try {
      parsed = JSON.parse(args.input)
    } catch (error) {
      process.stderr.write(`sage: the input is not valid JSON: ${(error as Error).message}\n`)
      process.exitCode = 1
      return
    }
    const known = builtinTools({ workspace: { roots: [root] }, env: {} }).find((t) => t.name === args.tool)
    const permissions = yield* PermissionsLive.make({
      cwd: root,
      mode: args.mode,
      flags: { allowed: args.allowedTools, disallowed: args.disallowedTools }
    })
    const decision = yield* permissions.check(
      { id: "cli", name: args.tool, input: parsed },
      {
        tool: { name: args.tool, readOnly: known?.readOnly ?? false, kind: known?.kind ?? "other" },
        cwd: root,
        mode: args.mode
      }
    )
    const why = decision.type === "allow" ? decision.source : `${decision.source}: ${decision.reason}`
    process.stdout.write(`${decision.type} ${why}\n`)
  })
).pipe(
  Command.withDescription(
    "Print the decision (allow, ask or deny) for a tool call, then the rule and file that made it"
  )
)

export const permissionsCommand = Command.make("permissions").pipe(
  Command.withDescription("Inspect permission rules"),
  Command.withSubcommands([checkCommand])
)
