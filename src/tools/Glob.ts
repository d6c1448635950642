/**
 * The `Glob` tool: files under the workspace whose path matches a glob pattern, newest first. The walk honours
 * `.gitignore`, `.ignore` and `.rgignore` files the way `Grep` (and ripgrep) does (see `Gitignore.ts`); patterns
 * are matched with `picomatch` (see `GlobPattern.ts`).
 *
 * The workspace root and the ignore files are read through effect's `FileSystem`; directory listings and the
 * matches' modification times through `node:fs` directly, which on a tree of tens of thousands of files costs a
 * fraction of `FileSystem.readDirectoryEntries` (a new object per entry) and `FileSystem.lstat` (a complete
 * `File.Info` from a bigint stat per file).
 */
import * as nodeFs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Schema from "effect/Schema"
import * as Semaphore from "effect/Semaphore"
import { ToolExecutionError } from "../errors/ToolError.js"
import { Workspace } from "../services/Workspace.js"
import { childPath, IgnoreStack, ignoreEntryNames, readIgnoreLevel } from "../workspace/Gitignore.js"
import { globMatcher, globToRegExp, matchGlob, nameMatcher } from "../workspace/GlobPattern.js"
import { Tool } from "./Tool.js"

export { globToRegExp, matchGlob }

/**
 * Which results a search or listing leaves out, given what the Read rules say about its root (`rootAccess`): files
 * that are not `allowed`, or, under a root approved despite an ask rule, the `denied` ones only.
 */
export const hiddenBy =
  (rootAccess: "allowed" | "ask" | "denied", access: (realPath: string) => "allowed" | "ask" | "denied") =>
  (realPath: string): boolean => {
    const found = access(realPath)
    return rootAccess === "ask" ? found === "denied" : found !== "allowed"
  }

export interface GlobOptions {
  /** Paths returned at most. Default 1000. */
  readonly maxResults?: number
  /** Directory entries visited at most before the search stops. Default 200 000. */
  readonly maxEntries?: number
  /** Directory names never descended into (whatever the ignore files say). Default `.git`, `node_modules`. */
  readonly ignoreDirectories?: ReadonlyArray<string>
  /**
   * Directory and ignore-file reads in flight at once (an Effect semaphore). Default 64. The matches are stat'ed
   * synchronously, in batches between yields.
   */
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

/** A match and its modification time in whole milliseconds (`undefined` when it could not be stat'ed). */
interface Match {
  readonly path: string
  readonly mtimeMs: number | undefined
}

/** The entries of `directory`, or `undefined` when it cannot be read. */
const listDirectory = (directory: string): Effect.Effect<ReadonlyArray<nodeFs.Dirent> | undefined> =>
  Effect.callback<ReadonlyArray<nodeFs.Dirent> | undefined>((resume) => {
    nodeFs.readdir(directory, { withFileTypes: true }, (error, entries) => {
      resume(Effect.succeed(error === null ? entries : undefined))
    })
  })

/** Files stat'ed between two yields to the scheduler. */
const STAT_BATCH = 256

const STAT_OPTIONS = { throwIfNoEntry: false } as const

/**
 * Adds `files` with their modification times (in whole milliseconds, as `FileSystem.lstat` gives them) to `into`.
 * Synchronous `lstat`s: an asynchronous one costs the event loop as much (its callback and promise on top of the
 * call).
 */
const dateSync = (files: ReadonlyArray<string>, into: Array<Match>, from = 0, to = files.length): void => {
  for (let i = from; i < to; i++) {
    const file = files[i] ?? ""
    let mtimeMs: number | undefined
    try {
      const stats = nodeFs.lstatSync(file, STAT_OPTIONS)
      mtimeMs = stats === undefined ? undefined : Math.trunc(stats.mtimeMs)
    } catch {
      mtimeMs = undefined
    }
    into.push({ path: file, mtimeMs })
  }
}

/** `dateSync` in batches of `STAT_BATCH` with a yield between two, which keep the event loop responsive. */
const dateInto = (files: ReadonlyArray<string>, into: Array<Match>): Effect.Effect<void> =>
  Effect.gen(function* () {
    for (let i = 0; i < files.length; i += STAT_BATCH) {
      if (i > 0) yield* Effect.yieldNow
      dateSync(files, into, i, Math.min(files.length, i + STAT_BATCH))
    }
  })

/**
 * The `Glob` tool on the `Workspace` and `FileSystem` in context: read-only, runs in parallel with other calls.
 * Directories are read concurrently through one semaphore; only the matches are stat'ed (for their modification
 * time, as each directory is listed), and the times are used only when there is more than one match.
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
  const search = Effect.fn("Glob.search")(function* (directory: string, pattern: string) {
    const root = path.resolve(directory)
    const matches = globMatcher(pattern)
    // Most names fail the last segment alone (`*.ts` of `**/*.ts`): cheaper than building and matching the path,
    // and for `**/<segment>` the name's verdict is the path's.
    const byName = nameMatcher(pattern)
    const nameMatches = byName?.test
    const nameDecides = byName?.exact === true
    const depthLimit = maxSegments(pattern)
    const io = (yield* Semaphore.make(concurrency)).withPermits(1)
    const found: Array<Match> = []
    let visited = 0
    let stopped = false

    /** Lists `directory` (below the root) and visits it; `stack` holds the ignore files of its ancestors. */
    const visit = (relativeDir: string, directory: string, stack: IgnoreStack, segments: number): Effect.Effect<void> =>
      Effect.gen(function* () {
        if (stopped) return
        const entries = yield* io(listDirectory(directory))
        if (entries === undefined) return // unreadable directory: skip it
        const names = ignoreEntryNames(entries.map((e) => e.name))
        const rules = names.size > 0 ? stack.with(yield* io(provide(readIgnoreLevel(directory, names)))) : stack
        yield* visitListed(relativeDir, directory, entries, rules, segments)
      })

    /** The matches among `entries` (of `directory`, whose ignore files `rules` include), and its subdirectories. */
    const visitListed = (
      relativeDir: string,
      directory: string,
      entries: ReadonlyArray<nodeFs.Dirent>,
      rules: IgnoreStack,
      segments: number
    ): Effect.Effect<void> =>
      Effect.gen(function* () {
        const isIgnored = rules.entries(directory)
        const descend = depthLimit === undefined || segments + 1 < depthLimit
        const subdirectories: Array<{ readonly relative: string; readonly absolute: string }> = []
        const files: Array<string> = []
        for (const entry of entries) {
          if (++visited > maxEntries) {
            stopped = true
            break
          }
          if (entry.isDirectory()) {
            if (descend && !ignored.has(entry.name)) {
              if (!isIgnored(entry.name, true)) {
                const relative = relativeDir === "" ? entry.name : `${relativeDir}/${entry.name}`
                subdirectories.push({ relative, absolute: childPath(directory, entry.name) })
              }
            }
          } else if (
            (nameMatches === undefined || nameMatches(entry.name)) &&
            (nameDecides || matches(relativeDir === "" ? entry.name : `${relativeDir}/${entry.name}`))
          ) {
            // Files and symlinks (symlinked directories are listed, not followed).
            if (!isIgnored(entry.name, false)) files.push(childPath(directory, entry.name))
          }
        }
        const below = Effect.forEach(subdirectories, (sub) => visit(sub.relative, sub.absolute, rules, segments + 1), {
          concurrency: "unbounded",
          discard: true
        })
        if (files.length <= STAT_BATCH) {
          // One batch: stat'ed at once (while the reads of other directories are in flight).
          dateSync(files, found)
          if (subdirectories.length > 0) yield* below
        } else if (subdirectories.length === 0) yield* dateInto(files, found)
        else yield* Effect.zip(below, dateInto(files, found), { concurrent: true })
      })

    // The root is listed while the ignore files of it and its ancestors are read.
    const [stack, entries] = yield* Effect.all([provide(IgnoreStack.forDirectory(root)), io(listDirectory(root))], {
      concurrency: 2
    })
    if (entries !== undefined) yield* visitListed("", root, entries, stack, 0)
    // The modification times only sort the matches: a file gone since the listing is dropped, unless it is the
    // only match.
    if (found.length <= 1) return { found: found.map((match): Match => ({ path: match.path, mtimeMs: 0 })), stopped }
    return { found: found.filter((match) => match.mtimeMs !== undefined), stopped }
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
      const access = workspace.readAccess(root)
      if (access === "denied") {
        return yield* fail(`${searchPath ?? start} may not be read: a Read deny rule covers it.`)
      }
      const searched = yield* search(root, rest)
      // Files the permission rules keep the model from reading are left out (a search cannot ask for each); under
      // a root someone approved despite an ask rule, only denied ones.
      const hidden = hiddenBy(access, workspace.readAccess)
      const found = searched.found.filter((match) => !hidden(match.path))
      const stopped = searched.stopped
      if (found.length === 0) {
        return stopped
          ? `No files found before the search stopped after ${maxEntries} entries; use a narrower path.`
          : "No files found"
      }
      found.sort((a, b) => (b.mtimeMs ?? 0) - (a.mtimeMs ?? 0) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
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
