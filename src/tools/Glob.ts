/**
 * The `Glob` tool: files under the workspace whose path matches a glob pattern, newest first. The walk honours
 * `.gitignore`, `.ignore` and `.rgignore` files the way `Grep` (and ripgrep) does (see `Gitignore.ts`); patterns
 * are matched with `picomatch` (see `GlobPattern.ts`).
 */
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Semaphore from "effect/Semaphore"
import { ToolExecutionError } from "../errors/ToolError.js"
import { Workspace } from "../services/Workspace.js"
import { IgnoreStack, ignoreEntryNames, readIgnoreLevel } from "../workspace/Gitignore.js"
import { globMatcher, globToRegExp, matchGlob } from "../workspace/GlobPattern.js"
import { Tool } from "./Tool.js"

export { globToRegExp, matchGlob }

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

const MAGIC = /[*?[{\\]/

/** The leading segments without glob syntax (a directory to start from) and the rest of the pattern. */
export const splitGlobBase = (pattern: string): { readonly base: string; readonly rest: string } => {
  const segments = pattern.split("/")
  const fixed: Array<string> = []
  while (segments.length > 1 && !MAGIC.test(segments[0] ?? "")) fixed.push(segments.shift() ?? "")
  const base = fixed.join("/")
  return { base: pattern.startsWith("/") && base === "" ? "/" : base, rest: segments.join("/") }
}

/**
 * The most path segments a match of `pattern` can have, or `undefined` when there is no bound (`**`, brace
 * alternatives). Every `/` a match contains comes from a `/` written in the pattern, so this is an upper bound.
 */
const maxSegments = (pattern: string): number | undefined =>
  pattern.includes("**") || pattern.includes("{") ? undefined : pattern.split("/").length

interface Found {
  readonly path: string
  readonly mtimeMs: number
}

/**
 * The `Glob` tool on the `Workspace` and `FileSystem` in context: read-only, runs in parallel with other calls.
 * Directories are read concurrently through one semaphore; only the matches are stat'ed (for their modification
 * time), and only when there is more than one.
 */
export const makeGlobTool = Effect.fn("GlobTool")(function* (options: GlobOptions = {}) {
  const workspace = yield* Workspace
  const fs = yield* FileSystem.FileSystem
  const maxResults = options.maxResults ?? 1000
  const maxEntries = options.maxEntries ?? 200_000
  const concurrency = Math.max(1, options.concurrency ?? 64)
  const ignored = new Set(options.ignoreDirectories ?? [".git", "node_modules"])
  const fail = (message: string) => new ToolExecutionError({ tool: "Glob", message })
  const provide = Effect.provideService(FileSystem.FileSystem, fs)

  /**
   * The files and symlinks under `root` whose `/`-separated relative path matches `pattern` and that no ignore
   * file excludes. Symlinked directories are listed, not followed.
   */
  const search = Effect.fn("Glob.search")(function* (root: string, pattern: string) {
    const matches = globMatcher(pattern)
    const depthLimit = maxSegments(pattern)
    const io = (yield* Semaphore.make(concurrency)).withPermits(1)
    const found: Array<string> = []
    let visited = 0
    let stopped = false

    /** `stack` holds the ignore files of `directory`'s ancestors, and of `directory` itself when `own`. */
    const visit = (relativeDir: string, stack: IgnoreStack, segments: number, own: boolean): Effect.Effect<void> =>
      Effect.gen(function* () {
        if (stopped) return
        const directory = relativeDir === "" ? root : path.join(root, relativeDir)
        const listed = yield* io(fs.readDirectoryEntries(directory)).pipe(Effect.option)
        if (Option.isNone(listed)) return // unreadable directory: skip it
        const entries = listed.value
        let rules = stack
        if (!own) {
          const names = ignoreEntryNames(entries.map((e) => e.name))
          if (names.size > 0) rules = stack.with(yield* io(provide(readIgnoreLevel(directory, names))))
        }
        const descend = depthLimit === undefined || segments + 1 < depthLimit
        const subdirectories: Array<string> = []
        for (const entry of entries) {
          if (++visited > maxEntries) {
            stopped = true
            break
          }
          const relative = relativeDir === "" ? entry.name : `${relativeDir}/${entry.name}`
          if (entry.type === "Directory") {
            if (descend && !ignored.has(entry.name) && !rules.isIgnored(path.join(directory, entry.name), true)) {
              subdirectories.push(relative)
            }
          } else if (matches(relative)) {
            // Files and symlinks (symlinked directories are listed, not followed).
            const absolute = path.join(directory, entry.name)
            if (!rules.isIgnored(absolute, false)) found.push(absolute)
          }
        }
        yield* Effect.forEach(subdirectories, (sub) => visit(sub, rules, segments + 1, false), {
          concurrency: "unbounded",
          discard: true
        })
      })

    yield* visit("", yield* provide(IgnoreStack.forDirectory(root)), 0, true)
    // Modification times, only to sort (a file gone since the listing is dropped).
    const dated =
      found.length <= 1
        ? found.map((file): Found => ({ path: file, mtimeMs: 0 }))
        : (yield* Effect.forEach(
            found,
            (file) =>
              fs.lstat(file).pipe(
                Effect.map((info): Found | undefined => ({
                  path: file,
                  mtimeMs: Option.match(info.mtime, { onNone: () => 0, onSome: (d) => d.getTime() })
                })),
                Effect.orElseSucceed(() => undefined)
              ),
            { concurrency }
          )).filter((f): f is Found => f !== undefined)
    return { found: dated, stopped }
  })

  return Tool.make({
    name: "Glob",
    description: [
      'Find files by glob pattern, e.g. "**/*.ts" or "src/{lib,test}/*.json"; returns absolute paths, most recently modified first.',
      "Supports ** (any number of directories), *, ?, [abc] and {a,b}. A pattern without / matches only at the top of the search directory.",
      "Respects .gitignore (and .ignore/.rgignore) files like Grep: ignored files are not returned unless path names",
      `an ignored directory itself. Skips ${[...ignored].join(" and ")} directories. At most ${maxResults} paths are returned.`
    ].join(" "),
    input: Schema.Struct({
      pattern: Schema.String.check(Schema.isMinLength(1)).annotate({
        description: "The glob pattern, relative to path (or absolute inside the workspace)"
      }),
      path: Schema.optionalKey(
        Schema.String.annotate({ description: "The directory to search in (default: the working directory)" })
      )
    }),
    readOnly: true,
    execute: Effect.fn("Glob.execute")(function* ({ pattern, path: searchPath }) {
      const { base, rest } = splitGlobBase(pattern)
      const start = path.resolve(path.resolve(workspace.cwd, searchPath ?? "."), base)
      const root = yield* workspace.resolve(start).pipe(Effect.mapError((e) => fail(e.message)))
      const info = yield* fs
        .stat(root)
        .pipe(Effect.mapError(() => fail(`Directory does not exist: ${searchPath ?? start}`)))
      if (info.type !== "Directory") return yield* fail(`${searchPath ?? start} is not a directory.`)
      const { found, stopped } = yield* search(root, rest)
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
})

/** The `Glob` tool with default options. Requires `Workspace` and `FileSystem`. */
export const GlobTool = makeGlobTool()
