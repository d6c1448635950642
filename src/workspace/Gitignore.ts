/**
 * Ignore files as ripgrep reads them (`.gitignore`, `.ignore`, `.rgignore`, gitignore syntax, matched with the
 * `ignore` package) and a sorted, ignore-aware walk of a directory tree on effect's `FileSystem`. Used by `Grep`'s
 * built-in search and by `Glob` so that they see exactly the files `rg` would.
 */
import * as nodeFs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import ignore, { type Ignore } from "ignore"

/** One line of an ignore file. */
export interface IgnoreRule {
  /** The line as written (without trailing blanks). */
  readonly source: string
  /** `!pattern`: re-includes what an earlier rule ignored. */
  readonly negated: boolean
  /** `pattern/`: matches directories only. */
  readonly directoryOnly: boolean
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

/** Parse one line of an ignore file (`undefined` for blank lines, comments and lines without a pattern). */
export const parseIgnoreLine = (raw: string): IgnoreRule | undefined => {
  const source = trimTrailing(raw.endsWith("\r") ? raw.slice(0, -1) : raw)
  if (source === "" || source.startsWith("#")) return undefined
  let pattern = source
  const negated = pattern.startsWith("!")
  if (negated) pattern = pattern.slice(1)
  const directoryOnly = pattern.endsWith("/") && !pattern.endsWith("\\/")
  if (directoryOnly) pattern = pattern.replace(/\/+$/, "")
  if (pattern.replace(/^\//, "") === "") return undefined
  return { source, negated, directoryOnly }
}

/** The rules of an ignore file's content, in order, with their compiled matcher. */
export interface IgnoreRules extends ReadonlyArray<IgnoreRule> {
  readonly matcher: Ignore
  /**
   * Every rule has no `/` but a trailing one (git's `EXC_FLAG_NODIR`): each matches a path by its last component
   * alone, so the rules give a path the verdict they give its name (unless a parent directory is excluded).
   */
  readonly basenameOnly: boolean
}

/** Whether a rule has no `/` in it but a trailing one (what `ignore` and git match against the last component). */
const matchesBasename = (rule: IgnoreRule): boolean => {
  const body = rule.negated ? rule.source.slice(1) : rule.source
  const slash = body.indexOf("/")
  return slash === -1 || slash === body.length - 1
}

/** Parse an ignore file's content. */
export const parseIgnoreFile = (content: string): IgnoreRules => {
  const rules = content.split("\n").flatMap((line) => {
    const rule = parseIgnoreLine(line)
    return rule === undefined ? [] : [rule]
  })
  const matcher = ignore({ allowRelativePaths: true }).add(rules.map((rule) => rule.source))
  return Object.assign(rules, { matcher, basenameOnly: rules.every(matchesBasename) })
}

const EMPTY: IgnoreRules = parseIgnoreFile("")

/**
 * The decision of one ignore file for `relativePath` (`/`-separated, relative to the file's directory): the last
 * matching rule wins; `undefined` when none matches.
 */
export const matchIgnoreRules = (
  rules: IgnoreRules,
  relativePath: string,
  isDirectory: boolean
): "ignore" | "include" | undefined => {
  if (rules.length === 0 || relativePath === "") return undefined
  const result = rules.matcher.test(isDirectory ? `${relativePath}/` : relativePath)
  return result.ignored ? "ignore" : result.unignored ? "include" : undefined
}

/** Ignore files in precedence order (ripgrep's): `.rgignore` beats `.ignore` beats `.gitignore`, at any depth. */
export const IGNORE_FILE_NAMES = [".rgignore", ".ignore", ".gitignore"] as const

const GIT = ".git"

/** The ignore files of one directory. */
export interface IgnoreLevel {
  readonly directory: string
  /** Rules per file, in `IGNORE_FILE_NAMES` order (empty when the file is absent). */
  readonly rules: ReadonlyArray<IgnoreRules>
  /** The directory holds `.git`: `.gitignore` files above it do not apply below it. */
  readonly hasGit: boolean
}

/** An ignore file's rules (empty when it is missing or unreadable). */
const readRules = (fs: FileSystem.FileSystem, file: string): Effect.Effect<IgnoreRules> =>
  fs.readFileString(file).pipe(
    Effect.map(parseIgnoreFile),
    Effect.orElseSucceed(() => EMPTY)
  )

/**
 * Read the ignore files of `directory`; with `names` (the names its listing holds), only those that exist.
 */
export const readIgnoreLevel = (
  directory: string,
  names?: ReadonlySet<string>
): Effect.Effect<IgnoreLevel, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const rules = yield* Effect.forEach(
      IGNORE_FILE_NAMES,
      (name) =>
        names === undefined || names.has(name) ? readRules(fs, path.join(directory, name)) : Effect.succeed(EMPTY),
      { concurrency: IGNORE_FILE_NAMES.length }
    )
    const hasGit =
      names === undefined
        ? yield* fs.exists(path.join(directory, GIT)).pipe(Effect.orElseSucceed(() => false))
        : names.has(GIT)
    return { directory, rules, hasGit }
  })

/**
 * Which of the ignore files and `.git` exist in `directory` (`.git` as `FileSystem.exists` finds it, following a
 * link), from a synchronous stat each: most directories above a walk hold none of them, and a read or an
 * `exists` that misses costs an error object each, several times a stat that says nothing is there.
 */
const presentEntryNames = (directory: string): ReadonlySet<string> => {
  const found = new Set<string>()
  for (const name of [...IGNORE_FILE_NAMES, GIT]) {
    try {
      const file = path.join(directory, name)
      const stats =
        name === GIT
          ? nodeFs.statSync(file, { throwIfNoEntry: false })
          : nodeFs.lstatSync(file, { throwIfNoEntry: false })
      if (stats !== undefined) found.add(name)
    } catch {
      // not reachable: as if absent
    }
  }
  return found
}

const toSlash = (p: string): string => (path.sep === "/" ? p : p.split(path.sep).join("/"))

/**
 * `toSlash(path.relative(directory, target))`; for `target` strictly inside `directory` (every path of a walk) it
 * is the tail of `target`, without resolving either path.
 */
const relativeSlash = (directory: string, target: string): string => {
  if (path.sep === "/") {
    if (directory === "/") {
      if (target.length > 1 && target.startsWith("/")) return target.slice(1)
    } else if (
      target.length > directory.length &&
      target.charCodeAt(directory.length) === 47 &&
      target.startsWith(directory) &&
      !directory.endsWith("/")
    ) {
      return target.slice(directory.length + 1)
    }
  }
  return toSlash(path.relative(directory, target))
}

/** Whether a rule matches by name at any depth (no `/` inside it), so its verdict does not depend on the base. */
const unanchored = (rule: IgnoreRule): boolean => !rule.source.replace(/^!/, "").replace(/\/+$/, "").includes("/")

/**
 * A level above the walk's `root` that excludes `root` itself (or a directory on the way to it). ripgrep searches
 * an explicitly named directory even so; `ignore` would exclude everything below it (a parent's exclusion is
 * final in gitignore). Such a level keeps only its name rules (`*.log`, `build/`), rebased on `root`, where they
 * give the same verdicts.
 */
const rebaseIfExcluding = (level: IgnoreLevel, root: string): IgnoreLevel => {
  if (level.directory === root) return level
  const relative = relativeSlash(level.directory, root)
  const prefixes = relative.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"))
  const excludes = level.rules.some((rules) =>
    prefixes.some((prefix) => matchIgnoreRules(rules, prefix, true) === "ignore")
  )
  if (!excludes) return level
  return {
    directory: root,
    hasGit: level.hasGit,
    rules: level.rules.map((rules) =>
      parseIgnoreFile(
        rules
          .filter(unanchored)
          .map((rule) => rule.source)
          .join("\n")
      )
    )
  }
}

/**
 * The ignore files that apply in one directory: its own and its ancestors', shallowest first. A path is ignored
 * as ripgrep decides it: for each kind of file (in precedence order) the deepest file with a matching rule
 * decides; `.gitignore` files above the nearest directory holding `.git` are not read.
 */
export class IgnoreStack {
  private constructor(readonly levels: ReadonlyArray<IgnoreLevel>) {}

  /** The stack for `directory`: the ignore files of it and of every ancestor up to the filesystem root. */
  static forDirectory(directory: string): Effect.Effect<IgnoreStack, never, FileSystem.FileSystem> {
    const chain: Array<string> = []
    let current = path.resolve(directory)
    for (;;) {
      chain.unshift(current)
      const parent = path.dirname(current)
      if (parent === current) break
      current = parent
    }
    const root = chain[chain.length - 1] ?? directory
    return Effect.map(
      Effect.forEach(chain, (dir) => Effect.suspend(() => readIgnoreLevel(dir, presentEntryNames(dir))), {
        concurrency: 8
      }),
      (levels) => new IgnoreStack(levels.map((level) => rebaseIfExcluding(level, root)))
    )
  }

  /** A stack built from given levels (shallowest first). */
  static of(levels: ReadonlyArray<IgnoreLevel>): IgnoreStack {
    return new IgnoreStack(levels)
  }

  /** This stack plus `level`, when the level holds a rule or `.git` (else this stack). */
  with(level: IgnoreLevel): IgnoreStack {
    return level.hasGit || level.rules.some((rules) => rules.length > 0)
      ? new IgnoreStack([...this.levels, level])
      : this
  }

  /**
   * `isIgnored` for the entries of `directory` (a directory at or under the deepest level that this stack does not
   * ignore), given by name: what does not depend on the name (each level's path to `directory`, and whether the
   * level excludes `directory` itself, after which it excludes everything inside) is worked out once. A level
   * whose rules are all `basenameOnly` is asked about the name alone, which `ignore` caches across directories.
   */
  entries(directory: string): (name: string, isDirectory: boolean) => boolean {
    interface Check {
      readonly rules: IgnoreRules
      /** `directory` relative to the level's, `/`-terminated (`""` for the level's own directory). */
      readonly prefix: string
      /** The rules exclude `directory` (or a directory above it, below the level). */
      readonly excluded: boolean
      /** The level holds `.git`: for `.gitignore`, levels above it do not apply. */
      readonly stop: boolean
    }
    const kinds: Array<ReadonlyArray<Check>> = IGNORE_FILE_NAMES.map((name, kind) => {
      const git = name === ".gitignore"
      const checks: Array<Check> = []
      for (let i = this.levels.length - 1; i >= 0; i--) {
        const level = this.levels[i]
        if (level === undefined) continue
        const rules = level.rules[kind]
        const stop = git && level.hasGit
        if (rules !== undefined && rules.length > 0) {
          const relative = level.directory === directory ? "" : relativeSlash(level.directory, directory)
          const excluded = relative !== "" && matchIgnoreRules(rules, relative, true) === "ignore"
          checks.push({ rules, prefix: relative === "" ? "" : `${relative}/`, excluded, stop })
        } else if (stop) {
          checks.push({ rules: EMPTY, prefix: "", excluded: false, stop })
        }
        if (stop) break
      }
      return checks
    })
    return (name, isDirectory) => {
      for (const checks of kinds) {
        for (const check of checks) {
          if (check.rules.length > 0) {
            if (check.excluded) return true
            const decision = matchIgnoreRules(
              check.rules,
              check.rules.basenameOnly ? name : check.prefix + name,
              isDirectory
            )
            if (decision !== undefined) return decision === "ignore"
          }
          if (check.stop) break
        }
      }
      return false
    }
  }

  /** Whether `absolutePath` (a file or directory lying under the deepest level) is ignored. */
  isIgnored(absolutePath: string, isDirectory: boolean): boolean {
    for (let kind = 0; kind < IGNORE_FILE_NAMES.length; kind++) {
      const git = IGNORE_FILE_NAMES[kind] === ".gitignore"
      for (let i = this.levels.length - 1; i >= 0; i--) {
        const level = this.levels[i]
        if (level === undefined) continue
        const rules = level.rules[kind]
        if (rules !== undefined && rules.length > 0) {
          const decision = matchIgnoreRules(rules, relativeSlash(level.directory, absolutePath), isDirectory)
          if (decision !== undefined) return decision === "ignore"
        }
        if (git && level.hasGit) break
      }
    }
    return false
  }
}

/** Whether a directory listing holds an ignore file or `.git` (only then is there a level to read). */
export const ignoreEntryNames = (names: Iterable<string>): ReadonlySet<string> => {
  const found = new Set<string>()
  for (const name of names) {
    // Every one of them starts with a dot: most names are settled by their first character.
    if (name.charCodeAt(0) !== 46) continue
    if (name === GIT || (IGNORE_FILE_NAMES as ReadonlyArray<string>).includes(name)) found.add(name)
  }
  return found
}

export interface WalkOptions {
  /** Names of files and directories never visited. Default `.git`. */
  readonly skipNames?: ReadonlySet<string>
  /**
   * Directory and ignore-file reads in flight at once (an Effect semaphore), and subdirectories of one directory
   * listed ahead of the walk. Default 16. The order of the files is the same whatever the value.
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

/**
 * `path.join(directory, name)` for a normalized `directory` (resolved, or built by this from one) and an entry
 * name, without normalizing again (a walk joins every entry).
 */
export const childPath = (directory: string, name: string): string =>
  directory.endsWith(path.sep) ? directory + name : directory + path.sep + name

interface Listing {
  readonly directory: string
  /** Sorted by name. */
  readonly entries: ReadonlyArray<FileSystem.DirectoryEntry>
  /** The ignore files that apply inside the directory (its own included). */
  readonly stack: IgnoreStack
}

/**
 * The regular files under `root` (absolute paths) that the ignore files do not exclude, depth-first with the
 * entries of each directory sorted by name (ripgrep's `--sort path` order). Symbolic links are not followed (nor
 * listed); unreadable directories are skipped. Hidden files are included. File-system reads go through one
 * semaphore (`concurrency` permits), and each directory lists at most `concurrency` subdirectories ahead of the
 * files handed out; a directory's ignore files are read only when its listing holds them. Interrupting the
 * stream's consumer stops the walk.
 */
export const walkFiles = (
  root: string,
  options: WalkOptions = {}
): Stream.Stream<string, never, FileSystem.FileSystem> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const skip = options.skipNames ?? new Set([GIT])
      const concurrency = Math.max(1, Math.floor(options.concurrency ?? 16))
      const io = (yield* Semaphore.make(concurrency)).withPermits(1)
      const provide = Effect.provideService(FileSystem.FileSystem, fs)
      const start = path.resolve(root)

      /** Lists a directory (`undefined` when it cannot be read). */
      const list = (directory: string, parent: IgnoreStack, own: boolean): Effect.Effect<Listing | undefined> =>
        Effect.gen(function* () {
          const read = yield* io(fs.readDirectoryEntries(directory)).pipe(Effect.option)
          if (read._tag === "None") return undefined
          let stack = parent
          if (!own) {
            const names = ignoreEntryNames(read.value.map((entry) => entry.name))
            if (names.size > 0) stack = parent.with(yield* io(provide(readIgnoreLevel(directory, names))))
          }
          const entries = [...read.value].sort((a, b) => compareCodePoints(a.name, b.name))
          return { directory, entries, stack }
        })

      const visit = (listing: Listing | undefined): Stream.Stream<string> => {
        if (listing === undefined) return Stream.empty
        const { directory, entries, stack } = listing
        // Runs of files as one segment, each subdirectory as its own.
        const segments: Array<ReadonlyArray<string> | string> = []
        let files: Array<string> = []
        const isIgnored = stack.entries(directory)
        for (const entry of entries) {
          if (skip.has(entry.name)) continue
          if (entry.type === "Directory") {
            if (!isIgnored(entry.name, true)) {
              if (files.length > 0) segments.push(files)
              files = []
              segments.push(childPath(directory, entry.name))
            }
          } else if (entry.type === "File" && !isIgnored(entry.name, false)) {
            files.push(childPath(directory, entry.name))
          }
        }
        if (files.length > 0) segments.push(files)
        return Stream.fromIterable(segments).pipe(
          Stream.mapEffect(
            (segment) =>
              typeof segment === "string"
                ? Effect.map(list(segment, stack, false), visit)
                : Effect.succeed(Stream.fromIterable(segment)),
            { concurrency }
          ),
          Stream.flatten()
        )
      }

      const stack = yield* provide(IgnoreStack.forDirectory(start))
      return Stream.unwrap(Effect.map(list(start, stack, true), visit))
    })
  )
