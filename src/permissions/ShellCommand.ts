/**
 * Shell command semantics on already-parsed words: unwrapping of command prefixes that run another command
 * (`env`, `xargs`, `timeout`, `sh -c`, `eval`, ...), option normalization for `git`, and the environment
 * variable names that may be set in front of a command without a question. Pure; the tree walk that
 * produces the words lives in `ShellParser.ts`.
 */

import { type ProgramFacts, programFacts } from "./Programs.js"

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
  | {
      readonly _tag: "Command"
      readonly words: ReadonlyArray<Word>
      readonly opaque: boolean
      /** What the program does with its arguments (absent for wrappers that could not be unwrapped). */
      readonly facts?: ProgramFacts
    }
  /** Shell source that runs (`sh -c '...'`, `eval ...`); `trusted` is false for non-bash dialects. */
  | { readonly _tag: "Script"; readonly source: string; readonly via: string; readonly trusted: boolean }
  /** Something the analysis cannot vouch for: the whole command needs a question. */
  | { readonly _tag: "Unknown"; readonly reason: string }
  /** A file the command writes like a redirection (for example `time -o file`). */
  | { readonly _tag: "Write"; readonly path: Word }
  /** Something that needs a question in every mode, even with allow rules (a change of privilege, a write the checker cannot resolve). */
  | { readonly _tag: "AlwaysAsk"; readonly reason: string }
  /** A shell variable the command line assigns (any syntax); `exported` when programs see it. */
  | { readonly _tag: "Assign"; readonly name: string; readonly exported: boolean }

const command = (words: ReadonlyArray<Word>, opaque = false): Expansion => ({ _tag: "Command", words, opaque })
const unknown = (reason: string): Expansion => ({ _tag: "Unknown", reason })
const alwaysAsk = (reason: string): Expansion => ({ _tag: "AlwaysAsk", reason })

/**
 * Environment names that are harmless to give a program (`NODE_ENV=test npm test`, `export CI=1`): an allowlist.
 * PATH, HOME, LD_*, GIT_*, BASH_ENV, ENV, IFS, PS4, PROMPT_COMMAND, NODE_OPTIONS, PYTHON*, npm_config_* and every
 * other name not listed can make an allowed command run other code, so assigning them asks.
 */
const SAFE_ENV = new Set([
  "NODE_ENV",
  "CI",
  "DEBUG",
  "FORCE_COLOR",
  "NO_COLOR",
  "CLICOLOR",
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
  "HOST",
  "GOFLAGS_VERBOSE",
  "TIMING"
])

/** Variables bash itself sets for its builtins (`read` without a name sets REPLY): harmless to assign. */
const SHELL_SCRATCH = new Set(["REPLY", "MAPFILE", "OPTARG", "OPTIND", "COPROC"])

/**
 * Whether a program may be given `name` in its environment (prefix assignments, `export`, `env NAME=`,
 * `declare -x`): only names on the allowlist, plus `LC_*`.
 */
export const isSafeEnvName = (name: string): boolean => SAFE_ENV.has(name) || /^LC_[A-Z]+$/.test(name)

/**
 * Whether a plain shell variable (not exported: `x=1`, `for f in`, `read line`) may be assigned. Bash reads no
 * lower-case variable in a non-interactive shell and programs only see a variable when it is exported, so
 * lower-case names are harmless except the few that programs read from an inherited environment (proxies,
 * npm/yarn configuration); upper-case names only from the environment allowlist.
 */
export const isSafeShellName = (name: string): boolean =>
  isSafeEnvName(name) ||
  SHELL_SCRATCH.has(name) ||
  (/^[a-z_][a-z0-9_]*$/.test(name) &&
    !/^(npm_|yarn_|pnpm_|bun_|git_|histchars$|auto_resume$)|proxy$/.test(name) &&
    !/^_+$/.test(name))

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
  // Clearing the environment or removing a variable also removes what Sage sets for commands (git hardening).
  if (args[0]?.literal === true && args[0].text === "-") extra.push(unknown("env - clears the environment"))
  for (const [opt, value] of result.seen) {
    if (opt === "i" || opt === "ignore-environment") extra.push(unknown("env -i clears the environment"))
    if (opt === "u" || opt === "unset") {
      const name = value ?? ""
      extra.push({ _tag: "Assign", name, exported: true })
      if (!isSafeEnvName(name)) extra.push(unknown(`env -u removes ${name}`))
    }
  }
  let i = 0
  for (; i < result.rest.length; i++) {
    const word = result.rest[i]!
    const eq = word.text.indexOf("=")
    if (eq <= 0) break
    if (!word.literal && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word.text)) {
      return { _tag: "Done", expansions: [unknown(`env: argument is not literal: ${word.text}`), command(all)] }
    }
    const name = word.text.slice(0, eq)
    extra.push({ _tag: "Assign", name, exported: true })
    if (!isSafeEnvName(name)) extra.push(unknown(`env sets ${name}`))
  }
  const words = result.rest.slice(i)
  if (words.length === 0) return { _tag: "Self" }
  if (!words[0]!.literal) return { _tag: "Done", expansions: [unknown("env: command is not literal"), command(all)] }
  const chdir = result.seen.filter(([opt]) => opt === "C" || opt === "chdir")
  if (chdir.length > 0) extra.push(unknown("env -C runs the command in another directory"))
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

/** Wrappers that run their command as another user or in another root or namespace: always a question. */
const privileged =
  (name: string, inner: Wrapper): Wrapper =>
  (args, all) => {
    const reason = alwaysAsk(`${name} runs a command with other privileges or in another root or namespace`)
    const result = inner(args, all)
    if (result._tag === "Self") return { _tag: "Done", expansions: [reason, command(all)] }
    if (result._tag === "Done") return { _tag: "Done", expansions: [reason, ...result.expansions] }
    return { ...result, extra: [reason, ...(result.extra ?? [])] }
  }

/** A wrapper whose command is given as one shell string by an option (`su -c`, `script -c`, `flock -c`). */
const scriptOption = (
  name: string,
  result: OptionsResult,
  options: ReadonlyArray<string>,
  all: ReadonlyArray<Word>
) => {
  if (result._tag !== "Ok") return undefined
  const script = result.seen.find(([opt]) => options.includes(opt))
  if (script === undefined) return undefined
  const source = script[1]
  if (source === undefined) return { _tag: "Done", expansions: [unknown(`${name}: no command`), command(all)] } as const
  return {
    _tag: "Done",
    expansions: [{ _tag: "Script", source, via: `${name} -c`, trusted: true }]
  } as const
}

const suWrapper =
  (name: string): Wrapper =>
  (args, all) => {
    const result = parseOptions(name, args, {
      flags: ["l", "m", "p", "f", "P", "login", "preserve-environment", "pty", "fast"],
      values: [
        "c",
        "s",
        "g",
        "G",
        "u",
        "w",
        "C",
        "command",
        "shell",
        "group",
        "supp-group",
        "user",
        "whitelist-environment",
        "session-command"
      ]
    })
    const script = scriptOption(name, result, ["c", "command", "C", "session-command"], all)
    if (script !== undefined) return script
    if (result._tag !== "Ok") return fromOptions(result, all)
    // `runuser -u user command...` runs the command directly.
    if (name === "runuser" && result.seen.some(([opt]) => opt === "u" || opt === "user") && result.rest.length > 0)
      return { _tag: "Inner", words: result.rest }
    // `su user` starts a login shell that reads commands from stdin.
    return { _tag: "Done", expansions: [command(all, true)] }
  }

const scriptWrapper: Wrapper = (args, all) => {
  const result = parseOptions("script", args, {
    flags: ["a", "e", "f", "q", "append", "return", "flush", "quiet", "force"],
    values: [
      "c",
      "E",
      "t",
      "T",
      "B",
      "I",
      "O",
      "m",
      "o",
      "command",
      "echo",
      "timing",
      "log-timing",
      "log-io",
      "log-in",
      "log-out",
      "logging-format",
      "output-limit"
    ]
  })
  if (result._tag !== "Ok") return fromOptions(result, all)
  const file = result.rest[0] ?? literalWord("typescript")
  const writes: Array<Expansion> = [{ _tag: "Write", path: file }]
  for (const [opt, value] of result.seen)
    if ("tTBIO".includes(opt) || opt.startsWith("log-") || opt === "timing")
      writes.push({ _tag: "Write", path: literalWord(value ?? "") })
  const script = scriptOption("script", result, ["c", "command"], all)
  if (script !== undefined) return { _tag: "Done", expansions: [...writes, ...script.expansions] }
  return { _tag: "Done", expansions: [...writes, command(all, true)] }
}

const flockWrapper: Wrapper = (args, all) => {
  const result = parseOptions("flock", args, {
    flags: [
      "s",
      "x",
      "e",
      "n",
      "u",
      "o",
      "F",
      "shared",
      "exclusive",
      "nonblock",
      "nb",
      "unlock",
      "close",
      "no-fork",
      "verbose"
    ],
    values: ["w", "E", "timeout", "wait", "conflict-exit-code"]
  })
  if (result._tag !== "Ok") return fromOptions(result, all)
  const [lock, ...rest] = result.rest
  if (lock === undefined || rest.length === 0) return { _tag: "Self" }
  // The lock file is created if missing.
  const extra: Array<Expansion> = [{ _tag: "Write", path: lock }]
  const first = rest[0]!
  if (first.literal && (first.text === "-c" || first.text === "--command")) {
    const source = rest[1]
    if (source === undefined || !source.literal)
      return { _tag: "Done", expansions: [...extra, unknown("flock -c with a non-literal command"), command(all)] }
    return {
      _tag: "Done",
      expansions: [...extra, { _tag: "Script", source: source.text, via: "flock -c", trusted: true }]
    }
  }
  return { _tag: "Inner", words: rest, extra }
}

/** `wrapper [options] ARG command...`: one argument (a CPU mask, a priority, a root) before the command. */
const argThenCommand =
  (name: string, spec: OptionSpec, defaultOpaque = false): Wrapper =>
  (args, all) => {
    const result = parseOptions(name, args, spec)
    if (result._tag !== "Ok") return fromOptions(result, all)
    if (result.rest.length === 0) return { _tag: "Self" }
    if (!result.rest[0]!.literal)
      return { _tag: "Done", expansions: [unknown(`${name}: argument is not literal`), command(all)] }
    const rest = result.rest.slice(1)
    if (rest.length === 0) return defaultOpaque ? { _tag: "Done", expansions: [command(all, true)] } : { _tag: "Self" }
    return { _tag: "Inner", words: rest }
  }

/** `wrapper [options] [command...]`; no command means an interactive shell (`unshare`, `nsenter`). */
const optionsThenCommand =
  (name: string, spec: OptionSpec): Wrapper =>
  (args, all) => {
    const result = parseOptions(name, args, spec)
    if (result._tag !== "Ok") return fromOptions(result, all)
    if (result.rest.length === 0) return { _tag: "Done", expansions: [command(all, true)] }
    return { _tag: "Inner", words: result.rest }
  }

const traceWrapper =
  (name: string, spec: OptionSpec): Wrapper =>
  (args, all) => {
    const result = parseOptions(name, args, spec)
    if (result._tag !== "Ok") return fromOptions(result, all)
    const extra: Array<Expansion> = []
    for (const [opt, value] of result.seen) {
      if (opt === "o" || opt === "output") extra.push({ _tag: "Write", path: literalWord(value ?? "") })
      if (opt === "E" || opt === "env") {
        const eq = (value ?? "").indexOf("=")
        const envName = eq === -1 ? (value ?? "") : (value ?? "").slice(0, eq)
        extra.push({ _tag: "Assign", name: envName, exported: true })
        if (!isSafeEnvName(envName)) extra.push(unknown(`${name} sets ${envName}`))
      }
      if (opt === "u" || opt === "user") extra.push(alwaysAsk(`${name} -u runs the command as another user`))
    }
    if (result.rest.length === 0) return { _tag: "Self" }
    return { _tag: "Inner", words: result.rest, extra }
  }

/** GNU parallel: the command template runs through a shell for each argument (after `:::`), or each line of stdin. */
const parallelWrapper: Wrapper = (args, all) => {
  const sep = args.findIndex((w) => w.literal && /^:::+\+?$/.test(w.text))
  const head = sep === -1 ? args : args.slice(0, sep)
  const result = parseOptions("parallel", head, {
    flags: [
      "k",
      "0",
      "q",
      "v",
      "X",
      "m",
      "u",
      "keep-order",
      "null",
      "quote",
      "verbose",
      "bar",
      "eta",
      "progress",
      "tag",
      "line-buffer",
      "group",
      "ungroup",
      "dry-run",
      "no-notice"
    ],
    values: ["j", "n", "N", "jobs", "max-args", "halt", "delay", "timeout", "retries", "d", "delimiter"]
  })
  if (result._tag !== "Ok") return fromOptions(result, all)
  const template = result.rest
  if (template.some((w) => !w.literal))
    return { _tag: "Done", expansions: [unknown("parallel: command is not literal"), command(all)] }
  if (template.length === 0) {
    if (sep === -1) return { _tag: "Done", expansions: [command(all, true)] }
    // `parallel ::: 'cmd1' 'cmd2'`: each argument is a command line.
    const lines = args.slice(sep + 1).filter((w) => !(w.literal && /^:::+\+?$/.test(w.text)))
    if (lines.some((w) => !w.literal))
      return { _tag: "Done", expansions: [unknown("parallel: command is not literal"), command(all)] }
    return {
      _tag: "Done",
      expansions: lines.map((w): Expansion => ({ _tag: "Script", source: w.text, via: "parallel", trusted: true }))
    }
  }
  // Placeholders become a variable: the analysis then treats them as unknown words.
  const source = template.map((w) => w.text.replace(/\{[^}\s]*\}/g, '"$PARALLEL_ARG"')).join(" ")
  const appended = /\{[^}\s]*\}/.test(template.map((w) => w.text).join(" ")) ? source : `${source} "$PARALLEL_ARG"`
  return { _tag: "Done", expansions: [{ _tag: "Script", source: appended, via: "parallel", trusted: true }] }
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
  coproc: (args, all) => {
    const inner = simpleWrapper("coproc", {})(args, all)
    return inner._tag === "Inner" ? { ...inner, extra: [unknown("coproc assigns COPROC or a named array")] } : inner
  },
  stdbuf: simpleWrapper("stdbuf", { values: ["i", "o", "e", "input", "output", "error"] }),
  setsid: simpleWrapper("setsid", { flags: ["c", "f", "w", "ctty", "fork", "wait"] }),
  ionice: simpleWrapper("ionice", { flags: ["t", "ignore"], values: ["c", "n", "p", "P", "u", "class", "classdata"] }),
  sudo: privileged(
    "sudo",
    simpleWrapper("sudo", {
      flags: ["A", "b", "E", "H", "k", "n", "P", "S", "B", "preserve-env", "non-interactive", "background"],
      values: ["C", "g", "h", "p", "r", "t", "T", "u", "U", "D", "R", "user", "group", "chdir", "host", "prompt"],
      self: ["e", "l", "v", "V", "K", "edit", "list", "validate", "version"],
      refuse: ["i", "s", "login", "shell"]
    })
  ),
  sudoedit: privileged("sudoedit", () => ({ _tag: "Self" })),
  doas: privileged("doas", simpleWrapper("doas", { flags: ["n"], values: ["u", "C"], refuse: ["s"] })),
  pkexec: privileged(
    "pkexec",
    optionsThenCommand("pkexec", { flags: ["disable-internal-agent", "keep-cwd"], values: ["user", "u"] })
  ),
  su: privileged("su", suWrapper("su")),
  runuser: privileged("runuser", suWrapper("runuser")),
  sg: privileged("sg", (args, all) => {
    const rest = args.slice(1)
    if (rest[0]?.literal === true && rest[0].text === "-c") {
      const source = rest[1]
      if (source === undefined || !source.literal)
        return { _tag: "Done", expansions: [unknown("sg -c with a non-literal command"), command(all)] }
      return { _tag: "Done", expansions: [{ _tag: "Script", source: source.text, via: "sg -c", trusted: true }] }
    }
    return rest.length === 0 ? { _tag: "Done", expansions: [command(all, true)] } : { _tag: "Inner", words: rest }
  }),
  newgrp: privileged("newgrp", (_args, all) => ({ _tag: "Done", expansions: [command(all, true)] })),
  chroot: privileged(
    "chroot",
    argThenCommand("chroot", { flags: ["skip-chdir"], values: ["userspec", "groups"] }, true)
  ),
  unshare: privileged(
    "unshare",
    optionsThenCommand("unshare", {
      flags: [
        "m",
        "u",
        "i",
        "n",
        "p",
        "U",
        "C",
        "T",
        "f",
        "r",
        "c",
        "mount",
        "uts",
        "ipc",
        "net",
        "pid",
        "user",
        "cgroup",
        "time",
        "fork",
        "map-root-user",
        "map-current-user",
        "kill-child",
        "mount-proc",
        "keep-caps"
      ],
      values: [
        "S",
        "G",
        "R",
        "w",
        "setuid",
        "setgid",
        "root",
        "wd",
        "propagation",
        "setgroups",
        "map-user",
        "map-group",
        "map-users",
        "map-groups",
        "load-interp",
        "monotonic",
        "boottime"
      ]
    })
  ),
  nsenter: privileged(
    "nsenter",
    optionsThenCommand("nsenter", {
      flags: [
        "a",
        "m",
        "u",
        "i",
        "n",
        "p",
        "U",
        "C",
        "T",
        "F",
        "Z",
        "all",
        "mount",
        "uts",
        "ipc",
        "net",
        "pid",
        "user",
        "cgroup",
        "time",
        "no-fork",
        "preserve-credentials",
        "follow-context"
      ],
      values: ["t", "S", "G", "r", "w", "target", "setuid", "setgid", "root", "wd", "env"]
    })
  ),
  setpriv: privileged("setpriv", (_args, all) => ({
    _tag: "Done",
    expansions: [unknown("setpriv options are not analyzed"), command(all)]
  })),
  capsh: privileged("capsh", (_args, all) => ({
    _tag: "Done",
    expansions: [unknown("capsh runs a shell"), command(all, true)]
  })),
  "systemd-run": privileged("systemd-run", (_args, all) => ({
    _tag: "Done",
    expansions: [unknown("systemd-run options are not analyzed"), command(all)]
  })),
  busybox: simpleWrapper("busybox", {}),
  script: scriptWrapper,
  flock: flockWrapper,
  taskset: (args, all) => {
    const result = parseOptions("taskset", args, { flags: ["a", "c", "all-tasks", "cpu-list"], self: ["p", "pid"] })
    if (result._tag !== "Ok") return fromOptions(result, all)
    if (result.rest.length < 2) return { _tag: "Self" }
    return { _tag: "Inner", words: result.rest.slice(1) }
  },
  chrt: argThenCommand("chrt", {
    flags: [
      "b",
      "d",
      "f",
      "i",
      "o",
      "r",
      "R",
      "a",
      "v",
      "batch",
      "deadline",
      "fifo",
      "idle",
      "other",
      "rr",
      "reset-on-fork",
      "all-tasks",
      "verbose"
    ],
    values: ["T", "P", "D", "sched-runtime", "sched-period", "sched-deadline"],
    self: ["p", "pid", "m", "max"]
  }),
  strace: traceWrapper("strace", {
    flags: [
      "f",
      "F",
      "c",
      "C",
      "d",
      "i",
      "q",
      "qq",
      "r",
      "t",
      "tt",
      "ttt",
      "T",
      "v",
      "V",
      "w",
      "x",
      "xx",
      "y",
      "yy",
      "z",
      "Z",
      "k",
      "n",
      "D",
      "follow-forks",
      "summary-only",
      "summary",
      "no-abbrev",
      "quiet",
      "relative-timestamps",
      "syscall-times"
    ],
    values: [
      "e",
      "o",
      "s",
      "S",
      "a",
      "b",
      "E",
      "I",
      "X",
      "O",
      "P",
      "U",
      "u",
      "p",
      "trace",
      "output",
      "string-limit",
      "signal",
      "status",
      "env",
      "user",
      "attach",
      "trace-path",
      "summary-columns",
      "summary-sort-by"
    ]
  }),
  ltrace: traceWrapper("ltrace", {
    flags: ["b", "c", "C", "D", "f", "h", "i", "L", "n", "r", "S", "t", "tt", "ttt", "T", "V", "demangle"],
    values: [
      "a",
      "A",
      "e",
      "F",
      "l",
      "n",
      "o",
      "p",
      "s",
      "u",
      "w",
      "x",
      "output",
      "library",
      "config",
      "indent",
      "align"
    ]
  }),
  parallel: parallelWrapper,
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

/** Builtins that evaluate their arguments as code we cannot follow. */
const CODE_BUILTINS = new Set(["let", "trap", "alias", "fc", "bind", "complete", "compgen", "enable", "hash"])

/** Interpreters and the options that make them run inline code (or `true`: the program is always inline). */
const INLINE_CODE: ReadonlyArray<readonly [RegExp, RegExp | true]> = [
  [/^(source|\.)$/, true],
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
const GIT_VALUE_OPTIONS = new Set(["--namespace", "--super-prefix", "--list-cmds", "--attr-source"])
const GIT_FLAG_OPTIONS = new Set([
  "-p",
  "--paginate",
  "-P",
  "--no-pager",
  "--no-replace-objects",
  "--literal-pathspecs",
  "--glob-pathspecs",
  "--noglob-pathspecs",
  "--icase-pathspecs",
  "--no-optional-locks",
  "--no-advice",
  "--no-lazy-fetch"
])

/**
 * `git -C dir --no-pager push` is matched as `git push`. Options that can run code or point git at a repository
 * whose configuration the model may have written (`-c`, `--config-env`, `--exec-path`, `--git-dir`, `--work-tree`,
 * `--bare`) need a question; `-C` directories are returned in `chdir` (the caller checks where they lead).
 */
export const normalizeGit = (
  words: ReadonlyArray<Word>
): { readonly words: ReadonlyArray<Word>; readonly unknown?: string; readonly chdir: ReadonlyArray<Word> } => {
  let i = 1
  const problems: Array<string> = []
  const chdir: Array<Word> = []
  while (i < words.length) {
    const word = words[i]!
    if (!word.literal) return { words, unknown: `git: global option is not literal: ${word.text}`, chdir }
    const text = word.text
    if (!text.startsWith("-")) break
    const eq = text.indexOf("=")
    const name = eq === -1 ? text : text.slice(0, eq)
    if (text === "-c" || text === "--config-env" || name === "--exec-path" || name === "--config-env") {
      problems.push(`git ${text} can run arbitrary commands`)
      i += text === "-c" || text === "--config-env" ? 2 : 1
      continue
    }
    if (name === "--git-dir" || name === "--work-tree" || text === "--bare") {
      problems.push(`git ${name} uses a repository (and its configuration) the checker cannot vouch for`)
      i += eq === -1 && text !== "--bare" ? 2 : 1
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
    if (text === "-C") {
      const dir = words[i + 1]
      if (dir !== undefined) chdir.push(dir)
      i += 2
      continue
    }
    if (text.startsWith("-C") && text.length > 2) {
      chdir.push({ text: text.slice(2), literal: true })
      i++
      continue
    }
    if (text.startsWith("-c") && text.length > 2) {
      problems.push(`git ${text} can run arbitrary commands`)
      i++
      continue
    }
    // --version, --help, and unknown options: keep the words as they are
    break
  }
  const normalized = [words[0]!, ...words.slice(i)]
  return problems.length === 0
    ? { words: normalized, chdir }
    : { words: normalized, unknown: problems.join("; "), chdir }
}

const MAX_DEPTH = 12

/** Declaration builtins when they appear as a command word (`builtin export X=1`, `command declare ...`). */
const DECLARATION_BUILTINS = new Set(["export", "declare", "typeset", "local", "readonly"])

/** Options of `declare` and friends that neither evaluate values nor alias names. */
const SAFE_DECLARE_FLAGS = /^[-+][xrglupfFaA]+$/

/**
 * What a declaration (`export A=1 B`, `declare -x C`) assigns. Shared with the tree walk, which sees
 * `declaration_command` nodes: `flags` are its option words, `names` the names it sets.
 */
export const declarationExpansions = (
  builtin: string,
  flags: ReadonlyArray<Word>,
  names: ReadonlyArray<string>
): Array<Expansion> => {
  const out: Array<Expansion> = []
  for (const flag of flags) {
    if (!flag.literal || !SAFE_DECLARE_FLAGS.test(flag.text))
      out.push(unknown(`${builtin} ${flag.text}: the option evaluates values or aliases names`))
  }
  const exported = builtin === "export" || flags.some((f) => f.text.startsWith("-") && f.text.includes("x"))
  const functions = flags.some((f) => /^-[^-]*[fF]/.test(f.text))
  if (functions) return out
  for (const name of names) {
    out.push({ _tag: "Assign", name, exported })
    if (!(exported ? isSafeEnvName(name) : isSafeShellName(name))) out.push(unknown(`${builtin} changes ${name}`))
  }
  return out
}

const assignName = (builtin: string, word: Word | undefined, exported = false): Array<Expansion> => {
  if (word === undefined) return []
  if (!word.literal || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(word.text))
    return [unknown(`${builtin} with a computed variable name: ${word.text}`)]
  const out: Array<Expansion> = [{ _tag: "Assign", name: word.text, exported }]
  if (!(exported ? isSafeEnvName(word.text) : isSafeShellName(word.text)))
    out.push(unknown(`${builtin} assigns ${word.text}`))
  return out
}

/** The variables builtins like `read`, `mapfile`, `getopts`, `printf -v` and `wait -p` assign. */
const builtinAssignments = (base: string, words: ReadonlyArray<Word>): Array<Expansion> | undefined => {
  const args = words.slice(1)
  switch (base) {
    case "read": {
      const result = parseOptions("read", args, {
        flags: ["e", "r", "s"],
        values: ["a", "d", "i", "n", "N", "p", "t", "u"]
      })
      if (result._tag !== "Ok") return [unknown("read: options the checker does not know")]
      const array = result.seen.filter(([opt]) => opt === "a").map(([, v]) => ({ text: v ?? "", literal: true }))
      const names = [...array, ...result.rest]
      if (names.length === 0) return [{ _tag: "Assign", name: "REPLY", exported: false }]
      return names.flatMap((w) => assignName("read", w))
    }
    case "mapfile":
    case "readarray": {
      const result = parseOptions(base, args, { flags: ["t"], values: ["d", "n", "O", "s", "u", "c"], refuse: ["C"] })
      if (result._tag !== "Ok") return [unknown(`${base}: ${result._tag === "Unknown" ? result.reason : "options"}`)]
      return result.rest.length === 0
        ? []
        : [...assignName(base, result.rest[0]), ...result.rest.slice(1).map(() => unknown(`${base}: extra operands`))]
    }
    case "getopts":
      return assignName("getopts", args[1])
    case "printf": {
      const v = args.findIndex((w) => w.text.startsWith("-v"))
      if (v === -1) return []
      const target = args[v]!.text === "-v" ? args[v + 1] : { text: args[v]!.text.slice(2), literal: args[v]!.literal }
      return assignName("printf -v", target)
    }
    case "wait": {
      const p = args.findIndex((w) => w.text === "-p")
      return p === -1 ? [] : assignName("wait -p", args[p + 1])
    }
    case "unset": {
      const out: Array<Expansion> = []
      for (const w of args) {
        if (w.literal && /^-[fvn]+$/.test(w.text)) continue
        out.push(...assignName("unset", w))
      }
      return args.some((w) => w.literal && /^-[^-]*f/.test(w.text)) ? [] : out
    }
    case "set": {
      // Options that change how later assignments are exported or commands are parsed ask.
      const out: Array<Expansion> = []
      for (let i = 0; i < args.length; i++) {
        const w = args[i]!
        if (!w.literal) return [unknown("set with a non-literal argument")]
        if (w.text === "--" || w.text === "-") break
        if (!/^[-+]/.test(w.text)) break
        if (/^[-+][euxvfnhCBHETPbm]*o$/.test(w.text)) {
          if (w.text.length > 2 && !/^[-+][euxvfnhCBHETPbm]+o$/.test(w.text)) out.push(unknown(`set ${w.text}`))
          const option = args[i + 1]
          i++
          if (option === undefined) continue
          if (!option.literal || !SAFE_SET_OPTIONS.has(option.text)) out.push(unknown(`set -o ${option.text}`))
          continue
        }
        if (!/^[-+][euxvfnhCBHETPbm]+$/.test(w.text))
          out.push(unknown(`set ${w.text} changes how the shell runs later commands`))
      }
      return out
    }
    case "shopt": {
      const names = args.filter((w) => !(w.literal && /^-[suqpo]+$/.test(w.text)))
      const setting = args.some((w) => w.literal && /^-[^-]*s/.test(w.text))
      if (!setting) return []
      return names.some((w) => !w.literal || !SAFE_SHOPT.has(w.text))
        ? [unknown(`shopt ${names.map((w) => w.text).join(" ")} changes how the shell parses or runs commands`)]
        : []
    }
    default:
      return undefined
  }
}

const SAFE_SET_OPTIONS = new Set([
  "pipefail",
  "errexit",
  "nounset",
  "xtrace",
  "verbose",
  "noglob",
  "noclobber",
  "noexec",
  "errtrace",
  "functrace",
  "braceexpand",
  "hashall",
  "notify",
  "monitor"
])
const SAFE_SHOPT = new Set([
  "nullglob",
  "dotglob",
  "globstar",
  "failglob",
  "nocaseglob",
  "nocasematch",
  "inherit_errexit",
  "lastpipe",
  "globasciiranges",
  "checkwinsize"
])

/** Command names that are shell builtins and change nothing outside the shell by themselves. */
const HARMLESS_BUILTINS = new Set([
  "set",
  "shopt",
  "read",
  "mapfile",
  "readarray",
  "getopts",
  "wait",
  "unset",
  "shift",
  "exit",
  "return",
  "break",
  "continue",
  "export",
  "declare",
  "typeset",
  "local",
  "readonly",
  "cd",
  "pushd",
  "popd",
  "dirs",
  "jobs",
  "umask"
])

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
  // `IFS= read -r line`: a prefix assignment to a builtin only lasts for it; IFS only changes how read splits.
  const builtinPrefix = words[0]?.literal === true && /^(?:read|mapfile|readarray)$/.test(words[0].text)
  for (const name of assignments) {
    out.push({ _tag: "Assign", name, exported: true })
    if (!isSafeEnvName(name) && !(builtinPrefix && name === "IFS"))
      out.push(unknown(`assignment to ${name} before a command`))
  }
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
  // `{NAME}>file` assigns NAME a file descriptor number.
  for (const w of current.slice(1)) {
    const m = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(w.text)
    if (m !== null && !w.literal) out.push(...assignName("a redirection", { text: m[1]!, literal: true }))
  }
  const base = commandBase(current[0]!.text)
  let chdir: ReadonlyArray<Word> = []
  if (base === "git") {
    const normalized = normalizeGit(current)
    if (normalized.unknown !== undefined) out.push(unknown(normalized.unknown))
    current = normalized.words
    chdir = normalized.chdir
  } else if (base !== undefined && CODE_BUILTINS.has(base)) {
    out.push(unknown(`${base} evaluates code that cannot be checked`))
  } else if (base !== undefined && DECLARATION_BUILTINS.has(base)) {
    const flags = current.slice(1).filter((w) => /^[-+]/.test(w.text))
    const names: Array<string> = []
    for (const w of current.slice(1)) {
      if (/^[-+]/.test(w.text)) continue
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\+?=|$)/.exec(w.text)
      if (m === null || (!w.literal && !/^[A-Za-z_][A-Za-z0-9_]*\+?=/.test(w.text)))
        out.push(unknown(`${base} with a computed name: ${w.text}`))
      else names.push(m[1]!)
    }
    out.push(...declarationExpansions(base, flags, names))
  }
  if (base !== undefined) {
    const assigned = builtinAssignments(base, current)
    if (assigned !== undefined) out.push(...assigned)
  }
  const facts = programFacts(base, current, chdir)
  for (const inner of facts.inner) out.push(...expandCommand(inner, [], depth + 1))
  for (const script of facts.scripts)
    out.push({ _tag: "Script", source: script.source, via: script.via, trusted: true })
  for (const reason of facts.unknown) out.push(unknown(reason))
  for (const reason of facts.alwaysAsk) out.push(alwaysAsk(reason))
  const harmless =
    base !== undefined && HARMLESS_BUILTINS.has(base) && base !== "cd" && base !== "pushd" && base !== "popd"
  const finalFacts: ProgramFacts = harmless ? { ...facts, known: true, readOnly: true } : facts
  out.push({
    _tag: "Command",
    words: current,
    opaque: base !== undefined && runsInlineCode(base, current),
    facts: finalFacts
  })
  return out
}
