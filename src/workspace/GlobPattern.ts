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
