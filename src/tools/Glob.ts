/**
 * The `Glob` tool: files under the workspace whose path matches a glob pattern, newest first.
 */
import type { Dirent } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import { Tool } from "./Tool.js"
import { resolveInside, type Workspace, workspaceCwd } from "./Workspace.js"

export interface GlobOptions {
  /** Paths returned at most. Default 1000. */
  readonly maxResults?: number
  /** Directory entries visited at most before the search stops. Default 200 000. */
  readonly maxEntries?: number
  /** Directory names never descended into. Default `.git`, `node_modules`. */
  readonly ignoreDirectories?: ReadonlyArray<string>
}

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

/** Whether `relativePath` (with `/` separators) matches `pattern`. */
export const matchGlob = (pattern: string, relativePath: string): boolean => globToRegExp(pattern).test(relativePath)

const MAGIC = /[*?[{\\]/

/** The leading segments without glob syntax (a directory to start from) and the rest of the pattern. */
export const splitGlobBase = (pattern: string): { readonly base: string; readonly rest: string } => {
  const segments = pattern.split("/")
  const fixed: Array<string> = []
  while (segments.length > 1 && !MAGIC.test(segments[0]!)) fixed.push(segments.shift()!)
  const base = fixed.join("/")
  return { base: pattern.startsWith("/") && base === "" ? "/" : base, rest: segments.join("/") }
}

interface Found {
  readonly path: string
  readonly mtimeMs: number
}

/** The `Glob` tool for `workspace`: read-only, runs in parallel with other calls. */
export const makeGlobTool = (workspace: Workspace, options: GlobOptions = {}) => {
  const maxResults = options.maxResults ?? 1000
  const maxEntries = options.maxEntries ?? 200_000
  const ignored = new Set(options.ignoreDirectories ?? [".git", "node_modules"])
  const fail = (message: string) => new ToolExecutionError({ tool: "Glob", message })

  const search = async (root: string, matcher: RegExp, signal: AbortSignal) => {
    const found: Array<Found> = []
    let visited = 0
    let stopped = false
    const pending: Array<string> = [""]
    while (pending.length > 0) {
      if (signal.aborted) throw signal.reason
      const relativeDir = pending.pop()!
      let entries: Array<Dirent>
      try {
        entries = await fs.readdir(path.join(root, relativeDir), { withFileTypes: true })
      } catch {
        continue // unreadable directory: skip it
      }
      entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0))
      for (const entry of entries) {
        if (++visited > maxEntries) {
          stopped = true
          break
        }
        const relative = relativeDir === "" ? entry.name : `${relativeDir}/${entry.name}`
        if (entry.isDirectory()) {
          if (!ignored.has(entry.name)) pending.push(relative)
        } else if (matcher.test(relative)) {
          // Files and symlinks (symlinked directories are listed, not followed).
          const stat = await fs.lstat(path.join(root, relative)).catch(() => undefined)
          if (stat !== undefined) found.push({ path: path.join(root, relative), mtimeMs: stat.mtimeMs })
        }
      }
      if (stopped) break
    }
    return { found, stopped }
  }

  return Tool.make({
    name: "Glob",
    description: [
      'Find files by glob pattern, e.g. "**/*.ts" or "src/{lib,test}/*.json"; returns absolute paths, most recently modified first.',
      "Supports ** (any number of directories), *, ?, [abc] and {a,b}. A pattern without / matches only at the top of the search directory.",
      `Skips ${[...ignored].join(" and ")} directories. At most ${maxResults} paths are returned.`
    ].join(" "),
    input: Schema.Struct({
      pattern: Schema.String.pipe(Schema.minLength(1)).annotations({
        description: "The glob pattern, relative to path (or absolute inside the workspace)"
      }),
      path: Schema.optional(
        Schema.String.annotations({ description: "The directory to search in (default: the working directory)" })
      )
    }),
    readOnly: true,
    execute: ({ pattern, path: searchPath }) =>
      Effect.gen(function* () {
        const { base, rest } = splitGlobBase(pattern)
        const start = path.resolve(path.resolve(workspaceCwd(workspace), searchPath ?? "."), base)
        const root = yield* resolveInside(workspace, start, "Glob")
        const stat = yield* Effect.tryPromise({
          try: () => fs.stat(root),
          catch: () => fail(`Directory does not exist: ${searchPath ?? start}`)
        })
        if (!stat.isDirectory()) return yield* fail(`${searchPath ?? start} is not a directory.`)
        const matcher = globToRegExp(rest)
        const { found, stopped } = yield* Effect.tryPromise({
          try: (signal) => search(root, matcher, signal),
          catch: (error) => fail(`Glob failed: ${String(error)}`)
        })
        if (found.length === 0) {
          return stopped
            ? `No files found before the search stopped after ${maxEntries} entries; use a narrower path.`
            : "No files found"
        }
        found.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
        const shown = found.slice(0, maxResults).map((f) => f.path)
        const notes: Array<string> = []
        if (found.length > maxResults) {
          notes.push(
            `(Showing the ${maxResults} most recently modified of ${found.length} matches; use a more specific pattern or path.)`
          )
        }
        if (stopped) notes.push(`(The search stopped after ${maxEntries} entries; results may be incomplete.)`)
        return [...shown, ...notes].join("\n")
      })
  })
}
