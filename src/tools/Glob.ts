/**
 * The `Glob` tool: files under the workspace whose path matches a glob pattern, newest first. The walk honours
 * `.gitignore`, `.ignore` and `.rgignore` files the way `Grep` (and ripgrep) does (see `Gitignore.ts`).
 */
import * as fs from "node:fs"
import * as fsp from "node:fs/promises"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import { IGNORE_FILE_NAMES, type IgnoreLevel, IgnoreStack, limiter, parseIgnoreFile } from "../workspace/Gitignore.js"
import { globToRegExp } from "../workspace/GlobPattern.js"
import { Tool } from "./Tool.js"
import { resolveInside, type Workspace, workspaceCwd } from "../workspace/Workspace.js"

export interface GlobOptions {
  /** Paths returned at most. Default 1000. */
  readonly maxResults?: number
  /** Directory entries visited at most before the search stops. Default 200 000. */
  readonly maxEntries?: number
  /** Directory names never descended into (whatever the ignore files say). Default `.git`, `node_modules`. */
  readonly ignoreDirectories?: ReadonlyArray<string>
  /** File-system operations (directory reads, ignore-file reads, stats) in flight at once. Default 64. */
  readonly concurrency?: number
}

export { globToRegExp }

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

/**
 * The most path segments a match of `pattern` can have, or `undefined` when there is no bound (`**`, brace
 * alternatives). Every `/` a match contains comes from a `/` written in the pattern, so this is an upper bound.
 */
const maxSegments = (pattern: string): number | undefined =>
  pattern.includes("**") || pattern.includes("{") ? undefined : pattern.split("/").length

const GIT = ".git"

// The callback API: measurably cheaper per call than `fs/promises` when thousands of stats are in flight.
const readDirectory = (directory: string): Promise<Array<fs.Dirent>> =>
  new Promise((resolve, reject) =>
    fs.readdir(directory, { withFileTypes: true }, (error, entries) => (error ? reject(error) : resolve(entries)))
  )

const modifiedAt = (file: string): Promise<number> =>
  new Promise((resolve, reject) => fs.lstat(file, (error, stat) => (error ? reject(error) : resolve(stat.mtimeMs))))

const readText = (file: string): Promise<string> =>
  new Promise((resolve, reject) => fs.readFile(file, "utf8", (error, text) => (error ? reject(error) : resolve(text))))

/** Whether a directory listing holds an ignore file or `.git` (only then is there a level to read). */
const hasIgnoreEntries = (entries: ReadonlyArray<fs.Dirent>): boolean =>
  entries.some((e) => e.name === GIT || (IGNORE_FILE_NAMES as ReadonlyArray<string>).includes(e.name))

/** The `Glob` tool for `workspace`: read-only, runs in parallel with other calls. */
export const makeGlobTool = (workspace: Workspace, options: GlobOptions = {}) => {
  const maxResults = options.maxResults ?? 1000
  const maxEntries = options.maxEntries ?? 200_000
  const concurrency = Math.max(1, options.concurrency ?? 64)
  const ignored = new Set(options.ignoreDirectories ?? [".git", "node_modules"])
  const fail = (message: string) => new ToolExecutionError({ tool: "Glob", message })

  /**
   * The files and symlinks under `root` whose `/`-separated relative path `matcher` accepts and that no ignore
   * file excludes, with their modification times. Directories are read concurrently (bounded); symlinked
   * directories are listed, not followed.
   */
  const search = async (root: string, pattern: string, signal: AbortSignal) => {
    const matcher = globToRegExp(pattern)
    const depthLimit = maxSegments(pattern)
    const io = limiter(concurrency)
    const found: Array<Found> = []
    let visited = 0
    let stopped = false

    /** The ignore files of `directory` as one level (reading only those its listing holds). */
    const readLevel = async (directory: string, entries: ReadonlyArray<fs.Dirent>): Promise<IgnoreLevel> => {
      const names = new Set(entries.map((e) => e.name))
      const rules = await Promise.all(
        IGNORE_FILE_NAMES.map((name) =>
          names.has(name) ? io(() => readText(path.join(directory, name))).then(parseIgnoreFile, () => []) : []
        )
      )
      return { directory, rules, hasGit: names.has(GIT) }
    }

    /** `stack` holds the ignore files of `directory`'s ancestors, and of `directory` itself when `own`. */
    const visit = async (relativeDir: string, stack: IgnoreStack, segments: number, own: boolean): Promise<void> => {
      if (signal.aborted) throw signal.reason
      if (stopped) return
      const directory = relativeDir === "" ? root : path.join(root, relativeDir)
      let entries: Array<fs.Dirent>
      try {
        entries = await io(() => readDirectory(directory))
      } catch {
        return // unreadable directory: skip it
      }
      let rules = stack
      if (!own && hasIgnoreEntries(entries)) {
        const level = await readLevel(directory, entries)
        if (level.hasGit || level.rules.some((r) => r.length > 0)) rules = IgnoreStack.of([...stack.levels, level])
      }
      const descend = depthLimit === undefined || segments + 1 < depthLimit
      const pending: Array<Promise<void>> = []
      for (const entry of entries) {
        if (++visited > maxEntries) {
          stopped = true
          break
        }
        const relative = relativeDir === "" ? entry.name : `${relativeDir}/${entry.name}`
        if (entry.isDirectory()) {
          if (descend && !ignored.has(entry.name) && !rules.isIgnored(path.join(directory, entry.name), true)) {
            pending.push(visit(relative, rules, segments + 1, false))
          }
        } else if (matcher.test(relative)) {
          // Files and symlinks (symlinked directories are listed, not followed).
          const absolute = path.join(directory, entry.name)
          if (!rules.isIgnored(absolute, false)) {
            pending.push(
              io(() => modifiedAt(absolute)).then(
                (mtimeMs) => {
                  found.push({ path: absolute, mtimeMs })
                },
                () => undefined // gone since the listing
              )
            )
          }
        }
      }
      await Promise.all(pending)
    }

    await visit("", await IgnoreStack.forDirectory(root), 0, true)
    if (signal.aborted) throw signal.reason
    return { found, stopped }
  }

  return Tool.make({
    name: "Glob",
    description: [
      'Find files by glob pattern, e.g. "**/*.ts" or "src/{lib,test}/*.json"; returns absolute paths, most recently modified first.',
      "Supports ** (any number of directories), *, ?, [abc] and {a,b}. A pattern without / matches only at the top of the search directory.",
      "Respects .gitignore (and .ignore/.rgignore) files like Grep: ignored files are not returned unless path names",
      `an ignored directory itself. Skips ${[...ignored].join(" and ")} directories. At most ${maxResults} paths are returned.`
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
          try: () => fsp.stat(root),
          catch: () => fail(`Directory does not exist: ${searchPath ?? start}`)
        })
        if (!stat.isDirectory()) return yield* fail(`${searchPath ?? start} is not a directory.`)
        const { found, stopped } = yield* Effect.tryPromise({
          try: (signal) => search(root, rest, signal),
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
