/**
 * The tool names a permission rule may name: the built-in tools, MCP tools (`mcp__server`, `mcp__server__tool`,
 * `mcp__server__*`) and the names of custom tools the session registers. This is the one list of built-in names
 * the permission system knows; settings validation and error messages read it from here.
 */

/** The built-in tools, in the order error messages list them. */
export const BUILTIN_TOOL_NAMES = [
  "Bash",
  "BashOutput",
  "KillShell",
  "Read",
  "Write",
  "Edit",
  "MultiEdit",
  "LS",
  "Glob",
  "Grep",
  "WebFetch",
  "TodoWrite"
] as const

export type BuiltinToolName = (typeof BUILTIN_TOOL_NAMES)[number]

/** The tools a session has when an MCP server offers resources (see `mcp/McpTools.ts`). */
export const MCP_RESOURCE_TOOL_NAMES = ["ListMcpResources", "ReadMcpResource"] as const

/** The built-in tools that refuse every path outside the workspace roots (see `workspace/Workspace.ts`). */
export const CONFINED_FILE_TOOLS: ReadonlySet<string> = new Set<BuiltinToolName>([
  "Read",
  "Write",
  "Edit",
  "MultiEdit",
  "LS",
  "Glob",
  "Grep"
])

/** The built-in tools that change files and refuse protected directories without an explicit allow rule. */
export const FILE_CHANGING_TOOLS: ReadonlySet<string> = new Set<BuiltinToolName>(["Write", "Edit", "MultiEdit"])

/** An MCP tool or server name: `mcp__server`, `mcp__server__tool` or `mcp__server__*`. */
export const MCP_TOOL_NAME = /^mcp__[A-Za-z0-9_.-]+?(?:__(?:[A-Za-z0-9_.-]+|\*))?$/

/** Levenshtein distance (small strings only: tool names and settings keys). */
export const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/** The candidate closest to `found` (ignoring case), when it is close enough to be a likely typo. */
export const closestName = (found: string, candidates: Iterable<string>): string | undefined => {
  const lower = found.toLowerCase()
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(found.length / 3)) ? best : undefined
}

/** ` (did you mean "x"?)`, or nothing. */
export const didYouMean = (found: string, candidates: Iterable<string>): string => {
  const closest = closestName(found, candidates)
  return closest === undefined ? "" : ` (did you mean ${JSON.stringify(closest)}?)`
}

/**
 * Why a rule's tool name is not one this session knows, or `undefined` when it is. `extra` are the session's
 * custom tool names. Deny and ask rules may spell a known name in another case (they match ignoring case);
 * allow rules must spell it exactly (they match exactly, so `bash(ls)` would never allow anything).
 */
export const unknownToolReason = (
  tool: string,
  behavior: "allow" | "ask" | "deny",
  extra: ReadonlyArray<string> = []
): string | undefined => {
  const known = [...BUILTIN_TOOL_NAMES, ...MCP_RESOURCE_TOOL_NAMES, ...extra]
  if (known.includes(tool) || MCP_TOOL_NAME.test(tool)) return undefined
  const sameIgnoringCase = known.find((name) => name.toLowerCase() === tool.toLowerCase())
  if (sameIgnoringCase !== undefined) {
    if (behavior !== "allow") return undefined
    return `unknown tool ${JSON.stringify(tool)}: tool names are case-sensitive in allow rules (did you mean ${JSON.stringify(sameIgnoringCase)}?)`
  }
  return `unknown tool ${JSON.stringify(tool)}; expected one of ${known.join(", ")}, or mcp__<server>[__<tool>]${didYouMean(tool, known)}`
}
