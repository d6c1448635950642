/**
 * The `Grep` tool: regular-expression search over the workspace, ignore-file aware, with ripgrep when it is
 * installed and an equivalent built-in search when it is not. Inputs follow Claude Code's Grep.
 */
import * as fsc from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { ToolExecutionError } from "../errors/ToolError.js"
import { configuredSearchPath, findExecutable } from "../process/Executable.js"
import { spawnGroup } from "../process/ProcessGroup.js"
import { Workspace } from "../services/Workspace.js"
import { compareCodePoints, walkFiles } from "../workspace/Gitignore.js"
import { globToRegExp } from "../workspace/GlobPattern.js"
import { resolveInside } from "../workspace/Workspace.js"
import { hiddenBy } from "./Glob.js"
import { Tool } from "./Tool.js"

/** File types for the `type` input: name => file-name globs. */
export const GREP_FILE_TYPES = {
  c: ["*.c", "*.h"],
  cpp: ["*.cpp", "*.cc", "*.cxx", "*.hpp", "*.hh", "*.hxx", "*.h"],
  css: ["*.css", "*.scss", "*.sass", "*.less"],
  go: ["*.go"],
  html: ["*.html", "*.htm"],
  java: ["*.java"],
  js: ["*.js", "*.jsx", "*.mjs", "*.cjs"],
  json: ["*.json", "*.jsonc", "*.json5"],
  kotlin: ["*.kt", "*.kts"],
  md: ["*.md", "*.markdown", "*.mdx"],
  py: ["*.py", "*.pyi"],
  rb: ["*.rb"],
  rust: ["*.rs"],
  sh: ["*.sh", "*.bash", "*.zsh"],
  sql: ["*.sql"],
  swift: ["*.swift"],
  toml: ["*.toml"],
  ts: ["*.ts", "*.tsx", "*.mts", "*.cts"],
  yaml: ["*.yaml", "*.yml"]
} as const satisfies Record<string, ReadonlyArray<string>>

export type GrepFileType = keyof typeof GREP_FILE_TYPES

export interface GrepOptions {
  /**
   * The ripgrep executable: a path, `null` for the built-in search, or absent to look `rg` up (once, on first
   * use) on the configured `PATH`.
   */
  readonly rgPath?: string | null
  /** Entries or lines returned when the call gives no `head_limit`. Default 250. */
  readonly defaultHeadLimit?: number
  /** Characters of one line shown. Default 500. */
  readonly maxLineLength?: number
  /** Characters of output at most. Default 40 000. */
  readonly maxOutputChars?: number
  /** Files collected at most in files_with_matches mode before the search stops. Default 20 000. */
  readonly maxFiles?: number
  /** Lines collected at most from ripgrep in content mode before the search stops. Default 100 000. */
  readonly maxLines?: number
  /** The search is stopped after this long. Default 60 seconds. */
  readonly timeout?: Duration.Input
  /** The built-in search skips files larger than this. Default 50 MB. */
  readonly maxFileBytes?: number
  /** Between SIGTERM and SIGKILL when ripgrep is stopped. Default 1 second. */
  readonly killGrace?: Duration.Input
  /**
   * The built-in search: files read at once, and directory reads in flight. Default 32 (results keep their
   * order whatever the value).
   */
  readonly concurrency?: number
}

type OutputMode = "content" | "files_with_matches" | "count"

/** A search, resolved and validated. */
interface Query {
  readonly pattern: string
  /** Absolute real path of the file or directory searched. */
  readonly target: string
  readonly targetIsFile: boolean
  readonly mode: OutputMode
  readonly ignoreCase: boolean
  readonly multiline: boolean
  readonly before: number
  readonly after: number
  readonly type: GrepFileType | undefined
  /** Whether a file found under a directory target passes the `glob` and `type` filters. */
  readonly accept: (file: string) => boolean
}

/** Receives results in order; each method returns `false` when no more results are wanted. */
interface Sink {
  readonly file: (file: string) => boolean
  readonly count: (file: string, count: number) => boolean
  readonly line: (file: string, lineNumber: number, text: string, isMatch: boolean) => boolean
}

/** What a backend reports besides the results it sent to the sink. */
interface SearchEnd {
  /** The search stopped before the end (the sink or a bound asked it to). */
  readonly stopped: boolean
}

const BINARY_PROBE_BYTES = 64 * 1024

/** Whether the first 64 KB of `file` contain a NUL byte (how ripgrep recognises binary files). */
const isBinaryFile = async (file: string): Promise<boolean> => {
  const handle = await fs.open(file, "r")
  try {
    const buffer = Buffer.alloc(BINARY_PROBE_BYTES)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
    return buffer.subarray(0, bytesRead).includes(0)
  } finally {
    await handle.close()
  }
}

const toSlash = (p: string): string => (path.sep === "/" ? p : p.split(path.sep).join("/"))

/** The `glob` and `type` filters as one predicate on absolute file paths under `root`. */
const fileFilter = (root: string, glob: string | undefined, type: GrepFileType | undefined) => {
  const typeGlobs = type === undefined ? [] : GREP_FILE_TYPES[type].map((g) => globToRegExp(g))
  let globTest: ((file: string) => boolean) | undefined
  if (glob !== undefined) {
    const negated = glob.startsWith("!")
    const body = negated ? glob.slice(1) : glob
    const byPath = body.includes("/")
    const regex = globToRegExp(byPath ? body.replace(/^\/+/, "") : body)
    globTest = (file) => regex.test(byPath ? toSlash(path.relative(root, file)) : path.basename(file)) !== negated
  }
  return (file: string): boolean =>
    (typeGlobs.length === 0 || typeGlobs.some((r) => r.test(path.basename(file)))) &&
    (globTest === undefined || globTest(file))
}

const SEPARATOR = path.sep.charCodeAt(0)

/**
 * Path order as a sorted directory walk visits files (ripgrep's `--sort=path`): component by component, each by
 * code point (`compareCodePoints`), a path before the paths below it. Compared in place: a separator sorts before
 * any other character, which is where one component ends while the other goes on.
 */
export const pathOrder = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x === y) continue
    if (x === SEPARATOR) return -1
    if (y === SEPARATOR) return 1
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000
    }
    return x - y
  }
  return a.length - b.length
}

// ---------------------------------------------------------------------------------------------------------------
// ripgrep
//
// ripgrep runs unsorted (so it searches in parallel) and with its plain output: `path NUL count`, or
// `path NUL line:text` / `path NUL line-text` (match / context) records, which are cheaper to read than its JSON.
// Results are put in path order here.

const ripgrepArgs = (query: Query): Array<string> => {
  const args = [
    "--no-config",
    "--no-messages",
    "--color=never",
    "--hidden",
    "--no-require-git",
    "--no-ignore-global",
    "--no-ignore-exclude",
    "--glob=!.git",
    "--with-filename",
    "--no-heading",
    "--null"
  ]
  if (query.ignoreCase) args.push("--ignore-case")
  if (query.multiline) args.push("--multiline", "--multiline-dotall")
  if (query.type !== undefined && !query.targetIsFile) {
    for (const glob of GREP_FILE_TYPES[query.type]) args.push(`--type-add=sagegrep:${glob}`)
    args.push("--type=sagegrep")
  }
  if (query.mode === "files_with_matches") args.push("--files-with-matches")
  else if (query.mode === "count") args.push("--count")
  else {
    args.push("--line-number")
    if (query.before > 0) args.push(`--before-context=${query.before}`)
    if (query.after > 0) args.push(`--after-context=${query.after}`)
  }
  args.push("--regexp", query.pattern, "--", query.target)
  return args
}

interface RipgrepRun {
  readonly exitCode: number | null
  readonly stderr: string
  readonly stopped: boolean
}

/**
 * Run ripgrep in its own process group and hand every `delimiter`-terminated record of its stdout to
 * `onRecord` until that returns `false`. The group is killed when the run ends, stops early or is interrupted.
 */
const runRipgrep = (
  rgPath: string,
  args: ReadonlyArray<string>,
  cwd: string,
  env: Readonly<Record<string, string>>,
  delimiter: number,
  onRecord: (record: Buffer) => boolean,
  killGrace: Duration.Duration
): Effect.Effect<RipgrepRun, ToolExecutionError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const stop = yield* Deferred.make<void>()
      let stopped = false
      let pending: Buffer = Buffer.alloc(0)
      let stderr = ""
      const accept = (record: Buffer) => {
        if (stopped || onRecord(record)) return
        stopped = true
        Deferred.doneUnsafe(stop, Effect.void)
      }
      const group = yield* Effect.acquireRelease(
        spawnGroup({
          command: rgPath,
          args,
          cwd,
          env,
          tool: "Grep",
          onOutput: (chunk, from) => {
            if (from === "stderr") {
              if (stderr.length < 8000) stderr += chunk.toString("utf8")
              return
            }
            if (stopped) return
            pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
            let start = 0
            for (let end = pending.indexOf(delimiter); end !== -1; end = pending.indexOf(delimiter, start)) {
              accept(pending.subarray(start, end))
              start = end + 1
              if (stopped) return
            }
            pending = pending.subarray(start)
          }
        }),
        (g) => g.kill(killGrace)
      )
      yield* Effect.raceFirst(Effect.andThen(group.closed, group.exited), Deferred.await(stop))
      if (!stopped && pending.length > 0) accept(pending)
      if (stopped) return { exitCode: null, stderr, stopped: true } satisfies RipgrepRun
      const exit = yield* group.exited
      return { exitCode: exit.code, stderr, stopped: false } satisfies RipgrepRun
    })
  )

/** Whether an absolute POSIX path has no `.` or `..` segment, no empty one and no trailing `/`. */
const isNormalized = (file: string): boolean =>
  !file.endsWith("/") &&
  !file.endsWith("/.") &&
  !file.endsWith("/..") &&
  !file.includes("//") &&
  !file.includes("/./") &&
  !file.includes("/../")

/** A content-mode line from ripgrep, kept until the results are put in path order. */
interface RgLine {
  readonly n: number
  readonly text: string
  readonly isMatch: boolean
}

const ripgrepSearch = (
  rgPath: string,
  query: Query,
  sink: Sink,
  cwd: string,
  env: Readonly<Record<string, string>>,
  killGrace: Duration.Duration,
  bounds: { readonly maxFiles: number; readonly maxLines: number }
): Effect.Effect<SearchEnd, ToolExecutionError> => {
  // ripgrep joins entry names to the (resolved) target: such a path is already what `path.resolve` gives.
  const below = query.target.endsWith("/") ? query.target : `${query.target}/`
  const absolute = (file: string) =>
    path.sep === "/" && file.startsWith(below) && isNormalized(file) ? file : path.resolve(cwd, file)
  const passes = (file: string) => query.targetIsFile || query.accept(file)
  const files: Array<string> = []
  const counts = new Map<string, number>()
  const lines = new Map<string, Array<RgLine>>()
  let collected = 0
  let onRecord: (raw: Buffer) => boolean
  let delimiter = 0x0a
  if (query.mode === "files_with_matches") {
    delimiter = 0
    onRecord = (raw) => {
      const file = absolute(raw.toString("utf8"))
      if (passes(file)) files.push(file)
      return files.length < bounds.maxFiles
    }
  } else if (query.mode === "count") {
    onRecord = (raw) => {
      const separator = raw.lastIndexOf(0)
      if (separator === -1) return true
      const file = absolute(raw.subarray(0, separator).toString("utf8"))
      if (passes(file)) counts.set(file, Number(raw.subarray(separator + 1).toString("utf8")))
      return true
    }
  } else {
    let lastRaw = ""
    let lastFile: string | undefined
    onRecord = (raw) => {
      const separator = raw.indexOf(0)
      if (separator === -1) return true // "--" between context groups
      const rawFile = raw.subarray(0, separator).toString("utf8")
      if (rawFile !== lastRaw) {
        lastRaw = rawFile
        const file = absolute(rawFile)
        lastFile = passes(file) ? file : undefined
      }
      if (lastFile === undefined) return true
      const rest = raw.subarray(separator + 1).toString("utf8")
      const mark = /^(\d+)([:-])/.exec(rest)
      if (mark === null) return true
      const [head = "", number = "0", kind = ":"] = mark
      let list = lines.get(lastFile)
      if (list === undefined) {
        list = []
        lines.set(lastFile, list)
      }
      list.push({ n: Number(number), text: rest.slice(head.length), isMatch: kind === ":" })
      return ++collected < bounds.maxLines
    }
  }
  return runRipgrep(rgPath, ripgrepArgs(query), cwd, env, delimiter, onRecord, killGrace).pipe(
    Effect.flatMap((run) => {
      if (run.stopped || run.exitCode === 0 || run.exitCode === 1) {
        // Hand the results over in path order (files_with_matches is sorted by modification time later).
        let wanted = true
        if (query.mode === "files_with_matches") for (const file of files) wanted &&= sink.file(file)
        else if (query.mode === "count") {
          for (const file of [...counts.keys()].sort(pathOrder)) {
            if (!wanted) break
            wanted = sink.count(file, counts.get(file) ?? 0)
          }
        } else {
          for (const file of [...lines.keys()].sort(pathOrder)) {
            for (const line of lines.get(file) ?? []) {
              if (!wanted) break
              wanted = sink.line(file, line.n, line.text, line.isMatch)
            }
          }
        }
        return Effect.succeed({ stopped: run.stopped })
      }
      // ripgrep's advice names its own flags (--multiline, --pcre2), which the model cannot pass.
      const detail = run.stderr.replace(/\n*Consider enabling[\s\S]*?(\n\n|$)/g, "\n").trim()
      return Effect.fail(
        new ToolExecutionError({
          tool: "Grep",
          message: /regex/i.test(detail)
            ? invalidPatternMessage(query, detail)
            : `ripgrep failed (${run.exitCode === null ? "killed" : `exit code ${run.exitCode}`}): ${detail || "no error output"}`
        })
      )
    })
  )
}

const invalidPatternMessage = (query: Query, detail: string): string => {
  const hint =
    !query.multiline && query.pattern.includes("\\n")
      ? " To match across lines, set multiline: true."
      : " Escape regex metacharacters such as ( [ { . * + ? | \\ with a backslash to match them literally."
  return `Invalid regex pattern ${JSON.stringify(query.pattern)}: ${detail}\n${hint.trim()}`
}

// ---------------------------------------------------------------------------------------------------------------
// Built-in search

const compile = (query: Query): RegExp => {
  if (!query.multiline && query.pattern.includes("\\n")) {
    throw new SyntaxError("the literal \\n is not allowed in a single-line search")
  }
  const flags = (query.multiline ? "gms" : "") + (query.ignoreCase ? "i" : "")
  try {
    return new RegExp(query.pattern, `${flags}u`)
  } catch {
    return new RegExp(query.pattern, flags)
  }
}

// The callback API: cheaper per call than `fs/promises` when many reads are in flight.
const openFile = (file: string): Promise<number> =>
  new Promise((resolve, reject) => fsc.open(file, "r", (error, fd) => (error ? reject(error) : resolve(fd))))

const fileSize = (fd: number): Promise<number> =>
  new Promise((resolve, reject) => fsc.fstat(fd, (error, stat) => (error ? reject(error) : resolve(stat.size))))

const readAt = (fd: number, buffer: Buffer, offset: number): Promise<number> =>
  new Promise((resolve, reject) =>
    fsc.read(fd, buffer, offset, buffer.length - offset, offset, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead)
    )
  )

const closeFile = (fd: number): Promise<void> => new Promise((resolve) => fsc.close(fd, () => resolve()))

const readWhole = (file: string): Promise<Buffer> =>
  new Promise((resolve, reject) => fsc.readFile(file, (error, data) => (error ? reject(error) : resolve(data))))

/**
 * The bytes of `file` when its size is at most `maxBytes`, else `undefined`: one open file for the size and
 * the content. A file that reports no size (`/proc`, devices) is read to its end.
 */
const readLimited = async (file: string, maxBytes: number): Promise<Buffer | undefined> => {
  const fd = await openFile(file)
  let size: number
  try {
    size = await fileSize(fd)
    if (size > maxBytes) return undefined
    if (size > 0) {
      const buffer = Buffer.allocUnsafe(size)
      let filled = 0
      while (filled < size) {
        const bytesRead = await readAt(fd, buffer, filled)
        if (bytesRead === 0) break
        filled += bytesRead
      }
      return filled === size ? buffer : buffer.subarray(0, filled)
    }
  } finally {
    await closeFile(fd)
  }
  return readWhole(file)
}

/** The searchable text of `file`: `undefined` when it is binary, unreadable or too large. Never rejects. */
const readSearchable = async (file: string, maxBytes: number): Promise<string | undefined> => {
  try {
    const buffer = await readLimited(file, maxBytes)
    if (buffer === undefined) return undefined
    const nul = buffer.indexOf(0)
    if (nul === -1) return buffer.toString("utf8")
    // Like ripgrep: a NUL in the first block makes the file binary; a later one ends the search at its block.
    const block = Math.floor(nul / BINARY_PROBE_BYTES) * BINARY_PROBE_BYTES
    return block === 0 ? undefined : buffer.subarray(0, block).toString("utf8")
  } catch {
    return undefined
  }
}

const splitLines = (text: string): Array<string> => {
  if (text === "") return []
  const lines = text.split("\n")
  if (text.endsWith("\n")) lines.pop()
  return lines
}

/** 1-based numbers of the lines that `regex` (global) matches in `text`, and the number of match groups. */
const multilineMatches = (regex: RegExp, text: string): { readonly lines: Array<number>; readonly count: number } => {
  const starts = [0]
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1)
  const lineOf = (offset: number): number => {
    let low = 0
    let high = starts.length - 1
    while (low < high) {
      const mid = (low + high + 1) >> 1
      if ((starts[mid] ?? 0) <= offset) low = mid
      else high = mid - 1
    }
    return low + 1
  }
  const lines = new Set<number>()
  let count = 0
  let lastEnd = 0
  regex.lastIndex = 0
  for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
    const start = match.index
    const end = start + match[0].length
    if (match[0].length === 0) regex.lastIndex++
    if (start >= text.length && match[0].length === 0 && text.endsWith("\n")) break
    const first = lineOf(start)
    const last = end > start ? lineOf(end - 1) : first
    // ripgrep counts a match that starts on a line of the previous match as part of it.
    if (first > lastEnd) count++
    lastEnd = Math.max(lastEnd, last)
    for (let n = first; n <= last; n++) lines.add(n)
  }
  return { lines: [...lines].sort((a, b) => a - b), count }
}

/** Send the matched lines (ascending) with their context to the sink. */
const emitWithContext = (
  sink: Sink,
  file: string,
  lines: ReadonlyArray<string>,
  matched: ReadonlyArray<number>,
  before: number,
  after: number
): boolean => {
  const isMatch = new Set(matched)
  let next = 1
  for (const m of matched) {
    if (m < next) continue
    for (let n = Math.max(next, m - before); n < m; n++)
      if (!sink.line(file, n, lines[n - 1] ?? "", false)) return false
    if (!sink.line(file, m, lines[m - 1] ?? "", true)) return false
    next = m + 1
    for (let n = next; n <= Math.min(lines.length, m + after) && !isMatch.has(n); n++) {
      if (!sink.line(file, n, lines[n - 1] ?? "", false)) return false
      next = n + 1
    }
  }
  return true
}

/** Search one file's text; `false` when the sink wants no more. */
const searchText = (query: Query, regex: RegExp, file: string, text: string, sink: Sink): boolean => {
  const lines = splitLines(text)
  if (query.multiline) {
    const found = multilineMatches(regex, text)
    if (found.count === 0) return true
    if (query.mode === "files_with_matches") return sink.file(file)
    if (query.mode === "count") return sink.count(file, found.count)
    return emitWithContext(sink, file, lines, found.lines, query.before, query.after)
  }
  if (query.mode === "files_with_matches") return lines.some((line) => regex.test(line)) ? sink.file(file) : true
  const matched: Array<number> = []
  lines.forEach((line, i) => {
    if (regex.test(line)) matched.push(i + 1)
  })
  if (matched.length === 0) return true
  if (query.mode === "count") return sink.count(file, matched.length)
  return emitWithContext(sink, file, lines, matched, query.before, query.after)
}

const builtinSearch = (
  query: Query,
  sink: Sink,
  maxFileBytes: number,
  concurrency: number
): Effect.Effect<SearchEnd, ToolExecutionError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const regex = yield* Effect.try({
      try: () => compile(query),
      catch: (error) =>
        new ToolExecutionError({
          tool: "Grep",
          message: invalidPatternMessage(query, error instanceof Error ? error.message : String(error))
        })
    })
    const files: Stream.Stream<string, never, FileSystem.FileSystem> = query.targetIsFile
      ? Stream.make(query.target)
      : walkFiles(query.target, { concurrency: Math.max(1, Math.ceil(concurrency / 2)) }).pipe(
          Stream.filter((file) => query.accept(file))
        )
    let stopped = false
    // Up to `concurrency` files are read ahead of the search; they are searched in walk order.
    yield* files.pipe(
      Stream.mapEffect(
        (file) =>
          Effect.map(
            Effect.promise(() => readSearchable(file, maxFileBytes)),
            (text) => ({ file, text })
          ),
        { concurrency }
      ),
      Stream.runForEachWhile(({ file, text }) =>
        Effect.sync(() => {
          stopped = text !== undefined && !searchText(query, regex, file, text, sink)
          return !stopped
        })
      )
    )
    return { stopped } satisfies SearchEnd
  })

// ---------------------------------------------------------------------------------------------------------------
// Output

/** Collects content lines in ripgrep's format: `file:n:text` for matches, `file-n-text` for context, `--` between groups. */
class ContentCollector {
  readonly lines: Array<string> = []
  truncated = false
  private lastFile: string | undefined
  private lastLine = 0
  /** The last file displayed, and how (consecutive lines mostly share their file). */
  private shownFile: string | undefined
  private shownAs = ""

  constructor(
    private readonly limit: number,
    private readonly separators: boolean,
    private readonly lineNumbers: boolean,
    private readonly display: (file: string) => string,
    private readonly maxLineLength: number
  ) {}

  add(file: string, n: number, rawText: string, isMatch: boolean): boolean {
    if (file === this.lastFile && n <= this.lastLine) return true
    const gap = this.lines.length > 0 && (file !== this.lastFile || n > this.lastLine + 1)
    const needed = gap && this.separators ? 2 : 1
    if (this.lines.length + needed > this.limit) {
      this.truncated = true
      return false
    }
    if (gap && this.separators) this.lines.push("--")
    this.lastFile = file
    this.lastLine = n
    const text = rawText.endsWith("\r") ? rawText.slice(0, -1) : rawText
    const shown =
      text.length > this.maxLineLength
        ? `${text.slice(0, this.maxLineLength)} [... ${text.length - this.maxLineLength} more characters]`
        : text
    const mark = isMatch ? ":" : "-"
    if (file !== this.shownFile) {
      this.shownFile = file
      this.shownAs = this.display(file)
    }
    this.lines.push(`${this.shownAs}${mark}${this.lineNumbers ? `${n}${mark}` : ""}${shown}`)
    return true
  }
}

/** `body` cut to `max` characters (saying so), followed by `notes`. */
const capOutput = (body: string, notes: ReadonlyArray<string>, max: number): string => {
  const cut =
    body.length <= max
      ? body
      : `${body.slice(0, max)}\n\n(Output cut at ${max} characters; use head_limit, a narrower path or a glob to see less at a time.)`
  return [cut, ...notes].join("\n")
}

/** Modification times of `files` (0 when a file cannot be stat'ed), read in batches between yields. */
const modificationTimes = (files: ReadonlyArray<string>): Effect.Effect<Array<number>> =>
  Effect.gen(function* () {
    const times: Array<number> = []
    for (let i = 0; i < files.length; i += 512) {
      // Synchronous stats are much cheaper than one promise per file; the batches keep the event loop responsive.
      for (const file of files.slice(i, i + 512))
        times.push(fsc.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0)
      if (i + 512 < files.length) yield* Effect.yieldNow
    }
    return times
  })

/**
 * The `Grep` tool, on the `Workspace`: read-only, runs in parallel with other calls. ripgrep is looked up once,
 * on the first call, unless `options.rgPath` says which to use.
 */
export const makeGrepTool = Effect.fn("makeGrepTool")(function* (options: GrepOptions = {}) {
  const workspace = yield* Workspace
  const fileSystem = yield* FileSystem.FileSystem
  const defaultHeadLimit = options.defaultHeadLimit ?? 250
  const maxLineLength = options.maxLineLength ?? 500
  const maxOutputChars = options.maxOutputChars ?? 40_000
  const maxFiles = options.maxFiles ?? 20_000
  const maxLines = options.maxLines ?? 100_000
  const maxFileBytes = options.maxFileBytes ?? 50 * 1024 * 1024
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 32))
  const timeout = Duration.fromInputUnsafe(options.timeout ?? Duration.seconds(60))
  const killGrace = Duration.fromInputUnsafe(options.killGrace ?? Duration.seconds(1))
  const fail = (message: string) => new ToolExecutionError({ tool: "Grep", message })

  const searchPath = yield* configuredSearchPath
  const ripgrep = yield* Effect.cached(
    Effect.gen(function* () {
      const rgPath = options.rgPath !== undefined ? options.rgPath : ((yield* findExecutable("rg", searchPath)) ?? null)
      const env: Record<string, string> = searchPath === "" ? {} : { PATH: searchPath }
      return { rgPath, env }
    })
  )

  const cwdSlash = workspace.cwd.endsWith("/") ? workspace.cwd : `${workspace.cwd}/`
  const display = (file: string): string => {
    // Files are normalized absolute paths: one below the working directory is its tail.
    if (path.sep === "/" && file.startsWith(cwdSlash) && file.length > cwdSlash.length) {
      return file.slice(cwdSlash.length)
    }
    const relative = path.relative(workspace.cwd, file)
    if (relative === "") return path.basename(file)
    return relative.startsWith("..") || path.isAbsolute(relative) ? file : toSlash(relative)
  }

  /**
   * A file filter that also leaves out the files the permission rules keep the model from reading (neither search
   * follows symlinks, so a file's path under the real search root is its real path).
   */
  const accepting =
    (filter: (file: string) => boolean, hidden: (file: string) => boolean) =>
    (file: string): boolean =>
      filter(file) && !hidden(file)

  const typeNames = Object.keys(GREP_FILE_TYPES).filter((name): name is GrepFileType => name in GREP_FILE_TYPES)
  const contextLines = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1000 }))

  return Tool.make({
    name: "Grep",
    description: [
      'Search file contents with a regular expression (ripgrep syntax), e.g. "log.*Error" or "function\\s+\\w+".',
      "Respects .gitignore (and .ignore/.rgignore) files, skips .git and binary files, searches hidden files.",
      'Filter files with glob (e.g. "*.ts", "*.{ts,tsx}", "src/**/*.py"; "!*.test.ts" excludes) or type (e.g. "ts", "py").',
      'output_mode "files_with_matches" (default) lists matching files, most recently modified first; "content" shows',
      'matching lines as path:line:text (use -A/-B/-C for context, -n for line numbers); "count" gives matching lines per file.',
      "Patterns match within one line unless multiline is true (then . also matches newlines).",
      `Results are limited to head_limit entries or lines (default ${defaultHeadLimit}). Paths are relative to the working directory.`
    ].join(" "),
    input: Schema.Struct({
      pattern: Schema.String.check(Schema.isMinLength(1)).annotate({
        description: "The regular expression to search for in file contents"
      }),
      path: Schema.optionalKey(
        Schema.String.annotate({ description: "File or directory to search in (default: the working directory)" })
      ),
      glob: Schema.optionalKey(
        Schema.String.check(Schema.isMinLength(1)).annotate({
          description:
            'Glob that file paths must match, e.g. "*.js", "*.{ts,tsx}" or "src/**/*.ts" (a leading ! excludes)'
        })
      ),
      type: Schema.optionalKey(
        Schema.Literals(typeNames).annotate({
          description: "File type to search (more efficient than glob for standard types)"
        })
      ),
      output_mode: Schema.optionalKey(
        Schema.Literals(["content", "files_with_matches", "count"]).annotate({
          description:
            'Output: "content" (matching lines), "files_with_matches" (file paths, the default) or "count" (matches per file)'
        })
      ),
      "-i": Schema.optionalKey(Schema.Boolean.annotate({ description: "Case-insensitive search" })),
      "-n": Schema.optionalKey(
        Schema.Boolean.annotate({ description: "Show line numbers (content mode; default true)" })
      ),
      "-A": Schema.optionalKey(contextLines.annotate({ description: "Lines to show after each match (content mode)" })),
      "-B": Schema.optionalKey(
        contextLines.annotate({ description: "Lines to show before each match (content mode)" })
      ),
      "-C": Schema.optionalKey(
        contextLines.annotate({ description: "Lines to show before and after each match (content mode)" })
      ),
      head_limit: Schema.optionalKey(
        Schema.Int.check(Schema.isGreaterThan(0)).annotate({
          description: `Return at most this many lines or entries (default ${defaultHeadLimit})`
        })
      ),
      multiline: Schema.optionalKey(
        Schema.Boolean.annotate({ description: "Let patterns span lines (. matches newlines too); default false" })
      )
    }),
    readOnly: true,
    timeout: Duration.sum(timeout, Duration.seconds(10)),
    execute: (input) =>
      Effect.gen(function* () {
        const target = yield* resolveInside(workspace, input.path ?? ".", "Grep")
        const access = workspace.readAccess(target)
        if (access === "denied") {
          return yield* fail(`${input.path ?? target} may not be read: a Read deny rule covers it.`)
        }
        const stat = yield* Effect.tryPromise({
          try: () => fs.stat(target),
          catch: () => fail(`Path does not exist: ${input.path ?? target}`)
        })
        const targetIsFile = !stat.isDirectory()
        if (targetIsFile) {
          const binary = yield* Effect.tryPromise({
            try: () => isBinaryFile(target),
            catch: (error) => fail(`Cannot read ${input.path ?? target}: ${String(error)}`)
          })
          if (binary) return `${display(target)} is a binary file; Grep does not search binary files.`
        }
        const mode: OutputMode = input.output_mode ?? "files_with_matches"
        const query: Query = {
          pattern: input.pattern,
          target,
          targetIsFile,
          mode,
          ignoreCase: input["-i"] ?? false,
          multiline: input.multiline ?? false,
          before: mode === "content" ? (input["-B"] ?? input["-C"] ?? 0) : 0,
          after: mode === "content" ? (input["-A"] ?? input["-C"] ?? 0) : 0,
          type: input.type,
          accept: accepting(fileFilter(target, input.glob, input.type), hiddenBy(access, workspace.readAccess))
        }
        const limit = input.head_limit ?? defaultHeadLimit

        const files: Array<string> = []
        const counts: Array<{ readonly file: string; readonly count: number }> = []
        const content = new ContentCollector(
          limit,
          query.before > 0 || query.after > 0,
          input["-n"] ?? true,
          display,
          maxLineLength
        )
        let countsTruncated = false
        const sink: Sink = {
          file: (file) => {
            files.push(file)
            return files.length < maxFiles
          },
          count: (file, count) => {
            if (counts.length >= limit) {
              countsTruncated = true
              return false
            }
            counts.push({ file, count })
            return true
          },
          line: (file, n, text, isMatch) => content.add(file, n, text, isMatch)
        }

        const { rgPath, env } = yield* ripgrep
        const end = yield* (
          rgPath === null
            ? builtinSearch(query, sink, maxFileBytes, concurrency).pipe(
                Effect.provideService(FileSystem.FileSystem, fileSystem)
              )
            : ripgrepSearch(rgPath, query, sink, workspace.cwd, env, killGrace, { maxFiles, maxLines })
        ).pipe(
          Effect.timeoutOrElse({
            duration: timeout,
            orElse: () =>
              Effect.fail(
                fail(
                  `The search timed out after ${Duration.format(timeout)} and was stopped; search a narrower path or use glob/type.`
                )
              )
          })
        )

        if (mode === "files_with_matches") {
          if (files.length === 0) return "No files found"
          const times = yield* modificationTimes(files)
          const dated = files.map((file, i) => ({ file, mtimeMs: times[i] ?? 0 }))
          dated.sort((a, b) => b.mtimeMs - a.mtimeMs || compareCodePoints(a.file, b.file))
          const shown = dated.slice(0, limit).map((f) => display(f.file))
          const notes: Array<string> = []
          if (dated.length > limit) {
            notes.push(
              `(Showing the ${limit} most recently modified of ${dated.length} files; narrow the search or raise head_limit.)`
            )
          }
          if (end.stopped) notes.push(`(The search stopped after ${maxFiles} files; results are incomplete.)`)
          const header = `Found ${dated.length} file${dated.length === 1 ? "" : "s"}`
          return capOutput([header, ...shown].join("\n"), notes, maxOutputChars)
        }
        if (mode === "count") {
          if (counts.length === 0) return "No matches found"
          const total = counts.reduce((sum, c) => sum + c.count, 0)
          const lines = counts.map((c) => `${display(c.file)}:${c.count}`)
          const summary = `Found ${total} matching line${total === 1 ? "" : "s"} in ${counts.length} file${counts.length === 1 ? "" : "s"}.`
          const notes = countsTruncated
            ? [`(Showing the first ${limit} files; there are more. Narrow the search or raise head_limit.)`]
            : []
          return capOutput([...lines, "", summary].join("\n"), notes, maxOutputChars)
        }
        if (content.lines.length === 0) return "No matches found"
        const notes = content.truncated
          ? ["", `(Output limited to ${limit} lines; there are more matches. Narrow the search or raise head_limit.)`]
          : []
        if (end.stopped && !content.truncated) {
          notes.push("", `(The search stopped after ${maxLines} lines; results are incomplete.)`)
        }
        return capOutput(content.lines.join("\n"), notes, maxOutputChars)
      })
  })
})

/** The `Grep` tool with the default options. */
export const GrepTool = makeGrepTool()
