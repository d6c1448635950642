import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type * as Effect from "effect/Effect"
import { checkPermission } from "../../src/permissions/PermissionEngine.js"
import { loadRuleSet, type RuleLists, type RuleSet } from "../../src/permissions/Settings.js"
import type { PermissionContext, PermissionDecision, PermissionMode } from "../../src/services/Permissions.js"
import type { ToolKind } from "../../src/services/Tool.js"

export interface ToolSpec {
  readonly name: string
  readonly readOnly: boolean
  readonly kind: ToolKind
}

export const TOOLS = {
  Bash: { name: "Bash", readOnly: false, kind: "execute" },
  Read: { name: "Read", readOnly: true, kind: "read" },
  Glob: { name: "Glob", readOnly: true, kind: "read" },
  Grep: { name: "Grep", readOnly: true, kind: "read" },
  Edit: { name: "Edit", readOnly: false, kind: "edit" },
  Write: { name: "Write", readOnly: false, kind: "edit" },
  // As the real tool declares it (see builtinToolSummaries): read-only, and still asked about (a fetch can leak).
  WebFetch: { name: "WebFetch", readOnly: true, kind: "network" },
  Task: { name: "Task", readOnly: false, kind: "other" }
} satisfies Record<string, ToolSpec>

export const mcpTool = (name: string): ToolSpec => ({ name, readOnly: false, kind: "other" })

/** A real project directory and home directory under the OS temp dir. */
export interface Sandbox {
  readonly root: string
  readonly home: string
  readonly base: string
  readonly write: (relative: string, content: string) => string
  readonly cleanup: () => void
}

export const makeSandbox = (): Sandbox => {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-perm-")))
  const root = path.join(base, "project")
  const home = path.join(base, "home")
  fs.mkdirSync(root, { recursive: true })
  fs.mkdirSync(home, { recursive: true })
  return {
    base,
    root,
    home,
    write: (relative, content) => {
      const file = path.join(base, relative)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, content)
      return file
    },
    cleanup: () => fs.rmSync(base, { recursive: true, force: true })
  }
}

/** Settings files as JSON text. */
export const settingsJson = (permissions: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ ...extra, permissions }, null, 2)

export const rulesFor = (sandbox: Sandbox, rules: RuleLists): Effect.Effect<RuleSet, unknown> =>
  loadRuleSet({ cwd: sandbox.root, homeDir: sandbox.home, additionalRules: rules })

export const decideWith = (
  rules: RuleSet,
  tool: ToolSpec,
  input: unknown,
  mode: PermissionMode = "default",
  cwd: string = rules.projectRoot
): Effect.Effect<PermissionDecision, unknown> => {
  const context: PermissionContext = { tool, cwd, mode }
  return checkPermission(rules, { id: "call-1", name: tool.name, input }, context)
}
