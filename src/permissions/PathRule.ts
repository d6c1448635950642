/**
 * Gitignore-style path patterns for file rules (`Edit(src/**)`, `Read(./.env)`, `Read(//etc/**)`,
 * `Read(~/.ssh/**)`), matched against normalized absolute paths. Matching is lexical on normalized paths:
 * `src/../.env` is `.env` before any pattern sees it, so `..` cannot escape a rule.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { PathPattern } from "../services/Settings.js"

export type { PathPattern }

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

// Regex syntax characters only: in `u` mode an escaped `-` outside a class is a syntax error.
const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")

/**
 * The compiled regexes of a pattern's segments, per case mode, filled in on first use of each segment (a
 * segment is compiled only when matching reaches it, as before this cache existed).
 */
interface CompiledSegments {
  readonly sensitive: Array<RegExp | undefined>
  readonly insensitive: Array<RegExp | undefined>
}

const compiledPatterns = new WeakMap<PathPattern, CompiledSegments>()

const compiledSegments = (pattern: PathPattern): CompiledSegments => {
  let compiled = compiledPatterns.get(pattern)
  if (compiled === undefined) {
    compiled = { sensitive: [], insensitive: [] }
    compiledPatterns.set(pattern, compiled)
  }
  return compiled
}

const segmentAt = (pattern: PathPattern, compiled: CompiledSegments, i: number, caseInsensitive: boolean): RegExp => {
  const list = caseInsensitive ? compiled.insensitive : compiled.sensitive
  let regex = list[i]
  if (regex === undefined) {
    regex = segmentRegex(pattern.segments[i]!, caseInsensitive)
    list[i] = regex
  }
  return regex
}

const matchSegments = (
  pattern: PathPattern,
  compiled: CompiledSegments,
  segments: ReadonlyArray<string>,
  caseInsensitive: boolean
): boolean => {
  const globs = pattern.segments
  const go = (i: number, j: number): boolean => {
    // A pattern that matches a directory matches everything inside it.
    if (i === globs.length) return true
    if (globs[i] === "**") {
      for (let k = j; k <= segments.length; k++) if (go(i + 1, k)) return true
      return false
    }
    if (j === segments.length) return false
    return segmentAt(pattern, compiled, i, caseInsensitive).test(segments[j]!) && go(i + 1, j + 1)
  }
  return go(0, 0)
}

/**
 * Whether `p` is an absolute POSIX path in normal form (no empty, `.` or `..` segment, no trailing slash except
 * for `/` itself): for two such paths `path.relative` is a plain prefix test.
 */
const isNormalAbsolute = (p: string): boolean => {
  if (p.charCodeAt(0) !== 47 /* / */) return false
  if (p.length === 1) return true
  if (p.charCodeAt(p.length - 1) === 47) return false
  return !p.includes("//") && !p.includes("/./") && !p.includes("/../") && !p.endsWith("/.") && !p.endsWith("/..")
}

const POSIX = path.sep === "/"

/** The segments of `target` below `dir`, or undefined when `target` is not inside `dir`. */
export const relativeSegments = (dir: string, target: string): ReadonlyArray<string> | undefined => {
  if (POSIX && isNormalAbsolute(dir) && isNormalAbsolute(target)) {
    if (target === dir) return []
    if (dir.length === 1) return target.slice(1).split("/")
    return target.length > dir.length && target.charCodeAt(dir.length) === 47 && target.startsWith(dir)
      ? target.slice(dir.length + 1).split("/")
      : undefined
  }
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

/**
 * Path computations shared by many pattern matches of one permission check (pure functions of their
 * arguments, so memoizing them changes no result). `uncachedPaths` computes everything afresh.
 */
export interface PathMemo {
  /** `relativeSegments(dir, target)`. */
  readonly segments: (dir: string, target: string) => ReadonlyArray<string> | undefined
  /** `target.normalize("NFC")`. */
  readonly nfc: (target: string) => string
}

export const uncachedPaths: PathMemo = { segments: relativeSegments, nfc: (target) => target.normalize("NFC") }

/** A memo for the path computations of one permission check. */
export const makePathMemo = (): PathMemo => {
  const segments = new Map<string, Map<string, ReadonlyArray<string> | undefined>>()
  const nfc = new Map<string, string>()
  return {
    segments: (dir, target) => {
      let byTarget = segments.get(dir)
      if (byTarget === undefined) {
        byTarget = new Map()
        segments.set(dir, byTarget)
      }
      if (byTarget.has(target)) return byTarget.get(target)
      const result = relativeSegments(dir, target)
      byTarget.set(target, result)
      return result
    },
    nfc: (target) => {
      let normalized = nfc.get(target)
      if (normalized === undefined) {
        normalized = target.normalize("NFC")
        nfc.set(target, normalized)
      }
      return normalized
    }
  }
}

const ABSOLUTE_BASES: ReadonlyArray<string> = ["/"]

/** `baseDir` with `up` levels of `..` applied, as `path.resolve` gives it. */
const upFrom = (baseDir: string, up: number): string => {
  if (up === 0 && POSIX && isNormalAbsolute(baseDir)) return baseDir
  return path.resolve(baseDir, ...Array.from({ length: up }, () => ".."))
}

/** Whether an absolute, normalized `target` path matches the pattern. */
export const matchPathPattern = (
  pattern: PathPattern,
  target: string,
  bases: PathBases,
  options: MatchOptions,
  memo: PathMemo = uncachedPaths
): boolean => {
  const ci = options.conservative
  const normalizedTarget = ci ? memo.nfc(target) : target
  const baseDirs = pattern.base === "absolute" ? ABSOLUTE_BASES : pattern.base === "home" ? bases.homes : bases.roots
  const compiled = compiledSegments(pattern)
  for (const baseDir of baseDirs) {
    const dir = upFrom(baseDir, pattern.up)
    const segments = memo.segments(dir, normalizedTarget)
    if (pattern.anchored) {
      if (segments !== undefined && matchSegments(pattern, compiled, segments, ci)) return true
      continue
    }
    const candidates =
      segments ?? (options.conservative ? normalizedTarget.split(path.sep).filter((s) => s !== "") : [])
    if (candidates.length > 0) {
      const regex = segmentAt(pattern, compiled, 0, ci)
      if (candidates.some((s) => regex.test(s))) return true
    }
  }
  return false
}

/** The target of `p` when it is a symlink that `existsSync` could not follow (dangling, or looping). */
const danglingTarget = (p: string): string | undefined => {
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink()
      ? path.resolve(path.dirname(p), fs.readlinkSync(p))
      : undefined
  } catch {
    return undefined
  }
}

/** Symlinks followed at most by `realpathLoose` before it gives up (as the OS does with ELOOP). */
const MAX_SYMLINK_HOPS = 40

/**
 * The real path of `p` when it exists, else the real path of its nearest existing ancestor joined with the
 * rest: a symlink anywhere on the way is resolved, so `src/link/x` with `link -> /etc` is `/etc/x`. A dangling
 * symlink on the way is followed to its target, as the file tools do (`src/dl -> /etc/new` is `/etc/new`).
 */
export const realpathLoose = (p: string, hops = 0): string => {
  const rest: Array<string> = []
  let current = p
  for (;;) {
    // `existsSync` answers without throwing: a path it cannot reach is one `realpath` cannot resolve either, and
    // a thrown error costs several times a system call.
    if (fs.existsSync(current)) {
      try {
        return path.join(fs.realpathSync.native(current), ...rest.reverse())
      } catch {
        // not resolvable: try the parent
      }
    } else if (hops < MAX_SYMLINK_HOPS) {
      const target = danglingTarget(current)
      if (target !== undefined) return realpathLoose(path.join(target, ...rest.reverse()), hops + 1)
    }
    const parent = path.dirname(current)
    if (parent === current) return p
    rest.push(path.basename(current))
    current = parent
  }
}
