/**
 * The permission decision for one tool call, from a rule set, the tool and the mode. Deny rules win over ask
 * rules, ask rules over allow rules, and rules over modes (except that plan mode never runs a tool that is
 * not read-only). A `Bash` call is decided part by part: every command it would run and every file it
 * redirects into must be allowed.
 */
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { isProtected, PROTECTED_DIRECTORIES } from "../workspace/Workspace.js"
import type { PermissionError } from "../errors/PermissionError.js"
import type { PermissionContext, PermissionDecision, PermissionMode } from "../services/Permissions.js"
import type { ToolKind } from "../services/Tool.js"
import type { ToolCall } from "../streams/ToolCall.js"
import { makePathMemo, matchPathPattern, type PathBases, type PathMemo, realpathLoose } from "./PathRule.js"
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
import { analyzeShell, type ShellAnalysis } from "./ShellParser.js"
import type { Word } from "./ShellCommand.js"
import { CONFINED_FILE_TOOLS, FILE_CHANGING_TOOLS } from "./ToolNames.js"

export const PLAN_MODE_MESSAGE = "plan mode: only read-only tools may run; present your plan instead"

/** The decision's `source` when a path lies outside the workspace roots (the tool would refuse it). */
export const WORKSPACE_SOURCE = "workspace"
/** The decision's `source` when a file-changing tool targets `.git/` or `.sage/` without an explicit allow rule. */
export const PROTECTED_SOURCE = "protected-path"

/** One thing a call does that needs permission. */
type Part =
  | { readonly _tag: "Tool" }
  | {
      readonly _tag: "Command"
      readonly words: ReadonlyArray<Word>
      readonly text: string
      readonly opaque: boolean
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
      readonly role: "access" | "read-redirect" | "mention"
      readonly input: string
      readonly candidates: ReadonlyArray<string>
    }
  | { readonly _tag: "Url"; readonly url: unknown; readonly host: UrlHost }
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
      return match === "none" && part.opaque && conservative ? "maybe" : match
    }
    case "Path": {
      if (content._tag !== "Path") return conservative && content._tag === "Raw" ? "maybe" : "none"
      const options = conservative ? CONSERVATIVE : EXACT
      const test = (candidate: string) => matchPathPattern(content.pattern, candidate, env.bases, options, env.memo)
      const match = (conservative ? part.candidates.some(test) : part.candidates.every(test)) ? "match" : "none"
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

/** The rules that apply to a part: command parts to the shell tool, redirect targets to edit rules. */
const EDIT_TOOL: ToolIdentity = { name: "Edit", kind: "edit", hasPath: true, isShell: false }
const READ_TOOL: ToolIdentity = { name: "Read", kind: "read", hasPath: true, isShell: false }

const rulesFor = (part: Part, env: Env): ReadonlyArray<Rule> => {
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
        return lists.access
      case "read-redirect":
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
      return `fetching ${String(part.url)}`
    case "Tool":
    case "Opaque":
      return "this tool"
  }
}

const DIRECTORY_CHANGERS = new Set(["cd", "pushd", "popd"])

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

/** Path-like arguments of a command (`.env`, `--file=.env`), checked against deny rules. */
const mentionedPaths = (words: ReadonlyArray<Word>): ReadonlyArray<string> =>
  words.slice(1).flatMap((w) => {
    if (!w.literal) return []
    const text = w.text.startsWith("-") ? (w.text.includes("=") ? w.text.slice(w.text.indexOf("=") + 1) : "") : w.text
    return text === "" || text.includes("://") ? [] : [text]
  })

/** Whether the mode alone allows a part (after no rule decided it). */
const modeAllows = (part: Part, env: Env): boolean => {
  const { mode } = env.context
  if (mode === "bypassPermissions") return true
  if (part._tag === "Path") {
    if (!isInsideRoots(part, env)) return false
    if (part.kind === "read") return env.context.tool.readOnly
    return mode === "acceptEdits"
  }
  if (part._tag === "Command") return false
  if (env.context.tool.readOnly) return true
  return mode === "acceptEdits" && env.tool.kind === "edit"
}

/**
 * Whether an explicit allow rule for a file-changing tool (`Edit(...)`, `Write(...)`, `MultiEdit(...)` with a
 * path) covers `realPath`: what lets Write/Edit/MultiEdit touch a protected directory (`.git/`, `.sage/`). A mode
 * (even bypassPermissions) or a bare `Edit` rule never does.
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
        matchPathPattern(rule.content.pattern, realPath, bases, EXACT)
    )
  }

/** The spellings of a path part that lie in a protected directory (`.git/`, `.sage/`). */
const protectedCandidates = (part: Extract<Part, { _tag: "Path" }>, env: Env): ReadonlyArray<string> => {
  const workspace = { roots: env.roots }
  return part.candidates.filter((c) => isProtected(c, workspace))
}

/** Whether a path part lies in a protected directory. */
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
      blocked.some((c) => rule.content._tag === "Path" && matchPathPattern(rule.content.pattern, c, env.bases, EXACT))
  )
}

/**
 * What the built-in file tools refuse whatever the rules and mode say, decided here so that the decision never
 * disagrees with the tool: a path outside the workspace roots (symlinks resolved), and a change inside a protected
 * directory (`.git/`, `.sage/`) without an explicit allow rule for that path.
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
          reason: `${part.input} is inside a protected directory (${PROTECTED_DIRECTORIES.join(", ")}); changing files there requires an explicit allow rule for this path, such as ${name}(${displayPath(env, path.resolve(env.context.cwd, part.input))})`,
          source: PROTECTED_SOURCE
        }
      }
    }
  }
  return undefined
}

const decide = (env: Env, parts: ReadonlyArray<Part>, unknown: ReadonlyArray<string>): PermissionDecision => {
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
  if (mode === "plan" && !env.context.tool.readOnly) {
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
    if (part._tag === "Path" && part.role !== "access") continue
    if (part._tag === "Command" && isCdInsideRoots(part, env)) {
      sources.push("builtin:cd")
      continue
    }
    // A write into `.git/` or `.sage/` (a shell redirection, a custom edit tool) needs an explicit allow rule for
    // its path, as the file tools do: a bare rule, the whole shell tool or acceptEdits do not cover it.
    const guarded = part._tag === "Path" && part.kind === "edit" && mode !== "bypassPermissions" && isGuarded(part, env)
    const allowed = guarded
      ? undefined
      : (allowedParts.get(part) ??
        // An allow rule for the whole shell tool also covers its redirections (deny/ask Edit rules still apply).
        (part._tag === "Path" ? wholeShell : undefined))
    if (allowed !== undefined) {
      sources.push(sourceOf(allowed))
      continue
    }
    const explicit = guarded && part._tag === "Path" ? explicitRule(part, env) : undefined
    if (explicit !== undefined) {
      sources.push(sourceOf(explicit))
      continue
    }
    if (!guarded && modeAllows(part, env)) {
      sources.push(modeSource(mode))
      continue
    }
    const suggestion = suggestionFor(part, env)
    const outside = part._tag === "Path" && !isInsideRoots(part, env)
    const where = outside
      ? " (outside the workspace)"
      : guarded
        ? ` (a protected directory: ${PROTECTED_DIRECTORIES.join(", ")})`
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

const toolIdentity = (name: string, kind: ToolKind, input: Record<string, unknown>): ToolIdentity => ({
  name,
  kind,
  hasPath: PATH_FIELDS.some((field) => typeof input[field] === "string"),
  isShell: name === "Bash" || (kind === "execute" && typeof input.command === "string")
})

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
      const unknown = [...analysis.unknown]
      const changesDirectory = analysis.commands.some((c) => DIRECTORY_CHANGERS.has(commandName(c.words) ?? ""))
      const isRelative = (p: string) => !path.isAbsolute(p) && p !== "~" && !p.startsWith("~/")
      if (changesDirectory && analysis.writes.some(isRelative)) {
        unknown.push("a relative redirection after a change of directory")
      }
      const pathPart = (kind: "read" | "edit", role: "access" | "read-redirect" | "mention", p: string): Part => ({
        _tag: "Path",
        kind,
        role,
        input: p,
        candidates: pathCandidates(env, p)
      })
      const mentions = unique(analysis.commands.flatMap((c) => mentionedPaths(c.words)))
      const parts: Array<Part> = [
        ...analysis.commands.map(
          (c): Part => ({ _tag: "Command", words: c.words, opaque: c.opaque, text: describeWords(c.words) })
        ),
        ...analysis.writes.map((target) => pathPart("edit", "access", target)),
        ...analysis.reads.map((target) => pathPart("read", "read-redirect", target)),
        ...mentions.map((target) => pathPart("read", "mention", target))
      ]
      const runs = parts.some((p) => p._tag === "Command" || (p._tag === "Path" && p.role === "access"))
      return decide(env, runs ? parts : [{ _tag: "Tool" }, ...parts], unknown)
    }
    const paths = PATH_FIELDS.flatMap((field) => {
      const value = input[field]
      return typeof value === "string" ? [value] : []
    })
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
