/**
 * Ignore files as ripgrep reads them (`.gitignore`, `.ignore`, `.rgignore`, gitignore syntax) and a sorted,
 * ignore-aware walk of a directory tree. Used by the built-in `Grep` fallback so that it finds exactly the files
 * `rg` would search; other file tools can use it too.
 */
import * as fsc from "node:fs"
import type { Dirent } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { globToRegExp } from "./GlobPattern.js"

/** One line of an ignore file. */
export interface IgnoreRule {
  /** The line as written (without trailing blanks). */
  readonly source: string
  /** `!pattern`: re-includes what an earlier rule ignored. */
  readonly negated: boolean
  /** `pattern/`: matches directories only. */
  readonly directoryOnly: boolean
  /** Matched against the `/`-separated path relative to the directory holding the ignore file. */
  readonly regex: RegExp
}

/** Escape `{` so that the glob compiler treats braces literally (gitignore has no brace alternatives). */
const literalBraces = (pattern: string): string => {
  let out = ""
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === "\\" && i + 1 < pattern.length) {
      out += c + pattern[i + 1]!
      i++
    } else out += c === "{" ? "\\{" : c
  }
  return out
}

/** Trailing spaces are dropped unless escaped with a backslash. */
const trimTrailing = (line: string): string => {
  let end = line.length
  while (end > 0 && (line[end - 1] === " " || line[end - 1] === "\t")) {
    let backslashes = 0
    for (let i = end - 2; i >= 0 && line[i] === "\\"; i--) backslashes++
    if (backslashes % 2 === 1) break
    end--
  }
  return line.slice(0, end)
}

/** Parse one line of an ignore file (`undefined` for blank lines and comments). */
export const parseIgnoreLine = (raw: string): IgnoreRule | undefined => {
  const source = trimTrailing(raw.endsWith("\r") ? raw.slice(0, -1) : raw)
  if (source === "" || source.startsWith("#")) return undefined
  let pattern = source
  const negated = pattern.startsWith("!")
  if (negated) pattern = pattern.slice(1)
  else if (pattern.startsWith("\\!") || pattern.startsWith("\\#")) pattern = pattern.slice(1)
  const directoryOnly = pattern.endsWith("/") && !pattern.endsWith("\\/")
  if (directoryOnly) pattern = pattern.replace(/\/+$/, "")
  if (pattern === "") return undefined
  // A slash at the start or in the middle anchors the pattern to the ignore file's directory.
  const anchored = pattern.includes("/")
  if (pattern.startsWith("/")) pattern = pattern.slice(1)
  if (!anchored && !pattern.startsWith("**/")) pattern = `**/${pattern}`
  return { source, negated, directoryOnly, regex: globToRegExp(literalBraces(pattern)) }
}

/** The rules of an ignore file's content, in order. */
export const parseIgnoreFile = (content: string): ReadonlyArray<IgnoreRule> =>
  content.split("\n").flatMap((line) => {
    const rule = parseIgnoreLine(line)
    return rule === undefined ? [] : [rule]
  })

/**
 * The decision of one rule list for `relativePath` (`/`-separated, relative to the list's directory): the last
 * matching rule wins; `undefined` when none matches.
 */
export const matchIgnoreRules = (
  rules: ReadonlyArray<IgnoreRule>,
  relativePath: string,
  isDirectory: boolean
): "ignore" | "include" | undefined => {
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i]!
    if (rule.directoryOnly && !isDirectory) continue
    if (rule.regex.test(relativePath)) return rule.negated ? "include" : "ignore"
  }
  return undefined
}

/** Ignore files in precedence order (ripgrep's): `.rgignore` beats `.ignore` beats `.gitignore`, at any depth. */
export const IGNORE_FILE_NAMES = [".rgignore", ".ignore", ".gitignore"] as const

/** The ignore files of one directory. */
export interface IgnoreLevel {
  readonly directory: string
  /** Rules per file, in `IGNORE_FILE_NAMES` order (empty when the file is absent). */
  readonly rules: ReadonlyArray<ReadonlyArray<IgnoreRule>>
  /** The directory holds `.git`: `.gitignore` files above it do not apply below it. */
  readonly hasGit: boolean
}

const readRules = async (file: string): Promise<ReadonlyArray<IgnoreRule>> => {
  try {
    return parseIgnoreFile(await fs.readFile(file, "utf8"))
  } catch {
    return []
  }
}

const exists = (file: string): Promise<boolean> =>
  fs.lstat(file).then(
    () => true,
    () => false
  )

/** Read the ignore files of `directory`. */
export const readIgnoreLevel = async (directory: string): Promise<IgnoreLevel> => ({
  directory,
  rules: await Promise.all(IGNORE_FILE_NAMES.map((name) => readRules(path.join(directory, name)))),
  hasGit: await exists(path.join(directory, ".git"))
})

const toSlash = (p: string): string => (path.sep === "/" ? p : p.split(path.sep).join("/"))

const POSIX = path.sep === "/"

/** An absolute POSIX path in normal form (no empty, `.` or `..` segment, no trailing slash but for `/`). */
const isNormalAbsolute = (p: string): boolean => {
  if (p.charCodeAt(0) !== 47 /* / */) return false
  if (p.length === 1) return true
  if (p.charCodeAt(p.length - 1) === 47) return false
  return !p.includes("//") && !p.includes("/./") && !p.includes("/../") && !p.endsWith("/.") && !p.endsWith("/..")
}

/**
 * `toSlash(path.relative(directory, target))`; for normal absolute paths with `target` strictly inside
 * `directory` (every path of a walk) it is the tail of `target`, without resolving either path.
 */
const relativeSlash = (directory: string, target: string): string => {
  if (POSIX && isNormalAbsolute(target) && isNormalAbsolute(directory)) {
    if (directory.length === 1) {
      if (target.length > 1) return target.slice(1)
    } else if (
      target.length > directory.length &&
      target.charCodeAt(directory.length) === 47 &&
      target.startsWith(directory)
    ) {
      return target.slice(directory.length + 1)
    }
  }
  return toSlash(path.relative(directory, target))
}

/**
 * The ignore files that apply in one directory: its own and its ancestors', shallowest first. A path is ignored
 * as ripgrep decides it: for each kind of file (in precedence order) the deepest file with a matching rule
 * decides; `.gitignore` files above the nearest directory holding `.git` are not read.
 */
export class IgnoreStack {
  private constructor(readonly levels: ReadonlyArray<IgnoreLevel>) {}

  /** The stack for `directory` (absolute): the ignore files of it and of every ancestor up to the filesystem root. */
  static async forDirectory(directory: string): Promise<IgnoreStack> {
    const chain: Array<string> = []
    let current = path.resolve(directory)
    for (;;) {
      chain.unshift(current)
      const parent = path.dirname(current)
      if (parent === current) break
      current = parent
    }
    return new IgnoreStack(await Promise.all(chain.map(readIgnoreLevel)))
  }

  /** A stack built from given levels (shallowest first). */
  static of(levels: ReadonlyArray<IgnoreLevel>): IgnoreStack {
    return new IgnoreStack(levels)
  }

  /** The stack for a subdirectory: this one plus the subdirectory's own ignore files. */
  async child(directory: string): Promise<IgnoreStack> {
    const level = await readIgnoreLevel(directory)
    return level.hasGit || level.rules.some((rules) => rules.length > 0)
      ? new IgnoreStack([...this.levels, level])
      : this
  }

  /** Whether `absolutePath` (a file or directory lying under the deepest level) is ignored. */
  isIgnored(absolutePath: string, isDirectory: boolean): boolean {
    for (let kind = 0; kind < IGNORE_FILE_NAMES.length; kind++) {
      const git = IGNORE_FILE_NAMES[kind] === ".gitignore"
      for (let i = this.levels.length - 1; i >= 0; i--) {
        const level = this.levels[i]!
        const rules = level.rules[kind]!
        if (rules.length > 0) {
          const decision = matchIgnoreRules(rules, relativeSlash(level.directory, absolutePath), isDirectory)
          if (decision !== undefined) return decision === "ignore"
        }
        if (git && level.hasGit) break
      }
    }
    return false
  }
}

export interface WalkOptions {
  /** Names of files and directories never visited. Default `.git`. */
  readonly skipNames?: ReadonlySet<string>
  readonly signal?: AbortSignal
  /**
   * Directory and ignore-file reads in flight at once, and subdirectories of one directory listed ahead of the
   * walk. Default 16. The order of the files is the same whatever the value.
   */
  readonly concurrency?: number
}

/**
 * Orders strings by Unicode code point, which is the byte order of their UTF-8 encodings (ripgrep's order),
 * without encoding them: UTF-16 code units compare the same way except that surrogates (code points above
 * U+FFFF) must sort after U+E000..U+FFFF.
 */
export const compareCodePoints = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x === y) continue
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000
    }
    return x - y
  }
  return a.length - b.length
}

const byName = (a: Dirent, b: Dirent): number => compareCodePoints(a.name, b.name)

/** Runs at most `max` jobs at once; the others wait in FIFO order. */
export const limiter = (max: number) => {
  let active = 0
  const waiting: Array<() => void> = []
  return async <A>(job: () => Promise<A>): Promise<A> => {
    if (active < max) active++
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await job()
    } finally {
      const next = waiting.shift()
      if (next === undefined) active--
      else next() // the slot passes to the next job
    }
  }
}

// The callback API: cheaper per call than `fs/promises` when many reads are in flight.
const readDirectory = (directory: string): Promise<Array<Dirent>> =>
  new Promise((resolve, reject) =>
    fsc.readdir(directory, { withFileTypes: true }, (error, entries) => (error ? reject(error) : resolve(entries)))
  )

const readText = (file: string): Promise<string> =>
  new Promise((resolve, reject) => fsc.readFile(file, "utf8", (error, text) => (error ? reject(error) : resolve(text))))

const GIT = ".git"

interface Listing {
  readonly directory: string
  /** Sorted by name. */
  readonly entries: ReadonlyArray<Dirent>
  /** The ignore files that apply inside the directory (its own included). */
  readonly stack: IgnoreStack
}

interface PendingDirectory {
  readonly full: string
  listing?: Promise<Listing | undefined>
}

/**
 * The regular files under `root` (absolute paths) that the ignore files do not exclude, depth-first with the
 * entries of each directory sorted by name (ripgrep's `--sort path` order). Symbolic links are not followed
 * (nor listed); unreadable directories are skipped. Hidden files are included. Directories are listed a bounded
 * number at a time ahead of the files handed out; a directory's ignore files are read only when its listing
 * holds them.
 */
export async function* walkFiles(root: string, options: WalkOptions = {}): AsyncGenerator<string> {
  const skip = options.skipNames ?? new Set([GIT])
  const signal = options.signal
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 16))
  const io = limiter(concurrency)
  const start = path.resolve(root)

  /** The ignore files of `directory` that its listing holds, as rules (an unreadable or invalid file is empty). */
  const readRulesOf = (directory: string, names: ReadonlySet<string>, name: string) =>
    names.has(name)
      ? io(() => readText(path.join(directory, name))).then(
          (text) => {
            try {
              return parseIgnoreFile(text)
            } catch {
              return []
            }
          },
          () => []
        )
      : []

  /** Lists a directory (never rejects: `undefined` when it cannot be read or the walk was aborted). */
  const list = async (directory: string, parent: IgnoreStack, own: boolean): Promise<Listing | undefined> => {
    if (signal?.aborted) return undefined
    let entries: Array<Dirent>
    try {
      entries = await io(() => readDirectory(directory))
    } catch {
      return undefined
    }
    let stack = parent
    if (!own) {
      const names = new Set<string>()
      for (const entry of entries) {
        if (entry.name === GIT || (IGNORE_FILE_NAMES as ReadonlyArray<string>).includes(entry.name)) {
          names.add(entry.name)
        }
      }
      if (names.size > 0) {
        const rules = await Promise.all(IGNORE_FILE_NAMES.map((name) => readRulesOf(directory, names, name)))
        const level: IgnoreLevel = { directory, rules, hasGit: names.has(GIT) }
        if (level.hasGit || rules.some((r) => r.length > 0)) stack = IgnoreStack.of([...parent.levels, level])
      }
    }
    entries.sort(byName)
    return { directory, entries, stack }
  }

  const visit = async function* (pending: Promise<Listing | undefined>): AsyncGenerator<string> {
    if (signal?.aborted) throw signal.reason
    const listing = await pending
    if (signal?.aborted) throw signal.reason
    if (listing === undefined) return
    const { directory, entries, stack } = listing
    const items: Array<string | PendingDirectory> = []
    const directories: Array<PendingDirectory> = []
    for (const entry of entries) {
      if (skip.has(entry.name)) continue
      const full = path.join(directory, entry.name)
      if (entry.isDirectory()) {
        if (!stack.isIgnored(full, true)) {
          const subdirectory: PendingDirectory = { full }
          directories.push(subdirectory)
          items.push(subdirectory)
        }
      } else if (entry.isFile() && !stack.isIgnored(full, false)) {
        items.push(full)
      }
    }
    let started = 0
    const startUpTo = (count: number) => {
      for (const end = Math.min(count, directories.length); started < end; started++) {
        const subdirectory = directories[started]!
        subdirectory.listing = list(subdirectory.full, stack, false)
      }
    }
    startUpTo(concurrency)
    let reached = 0
    for (const item of items) {
      if (typeof item === "string") {
        yield item
        continue
      }
      reached++
      startUpTo(reached + concurrency)
      yield* visit(item.listing ?? list(item.full, stack, false))
    }
  }

  yield* visit(list(start, await IgnoreStack.forDirectory(start), true))
}
