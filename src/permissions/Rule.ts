/**
 * Permission rules: `Tool` or `Tool(pattern)`, parsed once and matched against tool calls.
 *
 * - `Bash(npm test:*)` matches commands whose parsed words start with `npm test`; `Bash(git status)` matches
 *   exactly that command (deny and ask rules match it as a prefix too).
 * - `Edit(src/**)`, `Read(./.env)`, `Read(//etc/**)`, `Read(~/.ssh/**)`: gitignore-style paths (see PathRule).
 * - `WebFetch(domain:example.com)`: the URL's host is exactly `example.com` (`domain:*.example.com` for
 *   subdomains); deny rules also cover subdomains.
 * - `mcp__server` or `mcp__server__*`: every tool of an MCP server; `mcp__server__tool`: one tool.
 */
import * as Either from "effect/Either"
import type { ToolKind } from "../services/Tool.js"
import { type PathPattern, parsePathPattern } from "./PathRule.js"
import type { Word } from "./ShellCommand.js"

export type RuleBehavior = "allow" | "ask" | "deny"

export type RuleContent =
  /** The whole tool (`Bash`, `Bash(*)`). */
  | { readonly _tag: "Any" }
  | { readonly _tag: "Command"; readonly words: ReadonlyArray<string>; readonly prefix: boolean }
  | { readonly _tag: "Path"; readonly pattern: PathPattern }
  | { readonly _tag: "Domain"; readonly domain: string; readonly subdomains: boolean }
  /** A pattern for a tool whose input we cannot interpret: never allows, makes deny/ask rules ask. */
  | { readonly _tag: "Raw"; readonly text: string }

export interface Rule {
  /** The rule as written. */
  readonly text: string
  readonly tool: string
  readonly content: RuleContent
  readonly behavior: RuleBehavior
  /** Where the rule came from: a settings file path, `--allowed-tools`, ... */
  readonly source: string
}

/** Tools whose rule pattern is a path. */
export const PATH_TOOLS = new Set(["Edit", "Write", "MultiEdit", "NotebookEdit", "Read", "Glob", "Grep", "LS"])

const TOOL_NAME = /^(?:[A-Za-z0-9_.-]+|mcp__[A-Za-z0-9_.-]+__\*)$/i

/** Splits a Bash rule pattern into words (quotes and backslashes as in the shell). */
export const splitRuleWords = (text: string): Either.Either<ReadonlyArray<string>, string> => {
  const words: Array<string> = []
  let current = ""
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (ch === "'" || ch === '"') {
      const close = text.indexOf(ch, i + 1)
      if (close === -1) return Either.left(`an unterminated ${ch} quote`)
      current += text.slice(i + 1, close)
      inWord = true
      i = close
    } else if (ch === "\\") {
      if (i + 1 >= text.length) return Either.left("a trailing backslash")
      current += text[++i]
      inWord = true
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current)
      current = ""
      inWord = false
    } else {
      current += ch
      inWord = true
    }
  }
  if (inWord) words.push(current)
  return Either.right(words)
}

/** The rule tool name in its canonical spelling when it names a built-in family (`bash` is `Bash`). */
const canonicalTool = (tool: string): string =>
  ["Bash", "WebFetch", ...PATH_TOOLS].find((known) => known.toLowerCase() === tool.toLowerCase()) ?? tool

const parseContent = (rawTool: string, pattern: string): Either.Either<RuleContent, string> => {
  const tool = canonicalTool(rawTool)
  if (pattern === "*") return Either.right({ _tag: "Any" })
  if (tool === "Bash") {
    let body = pattern
    let prefix = false
    if (body.endsWith(":*")) {
      body = body.slice(0, -2)
      prefix = true
    } else if (body.endsWith(" *")) {
      body = body.slice(0, -2)
      prefix = true
    }
    if (body.includes(":*")) return Either.left("`:*` may only end a Bash pattern")
    return Either.flatMap(splitRuleWords(body), (words) =>
      words.length === 0
        ? Either.left("an empty command pattern")
        : Either.right<RuleContent>({ _tag: "Command", words, prefix })
    )
  }
  if (PATH_TOOLS.has(tool)) {
    const parsed = parsePathPattern(pattern)
    return typeof parsed === "string" ? Either.left(parsed) : Either.right({ _tag: "Path", pattern: parsed })
  }
  if (tool === "WebFetch") {
    const m = /^domain:(\*\.)?([A-Za-z0-9.-]+)$/.exec(pattern)
    if (m === null) return Either.left("WebFetch patterns are `domain:host` or `domain:*.host`")
    const domain = m[2]!.toLowerCase().replace(/\.$/, "")
    if (domain === "" || domain.startsWith(".") || domain.includes(".."))
      return Either.left(`an invalid domain: ${m[2]}`)
    return Either.right({ _tag: "Domain", domain, subdomains: m[1] !== undefined })
  }
  return Either.right({ _tag: "Raw", text: pattern })
}

/** Parses `Tool` or `Tool(pattern)`; the left side says what is wrong. */
export const parseRule = (text: string, behavior: RuleBehavior, source: string): Either.Either<Rule, string> => {
  const trimmed = text.trim()
  const open = trimmed.indexOf("(")
  if (open === -1) {
    if (!TOOL_NAME.test(trimmed)) return Either.left(`invalid rule ${JSON.stringify(text)}: not a tool name`)
    return Either.right({ text: trimmed, tool: trimmed, content: { _tag: "Any" }, behavior, source })
  }
  const tool = trimmed.slice(0, open)
  if (!TOOL_NAME.test(tool)) return Either.left(`invalid rule ${JSON.stringify(text)}: not a tool name`)
  if (!trimmed.endsWith(")")) return Either.left(`invalid rule ${JSON.stringify(text)}: missing ")"`)
  const pattern = trimmed.slice(open + 1, -1)
  if (pattern.trim() === "") return Either.left(`invalid rule ${JSON.stringify(text)}: empty pattern`)
  return Either.mapBoth(parseContent(tool, pattern), {
    onLeft: (reason) => `invalid rule ${JSON.stringify(text)}: ${reason}`,
    onRight: (content) => ({ text: trimmed, tool, content, behavior, source })
  })
}

/** The outcome of matching one rule: `maybe` means it could match (only deny/ask rules ever say maybe). */
export type Match = "match" | "maybe" | "none"

export interface ToolIdentity {
  readonly name: string
  readonly kind: ToolKind
  /** The call has file paths (`file_path`, `path`, `notebook_path`). */
  readonly hasPath: boolean
  /** The call is a shell command (`Bash`, or an execute tool with a `command` string). */
  readonly isShell: boolean
}

/** Whether the rule's tool names this tool. Allow rules compare names exactly, deny/ask rules ignore case. */
export const ruleAppliesTo = (rule: Rule, tool: ToolIdentity): boolean => {
  const conservative = rule.behavior !== "allow"
  const same = (a: string, b: string) => (conservative ? a.toLowerCase() === b.toLowerCase() : a === b)
  if (same(rule.tool, tool.name)) return true
  if (rule.tool.toLowerCase().startsWith("mcp__")) {
    const parts = rule.tool.split("__")
    if (parts.length === 2 || (parts.length === 3 && parts[2] === "*")) {
      const prefix = `${parts[0]}__${parts[1]}__`
      return conservative ? tool.name.toLowerCase().startsWith(prefix.toLowerCase()) : tool.name.startsWith(prefix)
    }
    return false
  }
  if (same(rule.tool, "Bash")) return tool.isShell
  if (same(rule.tool, "Edit")) return tool.kind === "edit"
  if (same(rule.tool, "Read")) return tool.kind === "read" && tool.hasPath
  return false
}

const baseName = (text: string): string => text.slice(text.lastIndexOf("/") + 1)

/**
 * Matches a command rule against the words of one parsed command. Allow rules need literal, exactly equal
 * words. Deny/ask rules compare program basenames and ignore case (`/bin/RM` is `rm` on a case-insensitive
 * disk), match exact patterns as prefixes, and say `maybe` when a word the shell expands sits where the
 * rule needs a fixed word.
 */
export const matchCommand = (
  content: { readonly words: ReadonlyArray<string>; readonly prefix: boolean },
  behavior: RuleBehavior,
  words: ReadonlyArray<Word>
): Match => {
  const pattern = content.words
  if (behavior === "allow") {
    if (words.length < pattern.length || (!content.prefix && words.length !== pattern.length)) return "none"
    for (let i = 0; i < pattern.length; i++) if (!words[i]!.literal || words[i]!.text !== pattern[i]) return "none"
    if (!content.prefix && words.some((w) => !w.literal)) return "none"
    return "match"
  }
  if (words.length < pattern.length) return "none"
  let result: Match = "match"
  for (let i = 0; i < pattern.length; i++) {
    const word = words[i]!
    if (!word.literal) {
      result = "maybe"
      continue
    }
    const a = word.text.toLowerCase()
    const b = pattern[i]!.toLowerCase()
    const equal = i === 0 ? a === b || baseName(a) === baseName(b) : a === b
    if (!equal) return "none"
  }
  return result
}

/** What domain rules see of a URL: its host, or nothing when it is not a readable http(s) URL. */
export type UrlHost = string | undefined

/** The lower-cased host of an http(s) URL without a trailing dot, or `undefined`. */
export const urlHost = (url: unknown): UrlHost => {
  if (typeof url !== "string") return undefined
  try {
    const parsed = new URL(url)
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return undefined
    return parsed.hostname.toLowerCase().replace(/\.$/, "")
  } catch {
    return undefined
  }
}

/** Matches a domain rule against a host from `urlHost`. */
export const matchDomainHost = (
  content: { readonly domain: string; readonly subdomains: boolean },
  behavior: RuleBehavior,
  host: UrlHost
): Match => {
  const conservative = behavior !== "allow"
  if (host === undefined) return conservative ? "maybe" : "none"
  const exact = host === content.domain
  const sub = host.endsWith(`.${content.domain}`)
  if (conservative) return exact || sub ? "match" : "none"
  return (content.subdomains ? sub : exact) ? "match" : "none"
}

/** Matches a domain rule against a URL. */
export const matchDomain = (
  content: { readonly domain: string; readonly subdomains: boolean },
  behavior: RuleBehavior,
  url: unknown
): Match => matchDomainHost(content, behavior, urlHost(url))
