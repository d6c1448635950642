/**
 * Gitignore-style path patterns for file rules (`Edit(src/**)`, `Read(./.env)`, `Read(//etc/**)`,
 * `Read(~/.ssh/**)`), matched against normalized absolute paths. Matching is lexical on normalized paths:
 * `src/../.env` is `.env` before any pattern sees it, so `..` cannot escape a rule.
 */
import * as fs from "node:fs"
import * as path from "node:path"

export interface PathPattern {
  readonly text: string
  /** What the pattern is relative to. */
  readonly base: "root" | "home" | "absolute"
  /** Leading `..` segments above the base. */
  readonly up: number
  /** Glob segments (`**` spans any number of segments). */
  readonly segments: ReadonlyArray<string>
  /** False for a single segment without a slash (`.env`, `*.pem`): it matches at any depth. */
  readonly anchored: boolean
}

const GLOB = /[*?[]/

/** Parses a path pattern, or returns why it is not one. */
export const parsePathPattern = (text: string): PathPattern | string => {
  if (text.trim() !== text || text.length === 0) return "an empty or space-padded path pattern"
  let base: PathPattern["base"] = "root"
  let rest = text
  let anchored = true
  if (text.startsWith("//")) {
    base = "absolute"
    rest = text.slice(2)
  } else if (text === "~" || text.startsWith("~/")) {
    base = "home"
    rest = text.slice(1)
  } else if (text.startsWith("/")) {
    rest = text.slice(1)
  } else if (!text.replace(/\/+$/, "").includes("/")) {
    anchored = false
  }
  const segments: Array<string> = []
  let up = 0
  for (const segment of rest.split("/")) {
    if (segment === "" || segment === ".") continue
    if (segment === "..") {
      const previous = segments[segments.length - 1]
      if (previous === undefined) up++
      else if (GLOB.test(previous) || previous === "**") return "`..` after a wildcard in a path pattern"
      else segments.pop()
      continue
    }
    segments.push(segment)
  }
  if (!anchored && segments.length !== 1) anchored = true
  return { text, base, up, segments, anchored }
}

const regexCache = new Map<string, RegExp>()

const segmentRegex = (glob: string, caseInsensitive: boolean): RegExp => {
  const key = `${caseInsensitive ? "i" : "s"}:${glob}`
  const cached = regexCache.get(key)
  if (cached !== undefined) return cached
  let source = ""
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!
    if (ch === "\\" && i + 1 < glob.length) {
      source += escapeRegex(glob[++i]!)
    } else if (ch === "*") {
      source += "[^/]*"
    } else if (ch === "?") {
      source += "[^/]"
    } else if (ch === "[") {
      const close = glob.indexOf("]", i + 2)
      if (close === -1) {
        source += "\\["
        continue
      }
      let body = glob.slice(i + 1, close)
      const negated = body.startsWith("!") || body.startsWith("^")
      if (negated) body = body.slice(1)
      source += `[${negated ? "^" : ""}${body.replace(/[\\\]]/g, "\\$&")}]`
      i = close
    } else {
      source += escapeRegex(ch)
    }
  }
  const regex = new RegExp(`^${source}$`, caseInsensitive ? "iu" : "u")
  regexCache.set(key, regex)
  return regex
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")

const matchSegments = (
  pattern: ReadonlyArray<string>,
  segments: ReadonlyArray<string>,
  caseInsensitive: boolean
): boolean => {
  const go = (i: number, j: number): boolean => {
    // A pattern that matches a directory matches everything inside it.
    if (i === pattern.length) return true
    const p = pattern[i]!
    if (p === "**") {
      for (let k = j; k <= segments.length; k++) if (go(i + 1, k)) return true
      return false
    }
    if (j === segments.length) return false
    return segmentRegex(p, caseInsensitive).test(segments[j]!) && go(i + 1, j + 1)
  }
  return go(0, 0)
}

/** The segments of `target` below `dir`, or undefined when `target` is not inside `dir`. */
export const relativeSegments = (dir: string, target: string): ReadonlyArray<string> | undefined => {
  const rel = path.relative(dir, target)
  if (rel === "") return []
  if (rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined
  return rel.split(path.sep)
}

export interface PathBases {
  /** Project roots (the lexical path and its real path). */
  readonly roots: ReadonlyArray<string>
  /** Home directories (lexical and real). */
  readonly homes: ReadonlyArray<string>
}

export interface MatchOptions {
  /** Deny/ask matching: unanchored patterns also match outside the project, and case is ignored. */
  readonly conservative: boolean
}

/** Whether an absolute, normalized `target` path matches the pattern. */
export const matchPathPattern = (
  pattern: PathPattern,
  target: string,
  bases: PathBases,
  options: MatchOptions
): boolean => {
  const ci = options.conservative
  const normalizedTarget = ci ? target.normalize("NFC") : target
  const baseDirs = pattern.base === "absolute" ? ["/"] : pattern.base === "home" ? bases.homes : bases.roots
  for (const baseDir of baseDirs) {
    const dir = path.resolve(baseDir, ...Array.from({ length: pattern.up }, () => ".."))
    const segments = relativeSegments(dir, normalizedTarget)
    if (pattern.anchored) {
      if (segments !== undefined && matchSegments(pattern.segments, segments, ci)) return true
      continue
    }
    const glob = pattern.segments[0]!
    const candidates =
      segments ?? (options.conservative ? normalizedTarget.split(path.sep).filter((s) => s !== "") : [])
    if (candidates.some((s) => segmentRegex(glob, ci).test(s))) return true
  }
  return false
}

/**
 * The real path of `p` when it exists, else the real path of its nearest existing ancestor joined with the
 * rest: a symlink anywhere on the way is resolved, so `src/link/x` with `link -> /etc` is `/etc/x`.
 */
export const realpathLoose = (p: string): string => {
  const rest: Array<string> = []
  let current = p
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(current), ...rest.reverse())
    } catch {
      const parent = path.dirname(current)
      if (parent === current) return p
      rest.push(path.basename(current))
      current = parent
    }
  }
}
