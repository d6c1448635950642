/**
 * Hook matchers (Claude Code's semantics): empty, absent or `*` matches every target; a name or a `|` list of
 * names (letters, digits, `_`, `-`) matches those names exactly (`Write` does not match `MultiWrite`); anything
 * else is a regular expression that must match the whole target (`mcp__memory__.*`, `Notebook.*`). Matching is
 * case-sensitive, as tool names are.
 */

const NAMES = /^[A-Za-z0-9_-]+(?:\s*\|\s*[A-Za-z0-9_-]+)*$/

/** Why `matcher` is not usable (an invalid regular expression), or undefined. */
export const matcherProblem = (matcher: string): string | undefined => {
  const text = matcher.trim()
  if (text === "" || text === "*" || NAMES.test(text)) return undefined
  try {
    new RegExp(`^(?:${text})$`)
    return undefined
  } catch (error) {
    return `not a valid regular expression: ${error instanceof Error ? error.message : String(error)}`
  }
}

/** Whether `matcher` matches `target` (a target-less event matches every matcher). */
export const matches = (matcher: string | undefined, target: string | undefined): boolean => {
  const text = (matcher ?? "").trim()
  if (text === "" || text === "*" || target === undefined) return true
  if (NAMES.test(text)) return text.split("|").some((name) => name.trim() === target)
  try {
    return new RegExp(`^(?:${text})$`).test(target)
  } catch {
    return false
  }
}
