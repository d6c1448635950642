/**
 * The permission decision for one tool call, from a rule set, the tool and the mode. Deny rules win over ask
 * rules, ask rules over allow rules, and rules over modes (except that plan mode never runs a tool that is
 * not read-only). A `Bash` call is decided part by part: every command it would run and every file it
 * redirects into must be allowed.
 */
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { isProtected, isProtectedSegments, PROTECTED_DESCRIPTION } from "../workspace/Workspace.js"
import type { PermissionError } from "../errors/PermissionError.js"
import type { PermissionContext, PermissionDecision, PermissionMode } from "../services/Permissions.js"
import type { ToolKind } from "../services/Tool.js"
import type { ToolCall } from "../streams/ToolCall.js"
import {
  makePathMemo,
  matchPathPattern,
  type PathBases,
  type PathMemo,
  type PathPattern,
  realpathLoose
} from "./PathRule.js"
import {
  type Match,
  matchCommand,
  matchDomainHost,
  type Rule,
  ruleAppliesTo,
  type ToolIdentity,
  type UrlHost,
  urlHost
} from "./Rule.js"
import type { RuleSet } from "./Settings.js"
import { analyzeShell, type ParsedCommand, type ShellAnalysis } from "./ShellParser.js"
import { commandBase, type Word } from "./ShellCommand.js"
import { recursiveProtectedReason, shellProtectedReason, untrustedGitDir } from "./ShellProtected.js"
import { CONFINED_FILE_TOOLS, FILE_CHANGING_TOOLS } from "./ToolNames.js"

export const PLAN_MODE_MESSAGE = "plan mode: only read-only tools may run; present your plan instead"

/** The decision's `source` when a path lies outside the workspace roots (the tool would refuse it). */
export const WORKSPACE_SOURCE = "workspace"
/**
 * The decision's `source` when a file-changing tool targets a protected path (`.git`, `.sage`, git and shell
 * configuration files: see `isProtected`) without an explicit allow rule.
 */
export const PROTECTED_SOURCE = "protected-path"

/** One thing a call does that needs permission. */
type Part =
  | { readonly _tag: "Tool" }
  | {
      readonly _tag: "Command"
      readonly words: ReadonlyArray<Word>
      readonly text: string
      readonly opaque: boolean
      /**
       * Needs no rule in default, acceptEdits and plan mode: read-only by its program spec (see `Programs.ts`),
       * with every file it reads resolved inside the workspace.
       */
      readonly readOnly?: boolean
      /**
       * The program has no spec: deny/ask rules may name the command it runs further along its words, or inside one
       * of them (`gdb -ex "shell rm x"`): each such argument's words (split at blanks and shell separators).
       */
      readonly unknownProgram?: { readonly argumentLines: ReadonlyArray<ReadonlyArray<Word>> }
    }
  /**
   * A file access: every candidate spelling of the path (lexical, real, `~`-expanded). `role` is `access` for
   * a file tool's own path or a shell redirection writing a file; `read-redirect` for `< file` in a shell
   * command and `mention` for a path-like argument of a shell command: those two only meet deny/ask rules
   * (a mention can only make a deny rule ask, since the program may not open it).
   */
  | {
      readonly _tag: "Path"
      readonly kind: "read" | "edit"
      /**
       * Shell commands also have `read-arg` (a file operand a known program reads: deny/ask Read rules match it
       * exactly) and `write-arg` (a file operand a known program writes, `tee f`, `cp a f`: Edit rules match it;
       * inside the workspace the command's own allow covers it, protected places and outside the workspace do not).
       */
      readonly role: "access" | "read-redirect" | "mention" | "read-arg" | "write-arg"
      readonly input: string
      readonly candidates: ReadonlyArray<string>
      /** The path cannot be resolved (`cat $F`, `cat < .e*`): every deny/ask path rule may match it. */
      readonly unresolved?: boolean
      /** A write that may change everything under the path (`rm -r`, `find -delete`). */
      readonly recursive?: boolean
      /**
       * A `mention` by a command that is not read-only: a program whose writes the checker cannot list may write
       * it (`npx tsc --outFile ~/.bashrc`, `node x.js .git/hooks/pre-commit`), so a protected place asks.
       */
      readonly maybeWritten?: true
    }
  | {
      readonly _tag: "Url"
      readonly url: unknown
      readonly host: UrlHost
      /**
       * A shell redirection that opens a connection (`cat < /dev/tcp/host/80`): no rule for a command covers it, only
       * one for the whole shell tool (or bypassPermissions); deny/ask WebFetch domain rules apply to its host.
       */
      readonly redirect?: true
    }
  /** A path the tool touches that cannot be told from the input (edit tools without a path). */
  | { readonly _tag: "Opaque" }

const PATH_FIELDS = ["file_path", "path", "notebook_path"] as const

const inputRecord = (input: unknown): Record<string, unknown> =>
  typeof input === "object" && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {}

const sourceOf = (rule: Rule) => `rule:${rule.text} in ${rule.source}`
const modeSource = (mode: PermissionMode) => `mode:${mode}`

const describeWords = (words: ReadonlyArray<Word>) => words.map((w) => w.text).join(" ")

interface Env {
  readonly rules: RuleSet
  readonly compiled: CompiledRules
  readonly context: PermissionContext
  readonly tool: ToolIdentity
  readonly bases: PathBases
  /** Workspace roots (lexical and real). */
  readonly roots: ReadonlyArray<string>
  /** Workspace roots as given (for messages). */
  readonly rootList: ReadonlyArray<string>
  /** Path computations memoized for this check only. */
  readonly memo: PathMemo
  /** Real paths resolved during this check only (never reused by another check: the disk may change). */
  readonly realpaths: Map<string, string>
}

const unique = <A>(items: ReadonlyArray<A>): Array<A> => [...new Set(items)]

/**
 * What a check needs from a rule set that does not change while the rule set lives: the real paths of the
 * project root, the home directory and the extra workspace roots, and the rules that apply to each tool.
 * Built on first use of a `RuleSet` object (a changed rule set is a new object).
 */
interface CompiledRules {
  /** What it was built from: a rule set whose fields differ (even if mutated in place) is compiled again. */
  readonly from: {
    readonly rules: ReadonlyArray<Rule>
    readonly ruleCount: number
    readonly projectRoot: string
    readonly homeDir: string
    readonly additionalDirectories: ReadonlyArray<string>
    readonly additionalCount: number
  }
  readonly bases: PathBases
  /** Real paths of the fixed workspace roots (project root and additional directories), by resolved path. */
  readonly fixedRoots: ReadonlyMap<string, string>
  readonly applicable: Map<string, ReadonlyArray<Rule>>
  /** The rules for the file parts of a shell command, built on first use. */
  shellParts?: {
    readonly access: ReadonlyArray<Rule>
    readonly readRedirect: ReadonlyArray<Rule>
    readonly mention: ReadonlyArray<Rule>
  }
}

const compiledRuleSets = new WeakMap<RuleSet, CompiledRules>()

const compile = (rules: RuleSet): CompiledRules => {
  let compiled = compiledRuleSets.get(rules)
  const from = compiled?.from
  if (
    compiled === undefined ||
    from === undefined ||
    from.rules !== rules.rules ||
    from.ruleCount !== rules.rules.length ||
    from.projectRoot !== rules.projectRoot ||
    from.homeDir !== rules.homeDir ||
    from.additionalDirectories !== rules.additionalDirectories ||
    from.additionalCount !== rules.additionalDirectories.length
  ) {
    const fixedRoots = new Map<string, string>()
    for (const root of [rules.projectRoot, ...rules.additionalDirectories].map((r) => path.resolve(r))) {
      if (!fixedRoots.has(root)) fixedRoots.set(root, realpathLoose(root))
    }
    compiled = {
      from: {
        rules: rules.rules,
        ruleCount: rules.rules.length,
        projectRoot: rules.projectRoot,
        homeDir: rules.homeDir,
        additionalDirectories: rules.additionalDirectories,
        additionalCount: rules.additionalDirectories.length
      },
      bases: {
        roots: unique([rules.projectRoot, realpathLoose(rules.projectRoot)]),
        homes: unique([rules.homeDir, realpathLoose(rules.homeDir)])
      },
      fixedRoots,
      applicable: new Map()
    }
    compiledRuleSets.set(rules, compiled)
  }
  return compiled
}

/**
 * `rules` plus `extra` rules, as a new rule set that reuses what `rules` already resolved (the real paths of its
 * roots): deciding a call again with one more rule (a denial hint) costs no file system calls for it.
 */
export const withExtraRules = (rules: RuleSet, extra: ReadonlyArray<Rule>): RuleSet => {
  const base = compile(rules)
  const next: RuleSet = { ...rules, rules: [...rules.rules, ...extra] }
  compiledRuleSets.set(next, {
    from: { ...base.from, rules: next.rules, ruleCount: next.rules.length },
    bases: base.bases,
    fixedRoots: base.fixedRoots,
    applicable: new Map()
  })
  return next
}

/** Tool identities remembered per rule set at most (a session has a bounded set of tools). */
const MAX_IDENTITIES = 256

/** `rules.filter((r) => ruleAppliesTo(r, tool))`, remembered per tool identity. */
const rulesApplyingTo = (rules: RuleSet, compiled: CompiledRules, tool: ToolIdentity): ReadonlyArray<Rule> => {
  const key = `${tool.hasPath ? 1 : 0}${tool.isShell ? 1 : 0}${tool.kind}\u0000${tool.name}`
  let found = compiled.applicable.get(key)
  if (found === undefined) {
    found = rules.rules.filter((r) => ruleAppliesTo(r, tool))
    if (compiled.applicable.size >= MAX_IDENTITIES) compiled.applicable.clear()
    compiled.applicable.set(key, found)
  }
  return found
}

/** `realpathLoose`, once per path within one check. */
const realpathOnce = (env: Env, p: string): string => {
  let real = env.realpaths.get(p)
  if (real === undefined) {
    real = realpathLoose(p)
    env.realpaths.set(p, real)
  }
  return real
}

const pathCandidates = (env: Env, input: string): ReadonlyArray<string> => {
  const spellings = [input]
  if (input === "~" || input.startsWith("~/")) spellings.push(path.join(env.rules.homeDir, input.slice(1)))
  return unique(
    spellings.flatMap((s) => {
      const absolute = path.resolve(env.context.cwd, s)
      return [absolute, realpathOnce(env, absolute)]
    })
  )
}

const CONSERVATIVE = { conservative: true }
const EXACT = { conservative: false }

/** How a rule matches one part. */
const matchPart = (rule: Rule, part: Part, env: Env): Match => {
  const content = rule.content
  if (content._tag === "Any") return "match"
  const conservative = rule.behavior !== "allow"
  switch (part._tag) {
    case "Command": {
      const match = content._tag === "Command" ? matchCommand(content, rule.behavior, part.words) : "none"
      // Code we cannot see may run anything a deny/ask rule names.
      if (match === "none" && part.opaque && conservative) return "maybe"
      // A program without a spec may be a wrapper we do not know (`valgrind rm x`): a deny/ask rule naming a later
      // word as its command may apply.
      if (match === "none" && conservative && part.unknownProgram !== undefined && content._tag === "Command") {
        for (let i = 1; i < part.words.length; i++) {
          if (matchCommand(content, rule.behavior, part.words.slice(i)) === "match") return "maybe"
        }
        // Or a command line given as one argument (`gdb -ex "shell rm x"`, `tool --exec 'rm -rf x'`).
        for (const line of part.unknownProgram.argumentLines) {
          for (let i = 0; i < line.length; i++) {
            if (matchCommand(content, rule.behavior, line.slice(i)) === "match") return "maybe"
          }
        }
      }
      return match
    }
    case "Path": {
      if (content._tag !== "Path") return conservative && content._tag === "Raw" ? "maybe" : "none"
      if (part.unresolved === true) return conservative ? "maybe" : "none"
      // A command that reads or writes a whole tree (`grep -r x dir`, `rm -r dir`) touches what the rule names
      // when the rule's path may lie under the directory.
      const options = conservative ? CONSERVATIVE : EXACT
      const test = (candidate: string) => matchPathPattern(content.pattern, candidate, env.bases, options, env.memo)
      const match = (conservative ? part.candidates.some(test) : part.candidates.every(test)) ? "match" : "none"
      if (
        match === "none" &&
        part.recursive === true &&
        conservative &&
        part.candidates.some((c) => mayContain(content.pattern, c, env))
      )
        return "maybe"
      return match === "match" && part.role === "mention" ? "maybe" : match
    }
    case "Url":
      return content._tag === "Domain"
        ? matchDomainHost(content, rule.behavior, part.host)
        : conservative
          ? "maybe"
          : "none"
    case "Tool":
    case "Opaque":
      return conservative ? "maybe" : "none"
  }
}

/** Whether something a path pattern names may lie under the directory `dir` (or be `dir` itself). */
const mayContain = (pattern: PathPattern, dir: string, env: Env): boolean => {
  if (!pattern.anchored) return true
  const bases = pattern.base === "absolute" ? ["/"] : pattern.base === "home" ? env.bases.homes : env.bases.roots
  const literal: Array<string> = []
  for (const segment of pattern.segments) {
    if (/[*?[{\\]/.test(segment)) break
    literal.push(segment)
  }
  const globbed = literal.length < pattern.segments.length
  const lowerDir = dir.toLowerCase()
  return bases.some((base) => {
    const prefix = path.resolve(base, ...Array.from({ length: pattern.up }, () => ".."), ...literal).toLowerCase()
    // The directory holds the pattern's literal prefix, or lies inside it while the rest of the pattern is a glob.
    return (
      env.memo.segments(lowerDir, prefix) !== undefined ||
      (globbed && env.memo.segments(prefix, lowerDir) !== undefined)
    )
  })
}

/** The rules that apply to a part: command parts to the shell tool, redirect targets to edit rules. */
const EDIT_TOOL: ToolIdentity = { name: "Edit", kind: "edit", hasPath: true, isShell: false }
const READ_TOOL: ToolIdentity = { name: "Read", kind: "read", hasPath: true, isShell: false }

const WEB_FETCH_TOOL: ToolIdentity = { name: "WebFetch", kind: "network", hasPath: false, isShell: false }

const rulesFor = (part: Part, env: Env): ReadonlyArray<Rule> => {
  if (part._tag === "Url" && part.redirect === true) {
    return [
      ...rulesApplyingTo(env.rules, env.compiled, env.tool).filter((r) => r.content._tag === "Any"),
      ...env.rules.rules.filter((r) => r.behavior !== "allow" && ruleAppliesTo(r, WEB_FETCH_TOOL))
    ]
  }
  if (part._tag === "Path" && env.tool.isShell) {
    let lists = env.compiled.shellParts
    if (lists === undefined) {
      const all = env.rules.rules
      lists = {
        // A redirection in a shell command is a file edit: Edit rules decide it.
        access: all.filter((r) => ruleAppliesTo(r, EDIT_TOOL)),
        readRedirect: all.filter((r) => r.behavior !== "allow" && ruleAppliesTo(r, READ_TOOL)),
        mention: all.filter(
          (r) =>
            r.behavior !== "allow" &&
            r.content._tag === "Path" &&
            (ruleAppliesTo(r, READ_TOOL) || ruleAppliesTo(r, EDIT_TOOL))
        )
      }
      env.compiled.shellParts = lists
    }
    switch (part.role) {
      case "access":
      case "write-arg":
        return lists.access
      case "read-redirect":
      case "read-arg":
        return lists.readRedirect
      case "mention":
        return lists.mention
    }
  }
  return rulesApplyingTo(env.rules, env.compiled, env.tool)
}

const isInsideRoots = (part: Extract<Part, { _tag: "Path" }>, env: Env) =>
  part.candidates.every((candidate) => env.roots.some((root) => env.memo.segments(root, candidate) !== undefined))

const displayPath = (env: Env, absolute: string): string => {
  const segments = env.memo.segments(env.rules.projectRoot, absolute)
  return segments === undefined ? `/${absolute}` : segments.length === 0 ? "./" : `./${segments.join("/")}`
}

/** The rule an "allow always" answer would save. */
const suggestionFor = (part: Part, env: Env): string | undefined => {
  switch (part._tag) {
    case "Command": {
      if (part.words.some((w) => !w.literal)) return undefined
      const [first, second] = part.words
      if (first === undefined) return undefined
      const words = second !== undefined && /^[A-Za-z0-9][\w.:-]*$/.test(second.text) ? [first, second] : [first]
      return `Bash(${words.map((w) => w.text).join(" ")}:*)`
    }
    case "Path":
      return `${part.kind === "edit" ? "Edit" : "Read"}(${displayPath(env, path.resolve(env.context.cwd, part.input))})`
    case "Url": {
      if (part.redirect === true) return undefined
      try {
        return `WebFetch(domain:${new URL(String(part.url)).hostname})`
      } catch {
        return undefined
      }
    }
    case "Tool":
    case "Opaque":
      return env.context.tool.name
  }
}

const describePart = (part: Part): string => {
  switch (part._tag) {
    case "Command":
      return `the command \`${part.text}\``
    case "Path":
      return `${part.kind === "edit" ? "writing" : "reading"} ${part.input}`
    case "Url":
      return part.redirect === true
        ? `the network connection of the redirection to ${String(part.url)}`
        : `fetching ${String(part.url)}`
    case "Tool":
    case "Opaque":
      return "this tool"
  }
}

const commandName = (words: ReadonlyArray<Word>): string | undefined => {
  const first = words[0]
  return first?.literal ? first.text : undefined
}

/** `cd dir` to a literal directory inside the workspace changes nothing by itself. */
const isCdInsideRoots = (part: Extract<Part, { _tag: "Command" }>, env: Env): boolean => {
  const name = commandName(part.words)
  if (name !== "cd" && name !== "pushd") return false
  const args = part.words.slice(1).filter((w) => w.text !== "--")
  if (args.length !== 1 || !args[0]!.literal || args[0]!.text.startsWith("-")) return false
  const target = path.resolve(env.context.cwd, args[0]!.text)
  return [target, realpathOnce(env, target)].every((c) => env.roots.some((r) => env.memo.segments(r, c) !== undefined))
}

/** The arguments of `words` that hold several words (a command line given as one argument), each split into its words. */
const argumentLines = (words: ReadonlyArray<Word>): ReadonlyArray<ReadonlyArray<Word>> =>
  words.slice(1).flatMap((word) => {
    const tokens = word.text.split(/[\s;|&()`!]+/).filter((t) => t !== "")
    return tokens.length < 2 && tokens[0] === word.text ? [] : [tokens.map((text): Word => ({ text, literal: true }))]
  })

/** `~` or `~/path` with nothing else the shell would expand. */
const HOME_WORD = /^~(?:\/[^*?[{$`\\'"]*)?$/

/** Path-like arguments of a command (`.env`, `--file=.env`, `~/.bashrc`), checked against deny rules. */
const mentionedPaths = (words: ReadonlyArray<Word>): ReadonlyArray<string> =>
  words.slice(1).flatMap((w) => {
    // A word whose only expansion is a leading `~` names a path in the home directory (`~/.bashrc`).
    if (!w.literal && !HOME_WORD.test(w.text)) return []
    const text = w.text.startsWith("-") ? (w.text.includes("=") ? w.text.slice(w.text.indexOf("=") + 1) : "") : w.text
    return text === "" || text.includes("://") ? [] : [text]
  })

/**
 * Whether the mode alone allows a part (after no rule decided it). No mode allows, without a rule, a write outside
 * the workspace roots (bypassPermissions included: it asks) nor a network read (WebFetch, any `network` tool, a
 * URL): a fetch can carry workspace data out, so it needs a `WebFetch(domain:...)` rule or an answer, except in
 * bypassPermissions.
 */
const modeAllows = (part: Part, env: Env): boolean => {
  const { mode } = env.context
  if (part._tag === "Path" && part.kind === "edit" && !isInsideRoots(part, env)) return false
  if (mode === "bypassPermissions") return true
  if (part._tag === "Path") {
    if (!isInsideRoots(part, env)) return false
    if (part.kind === "read") return env.context.tool.readOnly
    return mode === "acceptEdits"
  }
  if (part._tag === "Command") return false
  if (part._tag === "Url" || env.tool.kind === "network") return false
  if (env.context.tool.readOnly) return true
  return mode === "acceptEdits" && env.tool.kind === "edit"
}

/**
 * Whether an allow rule names a protected place itself (`Edit(.git/hooks/**)`, `Write(**\/.bashrc)`): its pattern
 * has the protected name as a segment of its own. `Edit(src/**)` matches `src/.git/config` through its wildcard,
 * and does not name it.
 */
const namesProtected = (rule: Rule): boolean =>
  rule.content._tag === "Path" && isProtectedSegments(rule.content.pattern.segments)

/**
 * Whether an explicit allow rule for a file-changing tool (`Edit(...)`, `Write(...)`, `MultiEdit(...)` with a
 * path that names the protected place: see `namesProtected`) covers `realPath`: what lets Write/Edit/MultiEdit
 * change a protected path (`.git`, `.sage`, git and shell configuration). A mode (even bypassPermissions), a bare
 * `Edit` rule or a wildcard (`Edit(src/**)`) never does.
 */
export const explicitlyAllowsEdit =
  (rules: RuleSet) =>
  (realPath: string): boolean => {
    const { bases } = compile(rules)
    return rules.rules.some(
      (rule) =>
        rule.behavior === "allow" &&
        FILE_CHANGING_TOOLS.has(rule.tool) &&
        rule.content._tag === "Path" &&
        namesProtected(rule) &&
        matchPathPattern(rule.content.pattern, realPath, bases, EXACT)
    )
  }

/** The spellings of a path part that are protected (`.git/`, `.sage/`, git and shell configuration files). */
const protectedCandidates = (part: Extract<Part, { _tag: "Path" }>, env: Env): ReadonlyArray<string> => {
  const workspace = { roots: env.roots }
  return part.candidates.filter((c) => isProtected(c, workspace))
}

/** Whether a path part is protected. */
const isGuarded = (part: Extract<Part, { _tag: "Path" }>, env: Env): boolean =>
  protectedCandidates(part, env).length > 0

/** Whether explicit allow rules cover every protected spelling of a path part. */
const explicitlyAllowsAll = (part: Extract<Part, { _tag: "Path" }>, env: Env): boolean =>
  protectedCandidates(part, env).every(explicitlyAllowsEdit(env.rules))

/** The explicit allow rule that lets a write into a protected directory go ahead, when rules cover every spelling. */
const explicitRule = (part: Extract<Part, { _tag: "Path" }>, env: Env): Rule | undefined => {
  const blocked = protectedCandidates(part, env)
  if (!blocked.every(explicitlyAllowsEdit(env.rules))) return undefined
  return env.rules.rules.find(
    (rule) =>
      rule.behavior === "allow" &&
      FILE_CHANGING_TOOLS.has(rule.tool) &&
      rule.content._tag === "Path" &&
      namesProtected(rule) &&
      blocked.some((c) => rule.content._tag === "Path" && matchPathPattern(rule.content.pattern, c, env.bases, EXACT))
  )
}

/**
 * What the built-in file tools refuse whatever the rules and mode say, decided here so that the decision never
 * disagrees with the tool: a path outside the workspace roots (symlinks resolved, dangling ones followed), and a
 * change to a protected path (`.git`, `.sage`, git and shell configuration files) without an explicit allow rule
 * for that path.
 */
const pathPolicy = (env: Env, parts: ReadonlyArray<Part>): PermissionDecision | undefined => {
  if (env.tool.isShell) return undefined
  const name = env.context.tool.name
  for (const part of parts) {
    if (part._tag !== "Path" || part.role !== "access") continue
    if (CONFINED_FILE_TOOLS.has(name) && !isInsideRoots(part, env)) {
      return {
        type: "deny",
        reason: `${part.input} is outside the workspace; ${name} can only use paths under ${env.rootList.join(", ")}`,
        source: WORKSPACE_SOURCE
      }
    }
    if (FILE_CHANGING_TOOLS.has(name)) {
      if (isGuarded(part, env) && !explicitlyAllowsAll(part, env)) {
        return {
          type: "deny",
          reason: `${part.input} is protected: it is in or names ${PROTECTED_DESCRIPTION}; changing it requires an explicit allow rule for this path, such as ${name}(${displayPath(env, path.resolve(env.context.cwd, part.input))})`,
          source: PROTECTED_SOURCE
        }
      }
    }
  }
  return undefined
}

/** A shell part that plan mode lets run: a read-only command, a `cd` inside the workspace, a file it reads. */
const isShellReadPart = (part: Part, env: Env): boolean =>
  (part._tag === "Command" && (part.readOnly === true || isCdInsideRoots(part, env))) ||
  (part._tag === "Path" && part.kind === "read")

/**
 * Whether a shell write part is protected (`.git`, `.sage`, configuration and start-up files, see `isProtected`
 * and `shellProtectedReason`); for a recursive write, whether a protected place lies under it.
 */
const shellGuardReason = (part: Extract<Part, { _tag: "Path" }>, env: Env): string | undefined => {
  if (isGuarded(part, env)) return PROTECTED_DESCRIPTION
  const bases = { roots: env.roots, homes: env.bases.homes }
  for (const candidate of part.candidates) {
    const reason =
      part.recursive === true ? recursiveProtectedReason(candidate, bases) : shellProtectedReason(candidate, bases)
    if (reason !== undefined) return reason
  }
  return undefined
}

const decide = (
  env: Env,
  parts: ReadonlyArray<Part>,
  unknown: ReadonlyArray<string>,
  /** Reasons to ask in every mode whatever allow rules say (shell commands: privilege changes, unresolved writes). */
  always: ReadonlyArray<string> = []
): PermissionDecision => {
  const { mode } = env.context
  // Every applicable rule is matched against every part, in order; the first of each kind is remembered.
  const firsts = new Map<string, { readonly part: Part; readonly rule: Rule }>()
  const allowedParts = new Map<Part, Rule>()
  for (const part of parts) {
    for (const rule of rulesFor(part, env)) {
      const match = matchPart(rule, part, env)
      if (match === "none") continue
      const key = `${rule.behavior}:${match}`
      if (!firsts.has(key)) firsts.set(key, { part, rule })
      if (rule.behavior === "allow" && match === "match" && !allowedParts.has(part)) allowedParts.set(part, rule)
    }
  }
  const found = (behavior: Rule["behavior"], match: Match) => firsts.get(`${behavior}:${match}`)

  const denied = found("deny", "match")
  if (denied !== undefined) {
    return {
      type: "deny",
      reason: `Permission to use ${env.context.tool.name} was denied by the rule ${denied.rule.text} (${denied.rule.source}) for ${describePart(denied.part)}`,
      source: sourceOf(denied.rule)
    }
  }
  const policy = pathPolicy(env, parts)
  if (policy !== undefined) return policy
  // Plan mode runs read-only shell commands too (`git log`, `ls`): nothing else.
  const shellReadOnly =
    env.tool.isShell && unknown.length === 0 && always.length === 0 && parts.every((p) => isShellReadPart(p, env))
  if (mode === "plan" && !env.context.tool.readOnly && !shellReadOnly) {
    return { type: "deny", reason: PLAN_MODE_MESSAGE, source: modeSource(mode) }
  }
  const asked = found("ask", "match") ?? found("ask", "maybe")
  if (asked !== undefined) {
    return {
      type: "ask",
      reason: `${describePart(asked.part)} needs approval (rule ${asked.rule.text} in ${asked.rule.source})`,
      source: sourceOf(asked.rule)
    }
  }
  const maybeDenied = found("deny", "maybe")
  if (maybeDenied !== undefined) {
    return {
      type: "ask",
      reason: `${describePart(maybeDenied.part)} may fall under the deny rule ${maybeDenied.rule.text} (${maybeDenied.rule.source}) and cannot be checked exactly`,
      source: sourceOf(maybeDenied.rule)
    }
  }
  if (always.length > 0) {
    return {
      type: "ask",
      reason: `the command needs approval in every mode (${unique(always).join("; ")})`,
      source: "shell-parser"
    }
  }
  const shellRules = rulesApplyingTo(env.rules, env.compiled, env.tool)
  if (unknown.length > 0) {
    const hasPatternDenyOrAsk = shellRules.some((r) => r.behavior !== "allow" && r.content._tag !== "Any")
    const wholeToolAllowed = shellRules.find((r) => r.behavior === "allow" && r.content._tag === "Any")
    if (hasPatternDenyOrAsk || (wholeToolAllowed === undefined && mode !== "bypassPermissions")) {
      const deny = shellRules.find((r) => r.behavior !== "allow" && r.content._tag !== "Any")
      return {
        type: "ask",
        reason: `the command cannot be checked exactly (${unknown.join("; ")}); it needs approval`,
        source: deny === undefined ? "shell-parser" : `shell-parser; ${sourceOf(deny)}`
      }
    }
  }
  const sources: Array<string> = []
  const wholeShell = env.tool.isShell
    ? shellRules.find((r) => r.behavior === "allow" && r.content._tag === "Any")
    : undefined
  for (const part of parts) {
    if (part._tag === "Path" && part.maybeWritten === true && mode !== "bypassPermissions") {
      // A protected place a command may write: only an Edit rule that names it covers it.
      const written = { ...part, kind: "edit" as const }
      const reason = shellGuardReason(written, env)
      if (reason !== undefined) {
        const explicit = explicitRule(written, env)
        if (explicit === undefined) {
          return {
            type: "ask",
            reason: `the command may write ${part.input}, which it names (protected: ${reason}); it needs approval`,
            source: modeSource(mode)
          }
        }
        sources.push(sourceOf(explicit))
      }
    }
    if (part._tag === "Path" && part.role !== "access" && part.role !== "write-arg") continue
    if (part._tag === "Command" && isCdInsideRoots(part, env)) {
      sources.push("builtin:cd")
      continue
    }
    // A write to a protected path (a shell redirection, a custom edit tool) needs an explicit allow rule for its
    // path, as the file tools do: a bare rule, the whole shell tool or a mode (bypassPermissions too) do not cover it.
    const guarded =
      part._tag === "Path" &&
      part.kind === "edit" &&
      (env.tool.isShell ? shellGuardReason(part, env) !== undefined : isGuarded(part, env))
    // A file a known program writes (`tee f`, `cp a f`) inside the workspace is covered by the command's own allow.
    if (part._tag === "Path" && part.role === "write-arg" && !guarded && isInsideRoots(part, env)) continue
    const allowed = guarded
      ? undefined
      : (allowedParts.get(part) ??
        // An allow rule for the whole shell tool also covers its redirections (deny/ask Edit rules still apply).
        (part._tag === "Path" || part._tag === "Url" ? wholeShell : undefined))
    if (allowed !== undefined) {
      sources.push(sourceOf(allowed))
      continue
    }
    const explicit = guarded && part._tag === "Path" ? explicitRule(part, env) : undefined
    if (explicit !== undefined) {
      sources.push(sourceOf(explicit))
      continue
    }
    // A read-only command (by its program spec, reading only workspace files) needs no rule.
    if (part._tag === "Command" && part.readOnly === true && mode !== "bypassPermissions") {
      sources.push("builtin:read-only")
      continue
    }
    if (!guarded && modeAllows(part, env)) {
      sources.push(modeSource(mode))
      continue
    }
    const suggestion = suggestionFor(part, env)
    const outside = part._tag === "Path" && !isInsideRoots(part, env)
    const guardReason = part._tag === "Path" && guarded && env.tool.isShell ? shellGuardReason(part, env) : undefined
    const where = outside
      ? " (outside the workspace)"
      : guarded
        ? ` (protected: ${guardReason ?? PROTECTED_DESCRIPTION})`
        : ""
    return {
      type: "ask",
      reason: `${describePart(part)} needs approval${where}`,
      source: modeSource(mode),
      ...(suggestion === undefined ? {} : { suggestion })
    }
  }
  return { type: "allow", source: sources.length === 0 ? modeSource(mode) : unique(sources).join("; ") }
}

/** Directories a command line may run its commands in: the working directory and every literal `cd` target. */
const shellDirectories = (
  env: Env,
  commands: ReadonlyArray<ParsedCommand>
): { readonly dirs: ReadonlyArray<string>; readonly lost: boolean } => {
  const targets: Array<string> = []
  let lost = false
  for (const c of commands) {
    const name = commandName(c.words)
    if (name === "popd") lost = true
    if (name !== "cd" && name !== "pushd") continue
    const args = c.words.slice(1).filter((w) => !(w.literal && (w.text === "--" || /^-[LPe@]+$/.test(w.text))))
    const target = args[0]
    if (args.length === 0) targets.push(env.rules.homeDir)
    else if (args.length === 1 && target !== undefined && target.literal && target.text !== "-")
      targets.push(target.text)
    else lost = true
  }
  const dirs = new Set([env.context.cwd])
  for (let round = 0; round < 3 && targets.length > 0 && dirs.size < 64; round++) {
    for (const dir of [...dirs]) for (const t of targets) dirs.add(path.resolve(dir, t))
  }
  return { dirs: [...dirs], lost }
}

/** Every spelling of a shell path as seen from each directory the command may run in. */
const shellCandidates = (env: Env, dirs: ReadonlyArray<string>, p: string): ReadonlyArray<string> => {
  if (path.isAbsolute(p) || p === "~" || p.startsWith("~/")) return pathCandidates(env, p)
  return unique(
    dirs.flatMap((dir) => {
      const absolute = path.resolve(dir, p)
      return [absolute, realpathOnce(env, absolute)]
    })
  )
}

const insideAll = (env: Env, candidates: ReadonlyArray<string>) =>
  candidates.every((c) => env.roots.some((root) => env.memo.segments(root, c) !== undefined))

/**
 * The parts of a shell command: every command (read-only when its program spec says so and every file it reads
 * lies in the workspace), the files it redirects into or writes through its arguments, the files it reads, and
 * the path-like words it mentions. Also why it cannot be checked exactly (`unknown`) and why it must be asked
 * about in every mode (`always`).
 */
const shellParts = (
  env: Env,
  analysis: ShellAnalysis
): { readonly parts: Array<Part>; readonly unknown: Array<string>; readonly always: Array<string> } => {
  const unknown = [...analysis.unknown]
  const always = [...analysis.alwaysAsk]
  const { dirs, lost } = shellDirectories(env, analysis.commands)
  const isRelative = (p: string) => !path.isAbsolute(p) && p !== "~" && !p.startsWith("~/")
  if (lost && analysis.writes.some(isRelative)) unknown.push("a relative redirection after a change of directory")
  const pathPart = (
    kind: "read" | "edit",
    role: Extract<Part, { _tag: "Path" }>["role"],
    p: string,
    base: ReadonlyArray<string> = dirs,
    recursive = false
  ): Extract<Part, { _tag: "Path" }> => ({
    _tag: "Path",
    kind,
    role,
    input: p,
    candidates: shellCandidates(env, base, p),
    ...(recursive ? { recursive } : {})
  })
  const unresolvedPart = (role: "read-arg" | "read-redirect" | "mention", text: string): Part => ({
    _tag: "Path",
    kind: "read",
    role,
    input: text,
    candidates: [],
    unresolved: true
  })
  const parts: Array<Part> = []
  const fileParts: Array<Part> = []
  // Path-like words of the commands, and whether a command that is not read-only mentions each.
  const mentions = new Map<string, boolean>()
  // Input redirections read for the command line as a whole: one outside the workspace (`cat < /etc/passwd`,
  // `< /dev/tcp/host/port`) or unresolved makes no command of it read-only.
  const redirectsInside =
    analysis.unresolvedReads.length === 0 &&
    analysis.reads.every((target) => insideAll(env, shellCandidates(env, dirs, target)))
  for (const c of analysis.commands) {
    // The directories this command runs in (`git -C dir`).
    let base = dirs
    let readOnly = c.readOnly && redirectsInside
    for (const dir of c.chdir) {
      if (!dir.literal) {
        unknown.push(`a command runs in a directory the checker cannot resolve: ${dir.text}`)
        readOnly = false
        continue
      }
      base = unique(base.map((d) => path.resolve(d, dir.text)))
      if (
        !insideAll(
          env,
          base.flatMap((d) => [d, realpathOnce(env, d)])
        )
      )
        readOnly = false
    }
    if (commandBase(commandName(c.words) ?? "") === "git") {
      for (const dir of base) {
        const suspicious = untrustedGitDir(dir, env.roots)
        if (suspicious !== undefined) {
          unknown.push(
            `git would use ${suspicious} as its repository (it looks like a bare repository the model may have written, whose configuration can run programs)`
          )
          readOnly = false
        }
      }
    }
    const readWords = new Set<string>()
    const recursiveReads = new Set(c.recursiveReads.map((w) => w.text))
    for (const read of c.reads) {
      readWords.add(read.text)
      if (!read.literal || (lost && isRelative(read.text))) {
        fileParts.push(unresolvedPart("read-arg", read.text))
        readOnly = false
        continue
      }
      const part = pathPart("read", "read-arg", read.text, base, recursiveReads.has(read.text))
      if (!insideAll(env, part.candidates)) readOnly = false
      fileParts.push(part)
    }
    for (const write of c.writes) {
      if (!write.path.literal) continue // asked about in every mode by the analysis
      if (lost && isRelative(write.path.text)) {
        always.push(`a relative write after a change of directory the checker cannot follow: ${write.path.text}`)
        continue
      }
      fileParts.push(pathPart("edit", "write-arg", write.path.text, base, write.recursive))
    }
    for (const mention of mentionedPaths(c.words)) {
      if (!readWords.has(mention)) mentions.set(mention, mentions.get(mention) === true || !c.readOnly)
    }
    if (!c.known) {
      for (const w of c.words.slice(1)) if (!w.literal) fileParts.push(unresolvedPart("mention", w.text))
    }
    parts.push({
      _tag: "Command",
      words: c.words,
      opaque: c.opaque,
      text: describeWords(c.words),
      ...(readOnly ? { readOnly: true } : {}),
      ...(c.known ? {} : { unknownProgram: { argumentLines: argumentLines(c.words) } })
    })
  }
  for (const target of analysis.writes) parts.push(pathPart("edit", "access", target))
  for (const target of analysis.reads) parts.push(pathPart("read", "read-redirect", target))
  for (const target of analysis.unresolvedReads) parts.push(unresolvedPart("read-redirect", target))
  for (const connection of analysis.network) {
    parts.push({ _tag: "Url", url: connection.target, host: connection.host?.toLowerCase(), redirect: true })
  }
  parts.push(...fileParts)
  for (const [target, maybeWritten] of mentions) {
    const part = pathPart("read", "mention", target)
    parts.push(maybeWritten ? { ...part, maybeWritten: true } : part)
  }
  return { parts, unknown, always }
}

const toolIdentity = (name: string, kind: ToolKind, input: Record<string, unknown>): ToolIdentity => ({
  name,
  kind,
  hasPath: PATH_FIELDS.some((field) => typeof input[field] === "string") || SEARCH_TOOLS.has(name),
  isShell: name === "Bash" || (kind === "execute" && typeof input.command === "string")
})

/** The built-in tools that search or list a directory: their search root is a path even when the input has none. */
const SEARCH_TOOLS: ReadonlySet<string> = new Set(["Grep", "Glob", "LS"])

/** Glob syntax in a pattern segment (as the Glob tool reads it). */
const GLOB_MAGIC = /[*?[{\\]/

/**
 * The paths a call of a built-in file tool uses, as the tool itself resolves them: its path fields, and for
 * Grep and Glob the directory searched (the working directory by default; for Glob also the pattern's leading
 * segments without glob syntax, so `/etc/*` searches `/etc`).
 */
const callPaths = (name: string, input: Record<string, unknown>): ReadonlyArray<string> => {
  const paths = PATH_FIELDS.flatMap((field) => {
    const value = input[field]
    return typeof value === "string" ? [value] : []
  })
  if (!SEARCH_TOOLS.has(name) || name === "LS") return paths
  const dir = paths[0] ?? "."
  if (name !== "Glob" || typeof input.pattern !== "string") return [dir]
  const segments = input.pattern.split("/")
  const fixed: Array<string> = []
  while (segments.length > 1 && !GLOB_MAGIC.test(segments[0] ?? "")) fixed.push(segments.shift() ?? "")
  const base = input.pattern.startsWith("/") && fixed.join("/") === "" ? "/" : fixed.join("/")
  return [base === "" ? dir : path.isAbsolute(base) ? base : path.join(dir, base)]
}

/** What the `Read` rules say about reading a path: allowed, needs approval (an ask rule), or denied. */
export type ReadAccess = "allowed" | "ask" | "denied"

/**
 * What `Read` deny and ask rules say about `realPath` (matched as for a Read call of it). Grep, Glob and LS leave
 * out of their results what is not `allowed` (a search cannot ask about each file it finds) and refuse a search
 * root that is `denied`. Wire it to the workspace's `readAccess`.
 */
export const readAccessBy = (rules: RuleSet): ((realPath: string) => ReadAccess) => {
  const guarding = rules.rules.filter(
    (rule) =>
      rule.behavior !== "allow" &&
      (rule.content._tag === "Path" || rule.content._tag === "Any") &&
      ruleAppliesTo(rule, READ_TOOL)
  )
  if (guarding.length === 0) return () => "allowed"
  const { bases } = compile(rules)
  const covers = (rule: Rule, realPath: string) =>
    rule.content._tag === "Any" ||
    (rule.content._tag === "Path" && matchPathPattern(rule.content.pattern, realPath, bases, CONSERVATIVE))
  return (realPath) => {
    let access: ReadAccess = "allowed"
    for (const rule of guarding) {
      if (!covers(rule, realPath)) continue
      if (rule.behavior === "deny") return "denied"
      access = "ask"
    }
    return access
  }
}

/**
 * Decides one tool call from rules, mode and path policy, without the `hint` of an ask (see
 * `PermissionEngine.checkPermission`, which adds it). Pure apart from resolving symlinks in file paths and loading
 * the bash parser (once). The decision's `source` names the rule text and the file it came from, or the mode.
 */
export const decideToolCall = (
  rules: RuleSet,
  call: ToolCall,
  context: PermissionContext,
  /** Shell analyses by command text, shared by the decisions of one call (a hint decides the call again). */
  analyses?: Map<string, ShellAnalysis>
): Effect.Effect<PermissionDecision, PermissionError> =>
  Effect.gen(function* () {
    const input = inputRecord(call.input)
    const tool = toolIdentity(context.tool.name, context.tool.kind, input)
    const compiled = compile(rules)
    const rootList = unique(
      [rules.projectRoot, context.cwd, ...rules.additionalDirectories].map((r) => path.resolve(r))
    )
    const realpaths = new Map<string, string>()
    const env: Env = {
      rules,
      compiled,
      context,
      tool,
      bases: compiled.bases,
      // The working directory is not a fixed root: its real path is resolved afresh unless it is one of them.
      rootList,
      roots: unique(
        rootList.flatMap((r) => {
          const fixed = compiled.fixedRoots.get(r)
          if (fixed !== undefined) return [r, fixed]
          const real = realpathLoose(r)
          realpaths.set(r, real)
          return [r, real]
        })
      ),
      memo: makePathMemo(),
      realpaths
    }
    if (tool.isShell) {
      const command = input.command
      if (typeof command !== "string") {
        return { type: "ask", reason: "the command is missing", source: "shell-parser" } as const
      }
      const analysis = analyses?.get(command) ?? (yield* analyzeShell(command))
      analyses?.set(command, analysis)
      const { parts, unknown, always } = shellParts(env, analysis)
      const runs = parts.some(
        (p) => p._tag === "Command" || (p._tag === "Path" && (p.role === "access" || p.role === "write-arg"))
      )
      return decide(env, runs ? parts : [{ _tag: "Tool" }, ...parts], unknown, always)
    }
    const paths = callPaths(context.tool.name, input)
    if (paths.length > 0 && (tool.kind === "read" || tool.kind === "edit")) {
      const kind = tool.kind
      return decide(
        env,
        paths.map((p): Part => ({ _tag: "Path", kind, role: "access", input: p, candidates: pathCandidates(env, p) })),
        []
      )
    }
    if (tool.kind === "edit") return decide(env, [{ _tag: "Opaque" }], [])
    if ("url" in input) return decide(env, [{ _tag: "Url", url: input.url, host: urlHost(input.url) }], [])
    return decide(env, [{ _tag: "Tool" }], [])
  })
