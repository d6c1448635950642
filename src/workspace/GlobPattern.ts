/**
 * Glob patterns over `/`-separated relative paths, compiled with `picomatch`: shared by `Glob`, `Grep` and `LS`.
 * The syntax is the plain glob one (no extglobs, no leading `!` negation): `**`, `*`, `?`, `[abc]`, `[a-z]`,
 * `[!abc]`/`[^abc]`, `{a,b}` (nestable) and `\` escapes; `*` also matches names that start with a dot.
 */
import picomatch from "picomatch"

/** Index of the `}` that closes the `{` at `open`, or -1. */
const closingBrace = (pattern: string, open: number): number => {
  let depth = 0
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === "\\") i++
    else if (c === "{") depth++
    else if (c === "}" && --depth === 0) return i
  }
  return -1
}

/** Characters picomatch would read as extglob or negation syntax; plain globs treat them literally. */
const LITERAL = new Set(["(", ")", "+", "@", "!", "|"])

/**
 * The pattern in picomatch's syntax: extglob and negation characters escaped, `[!` as `[^`, and a `{` without
 * its `}` escaped (so it matches itself, as in other glob implementations).
 */
export const toPicomatch = (pattern: string): string => {
  let out = ""
  let inBracket = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? ""
    if (c === "\\" && i + 1 < pattern.length) {
      out += c + (pattern[i + 1] ?? "")
      i++
    } else if (inBracket) {
      if (c === "]") inBracket = false
      out += c
    } else if (c === "[" && pattern.indexOf("]", i + 2) !== -1) {
      inBracket = true
      if (pattern[i + 1] === "!") {
        out += "[^"
        i++
      } else out += c
      if (pattern[i + 1] === "]") {
        out += "]"
        i++
      }
    } else if (c === "[") {
      out += "\\["
    } else if (c === "{" && closingBrace(pattern, i) === -1) {
      out += "\\{"
    } else if (LITERAL.has(c)) {
      out += `\\${c}`
    } else out += c
  }
  return out
}

/** Compile a glob to a RegExp matched against `/`-separated relative paths (anchored). */
export const globToRegExp = (pattern: string): RegExp => picomatch.makeRe(toPicomatch(pattern), { dot: true })

/** A predicate for `/`-separated relative paths. */
export const globMatcher = (pattern: string): ((relativePath: string) => boolean) => {
  const regex = globToRegExp(pattern)
  return (relativePath) => regex.test(relativePath)
}

/** Whether `relativePath` (with `/` separators) matches `pattern`. */
export const matchGlob = (pattern: string, relativePath: string): boolean => globToRegExp(pattern).test(relativePath)

/**
 * A test on the last component of a path that every path matching `pattern` passes (the pattern's last segment,
 * matched alone), and whether its verdict is the pattern's (`exact`: for `**` followed by one segment, such as
 * `**\/*.ts`, a path matches exactly when its last component matches the segment). `undefined` when the pattern
 * gives none: no `/`, an empty last segment or one holding `**`, or a pattern whose segments are not simply its
 * `/`-separated parts (a `/` inside braces or after a backslash, or a bracket expression before the last `/`). A
 * walk can skip a name that fails it without building the path.
 */
export const nameMatcher = (
  pattern: string
): { readonly test: (name: string) => boolean; readonly exact: boolean } | undefined => {
  let depth = 0
  let lastSlash = -1
  let bracket = -1
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === "\\") {
      if (pattern[i + 1] === "/") return undefined
      i++
    } else if (c === "[") {
      if (bracket === -1) bracket = i
    } else if (c === "{") depth++
    else if (c === "}") depth = Math.max(0, depth - 1)
    else if (c === "/") {
      if (depth > 0) return undefined
      lastSlash = i
    }
  }
  if (lastSlash === -1 || (bracket !== -1 && bracket < lastSlash)) return undefined
  const last = pattern.slice(lastSlash + 1)
  if (last === "" || last.includes("**")) return undefined
  return { test: globMatcher(last), exact: lastSlash === 2 && pattern.startsWith("**/") }
}
