/**
 * What common programs do with their arguments, for permission checks: which files they read and write, which
 * options run code or change their target, and whether a call is read-only. Read-only is an allowlist: a program
 * is read-only only with options listed here (an unlisted option makes it an ordinary command that needs a rule);
 * options that run code, write files or point the program elsewhere are reported whatever the rules say. Pure.
 */
import { posix } from "node:path"
import type { Word } from "./ShellCommand.js"

/** A file a command writes (creates, changes, removes); `recursive` when a whole tree under it may change. */
export interface WriteTarget {
  readonly path: Word
  readonly recursive: boolean
}

/** What one program call does, beyond running. */
export interface ProgramFacts {
  /** The program has a spec here (an unknown program is checked more conservatively against deny rules). */
  readonly known: boolean
  /** Cannot change anything and cannot run other code, given its file operands are readable. */
  readonly readOnly: boolean
  /** File operands it reads. */
  readonly reads: ReadonlyArray<Word>
  /** Those of `reads` whose whole tree it reads (`grep -r x dir`, `rg x dir`). */
  readonly recursiveReads: ReadonlyArray<Word>
  /** Files it writes through its arguments (`tee f`, `cp a f`, `sed -i f`, `git log --output=f`). */
  readonly writes: ReadonlyArray<WriteTarget>
  /** Directories it changes into before doing its work (`git -C dir`, `env -C dir`). */
  readonly chdir: ReadonlyArray<Word>
  /** Why it cannot be checked exactly (asks unless the whole shell is allowed). */
  readonly unknown: ReadonlyArray<string>
  /** Why it must be asked about in every mode (writes the checker cannot resolve). */
  readonly alwaysAsk: ReadonlyArray<string>
  /** Commands it runs (`find -exec cmd`, `git bisect run cmd`). */
  readonly inner: ReadonlyArray<ReadonlyArray<Word>>
  /** Shell source it runs (`git rebase --exec 'cmd'`). */
  readonly scripts: ReadonlyArray<{ readonly source: string; readonly via: string }>
}

interface Builder {
  known: boolean
  readOnly: boolean
  reads: Array<Word>
  recursiveReads: Array<Word>
  writes: Array<WriteTarget>
  chdir: Array<Word>
  unknown: Array<string>
  alwaysAsk: Array<string>
  inner: Array<ReadonlyArray<Word>>
  scripts: Array<{ readonly source: string; readonly via: string }>
}

const builder = (known: boolean): Builder => ({
  known,
  readOnly: false,
  reads: [],
  recursiveReads: [],
  writes: [],
  chdir: [],
  unknown: [],
  alwaysAsk: [],
  inner: [],
  scripts: []
})

const UNKNOWN_PROGRAM: ProgramFacts = builder(false)

const lit = (text: string): Word => ({ text, literal: true })

/**
 * What a recursive read that follows symbolic links reaches under `dirs` (`grep -R`, `rg -L`, `diff -r`): any place
 * a link below points to, inside the workspace or not. A read the checker cannot resolve: deny and ask rules may
 * apply to it, and no command that makes it is read-only.
 */
const followedLinks = (dirs: ReadonlyArray<Word>): ReadonlyArray<Word> =>
  dirs.map((dir) => ({ text: `${dir.text} (symbolic links followed)`, literal: false }))

/** A write target: a non-literal one cannot be resolved, so it asks in every mode. */
const addWrite = (b: Builder, path: Word, recursive = false, via = "a write") => {
  if (!path.literal) b.alwaysAsk.push(`${via} to a path the checker cannot resolve: ${path.text}`)
  b.writes.push({ path, recursive })
}

// ---------------------------------------------------------------------------------------------------------------
// A small option scanner driven by an allowlist.

interface Spec {
  /** Short letters without a value. */
  readonly short?: string
  /** Short letters with a value (attached or the next word). */
  readonly shortValue?: string
  /** Long names without a value. */
  readonly long?: ReadonlyArray<string>
  /** Long names with a value (`--x=v` or `--x v`). */
  readonly longValue?: ReadonlyArray<string>
  /** Long names whose value is optional and must be attached (`--color`, `--color=never`). */
  readonly longOptional?: ReadonlyArray<string>
  /** Options whose value is a file the program reads. */
  readonly valueReads?: ReadonlyArray<string>
  /** `-20` is an option (head, tail). */
  readonly numeric?: boolean
  /** Options may follow operands (GNU permutation). Default true. */
  readonly permute?: boolean
}

interface Scan {
  /** Every option was on the allowlist. */
  readonly ok: boolean
  readonly operands: ReadonlyArray<Word>
  /** Option names seen (short letters or long names) with their values. */
  readonly seen: ReadonlyArray<readonly [string, Word | undefined]>
  readonly optionReads: ReadonlyArray<Word>
}

const scan = (args: ReadonlyArray<Word>, spec: Spec): Scan => {
  const short = spec.short ?? ""
  const shortValue = spec.shortValue ?? ""
  const long = new Set(spec.long ?? [])
  const longValue = new Set(spec.longValue ?? [])
  const longOptional = new Set(spec.longOptional ?? [])
  const valueReads = new Set(spec.valueReads ?? [])
  const operands: Array<Word> = []
  const seen: Array<readonly [string, Word | undefined]> = []
  const optionReads: Array<Word> = []
  let ok = true
  let ended = false
  const record = (name: string, value: Word | undefined) => {
    seen.push([name, value])
    if (value !== undefined && valueReads.has(name)) optionReads.push(value)
  }
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!
    const text = word.text
    if (ended || !word.literal || !text.startsWith("-") || text === "-") {
      operands.push(word)
      if (spec.permute === false) ended = true
      continue
    }
    if (text === "--") {
      ended = true
      continue
    }
    if (text.startsWith("--")) {
      const eq = text.indexOf("=")
      const name = eq === -1 ? text.slice(2) : text.slice(2, eq)
      const attached = eq === -1 ? undefined : lit(text.slice(eq + 1))
      if (long.has(name) && attached === undefined) record(name, undefined)
      else if (longOptional.has(name)) record(name, attached)
      else if (longValue.has(name)) {
        if (attached !== undefined) record(name, attached)
        else {
          const value = args[i + 1]
          if (value === undefined) ok = false
          else record(name, value)
          i++
        }
      } else {
        ok = false
        seen.push([name, attached])
      }
      continue
    }
    if (spec.numeric === true && /^-\d+$/.test(text)) {
      record("#", lit(text.slice(1)))
      continue
    }
    for (let j = 1; j < text.length; j++) {
      const letter = text[j]!
      if (shortValue.includes(letter)) {
        const rest = text.slice(j + 1)
        if (rest.length > 0) record(letter, lit(rest))
        else {
          const value = args[i + 1]
          if (value === undefined) ok = false
          else record(letter, value)
          i++
        }
        break
      }
      if (short.includes(letter)) record(letter, undefined)
      else {
        ok = false
        seen.push([letter, undefined])
      }
    }
  }
  return { ok, operands, seen, optionReads }
}

const has = (s: Scan, ...names: ReadonlyArray<string>) => s.seen.some(([n]) => names.includes(n))
const values = (s: Scan, ...names: ReadonlyArray<string>) =>
  s.seen.filter(([n]) => names.includes(n)).flatMap(([, v]) => (v === undefined ? [] : [v]))

/** A read-only program whose operands are files (or no files at all). */
const readOnlyFiles =
  (spec: Spec, operands: "files" | "none" = "files", extra?: (s: Scan, b: Builder) => void) =>
  (args: ReadonlyArray<Word>): ProgramFacts => {
    const b = builder(true)
    const s = scan(args, spec)
    b.readOnly = s.ok
    b.reads.push(...s.optionReads)
    if (operands === "files") b.reads.push(...s.operands)
    extra?.(s, b)
    return b
  }

// ---------------------------------------------------------------------------------------------------------------
// Read-only programs.

const GREP_SPEC: Spec = {
  short: "EFGPiywxvcLlmoqsbHnhTZzUraRIVUN",
  shortValue: "efmABCdD",
  long: [
    "extended-regexp",
    "fixed-strings",
    "basic-regexp",
    "perl-regexp",
    "ignore-case",
    "no-ignore-case",
    "word-regexp",
    "line-regexp",
    "invert-match",
    "count",
    "files-with-matches",
    "files-without-match",
    "only-matching",
    "quiet",
    "silent",
    "no-messages",
    "byte-offset",
    "with-filename",
    "no-filename",
    "line-number",
    "initial-tab",
    "null",
    "null-data",
    "text",
    "recursive",
    "dereference-recursive",
    "binary"
  ],
  longValue: [
    "regexp",
    "file",
    "max-count",
    "after-context",
    "before-context",
    "context",
    "include",
    "exclude",
    "exclude-dir",
    "exclude-from",
    "label",
    "binary-files",
    "devices",
    "directories"
  ],
  longOptional: ["color", "colour"],
  valueReads: ["f", "file", "exclude-from"]
}

const grep = (args: ReadonlyArray<Word>): ProgramFacts => {
  const b = builder(true)
  const s = scan(args, GREP_SPEC)
  b.readOnly = s.ok
  b.reads.push(...s.optionReads)
  const patternGiven = has(s, "e", "f", "regexp", "file")
  const files = patternGiven ? s.operands : s.operands.slice(1)
  // With no file, grep -r searches the working directory.
  const recursive = has(s, "r", "R", "recursive", "dereference-recursive")
  if (files.length === 0 && recursive) b.reads.push(lit("."))
  b.reads.push(...files)
  if (recursive) b.recursiveReads.push(...(files.length === 0 ? [lit(".")] : files))
  if (has(s, "R", "dereference-recursive")) b.reads.push(...followedLinks(files.length === 0 ? [lit(".")] : files))
  return b
}

const RG_SPEC: Spec = {
  short: "iSsFwxvclnNHIoquUaLz0bp.P",
  shortValue: "egtTmABCMjrfEd",
  long: [
    "files",
    "hidden",
    "no-ignore",
    "no-ignore-vcs",
    "no-ignore-parent",
    "no-ignore-dot",
    "no-ignore-global",
    "no-ignore-exclude",
    "ignore",
    "follow",
    "line-number",
    "no-line-number",
    "no-heading",
    "heading",
    "with-filename",
    "no-filename",
    "count",
    "count-matches",
    "files-with-matches",
    "files-without-match",
    "fixed-strings",
    "word-regexp",
    "line-regexp",
    "ignore-case",
    "smart-case",
    "case-sensitive",
    "json",
    "vimgrep",
    "only-matching",
    "multiline",
    "multiline-dotall",
    "pcre2",
    "trim",
    "stats",
    "column",
    "no-column",
    "null",
    "null-data",
    "invert-match",
    "unrestricted",
    "no-messages",
    "passthru",
    "byte-offset",
    "text",
    "binary",
    "no-binary",
    "type-list",
    "crlf",
    "one-file-system",
    "quiet",
    "debug",
    "trace",
    "pretty",
    "no-config",
    "sort-files",
    "glob-case-insensitive",
    "include-zero",
    "max-columns-preview",
    "no-unicode",
    "block-buffered",
    "line-buffered"
  ],
  longValue: [
    "regexp",
    "file",
    "type",
    "type-not",
    "glob",
    "iglob",
    "max-depth",
    "max-count",
    "context",
    "after-context",
    "before-context",
    "replace",
    "sort",
    "sortr",
    "threads",
    "max-columns",
    "max-filesize",
    "engine",
    "encoding",
    "type-add",
    "type-clear",
    "ignore-file",
    "path-separator",
    "field-match-separator",
    "field-context-separator",
    "context-separator",
    "regex-size-limit",
    "dfa-size-limit",
    "colors"
  ],
  longOptional: ["color"],
  valueReads: ["f", "file", "ignore-file"]
}

const rg = (args: ReadonlyArray<Word>): ProgramFacts => {
  const b = builder(true)
  for (const w of args) {
    if (w.literal && /^--(?:pre|hostname-bin)(?:=|$)/.test(w.text)) b.unknown.push(`rg ${w.text} runs a program`)
  }
  const s = scan(args, RG_SPEC)
  b.readOnly = s.ok
  b.reads.push(...s.optionReads)
  const noPattern = has(s, "e", "f", "regexp", "file", "files", "type-list")
  const files = noPattern ? s.operands : s.operands.slice(1)
  const searched = files.length === 0 && !has(s, "type-list") ? [lit(".")] : files
  b.reads.push(...searched)
  // rg searches directories recursively; `--files` only lists names.
  if (!has(s, "files", "type-list")) {
    b.recursiveReads.push(...searched)
    if (has(s, "L", "follow")) b.reads.push(...followedLinks(searched))
  }
  return b
}

const LS_SHORT = "aAbBcCdfFgGhHiklLmnNopqQrRsStuUvxXZ1"
const ls = readOnlyFiles({
  short: LS_SHORT,
  shortValue: "ITw",
  long: [
    "all",
    "almost-all",
    "escape",
    "directory",
    "classify",
    "file-type",
    "human-readable",
    "si",
    "inode",
    "dereference",
    "dereference-command-line",
    "numeric-uid-gid",
    "literal",
    "hide-control-chars",
    "show-control-chars",
    "quote-name",
    "reverse",
    "recursive",
    "size",
    "context",
    "group-directories-first",
    "full-time",
    "no-group",
    "author",
    "kibibytes",
    "zero"
  ],
  longValue: ["ignore", "hide", "block-size", "tabsize", "width", "quoting-style", "indicator-style"],
  longOptional: ["color", "colour", "sort", "time", "time-style", "format", "hyperlink"]
})

const cat = readOnlyFiles({
  short: "AbeEnstTuv",
  long: ["show-all", "number-nonblank", "show-ends", "number", "squeeze-blank", "show-tabs", "show-nonprinting"]
})

const headTail = () =>
  readOnlyFiles({
    short: "qvz",
    shortValue: "nc",
    long: ["quiet", "silent", "verbose", "zero-terminated"],
    longValue: ["lines", "bytes"],
    numeric: true
  })

const wc = readOnlyFiles({
  short: "clmwL",
  long: ["bytes", "chars", "lines", "words", "max-line-length"],
  longOptional: ["total"]
})

const fileProgram = readOnlyFiles({
  short: "bcEhiLkNnprsSzZ0",
  shortValue: "eFmP",
  long: [
    "brief",
    "dereference",
    "no-dereference",
    "keep-going",
    "mime",
    "mime-type",
    "mime-encoding",
    "no-pad",
    "no-buffer",
    "preserve-date",
    "raw",
    "special-files",
    "uncompress",
    "uncompress-noreport",
    "print0",
    "extension",
    "apple",
    "no-sandbox"
  ],
  longValue: ["exclude", "separator", "magic-file", "parameter"],
  valueReads: ["m", "magic-file"]
})

const stat = readOnlyFiles({
  short: "LftZ",
  shortValue: "c",
  long: ["dereference", "file-system", "terse"],
  longValue: ["format", "printf", "cached"]
})

const du = readOnlyFiles({
  short: "abcDhHklLmsSxP0",
  shortValue: "dBtX",
  long: [
    "all",
    "apparent-size",
    "bytes",
    "total",
    "dereference-args",
    "human-readable",
    "inodes",
    "dereference",
    "count-links",
    "no-dereference",
    "null",
    "separate-dirs",
    "si",
    "summarize",
    "one-file-system"
  ],
  longValue: ["max-depth", "block-size", "threshold", "exclude", "exclude-from"],
  longOptional: ["time", "time-style"],
  valueReads: ["X", "exclude-from"]
})

const df = readOnlyFiles({
  short: "ahHiklPTvx",
  shortValue: "BtF",
  long: ["all", "human-readable", "si", "inodes", "local", "print-type", "total", "portability", "sync", "no-sync"],
  longValue: ["block-size", "type", "exclude-type"],
  longOptional: ["output"]
})

const tree = readOnlyFiles({
  short: "adlfFxpsughDrtvUNQCnAS",
  shortValue: "LPI",
  long: ["noreport", "dirsfirst", "filesfirst", "gitignore", "prune", "matchdirs", "ignore-case", "du", "si"],
  longValue: ["charset", "filelimit", "sort"]
})

/** Programs whose operands are not files and that change nothing. */
const textOnly = (spec: Spec = {}) => readOnlyFiles(spec, "none")

const echo = (_args: ReadonlyArray<Word>): ProgramFacts => ({ ...builder(true), readOnly: true })

const printf = (args: ReadonlyArray<Word>): ProgramFacts => ({
  ...builder(true),
  readOnly: !args.some((w) => !w.literal || w.text.startsWith("-v"))
})

const date = (args: ReadonlyArray<Word>): ProgramFacts => {
  const b = builder(true)
  const s = scan(args, {
    short: "uR",
    shortValue: "dr",
    long: ["utc", "universal", "rfc-email", "debug"],
    longValue: ["date", "reference"],
    longOptional: ["iso-8601", "rfc-3339"],
    valueReads: ["r", "reference"]
  })
  // An operand other than +FORMAT sets the clock.
  b.readOnly = s.ok && s.operands.every((w) => w.literal && w.text.startsWith("+"))
  b.reads.push(...s.optionReads)
  return b
}

const hostname = (args: ReadonlyArray<Word>): ProgramFacts => {
  const b = builder(true)
  const s = scan(args, { short: "fsidAIa", long: ["fqdn", "short", "ip-address", "domain", "all-fqdns"] })
  b.readOnly = s.ok && s.operands.length === 0
  return b
}

const sortProgram = readOnlyFiles({
  short: "bdfghiMnrRsuVcCz",
  shortValue: "ktS",
  long: [
    "ignore-leading-blanks",
    "dictionary-order",
    "ignore-case",
    "general-numeric-sort",
    "human-numeric-sort",
    "ignore-nonprinting",
    "month-sort",
    "numeric-sort",
    "random-sort",
    "reverse",
    "version-sort",
    "stable",
    "unique",
    "zero-terminated",
    "check"
  ],
  longValue: ["key", "field-separator", "buffer-size", "parallel", "sort"]
})

const uniq = (args: ReadonlyArray<Word>): ProgramFacts => {
  const b = builder(true)
  const s = scan(args, {
    short: "cdDiuz",
    shortValue: "fsw",
    long: ["count", "repeated", "ignore-case", "unique", "zero-terminated"],
    longValue: ["skip-fields", "skip-chars", "check-chars"],
    longOptional: ["all-repeated", "group"]
  })
  // A second operand is the output file.
  b.readOnly = s.ok && s.operands.length <= 1
  b.reads.push(...s.operands.slice(0, 1))
  if (s.operands[1] !== undefined) addWrite(b, s.operands[1], false, "uniq output")
  return b
}

const cut = readOnlyFiles({
  short: "snz",
  shortValue: "bcdf",
  long: ["only-delimited", "complement", "zero-terminated"],
  longValue: ["bytes", "characters", "delimiter", "fields", "output-delimiter"]
})

const diff = readOnlyFiles(
  {
    short: "qsyirbBwEZTtNapcuN",
    shortValue: "UCIL",
    long: [
      "brief",
      "report-identical-files",
      "side-by-side",
      "ignore-case",
      "recursive",
      "ignore-all-space",
      "ignore-space-change",
      "ignore-blank-lines",
      "ignore-tab-expansion",
      "ignore-trailing-space",
      "text",
      "new-file",
      "unidirectional-new-file",
      "no-dereference",
      "strip-trailing-cr",
      "expand-tabs",
      "initial-tab",
      "show-c-function",
      "minimal",
      "speed-large-files",
      "suppress-common-lines",
      "left-column"
    ],
    longValue: ["label", "ignore-matching-lines", "width", "exclude", "show-function-line", "tabsize"],
    longOptional: ["unified", "context", "color", "palette"]
  },
  "files",
  (s, b) => {
    if (has(s, "r", "recursive")) {
      b.recursiveReads.push(...s.operands)
      // diff follows the links it meets unless told not to.
      if (!has(s, "no-dereference")) b.reads.push(...followedLinks(s.operands))
    }
  }
)

const sums = readOnlyFiles({ short: "btz", long: ["binary", "text", "zero", "tag"] })

const nl = readOnlyFiles({ short: "p", shortValue: "bdfhilnsvw" })

/** Prints which program a name is: names are not files. */
const which = textOnly({ short: "a", long: ["all", "skip-alias", "skip-functions"] })

/** Programs that are read-only whatever their arguments, because they have no file operands or options that act. */
const READ_ONLY: Record<string, (args: ReadonlyArray<Word>) => ProgramFacts> = {
  ls,
  dir: ls,
  vdir: ls,
  cat,
  head: headTail(),
  tail: headTail(),
  wc,
  file: fileProgram,
  stat,
  du,
  df,
  tree,
  grep,
  egrep: grep,
  fgrep: grep,
  rg,
  echo,
  printf,
  date,
  hostname,
  sort: sortProgram,
  uniq,
  cut,
  diff,
  cmp: readOnlyFiles({ short: "blsz", shortValue: "inI", long: ["verbose", "quiet", "silent", "print-bytes"] }),
  comm: readOnlyFiles({ short: "123z", long: ["check-order", "nocheck-order", "total", "zero-terminated"] }),
  md5sum: sums,
  sha1sum: sums,
  sha224sum: sums,
  sha256sum: sums,
  sha384sum: sums,
  sha512sum: sums,
  b2sum: sums,
  cksum: sums,
  nl,
  realpath: readOnlyFiles({ short: "eLmPqsz", long: ["canonicalize-existing", "canonicalize-missing", "quiet"] }),
  readlink: readOnlyFiles({ short: "efmnqsvz", long: ["canonicalize", "no-newline", "quiet", "silent", "verbose"] }),
  basename: textOnly({ short: "az", shortValue: "s", long: ["multiple", "zero"], longValue: ["suffix"] }),
  dirname: textOnly({ short: "z", long: ["zero"] }),
  pwd: textOnly({ short: "LP" }),
  which,
  type: textOnly({ short: "afptP" }),
  uname: textOnly({
    short: "asnrvmpio",
    long: [
      "all",
      "kernel-name",
      "nodename",
      "kernel-release",
      "kernel-version",
      "machine",
      "processor",
      "hardware-platform",
      "operating-system"
    ]
  }),
  whoami: textOnly(),
  id: textOnly({ short: "gGnruz", long: ["group", "groups", "name", "real", "user", "zero"] }),
  true: textOnly(),
  false: textOnly(),
  ":": textOnly(),
  seq: textOnly({ shortValue: "fs", short: "w", long: ["equal-width"], longValue: ["format", "separator"] }),
  sleep: textOnly(),
  test: echo,
  "[": echo,
  tr: textOnly({ short: "cCdst", long: ["complement", "delete", "squeeze-repeats", "truncate-set1"] }),
  column: readOnlyFiles({ short: "tnex", shortValue: "csoNRHWCdlr" }),
  tac: readOnlyFiles({ short: "br", shortValue: "s", long: ["before", "regex"], longValue: ["separator"] }),
  rev: readOnlyFiles({}),
  nproc: textOnly({ long: ["all"] }),
  // `command -v name` (`command name` itself is unwrapped before it gets here)
  command: textOnly({ short: "pvV" })
}

// ---------------------------------------------------------------------------------------------------------------
// find

const FIND_TESTS_WITH_VALUE = new Set([
  "-name",
  "-iname",
  "-path",
  "-ipath",
  "-wholename",
  "-iwholename",
  "-regex",
  "-iregex",
  "-regextype",
  "-type",
  "-xtype",
  "-size",
  "-mtime",
  "-mmin",
  "-atime",
  "-amin",
  "-ctime",
  "-cmin",
  "-user",
  "-group",
  "-uid",
  "-gid",
  "-perm",
  "-maxdepth",
  "-mindepth",
  "-links",
  "-inum",
  "-printf",
  "-lname",
  "-ilname",
  "-samefile",
  "-newer",
  "-anewer",
  "-cnewer",
  "-used",
  "-fstype",
  "-context"
])
const FIND_FILE_VALUES = new Set(["-newer", "-anewer", "-cnewer", "-samefile"])
const FIND_FLAGS = new Set([
  "-print",
  "-print0",
  "-ls",
  "-prune",
  "-quit",
  "-true",
  "-false",
  "-empty",
  "-readable",
  "-writable",
  "-executable",
  "-nouser",
  "-nogroup",
  "-depth",
  "-mount",
  "-xdev",
  "-noleaf",
  "-follow",
  "-daystart",
  "-ignore_readdir_race",
  "-noignore_readdir_race",
  "-o",
  "-or",
  "-a",
  "-and",
  "-not",
  "!",
  "(",
  ")",
  ","
])

const find = (args: ReadonlyArray<Word>): ProgramFacts => {
  const b = builder(true)
  let ok = true
  let i = 0
  // Leading options -H -L -P -D x -Ox.
  while (i < args.length && args[i]!.literal && /^-(?:[HLP]|O\d|D)$/.test(args[i]!.text))
    i += args[i]!.text === "-D" ? 2 : 1
  const starts: Array<Word> = []
  while (i < args.length && !(args[i]!.literal && /^[-!(),]/.test(args[i]!.text))) {
    starts.push(args[i]!)
    i++
  }
  b.reads.push(...(starts.length === 0 ? [lit(".")] : starts))
  for (; i < args.length; i++) {
    const word = args[i]!
    const text = word.text
    if (!word.literal) {
      ok = false
      continue
    }
    if (text === "-exec" || text === "-execdir" || text === "-ok" || text === "-okdir") {
      ok = false
      let j = i + 1
      while (j < args.length && !(args[j]!.literal && (args[j]!.text === ";" || args[j]!.text === "+"))) j++
      const inner = args.slice(i + 1, j).map((w) => (w.text.includes("{}") ? { text: w.text, literal: false } : w))
      if (inner.length === 0) b.unknown.push(`find ${text} without a command`)
      else b.inner.push(inner)
      i = j
    } else if (text === "-fprint" || text === "-fprint0" || text === "-fls" || text === "-fprintf") {
      ok = false
      const target = args[i + 1]
      if (target !== undefined) addWrite(b, target, false, `find ${text}`)
      i += text === "-fprintf" ? 2 : 1
    } else if (text === "-delete") {
      ok = false
      // Everything under the starting points may be removed.
      for (const start of starts.length === 0 ? [lit(".")] : starts) addWrite(b, start, true, "find -delete")
    } else if (FIND_TESTS_WITH_VALUE.has(text)) {
      const value = args[i + 1]
      if (value !== undefined && FIND_FILE_VALUES.has(text)) b.reads.push(value)
      i++
    } else if (!FIND_FLAGS.has(text)) ok = false
  }
  b.readOnly = ok
  return b
}

// ---------------------------------------------------------------------------------------------------------------
// sed and awk

/** Whether a sed script uses only commands that neither run code nor touch files (no `e`, `w`, `W`, `r`, `R`). */
export const isSafeSedScript = (script: string): boolean => {
  let i = 0
  const n = script.length
  const skipSpace = () => {
    while (i < n && /[\s;]/.test(script[i]!)) i++
  }
  const regex = (delim: string): boolean => {
    while (i < n && script[i] !== delim) {
      if (script[i] === "\\") i++
      if (script[i] === "\n") return false
      i++
    }
    if (i >= n) return false
    i++
    return true
  }
  const address = (): boolean => {
    if (script[i] === "/" || script[i] === "\\") {
      const delim = script[i] === "\\" ? script[i + 1] : "/"
      i += script[i] === "\\" ? 2 : 1
      if (delim === undefined || !regex(delim)) return false
      while (script[i] === "I" || script[i] === "M") i++
      return true
    }
    const m = /^(?:\d+(?:~\d+)?|\$)/.exec(script.slice(i))
    if (m !== null) i += m[0].length
    return true
  }
  while (true) {
    skipSpace()
    if (i >= n) return true
    if (script[i] === "}" || script[i] === "{") {
      i++
      continue
    }
    if (script[i] === "#") {
      while (i < n && script[i] !== "\n") i++
      continue
    }
    if (!address()) return false
    if (script[i] === ",") {
      i++
      if (script[i] === "+" || script[i] === "~") i++
      if (!address()) return false
    }
    while (script[i] === " ") i++
    if (script[i] === "!") i++
    while (script[i] === " ") i++
    const cmd = script[i]
    if (cmd === undefined) return false
    i++
    if ("pdDgGhHxnNPlqQz=".includes(cmd)) {
      if (cmd === "q" || cmd === "Q" || cmd === "l") while (i < n && /\d/.test(script[i]!)) i++
      continue
    }
    if (cmd === "{") continue
    if (cmd === "s" || cmd === "y") {
      const delim = script[i]
      if (delim === undefined || delim === "\n" || delim === "\\") return false
      i++
      if (!regex(delim) || !regex(delim)) return false
      if (cmd === "s") while (i < n && /[gpiImM0-9]/.test(script[i]!)) i++
      continue
    }
    if (cmd === "a" || cmd === "i" || cmd === "c") {
      // Text to the end of the line (a backslash-newline continues it).
      while (i < n && script[i] !== "\n") i += script[i] === "\\" ? 2 : 1
      continue
    }
    if (cmd === "b" || cmd === "t" || cmd === "T" || cmd === ":") {
      while (i < n && !/[;\n}]/.test(script[i]!)) i++
      continue
    }
    // e, w, W, r, R, a, i, c, v, F and anything else
    return false
  }
}

const SED_SPEC: Spec = {
  short: "nEruszl",
  shortValue: "efl",
  long: [
    "quiet",
    "silent",
    "regexp-extended",
    "separate",
    "unbuffered",
    "null-data",
    "posix",
    "sandbox",
    "debug",
    "follow-symlinks"
  ],
  longValue: ["expression", "file", "line-length"],
  longOptional: ["in-place"]
}

const sed = (args: ReadonlyArray<Word>): ProgramFacts => {
  const b = builder(true)
  // -i takes an optional attached suffix: remove it before scanning.
  const inPlace = args.some((w) => w.literal && (/^-[^-]*i/.test(w.text) || w.text.startsWith("--in-place")))
  const cleaned = args.map((w) =>
    w.literal && /^-[^-]*i/.test(w.text) ? lit(w.text.slice(0, w.text.indexOf("i")) || "-n") : w
  )
  const s = scan(
    cleaned.filter((w) => w.text !== "-"),
    SED_SPEC
  )
  const scripts = values(s, "e", "expression")
  const files = values(s, "f", "file")
  const operands = scripts.length === 0 && files.length === 0 ? s.operands.slice(1) : s.operands
  const script = scripts.length === 0 && files.length === 0 ? s.operands[0] : undefined
  const texts = script === undefined ? scripts : [script]
  const sandbox = has(s, "sandbox")
  let safe = s.ok && files.length === 0
  if (!s.ok) b.unknown.push("sed: an option the checker does not know")
  if (files.length > 0) b.unknown.push("sed -f runs a script file the checker cannot read")
  for (const t of texts) {
    if (!t.literal) {
      safe = false
      b.unknown.push("sed script is not literal")
    } else if (!sandbox && !isSafeSedScript(t.text)) {
      safe = false
      b.unknown.push(`sed script may run commands or write files (e, w, r): ${t.text}`)
    }
  }
  if (inPlace) for (const f of operands) addWrite(b, f, false, "sed -i")
  b.reads.push(...operands)
  b.readOnly = safe && !inPlace
  return b
}

/** Whether an awk program may run commands or write files: `system`, pipes, `getline`, `print > file`. */
export const awkProgramActs = (program: string): boolean =>
  /\bsystem\s*\(|\|/.test(program) ||
  /\bgetline\b/.test(program) ||
  /@/.test(program) ||
  /\bprintf?\b[^;{}\n]*>/.test(program) ||
  /\b(?:close|fflush)\s*\(/.test(program)

const awk = (args: ReadonlyArray<Word>): ProgramFacts => {
  const b = builder(true)
  const s = scan(args, {
    short: "bcCdDgMNOPrSstVz",
    shortValue: "Fvfeil",
    long: ["posix", "traditional", "sandbox", "characters-as-bytes", "re-interval", "lint"],
    longValue: ["field-separator", "assign", "file", "source", "include", "load"],
    permute: false
  })
  const files = values(s, "f", "file", "i", "include", "l", "load", "E", "exec")
  const inline = values(s, "e", "source")
  const program = files.length === 0 && inline.length === 0 ? s.operands[0] : undefined
  const operands = program === undefined ? s.operands : s.operands.slice(1)
  let safe = s.ok && files.length === 0
  if (!s.ok) b.unknown.push("awk: an option the checker does not know")
  if (files.length > 0) b.unknown.push("awk runs a program file or library the checker cannot read")
  for (const p of program === undefined ? inline : [program]) {
    if (!p.literal) {
      safe = false
      b.unknown.push("awk program is not literal")
    } else if (!has(s, "sandbox") && awkProgramActs(p.text)) {
      safe = false
      b.unknown.push(`awk program may run commands or write files: ${p.text}`)
    }
  }
  // `var=value` operands are assignments, not files.
  b.reads.push(...operands.filter((w) => !(w.literal && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w.text))))
  b.readOnly = safe
  return b
}

// ---------------------------------------------------------------------------------------------------------------
// Programs that write their operands.

/** A program that makes links to its sources (`ln`; `cp -s`, `cp -l`): see `linkSourceWrites`. */
interface Links {
  /** Whether this call makes links. */
  readonly isLink: (s: Scan) => boolean
  /** Whether they are symbolic links whose relative source is read from the link's directory. */
  readonly symbolic: (s: Scan) => boolean
}

const lastIsTarget = (
  name: string,
  spec: Spec,
  options: {
    readonly recursiveFlags?: string
    readonly sourcesWritten?: boolean
    readonly targetDir?: string
    readonly links?: Links
  }
) => {
  return (args: ReadonlyArray<Word>): ProgramFacts => {
    const b = builder(true)
    const s = scan(args, spec)
    if (!s.ok) b.unknown.push(`${name}: an option the checker does not know`)
    const recursive = [...(options.recursiveFlags ?? "")].some((f) => has(s, f))
    const dirOption = options.targetDir === undefined ? [] : values(s, ...options.targetDir.split(","))
    const sources = dirOption.length > 0 ? s.operands : s.operands.slice(0, -1)
    const targets = dirOption.length > 0 ? dirOption : s.operands.slice(-1)
    for (const t of targets) addWrite(b, t, recursive || dirOption.length > 0 || sources.length > 1, name)
    if (options.links?.isLink(s) === true) {
      linkSourceWrites(
        b,
        name,
        sources,
        options.links.symbolic(s) ? { targets, intoDir: dirOption.length > 0 } : undefined
      )
    } else if (options.sourcesWritten === true) for (const src of sources) addWrite(b, src, true, name)
    else b.reads.push(...sources)
    return b
  }
}

/**
 * The sources of links (`ln`, `cp -s`, `cp -l`) count as written: a later write through a link lands in its source,
 * in the same command line too (`ln -s ~/.bashrc src/x && echo x >> src/x`, where `src/x` is checked before the link
 * exists), and a hard link cannot be told from the file it links; so a protected or outside source asks. A relative
 * symbolic link's source is read from the link's directory (`symbolic`): both readings of that directory (the
 * target's parent, or the target when it is a directory; the `-t` directory itself) count.
 */
const linkSourceWrites = (
  b: Builder,
  name: string,
  sources: ReadonlyArray<Word>,
  symbolic: { readonly targets: ReadonlyArray<Word>; readonly intoDir: boolean } | undefined
): void => {
  const via = `${name} (a link)`
  for (const source of sources) {
    const linkDirs =
      symbolic === undefined || !source.literal || posix.isAbsolute(source.text)
        ? []
        : symbolic.targets.flatMap((t) =>
            t.literal ? (symbolic.intoDir ? [t.text] : [posix.dirname(t.text), t.text]) : []
          )
    if (linkDirs.length === 0) addWrite(b, source, true, via)
    for (const dir of new Set(linkDirs)) addWrite(b, lit(posix.join(dir, source.text)), true, via)
  }
}

const CP_SPEC: Spec = {
  short: "aBbdfHiLlnPpRrsTuvxZ",
  shortValue: "St",
  long: [
    "archive",
    "attributes-only",
    "backup",
    "copy-contents",
    "dereference",
    "force",
    "interactive",
    "link",
    "no-clobber",
    "no-dereference",
    "parents",
    "recursive",
    "remove-destination",
    "strip-trailing-slashes",
    "symbolic-link",
    "no-target-directory",
    "update",
    "verbose",
    "one-file-system"
  ],
  longValue: ["suffix", "target-directory"],
  longOptional: ["preserve", "no-preserve", "reflink", "sparse", "context", "debug"]
}

const writesAll =
  (name: string, spec: Spec, recursiveFlags = "") =>
  (args: ReadonlyArray<Word>): ProgramFacts => {
    const b = builder(true)
    const s = scan(args, spec)
    if (!s.ok) b.unknown.push(`${name}: an option the checker does not know`)
    const recursive = [...recursiveFlags].some((f) => has(s, f)) || has(s, "recursive")
    for (const t of s.operands) addWrite(b, t, recursive, name)
    return b
  }

const tee = writesAll("tee", {
  short: "aip",
  long: ["append", "ignore-interrupts"],
  longOptional: ["output-error"]
})

const dd = (args: ReadonlyArray<Word>): ProgramFacts => {
  const b = builder(true)
  for (const w of args) {
    if (w.literal && w.text.startsWith("of=")) addWrite(b, lit(w.text.slice(3)), false, "dd of=")
    else if (w.literal && w.text.startsWith("if=")) b.reads.push(lit(w.text.slice(3)))
    else if (!w.literal) b.alwaysAsk.push(`dd with an operand the checker cannot resolve: ${w.text}`)
  }
  return b
}

const chmodLike = (name: string) => (args: ReadonlyArray<Word>) => {
  const b = builder(true)
  const s = scan(args, {
    short: "cfvRhHLP",
    long: ["changes", "silent", "quiet", "verbose", "recursive", "no-dereference", "dereference"],
    longValue: ["reference", "from"],
    longOptional: ["preserve-root", "no-preserve-root"]
  })
  if (!s.ok) b.unknown.push(`${name}: an option the checker does not know`)
  const recursive = has(s, "R", "recursive")
  // The first operand is the mode or owner (unless --reference gives it).
  const files = has(s, "reference") ? s.operands : s.operands.slice(1)
  for (const f of files) addWrite(b, f, recursive, name)
  return b
}

const WRITERS: Record<string, (args: ReadonlyArray<Word>) => ProgramFacts> = {
  tee,
  cp: lastIsTarget("cp", CP_SPEC, {
    recursiveFlags: "aRr",
    targetDir: "t,target-directory",
    links: { isLink: (s) => has(s, "s", "l", "link", "symbolic-link"), symbolic: (s) => has(s, "s", "symbolic-link") }
  }),
  mv: lastIsTarget(
    "mv",
    {
      short: "bfinTuvZ",
      shortValue: "St",
      long: [
        "backup",
        "force",
        "interactive",
        "no-clobber",
        "no-target-directory",
        "update",
        "verbose",
        "strip-trailing-slashes",
        "no-copy",
        "exchange"
      ],
      longValue: ["suffix", "target-directory"],
      longOptional: ["context", "debug"]
    },
    { recursiveFlags: "", sourcesWritten: true, targetDir: "t,target-directory" }
  ),
  ln: lastIsTarget(
    "ln",
    {
      short: "bdfFiLnPrsTv",
      shortValue: "St",
      long: [
        "backup",
        "directory",
        "force",
        "interactive",
        "logical",
        "no-dereference",
        "physical",
        "relative",
        "symbolic",
        "no-target-directory",
        "verbose"
      ],
      longValue: ["suffix", "target-directory"]
    },
    {
      targetDir: "t,target-directory",
      // With --relative, ln reads the source from the working directory.
      links: { isLink: () => true, symbolic: (s) => has(s, "s", "symbolic") && !has(s, "r", "relative") }
    }
  ),
  install: (args) => {
    const spec: Spec = {
      short: "bcCdDpsTvZ",
      shortValue: "gmoStM",
      long: [
        "backup",
        "compare",
        "directory",
        "preserve-timestamps",
        "strip",
        "no-target-directory",
        "verbose",
        "debug"
      ],
      longValue: ["group", "mode", "owner", "suffix", "target-directory", "strip-program"]
    }
    const s = scan(args, spec)
    if (has(s, "d", "directory")) return writesAll("install", spec)(args)
    const facts = lastIsTarget("install", spec, { targetDir: "t,target-directory" })(args)
    if (has(s, "strip-program"))
      return { ...facts, unknown: [...facts.unknown, "install --strip-program runs a program"] }
    return facts
  },
  rm: writesAll(
    "rm",
    {
      short: "fiIrRdv",
      long: ["force", "recursive", "dir", "verbose", "one-file-system"],
      longOptional: ["interactive", "preserve-root", "no-preserve-root"]
    },
    "rR"
  ),
  rmdir: writesAll("rmdir", { short: "pv", long: ["parents", "verbose", "ignore-fail-on-non-empty"] }),
  mkdir: writesAll("mkdir", {
    short: "pvZ",
    shortValue: "m",
    long: ["parents", "verbose"],
    longValue: ["mode"],
    longOptional: ["context"]
  }),
  touch: writesAll("touch", {
    short: "acfhm",
    shortValue: "drt",
    long: ["no-create", "no-dereference"],
    longValue: ["date", "reference", "time"]
  }),
  truncate: writesAll("truncate", {
    short: "cjo",
    shortValue: "rs",
    long: ["no-create", "io-blocks"],
    longValue: ["reference", "size"]
  }),
  dd,
  chmod: chmodLike("chmod"),
  chown: chmodLike("chown"),
  chgrp: chmodLike("chgrp"),
  shred: writesAll("shred", { short: "fuvxz", shortValue: "ns", long: ["force", "verbose", "exact", "zero"] }),
  unlink: writesAll("unlink", {}),
  rsync: (args) => {
    const b = builder(true)
    for (const w of args) {
      if (!w.literal) continue
      if (/^(?:-[^-]*e|--rsh|--rsync-path)/.test(w.text)) b.unknown.push(`rsync ${w.text} runs a program`)
    }
    const operands = args.filter((w) => !w.literal || !w.text.startsWith("-"))
    const target = operands[operands.length - 1]
    if (target !== undefined && operands.length > 1) {
      if (target.literal && /^[^/]*:/.test(target.text)) b.unknown.push("rsync to a remote host")
      else addWrite(b, target, true, "rsync")
    }
    b.reads.push(...operands.slice(0, -1).filter((w) => !(w.literal && /^[^/]*:/.test(w.text))))
    return b
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Archives, pagers and other programs with options that act.

const tar = (args: ReadonlyArray<Word>): ProgramFacts => {
  const b = builder(true)
  const first = args[0]
  const bundled = first?.literal === true && /^[A-Za-z]+$/.test(first.text) ? first.text : ""
  if (/[IF]/.test(bundled)) b.unknown.push(`tar ${bundled} runs a program`)
  let extract = bundled.includes("x")
  const create = /[cru]/.test(bundled)
  let archive: Word | undefined
  if (bundled.includes("f")) archive = args[1]
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!
    if (!w.literal) continue
    const t = w.text
    if (
      /^--(?:to-command|use-compress-program|checkpoint-action|info-script|new-volume-script|rsh-command|rmt-command|index-file)/.test(
        t
      ) ||
      /^-[^-]*[IF]/.test(t)
    )
      b.unknown.push(`tar ${t} runs a program`)
    if (/^--(?:extract|get)$/.test(t) || /^-[^-]*x/.test(t)) extract = true
    if (/^-[^-]*f$/.test(t) || t === "--file") archive = args[i + 1]
    else if (t.startsWith("--file=")) archive = lit(t.slice(7))
  }
  if (extract) b.alwaysAsk.push("tar extracts files the checker cannot list (they may land in protected places)")
  else if (create || args.some((w) => w.literal && /^(?:-[^-]*[cru]|--create|--append|--update)/.test(w.text))) {
    if (archive !== undefined && archive.text !== "-") addWrite(b, archive, false, "tar")
  } else if (archive !== undefined) b.reads.push(archive)
  return b
}

const extractor = (name: string) => (_args: ReadonlyArray<Word>) => ({
  ...builder(true),
  alwaysAsk: [`${name} extracts files the checker cannot list (they may land in protected places)`]
})

const pager = (name: string) => (args: ReadonlyArray<Word>) => {
  const b = builder(true)
  for (const w of args) {
    if (!w.literal) continue
    if (w.text.startsWith("+") || /^--?(?:lesskey|LESSKEY)/.test(w.text) || w.text === "-k")
      b.unknown.push(`${name} ${w.text} runs pager commands`)
    if (/^-[oO]/.test(w.text) || /^--(?:log-file|LOG-FILE)/.test(w.text))
      b.unknown.push(`${name} ${w.text} writes a log file`)
  }
  return b
}

const man = (args: ReadonlyArray<Word>) => {
  const b = builder(true)
  for (const w of args) {
    if (w.literal && /^(?:-[^-]*[PHpB]|--pager|--html|--preprocessor|--browser)/.test(w.text))
      b.unknown.push(`man ${w.text} runs a program`)
  }
  return b
}

const sortWithOutput = (args: ReadonlyArray<Word>): ProgramFacts => {
  const facts = sortProgram(args)
  const b = builder(true)
  b.readOnly = facts.readOnly
  b.reads.push(...facts.reads)
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!
    if (!w.literal) continue
    if (w.text.startsWith("--compress-program")) b.unknown.push("sort --compress-program runs a program")
    if (w.text === "-o" || w.text === "--output") {
      const target = args[i + 1]
      if (target !== undefined) addWrite(b, target, false, "sort -o")
    } else if (/^-o./.test(w.text)) addWrite(b, lit(w.text.slice(2)), false, "sort -o")
    else if (w.text.startsWith("--output=")) addWrite(b, lit(w.text.slice(9)), false, "sort -o")
  }
  return b
}

/** Package managers: options that choose the shell or the configuration that runs scripts. */
const packageManager = (name: string) => (args: ReadonlyArray<Word>) => {
  const b = builder(false)
  // `npx` itself runs a package or, with `-c`, a command line; so do `npm exec`, `pnpm dlx`, `yarn dlx`, `bun x`.
  const exec = name === "npx" || (args[0]?.literal === true && /^(?:exec|x|dlx)$/.test(args[0].text))
  for (const w of args) {
    if (!w.literal) continue
    if (
      /^--(?:script-shell|node-options|userconfig|globalconfig|init-module|onload-script|shell|call|editor|browser|viewer|git|prefix|dir|cwd|rcfile|config|require)(?:=|$)/i.test(
        w.text
      ) ||
      (exec && /^-[^-]*c/.test(w.text))
    )
      b.unknown.push(`${name} ${w.text} chooses code or configuration that runs scripts`)
  }
  return b
}

/** Programs that apply a patch: the files it changes are listed only inside the patch. */
const patcher = (name: string) => (args: ReadonlyArray<Word>) => {
  const b = builder(true)
  const dry = args.some((w) => w.literal && /^--(?:dry-run|check|stat|numstat|summary)$/.test(w.text))
  if (!dry) b.alwaysAsk.push(`${name} changes files named inside the patch (they may be protected)`)
  return b
}

const OTHERS: Record<string, (args: ReadonlyArray<Word>) => ProgramFacts> = {
  npm: packageManager("npm"),
  pnpm: packageManager("pnpm"),
  yarn: packageManager("yarn"),
  bun: packageManager("bun"),
  npx: packageManager("npx"),
  patch: patcher("patch"),
  tar,
  unzip: extractor("unzip"),
  cpio: extractor("cpio"),
  "7z": extractor("7z"),
  less: pager("less"),
  more: pager("more"),
  most: pager("most"),
  man,
  sed,
  awk,
  gawk: awk,
  mawk: awk,
  nawk: awk,
  find,
  sort: sortWithOutput,
  split: (args) => ({
    ...builder(true),
    unknown: args.some((w) => w.literal && w.text.startsWith("--filter")) ? ["split --filter runs a program"] : [],
    alwaysAsk: ["split writes files named from a prefix"]
  }),
  zip: (args) => ({
    ...builder(true),
    unknown: args.some(
      (w) => w.literal && (/^-[^-]*T/.test(w.text) || w.text.startsWith("--unzip-command") || w.text === "-TT")
    )
      ? ["zip -TT runs a program"]
      : []
  })
}

// ---------------------------------------------------------------------------------------------------------------
// git

/** Subcommand options of the log/diff family that are safe (no files written, no programs run). */
const GIT_DIFF_FLAGS = [
  "p",
  "u",
  "s",
  "z",
  "w",
  "b",
  "R",
  "a",
  "M",
  "C",
  "B",
  "D",
  "W",
  "patch",
  "no-patch",
  "raw",
  "patch-with-raw",
  "patch-with-stat",
  "stat",
  "shortstat",
  "numstat",
  "dirstat",
  "summary",
  "name-only",
  "name-status",
  "compact-summary",
  "cumulative",
  "full-index",
  "binary",
  "abbrev",
  "no-renames",
  "find-renames",
  "find-copies",
  "find-copies-harder",
  "irreversible-delete",
  "text",
  "ignore-all-space",
  "ignore-space-change",
  "ignore-space-at-eol",
  "ignore-cr-at-eol",
  "ignore-blank-lines",
  "minimal",
  "patience",
  "histogram",
  "indent-heuristic",
  "no-indent-heuristic",
  "function-context",
  "no-ext-diff",
  "no-textconv",
  "exit-code",
  "quiet",
  "check",
  "cached",
  "staged",
  "merge-base",
  "no-color",
  "no-prefix",
  "default-prefix",
  "ita-invisible-in-index",
  "word-diff",
  "color-words",
  "color-moved",
  "no-color-moved",
  "relative",
  "no-relative",
  "ignore-submodules",
  "submodule",
  "color",
  "diff-algorithm",
  "unified",
  "stat-width",
  "stat-name-width",
  "stat-count",
  "word-diff-regex",
  "inter-hunk-context",
  "anchored",
  "src-prefix",
  "dst-prefix",
  "line-prefix",
  "output-indicator-new",
  "output-indicator-old",
  "output-indicator-context",
  "diff-filter",
  "pickaxe-all",
  "pickaxe-regex",
  "rotate-to",
  "skip-to",
  "ignore-matching-lines"
]
const GIT_LOG_FLAGS = [
  "oneline",
  "graph",
  "decorate",
  "no-decorate",
  "all",
  "branches",
  "tags",
  "remotes",
  "reverse",
  "follow",
  "first-parent",
  "merges",
  "no-merges",
  "abbrev-commit",
  "no-abbrev-commit",
  "relative-date",
  "date",
  "pretty",
  "format",
  "author",
  "committer",
  "grep",
  "since",
  "until",
  "after",
  "before",
  "max-count",
  "skip",
  "min-parents",
  "max-parents",
  "all-match",
  "invert-grep",
  "regexp-ignore-case",
  "extended-regexp",
  "fixed-strings",
  "perl-regexp",
  "left-right",
  "cherry-pick",
  "cherry-mark",
  "cherry",
  "boundary",
  "simplify-by-decoration",
  "full-history",
  "dense",
  "sparse",
  "simplify-merges",
  "ancestry-path",
  "topo-order",
  "date-order",
  "author-date-order",
  "walk-reflogs",
  "notes",
  "no-notes",
  "show-signature",
  "log-size",
  "source",
  "use-mailmap",
  "mailmap",
  "parents",
  "children",
  "encoding",
  "expand-tabs",
  "no-expand-tabs",
  "show-pulls",
  "diff-merges",
  "no-diff-merges",
  "combined-all-paths",
  "remerge-diff",
  "dd",
  "cc",
  "m",
  "c",
  "t",
  "n",
  "i",
  "E",
  "F",
  "P",
  "L",
  "S",
  "G",
  "O",
  "X",
  "U",
  "l",
  "exclude",
  "glob",
  "count",
  "no-walk",
  "do-walk",
  "stdin",
  "full-diff",
  "show-linear-break",
  "since-as-filter",
  "single-worktree",
  "ignore-missing",
  "bisect",
  "in-commit-order",
  "no-min-parents",
  "no-max-parents",
  "basic-regexp",
  "show-notes-by-default",
  "clear-decorations",
  "decorate-refs",
  "decorate-refs-exclude",
  "standard-notes",
  "no-standard-notes",
  "show-notes",
  "no-use-mailmap",
  "no-mailmap"
]
/** Log-family short options that take a value as the next word. */
const GIT_LOG_SHORT_VALUES = new Set(["n", "S", "G", "O", "L", "U", "l", "X"])
const GIT_LOG_LONG_VALUES = new Set([
  "max-count",
  "skip",
  "author",
  "committer",
  "grep",
  "since",
  "until",
  "after",
  "before",
  "format",
  "pretty",
  "encoding",
  "date",
  "diff-filter",
  "min-parents",
  "max-parents",
  "stat-width",
  "diff-algorithm",
  "word-diff-regex",
  "src-prefix",
  "dst-prefix",
  "line-prefix",
  "anchored",
  "skip-to",
  "rotate-to",
  "exclude",
  "glob",
  "branches",
  "tags",
  "remotes",
  "decorate-refs",
  "decorate-refs-exclude",
  "ignore-matching-lines",
  "inter-hunk-context",
  "unified",
  "relative"
])
const GIT_BRANCH_FLAGS = new Set([
  "a",
  "r",
  "l",
  "v",
  "vv",
  "all",
  "remotes",
  "list",
  "verbose",
  "show-current",
  "contains",
  "no-contains",
  "merged",
  "no-merged",
  "sort",
  "format",
  "color",
  "no-color",
  "points-at",
  "column",
  "no-column",
  "abbrev",
  "no-abbrev",
  "ignore-case",
  "omit-empty"
])

/** Whether the options (words starting with `-`) of a git subcommand are all in `allowed`. */
const gitOptionsAllowed = (
  args: ReadonlyArray<Word>,
  allowed: ReadonlySet<string>,
  shortValues = GIT_LOG_SHORT_VALUES
) => {
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!
    if (!w.literal) continue
    const t = w.text
    if (t === "--") return true
    if (!t.startsWith("-") || t === "-") continue
    if (/^-\d+$/.test(t)) continue
    if (t.startsWith("--")) {
      const eq = t.indexOf("=")
      const name = (eq === -1 ? t.slice(2) : t.slice(2, eq)).replace(/^no-(?=[a-z])/, (m) =>
        allowed.has(t.slice(2, eq === -1 ? undefined : eq)) ? m : ""
      )
      if (!allowed.has(name) && !allowed.has(t.slice(2, eq === -1 ? undefined : eq))) return false
      if (eq === -1 && GIT_LOG_LONG_VALUES.has(name) && !["relative", "date", "decorate"].includes(name)) i++
      continue
    }
    const letters = t.slice(1)
    for (let j = 0; j < letters.length; j++) {
      const letter = letters[j]!
      if (!allowed.has(letter)) return false
      if (shortValues.has(letter)) {
        if (j === letters.length - 1) i++
        break
      }
      // -U3, -M50%: the rest is the value; `git status -uno`
      if (/[UMCBl]/.test(letter) && /^\d/.test(letters.slice(j + 1))) break
      if (letter === "u" && /^(?:no|normal|all)$/.test(letters.slice(j + 1))) break
    }
  }
  return true
}

const DIFF_FAMILY = new Set([...GIT_DIFF_FLAGS, ...GIT_LOG_FLAGS])
const GIT_STATUS_FLAGS = new Set([
  "s",
  "b",
  "v",
  "z",
  "u",
  "short",
  "branch",
  "porcelain",
  "long",
  "verbose",
  "untracked-files",
  "ignored",
  "ignore-submodules",
  "show-stash",
  "ahead-behind",
  "no-ahead-behind",
  "renames",
  "no-renames",
  "find-renames",
  "column",
  "no-column",
  "null"
])
const GIT_SIMPLE_READ: Record<string, ReadonlySet<string>> = {
  status: GIT_STATUS_FLAGS,
  diff: DIFF_FAMILY,
  log: DIFF_FAMILY,
  show: DIFF_FAMILY,
  whatchanged: DIFF_FAMILY,
  "rev-parse": new Set([
    "show-toplevel",
    "abbrev-ref",
    "short",
    "verify",
    "quiet",
    "q",
    "git-dir",
    "git-common-dir",
    "is-inside-work-tree",
    "is-inside-git-dir",
    "is-bare-repository",
    "show-prefix",
    "show-cdup",
    "symbolic-full-name",
    "symbolic",
    "all",
    "branches",
    "tags",
    "remotes",
    "absolute-git-dir",
    "show-superproject-working-tree",
    "path-format",
    "default"
  ]),
  "ls-files": new Set([
    "c",
    "d",
    "m",
    "o",
    "i",
    "s",
    "u",
    "k",
    "t",
    "v",
    "f",
    "z",
    "cached",
    "deleted",
    "modified",
    "others",
    "ignored",
    "stage",
    "unmerged",
    "killed",
    "directory",
    "no-empty-directory",
    "exclude-standard",
    "full-name",
    "recurse-submodules",
    "abbrev",
    "debug",
    "eol",
    "error-unmatch",
    "deduplicate",
    "sparse",
    "format",
    "exclude",
    "x"
  ]),
  "ls-tree": new Set([
    "d",
    "r",
    "t",
    "l",
    "z",
    "long",
    "name-only",
    "name-status",
    "object-only",
    "full-name",
    "full-tree",
    "abbrev",
    "format"
  ]),
  blame: new Set([
    "b",
    "l",
    "t",
    "s",
    "e",
    "w",
    "n",
    "f",
    "p",
    "c",
    "L",
    "M",
    "C",
    "porcelain",
    "line-porcelain",
    "incremental",
    "root",
    "show-stats",
    "show-name",
    "show-number",
    "show-email",
    "date",
    "abbrev",
    "reverse",
    "first-parent",
    "color-lines",
    "color-by-age",
    "minimal",
    "progress",
    "no-progress",
    "since",
    "encoding",
    "ignore-rev"
  ]),
  describe: new Set([
    "all",
    "tags",
    "contains",
    "abbrev",
    "long",
    "always",
    "first-parent",
    "exact-match",
    "dirty",
    "broken",
    "match",
    "exclude",
    "candidates",
    "debug"
  ]),
  "rev-list": DIFF_FAMILY,
  "show-ref": new Set([
    "head",
    "heads",
    "tags",
    "branches",
    "d",
    "dereference",
    "s",
    "hash",
    "verify",
    "abbrev",
    "q",
    "quiet",
    "exists"
  ]),
  "cat-file": new Set([
    "t",
    "s",
    "p",
    "e",
    "textconv",
    "filters",
    "batch",
    "batch-check",
    "follow-symlinks",
    "allow-unknown-type"
  ]),
  "merge-base": new Set(["a", "all", "octopus", "independent", "is-ancestor", "fork-point"]),
  "count-objects": new Set(["v", "H", "verbose", "human-readable"]),
  shortlog: new Set(["n", "s", "e", "c", "numbered", "summary", "email", "committer", "group", "format", "w"]),
  version: new Set(["build-options"])
}

/** git subcommands that are read-only when their operands say so. */
const gitListOnly = (sub: string, args: ReadonlyArray<Word>): boolean => {
  const operands = args.filter((w) => !w.literal || !w.text.startsWith("-"))
  const options = args.filter((w) => w.literal && w.text.startsWith("-"))
  switch (sub) {
    case "branch": {
      if (!gitOptionsAllowed(args, GIT_BRANCH_FLAGS, new Set())) return false
      const listing = options.some((w) => /^(?:-[^-]*l|--list)$/.test(w.text))
      const valueOptions = options.filter((w) =>
        /^--(?:contains|no-contains|merged|no-merged|points-at|sort|format)$/.test(w.text)
      ).length
      return operands.length === 0 || listing || operands.length <= valueOptions
    }
    case "tag":
      return (
        options.every((w) =>
          /^(?:-l|--list|-n\d*|--sort=.*|--contains|--points-at|--merged|--no-merged|--format=.*|--column|--no-column|-i|--ignore-case)$/.test(
            w.text
          )
        ) &&
        (operands.length === 0 || options.some((w) => w.text === "-l" || w.text === "--list"))
      )
    case "remote":
      return operands.length === 0 && options.every((w) => w.text === "-v" || w.text === "--verbose")
    case "stash":
      return operands[0]?.literal === true && operands[0].text === "list"
    case "config":
      return (
        (options.length > 0 &&
          options.every((w) =>
            /^(?:--get|--get-all|--get-regexp|--list|-l|--show-origin|--show-scope|--name-only|-z|--null|--includes|--type=\w+|--bool|--int|--default=.*)$/.test(
              w.text
            )
          )) ||
        (operands[0]?.literal === true && (operands[0].text === "get" || operands[0].text === "list"))
      )
    case "reflog":
      return operands.length === 0 || (operands[0]!.literal && operands[0]!.text === "show")
    case "worktree":
      return operands[0]?.literal === true && operands[0].text === "list"
    default:
      return false
  }
}

const GIT_RUNS_CODE: ReadonlyArray<readonly [RegExp, string]> = [
  [/^--(?:upload-pack|receive-pack|exec)(?:=|$)/, "runs a program on the remote side"],
  [/^--(?:template|separate-git-dir)(?:=|$)/, "installs hooks or points the repository elsewhere"],
  [/^--(?:extcmd|tool)(?:=|$)/, "runs a diff or merge tool"],
  [/^--open-files-in-pager(?:=|$)/, "runs a pager program"],
  [/^--(?:sendmail-cmd|smtp-server|to-cmd|cc-cmd|header-cmd)(?:=|$)/, "runs a mail program"],
  [/^--(?:tree|index|msg|env|commit|parent|tag|subdirectory)-filter(?:=|$)/, "runs a filter program"],
  [/^--(?:config)(?:=|$)/, "sets configuration that can run programs"],
  [/^--(?:strategy-option|exec-path)(?:=|$)/, "runs a program"]
]

/** Options of `git clone`, `git worktree add` and `git submodule add` that take a separate value. */
const GIT_VALUE_OPTIONS = new Set([
  "-b",
  "--branch",
  "-o",
  "--origin",
  "--depth",
  "--reference",
  "--reference-if-able",
  "-j",
  "--jobs",
  "--shallow-since",
  "--shallow-exclude",
  "--filter",
  "--server-option",
  "--bundle-uri",
  "-u",
  "--upload-pack",
  "-c",
  "--config",
  "--template",
  "--separate-git-dir",
  "-B",
  "--name",
  "--reason"
])

/** The operands of `args`: words that are not options nor the values of `GIT_VALUE_OPTIONS`. */
const gitOperands = (args: ReadonlyArray<Word>): ReadonlyArray<Word> => {
  const operands: Array<Word> = []
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!
    if (w.literal && w.text === "--") {
      operands.push(...args.slice(i + 1))
      break
    }
    if (w.literal && w.text.startsWith("-")) {
      if (GIT_VALUE_OPTIONS.has(w.text)) i++
      continue
    }
    operands.push(w)
  }
  return operands
}

/**
 * The places a git subcommand creates outside the files it tracks: the directory of `clone <repo> <dir>` and of
 * `worktree add <path>`, and for `submodule add|update|init|sync|set-url|set-branch|absorbgitdirs` the repository's
 * own configuration (`.git/config`, `.git/modules`), which a later git command reads.
 */
const gitCreates = (name: string, args: ReadonlyArray<Word>, b: Builder): void => {
  const operands = gitOperands(args)
  const action = operands[0]?.literal === true ? operands[0].text : undefined
  if (name === "clone" && operands[1] !== undefined) addWrite(b, operands[1], true, "git clone")
  if (name === "worktree" && action === "add" && operands[1] !== undefined)
    addWrite(b, operands[1], true, "git worktree add")
  if (
    name === "submodule" &&
    action !== undefined &&
    ["add", "update", "init", "sync", "set-url", "set-branch", "absorbgitdirs"].includes(action)
  ) {
    addWrite(b, lit(".git/config"), false, `git submodule ${action}`)
    if (action === "add" && operands[2] !== undefined) addWrite(b, operands[2], true, "git submodule add")
  }
}

const git = (words: ReadonlyArray<Word>, chdir: ReadonlyArray<Word>): ProgramFacts => {
  const b = builder(true)
  b.chdir.push(...chdir)
  const sub = words[1]
  const args = words.slice(2)
  if (sub === undefined) return b
  if (!sub.literal) {
    b.unknown.push(`git subcommand is not literal: ${sub.text}`)
    return b
  }
  const name = sub.text
  if (name === "--version" || name === "version" || name === "--help") {
    b.readOnly = args.length === 0
    return b
  }
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!
    if (!w.literal) continue
    const t = w.text
    for (const [pattern, why] of GIT_RUNS_CODE) if (pattern.test(t)) b.unknown.push(`git ${name} ${t} ${why}`)
    if (t.startsWith("--output=")) addWrite(b, lit(t.slice(9)), false, `git ${name} --output`)
    else if (t === "--output") {
      const target = args[i + 1]
      if (target !== undefined) addWrite(b, target, false, `git ${name} --output`)
    } else if (/^-O/.test(t) && name === "grep") b.unknown.push("git grep -O runs a pager program")
    else if (/^-[^-]*u/.test(t) && ["clone", "fetch", "pull", "ls-remote", "archive"].includes(name))
      b.unknown.push(`git ${name} ${t} runs a program on the remote side`)
    else if (/^-[^-]*x/.test(t) && (name === "rebase" || name === "difftool"))
      b.unknown.push(`git ${name} ${t} runs a command`)
    else if (/^-[^-]*c/.test(t) && name === "clone")
      b.unknown.push("git clone -c sets configuration that can run programs")
    else if ((t === "-o" || t.startsWith("--output-directory")) && name === "format-patch") {
      const target = t.includes("=") ? lit(t.slice(t.indexOf("=") + 1)) : args[i + 1]
      if (target !== undefined) addWrite(b, target, true, "git format-patch -o")
    }
  }
  if (name === "config" && !gitListOnly("config", args)) {
    // Setting configuration: it can make any later git command run a program.
    const file = args.findIndex((w) => w.literal && (w.text === "--file" || w.text === "-f"))
    const global = args.some((w) => w.literal && (w.text === "--global" || w.text === "--system"))
    addWrite(
      b,
      file !== -1 && args[file + 1] !== undefined ? args[file + 1]! : lit(global ? "~/.gitconfig" : ".git/config"),
      false,
      "git config"
    )
  }
  if (name === "submodule" && args.some((w) => w.literal && w.text === "foreach")) {
    const i = args.findIndex((w) => w.literal && w.text === "foreach")
    const rest = args.slice(i + 1).filter((w) => !(w.literal && w.text.startsWith("-")))
    if (rest.some((w) => !w.literal)) b.unknown.push("git submodule foreach with a non-literal command")
    else b.scripts.push({ source: rest.map((w) => w.text).join(" "), via: "git submodule foreach" })
  }
  gitCreates(name, args, b)
  // `git add` / `git stage` read the files their pathspecs name (into the index): reads, not places it may write.
  if (name === "add" || name === "stage") b.reads.push(...gitOperands(args))
  if (name === "bisect" && args[0]?.literal === true && args[0].text === "run") b.inner.push(args.slice(1))
  if (name === "apply" || name === "am") b.alwaysAsk.push(...patcher(`git ${name}`)(args).alwaysAsk)
  if (name === "rebase") {
    for (let i = 0; i < args.length; i++) {
      const t = args[i]!.text
      if (t === "--exec" || t === "-x") {
        const v = args[i + 1]
        if (v?.literal === true) b.scripts.push({ source: v.text, via: "git rebase --exec" })
      } else if (t.startsWith("--exec=")) b.scripts.push({ source: t.slice(7), via: "git rebase --exec" })
    }
  }
  const allowed = GIT_SIMPLE_READ[name]
  const readOnly =
    allowed !== undefined
      ? gitOptionsAllowed(args, allowed) &&
        !args.some((w) => w.literal && /^--(?:no-index|output|ext-diff|textconv)/.test(w.text))
      : gitListOnly(name, args)
  b.readOnly = readOnly && b.unknown.length === 0 && b.writes.length === 0
  if (b.readOnly && name !== "config" && name !== "rev-parse" && name !== "describe") {
    // Operands are revisions or paths; `rev:path` names a path too.
    const afterDashDash = args.findIndex((w) => w.literal && w.text === "--")
    for (const [i, w] of args.entries()) {
      if (w.literal && w.text.startsWith("-") && (afterDashDash === -1 || i < afterDashDash)) continue
      if (w.literal && w.text === "--") continue
      if (w.literal && w.text.includes(":") && !w.text.includes("://"))
        b.reads.push(lit(w.text.slice(w.text.indexOf(":") + 1) || "."))
      else b.reads.push(w)
    }
  }
  return b
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * The facts about one command after wrappers are removed (`words[0]` is the program). `chdir` is the directories
 * the caller already found it changes into (git `-C`).
 */
export const programFacts = (
  base: string | undefined,
  words: ReadonlyArray<Word>,
  chdir: ReadonlyArray<Word> = []
): ProgramFacts => {
  if (base === undefined) return UNKNOWN_PROGRAM
  const args = words.slice(1)
  if (base === "git") return git(words, chdir)
  const other = OTHERS[base] ?? WRITERS[base]
  if (other !== undefined) return other(args)
  const readOnly = READ_ONLY[base]
  if (readOnly !== undefined) return readOnly(args)
  return UNKNOWN_PROGRAM
}
