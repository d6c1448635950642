/**
 * Glob patterns compiled to regular expressions over `/`-separated relative paths: shared by `Glob`, `Grep`,
 * `LS` and the ignore-file rules of `Gitignore.ts` (kept apart from `Glob.ts` so that `Gitignore.ts` and
 * `Glob.ts` do not import each other).
 */

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")

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

/** Split the inside of a brace group at its top-level commas. */
const splitAlternatives = (body: string): Array<string> => {
  const parts: Array<string> = []
  let depth = 0
  let start = 0
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (c === "\\") i++
    else if (c === "{") depth++
    else if (c === "}") depth--
    else if (c === "," && depth === 0) {
      parts.push(body.slice(start, i))
      start = i + 1
    }
  }
  parts.push(body.slice(start))
  return parts
}

/** Regular-expression source for a glob (no anchors). */
const globSource = (pattern: string): string => {
  let out = ""
  let i = 0
  while (i < pattern.length) {
    const c = pattern[i]!
    if (c === "\\" && i + 1 < pattern.length) {
      out += escapeRegExp(pattern[i + 1]!)
      i += 2
    } else if (c === "*") {
      let j = i
      while (pattern[j] === "*") j++
      const segmentStart = i === 0 || pattern[i - 1] === "/"
      const segmentEnd = j === pattern.length || pattern[j] === "/"
      if (j - i >= 2 && segmentStart && segmentEnd) {
        // `**` as a whole segment: any number of directories (including none).
        if (j === pattern.length) {
          out += ".*"
          i = j
        } else {
          out += "(?:[^/]*/)*"
          i = j + 1
        }
      } else {
        out += "[^/]*"
        i = j
      }
    } else if (c === "?") {
      out += "[^/]"
      i++
    } else if (c === "[") {
      let j = i + 1
      if (pattern[j] === "!" || pattern[j] === "^") j++
      if (pattern[j] === "]") j++
      while (j < pattern.length && pattern[j] !== "]") j++
      if (j >= pattern.length) {
        out += "\\["
        i++
      } else {
        let body = pattern.slice(i + 1, j)
        const negated = body.startsWith("!") || body.startsWith("^")
        if (negated) body = body.slice(1)
        const escaped = body.replace(/[\\\]^]/g, "\\$&")
        out += negated ? `[^/${escaped}]` : `[${escaped}]`
        i = j + 1
      }
    } else if (c === "{") {
      const close = closingBrace(pattern, i)
      const alternatives = close === -1 ? [] : splitAlternatives(pattern.slice(i + 1, close))
      if (alternatives.length < 2) {
        out += "\\{"
        i++
      } else {
        out += `(?:${alternatives.map(globSource).join("|")})`
        i = close + 1
      }
    } else {
      out += escapeRegExp(c)
      i++
    }
  }
  return out
}

/**
 * Compile a glob to a RegExp matched against `/`-separated relative paths. Supports `**` (any number of
 * directories), `*` and `?` (within one path segment), `[abc]`, `[a-z]`, `[!abc]`, `{a,b}` (nestable) and
 * `\` escapes. `*` also matches names that start with a dot.
 */
export const globToRegExp = (pattern: string): RegExp => new RegExp(`^${globSource(pattern)}$`)
