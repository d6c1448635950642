/**
 * Shell command semantics on already-parsed words: unwrapping of command prefixes that run another command
 * (`env`, `xargs`, `timeout`, `sh -c`, `eval`, ...), option normalization for `git`, and the environment
 * variable names that may be set in front of a command without a question. Pure; the tree walk that
 * produces the words lives in `ShellParser.ts`.
 */

/** One shell word after quote removal. `literal` is false when the shell would expand it (variables, globs, `~`). */
export interface Word {
  readonly text: string
  readonly literal: boolean
}

/** What one simple command means for permission checks. */
export type Expansion =
  /**
   * A command that runs (words after unwrapping and normalization). `opaque` commands run code the analysis
   * cannot see (a shell reading stdin, `source`, `python -c`): deny rules may hide inside them.
   */
  | { readonly _tag: "Command"; readonly words: ReadonlyArray<Word>; readonly opaque: boolean }
  /** Shell source that runs (`sh -c '...'`, `eval ...`); `trusted` is false for non-bash dialects. */
  | { readonly _tag: "Script"; readonly source: string; readonly via: string; readonly trusted: boolean }
  /** Something the analysis cannot vouch for: the whole command needs a question. */
  | { readonly _tag: "Unknown"; readonly reason: string }
  /** A file the command writes (for example `time -o file`, `find -fprint file`). */
  | { readonly _tag: "Write"; readonly path: Word }

const command = (words: ReadonlyArray<Word>, opaque = false): Expansion => ({ _tag: "Command", words, opaque })
const unknown = (reason: string): Expansion => ({ _tag: "Unknown", reason })

/** Environment names that are safe to set in front of a command (`NODE_ENV=test npm test`). */
const SAFE_ENV = new Set([
  "NODE_ENV",
  "CI",
  "DEBUG",
  "FORCE_COLOR",
  "NO_COLOR",
  "TERM",
  "COLUMNS",
  "LINES",
  "LANG",
  "LANGUAGE",
  "TZ",
  "RUST_BACKTRACE",
  "RUST_LOG",
  "LOG_LEVEL",
  "VERBOSE",
  "NODE_NO_WARNINGS",
  "PYTHONUNBUFFERED",
  "PYTHONDONTWRITEBYTECODE",
  "PORT",
  "HOST"
])

/**
 * Whether assigning `name` cannot change which program runs or what it executes. Upper-case names are
 * allowed only from a short list (PATH, LD_PRELOAD, GIT_*, PAGER, NODE_OPTIONS, HOME and many more can make
 * an allowed command run arbitrary code); lower-case shell variables are fine except the ones tools read.
 */
export const isSafeEnvName = (name: string): boolean =>
  SAFE_ENV.has(name) ||
  /^LC_[A-Z]+$/.test(name) ||
  (/^[a-z_][a-z0-9_]*$/.test(name) && !/^(npm_|yarn_|pnpm_|bun_|git_)|proxy$/.test(name))

const STANDARD_DIR = /^\/(?:usr\/)?(?:local\/)?s?bin\/([^/]+)$/

/** The name used to recognize a command: bare names, or basenames of programs in the standard bin directories. */
export const commandBase = (text: string): string | undefined => {
  if (!text.includes("/")) return text
  const m = STANDARD_DIR.exec(text)
  return m === null ? undefined : m[1]
}

interface OptionSpec {
  /** Short letters and long names (without dashes) that take no value. */
  readonly flags?: ReadonlyArray<string>
  /** Short letters and long names that take a value. */
  readonly values?: ReadonlyArray<string>
  /** Options after which the remaining words are not a command (the wrapper itself is the command). */
  readonly self?: ReadonlyArray<string>
  /** Options we refuse to reason about. */
  readonly refuse?: ReadonlyArray<string>
}

type OptionsResult =
  | {
      readonly _tag: "Ok"
      readonly rest: ReadonlyArray<Word>
      readonly seen: ReadonlyArray<readonly [string, string | undefined]>
    }
  | { readonly _tag: "Self" }
  | { readonly _tag: "Unknown"; readonly reason: string }

/** A small getopt: options come first, `--` ends them, the first operand ends them. */
const parseOptions = (wrapper: string, args: ReadonlyArray<Word>, spec: OptionSpec): OptionsResult => {
  const flags = new Set(spec.flags ?? [])
  const values = new Set(spec.values ?? [])
  const self = new Set(spec.self ?? [])
  const refuse = new Set(spec.refuse ?? [])
  const seen: Array<readonly [string, string | undefined]> = []
  const classify = (name: string): "flag" | "value" | "self" | "refuse" | "unknown" =>
    refuse.has(name)
      ? "refuse"
      : self.has(name)
        ? "self"
        : flags.has(name)
          ? "flag"
          : values.has(name)
            ? "value"
            : "unknown"
  let i = 0
  while (i < args.length) {
    const word = args[i]!
    if (!word.literal) return { _tag: "Unknown", reason: `${wrapper}: option or command is not literal: ${word.text}` }
    const text = word.text
    if (text === "--") return { _tag: "Ok", rest: args.slice(i + 1), seen }
    if (!text.startsWith("-") || text === "-") break
    if (text.startsWith("--")) {
      const eq = text.indexOf("=")
      const name = eq === -1 ? text.slice(2) : text.slice(2, eq)
      const kind = classify(name)
      if (kind === "self") return { _tag: "Self" }
      if (kind === "refuse" || kind === "unknown") return { _tag: "Unknown", reason: `${wrapper}: option ${text}` }
      if (kind === "flag") {
        if (eq !== -1) return { _tag: "Unknown", reason: `${wrapper}: option ${text}` }
        seen.push([name, undefined])
        i++
        continue
      }
      if (eq !== -1) {
        seen.push([name, text.slice(eq + 1)])
        i++
        continue
      }
      const value = args[i + 1]
      if (value === undefined || !value.literal) return { _tag: "Unknown", reason: `${wrapper}: value of ${text}` }
      seen.push([name, value.text])
      i += 2
      continue
    }
    let consumedNext = false
    for (let j = 1; j < text.length; j++) {
      const letter = text[j]!
      const kind = classify(letter)
      if (kind === "self") return { _tag: "Self" }
      if (kind === "refuse" || kind === "unknown") return { _tag: "Unknown", reason: `${wrapper}: option -${letter}` }
      if (kind === "flag") {
        seen.push([letter, undefined])
        continue
      }
      const attached = text.slice(j + 1)
      if (attached.length > 0) {
        seen.push([letter, attached])
      } else {
        const value = args[i + 1]
        if (value === undefined || !value.literal) return { _tag: "Unknown", reason: `${wrapper}: value of -${letter}` }
        seen.push([letter, value.text])
        consumedNext = true
      }
      break
    }
    i += consumedNext ? 2 : 1
  }
  return { _tag: "Ok", rest: args.slice(i), seen }
}

/** How a wrapper treats the words after its name. */
type WrapperResult =
  /** Continue with these words as the command (plus side effects). */
  | { readonly _tag: "Inner"; readonly words: ReadonlyArray<Word>; readonly extra?: ReadonlyArray<Expansion> }
  /** The wrapper itself is the command (for example `command -v rm`). */
  | { readonly _tag: "Self" }
  /** Final expansions (scripts, unknowns). */
  | { readonly _tag: "Done"; readonly expansions: ReadonlyArray<Expansion> }

type Wrapper = (args: ReadonlyArray<Word>, all: ReadonlyArray<Word>) => WrapperResult

const fromOptions = (
  result: OptionsResult,
  all: ReadonlyArray<Word>,
  extra?: ReadonlyArray<Expansion>
): WrapperResult =>
  result._tag === "Ok"
    ? { _tag: "Inner", words: result.rest, ...(extra === undefined ? {} : { extra }) }
    : result._tag === "Self"
      ? { _tag: "Self" }
      : { _tag: "Done", expansions: [unknown(result.reason), command(all)] }

const simpleWrapper =
  (name: string, spec: OptionSpec): Wrapper =>
  (args, all) =>
    fromOptions(parseOptions(name, args, spec), all)

const literalWord = (text: string): Word => ({ text, literal: true })

const shellWrapper =
  (name: string, trusted: boolean): Wrapper =>
  (args, all) => {
    let commandFlag = false
    let i = 0
    while (i < args.length) {
      const word = args[i]!
      if (!word.literal)
        return { _tag: "Done", expansions: [unknown(`${name}: argument is not literal`), command(all)] }
      const text = word.text
      if (text === "--" || text === "-") {
        i++
        break
      }
      if (text.startsWith("--")) {
        i += text === "--rcfile" || text === "--init-file" ? 2 : 1
        continue
      }
      if (text.startsWith("-") || text.startsWith("+")) {
        const letters = text.slice(1)
        if (text.startsWith("-") && letters.includes("c")) commandFlag = true
        // -o / -O take an option name as the next word
        i += 1 + [...letters].filter((l) => l === "o" || l === "O").length
        continue
      }
      break
    }
    const source = args[i]
    if (!commandFlag) {
      // `bash script.sh` runs a file like any program; `bash`, `bash -s`, `bash -` read commands from stdin.
      const fromStdin = source === undefined || args.slice(0, i).some((w) => /^-[^-]*s/.test(w.text))
      return fromStdin ? { _tag: "Done", expansions: [command(all, true)] } : { _tag: "Self" }
    }
    if (source === undefined) return { _tag: "Self" }
    if (!source.literal)
      return { _tag: "Done", expansions: [unknown(`${name} -c with a non-literal script`), command(all)] }
    return { _tag: "Done", expansions: [{ _tag: "Script", source: source.text, via: `${name} -c`, trusted }] }
  }

const xargsWrapper: Wrapper = (args, all) => {
  const result = parseOptions("xargs", args, {
    flags: ["0", "r", "t", "p", "x", "o", "null", "no-run-if-empty", "verbose", "interactive", "exit", "open-tty"],
    values: [
      "n",
      "L",
      "P",
      "s",
      "d",
      "a",
      "E",
      "I",
      "i",
      "e",
      "l",
      "max-args",
      "max-lines",
      "max-procs",
      "max-chars",
      "delimiter",
      "arg-file",
      "eof",
      "replace",
      "process-slot-var"
    ]
  })
  if (result._tag !== "Ok") return fromOptions(result, all)
  const replace = result.seen.find(([opt]) => opt === "I" || opt === "i" || opt === "replace")
  const placeholder =
    replace === undefined ? undefined : replace[1] === undefined || replace[1] === "" ? "{}" : replace[1]
  const words = (result.rest.length === 0 ? [literalWord("echo")] : result.rest).map((w) =>
    placeholder !== undefined && w.text.includes(placeholder) ? { text: w.text, literal: false } : w
  )
  // Arguments read from stdin are appended: they are unknown words.
  return { _tag: "Inner", words: placeholder === undefined ? [...words, { text: "<stdin>", literal: false }] : words }
}

const envWrapper: Wrapper = (args, all) => {
  let rest = args
  if (rest[0]?.literal === true && rest[0].text === "-") rest = rest.slice(1)
  const result = parseOptions("env", rest, {
    flags: ["i", "0", "v", "ignore-environment", "null", "debug"],
    values: ["u", "C", "unset", "chdir"],
    refuse: ["S", "split-string", "P", "default-signal", "ignore-signal", "block-signal"]
  })
  if (result._tag !== "Ok") return fromOptions(result, all)
  const extra: Array<Expansion> = []
  let i = 0
  for (; i < result.rest.length; i++) {
    const word = result.rest[i]!
    const eq = word.text.indexOf("=")
    if (eq <= 0) break
    if (!word.literal && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word.text)) {
      return { _tag: "Done", expansions: [unknown(`env: argument is not literal: ${word.text}`), command(all)] }
    }
    const name = word.text.slice(0, eq)
    if (!isSafeEnvName(name)) extra.push(unknown(`env sets ${name}`))
  }
  const words = result.rest.slice(i)
  if (words.length === 0) return { _tag: "Self" }
  if (!words[0]!.literal) return { _tag: "Done", expansions: [unknown("env: command is not literal"), command(all)] }
  return { _tag: "Inner", words, extra }
}

const timeoutWrapper: Wrapper = (args, all) => {
  const result = parseOptions("timeout", args, {
    flags: ["v", "verbose", "preserve-status", "foreground"],
    values: ["s", "k", "signal", "kill-after"]
  })
  if (result._tag !== "Ok") return fromOptions(result, all)
  const duration = result.rest[0]
  if (duration === undefined) return { _tag: "Self" }
  if (!duration.literal)
    return { _tag: "Done", expansions: [unknown("timeout: duration is not literal"), command(all)] }
  return { _tag: "Inner", words: result.rest.slice(1) }
}

const niceWrapper: Wrapper = (args, all) => {
  const first = args[0]
  const rest = first?.literal && /^-\d+$/.test(first.text) ? args.slice(1) : args
  return fromOptions(parseOptions("nice", rest, { values: ["n", "adjustment"] }), all)
}

const timeWrapper: Wrapper = (args, all) => {
  const result = parseOptions("time", args, {
    flags: ["p", "a", "v", "q", "portability", "append", "verbose", "quiet"],
    values: ["f", "o", "format", "output"]
  })
  if (result._tag !== "Ok") return fromOptions(result, all)
  const writes: Array<Expansion> = result.seen
    .filter(([opt]) => opt === "o" || opt === "output")
    .map(([, value]) => ({ _tag: "Write", path: literalWord(value ?? "") }))
  return { _tag: "Inner", words: result.rest, extra: writes }
}

const commandWrapper: Wrapper = (args, all) =>
  fromOptions(parseOptions("command", args, { flags: ["p"], self: ["v", "V"] }), all)

const watchWrapper: Wrapper = (args, all) => {
  const result = parseOptions("watch", args, {
    flags: [
      "d",
      "t",
      "b",
      "e",
      "g",
      "c",
      "x",
      "p",
      "w",
      "r",
      "differences",
      "no-title",
      "beep",
      "errexit",
      "chgexit",
      "color",
      "exec",
      "precise",
      "no-wrap",
      "no-rerun"
    ],
    values: ["n", "q", "interval", "equexit"]
  })
  if (result._tag !== "Ok") return fromOptions(result, all)
  if (result.seen.some(([opt]) => opt === "x" || opt === "exec")) return { _tag: "Inner", words: result.rest }
  if (result.rest.some((w) => !w.literal))
    return { _tag: "Done", expansions: [unknown("watch: command is not literal"), command(all)] }
  if (result.rest.length === 0) return { _tag: "Self" }
  return {
    _tag: "Done",
    expansions: [{ _tag: "Script", source: result.rest.map((w) => w.text).join(" "), via: "watch", trusted: true }]
  }
}

const evalWrapper: Wrapper = (args, all) => {
  const rest = args[0]?.literal === true && args[0].text === "--" ? args.slice(1) : args
  if (rest.some((w) => !w.literal))
    return { _tag: "Done", expansions: [unknown("eval of a non-literal string"), command(all)] }
  return {
    _tag: "Done",
    expansions: [{ _tag: "Script", source: rest.map((w) => w.text).join(" "), via: "eval", trusted: true }]
  }
}

const WRAPPERS: Record<string, Wrapper> = {
  env: envWrapper,
  command: commandWrapper,
  builtin: simpleWrapper("builtin", {}),
  exec: simpleWrapper("exec", { flags: ["c", "l"], values: ["a"] }),
  nohup: simpleWrapper("nohup", {}),
  time: timeWrapper,
  nice: niceWrapper,
  timeout: timeoutWrapper,
  xargs: xargsWrapper,
  coproc: simpleWrapper("coproc", {}),
  stdbuf: simpleWrapper("stdbuf", { values: ["i", "o", "e", "input", "output", "error"] }),
  setsid: simpleWrapper("setsid", { flags: ["c", "f", "w", "ctty", "fork", "wait"] }),
  ionice: simpleWrapper("ionice", { flags: ["t", "ignore"], values: ["c", "n", "p", "P", "u", "class", "classdata"] }),
  sudo: simpleWrapper("sudo", {
    flags: ["A", "b", "E", "H", "k", "n", "P", "S", "B", "preserve-env", "non-interactive", "background"],
    values: ["C", "g", "h", "p", "r", "t", "T", "u", "U", "D", "R", "user", "group", "chdir", "host", "prompt"],
    self: ["e", "l", "v", "V", "K", "edit", "list", "validate", "version"],
    refuse: ["i", "s", "login", "shell"]
  }),
  doas: simpleWrapper("doas", { flags: ["n"], values: ["u", "C"], refuse: ["s"] }),
  busybox: simpleWrapper("busybox", {}),
  watch: watchWrapper,
  eval: evalWrapper,
  sh: shellWrapper("sh", true),
  bash: shellWrapper("bash", true),
  dash: shellWrapper("dash", true),
  ash: shellWrapper("ash", true),
  ksh: shellWrapper("ksh", false),
  mksh: shellWrapper("mksh", false),
  zsh: shellWrapper("zsh", false),
  fish: shellWrapper("fish", false),
  csh: shellWrapper("csh", false),
  tcsh: shellWrapper("tcsh", false)
}

/** Builtins that assign to variable names given as arguments: an array subscript there is arithmetic evaluation. */
const ASSIGNING_BUILTINS = new Set(["read", "mapfile", "readarray", "wait", "getopts", "unset"])

/** Builtins that evaluate their arguments as code we cannot follow. */
const CODE_BUILTINS = new Set(["let", "trap", "alias", "fc", "bind", "complete", "enable", "hash"])

/** Interpreters and the options that make them run inline code (or `true`: the program is always inline). */
const INLINE_CODE: ReadonlyArray<readonly [RegExp, RegExp | true]> = [
  [/^(source|\.)$/, true],
  [/^[gmn]?awk$/, true],
  [/^python[0-9.]*$/, /^-[^-]*c|^-$/],
  [/^(node|nodejs|bun)$/, /^(-[^-]*[ep]|--eval|--print|-)$/],
  [/^deno$/, /^eval$/],
  [/^(perl|ruby)$/, /^-[^-]*[eE]/],
  [/^php$/, /^-[^-]*r/],
  [/^lua[0-9.]*$/, /^-[^-]*e/]
]

const runsInlineCode = (base: string, words: ReadonlyArray<Word>): boolean =>
  INLINE_CODE.some(
    ([name, flag]) =>
      name.test(base) &&
      (flag === true || words.length === 1 || words.slice(1).some((w) => !w.literal || flag.test(w.text)))
  )

/** `git` global options that take a value as the next word. */
const GIT_VALUE_OPTIONS = new Set(["-C", "--git-dir", "--work-tree", "--namespace", "--super-prefix", "--list-cmds"])
const GIT_FLAG_OPTIONS = new Set([
  "-p",
  "--paginate",
  "-P",
  "--no-pager",
  "--bare",
  "--no-replace-objects",
  "--literal-pathspecs",
  "--glob-pathspecs",
  "--noglob-pathspecs",
  "--icase-pathspecs",
  "--no-optional-locks",
  "--no-advice",
  "--no-lazy-fetch"
])

/** `git -C dir --no-pager push` is matched as `git push`. Options that can run code (`-c`) need a question. */
export const normalizeGit = (
  words: ReadonlyArray<Word>
): { readonly words: ReadonlyArray<Word>; readonly unknown?: string } => {
  let i = 1
  let problem: string | undefined
  while (i < words.length) {
    const word = words[i]!
    if (!word.literal) return { words, unknown: `git: global option is not literal: ${word.text}` }
    const text = word.text
    if (!text.startsWith("-")) break
    const eq = text.indexOf("=")
    const name = eq === -1 ? text : text.slice(0, eq)
    if (text === "-c" || text === "--config-env" || name === "--exec-path" || name === "--config-env") {
      problem = `git ${text} can run arbitrary commands`
      i += text === "-c" || text === "--config-env" ? 2 : 1
      continue
    }
    if (GIT_FLAG_OPTIONS.has(text)) {
      i++
      continue
    }
    if (GIT_VALUE_OPTIONS.has(name)) {
      i += eq === -1 ? 2 : 1
      continue
    }
    if (text.startsWith("-C") && text.length > 2) {
      i++
      continue
    }
    if (text.startsWith("-c") && text.length > 2) {
      problem = `git ${text} can run arbitrary commands`
      i++
      continue
    }
    // --version, --help, and unknown options: keep the words as they are
    break
  }
  const normalized = [words[0]!, ...words.slice(i)]
  return problem === undefined ? { words: normalized } : { words: normalized, unknown: problem }
}

const findExpansions = (words: ReadonlyArray<Word>, depth: number): Array<Expansion> => {
  const out: Array<Expansion> = []
  for (let i = 1; i < words.length; i++) {
    const text = words[i]!.text
    if (text === "-exec" || text === "-execdir" || text === "-ok" || text === "-okdir") {
      let j = i + 1
      while (j < words.length && !(words[j]!.literal && (words[j]!.text === ";" || words[j]!.text === "+"))) j++
      const inner = words.slice(i + 1, j).map((w) => (w.text.includes("{}") ? { text: w.text, literal: false } : w))
      if (inner.length === 0) out.push(unknown(`find ${text} without a command`))
      else out.push(...expandCommand(inner, [], depth + 1))
      i = j
    } else if (text === "-fprint" || text === "-fprint0" || text === "-fls" || text === "-fprintf") {
      const target = words[i + 1]
      if (target !== undefined) out.push({ _tag: "Write", path: target })
      i++
    }
  }
  return out
}

const MAX_DEPTH = 12

/**
 * Expands one simple command (its words and the names assigned in front of it) into what runs.
 * Wrappers are peeled off repeatedly (`env X=1 nohup timeout 5 rm` runs `rm`).
 */
export const expandCommand = (
  words: ReadonlyArray<Word>,
  assignments: ReadonlyArray<string>,
  depth = 0
): Array<Expansion> => {
  const out: Array<Expansion> = []
  for (const name of assignments) if (!isSafeEnvName(name)) out.push(unknown(`assignment to ${name} before a command`))
  let current = words
  for (let round = 0; ; round++) {
    if (current.length === 0) return out
    if (round > MAX_DEPTH || depth > MAX_DEPTH) {
      out.push(unknown("commands nested too deeply"), command(current))
      return out
    }
    const head = current[0]!
    if (!head.literal || head.text.startsWith("=")) {
      out.push(unknown(`the command name is not literal: ${head.text}`), command(current))
      return out
    }
    const base = commandBase(head.text)
    const wrapper = base === undefined ? undefined : WRAPPERS[base]
    if (wrapper === undefined) break
    const result = wrapper(current.slice(1), current)
    if (result._tag === "Self") break
    if (result._tag === "Done") {
      out.push(...result.expansions)
      return out
    }
    if (result.extra !== undefined) out.push(...result.extra)
    current = result.words
  }
  const base = commandBase(current[0]!.text)
  if (base === "git") {
    const normalized = normalizeGit(current)
    if (normalized.unknown !== undefined) out.push(unknown(normalized.unknown))
    current = normalized.words
  } else if (base === "find") {
    out.push(...findExpansions(current, depth))
  } else if (base !== undefined && CODE_BUILTINS.has(base)) {
    out.push(unknown(`${base} evaluates code that cannot be checked`))
  } else if (base !== undefined && ASSIGNING_BUILTINS.has(base)) {
    if (current.slice(1).some((w) => !w.literal || w.text.includes("[")))
      out.push(unknown(`${base} with a computed variable name`))
  } else if (base === "printf") {
    const v = current.findIndex((w) => w.text.startsWith("-v"))
    const target = v === -1 ? undefined : current[v]!.text === "-v" ? current[v + 1] : current[v]
    if (target !== undefined && (!target.literal || target.text.includes("[")))
      out.push(unknown("printf -v with a computed variable name"))
  }
  out.push(command(current, base !== undefined && runsInlineCode(base, current)))
  return out
}
