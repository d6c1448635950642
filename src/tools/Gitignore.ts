/**
 * Ignore files as ripgrep reads them (`.gitignore`, `.ignore`, `.rgignore`, gitignore syntax) and a sorted,
 * ignore-aware walk of a directory tree. Used by the built-in `Grep` fallback so that it finds exactly the files
 * `rg` would search; other file tools can use it too.
 */
import type { Dirent } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { globToRegExp } from "./Glob.js"

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
          const decision = matchIgnoreRules(rules, toSlash(path.relative(level.directory, absolutePath)), isDirectory)
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
}

const byName = (a: Dirent, b: Dirent): number => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name))

/**
 * The regular files under `root` (absolute paths) that the ignore files do not exclude, depth-first with the
 * entries of each directory sorted by name (ripgrep's `--sort path` order). Symbolic links are not followed
 * (nor listed); unreadable directories are skipped. Hidden files are included.
 */
export async function* walkFiles(root: string, options: WalkOptions = {}): AsyncGenerator<string> {
  const skip = options.skipNames ?? new Set([".git"])
  const start = path.resolve(root)
  const visit = async function* (directory: string, stack: IgnoreStack): AsyncGenerator<string> {
    if (options.signal?.aborted) throw options.signal.reason
    let entries: Array<Dirent>
    try {
      entries = await fs.readdir(directory, { withFileTypes: true })
    } catch {
      return
    }
    entries.sort(byName)
    for (const entry of entries) {
      if (skip.has(entry.name)) continue
      const full = path.join(directory, entry.name)
      if (entry.isDirectory()) {
        if (!stack.isIgnored(full, true)) yield* visit(full, await stack.child(full))
      } else if (entry.isFile() && !stack.isIgnored(full, false)) {
        yield full
      }
    }
  }
  yield* visit(start, await IgnoreStack.forDirectory(start))
}
