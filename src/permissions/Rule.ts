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
import * as Result from "effect/Result"
import type { Rule, RuleBehavior, RuleContent } from "../services/Settings.js"
import type { ToolKind } from "../services/Tool.js"
import { parsePathPattern } from "./PathRule.js"
import { BUILTIN_TOOL_NAMES, unknownToolReason } from "./ToolNames.js"
import type { Word } from "./ShellCommand.js"

export type { Rule, RuleBehavior, RuleContent }

/** Tools whose rule pattern is a path. */
export const PATH_TOOLS = new Set(["Edit", "Write", "MultiEdit", "NotebookEdit", "Read", "Glob", "Grep", "LS"])

const TOOL_NAME = /^(?:[A-Za-z0-9_.-]+|mcp__[A-Za-z0-9_.-]+__\*)$/i

/** Splits a Bash rule pattern into words (quotes and backslashes as in the shell). */
export const splitRuleWords = (text: string): Result.Result<ReadonlyArray<string>, string> => {
  const words: Array<string> = []
  let current = ""
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (ch === "'" || ch === '"') {
      const close = text.indexOf(ch, i + 1)
      if (close === -1) return Result.fail(`an unterminated ${ch} quote`)
      current += text.slice(i + 1, close)
      inWord = true
      i = close
    } else if (ch === "\\") {
      if (i + 1 >= text.length) return Result.fail("a trailing backslash")
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
  return Result.succeed(words)
}

/** The rule tool name in its canonical spelling when it names a built-in family (`bash` is `Bash`). */
const canonicalTool = (tool: string): string =>
  [...BUILTIN_TOOL_NAMES, ...PATH_TOOLS].find((known) => known.toLowerCase() === tool.toLowerCase()) ?? tool

const parseContent = (rawTool: string, pattern: string): Result.Result<RuleContent, string> => {
  const tool = canonicalTool(rawTool)
  if (pattern === "*") return Result.succeed({ _tag: "Any" })
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
    if (body.includes(":*")) return Result.fail("`:*` may only end a Bash pattern")
    return Result.flatMap(splitRuleWords(body), (words) =>
      words.length === 0
        ? Result.fail("an empty command pattern")
        : Result.succeed<RuleContent>({ _tag: "Command", words, prefix })
    )
  }
  if (PATH_TOOLS.has(tool)) {
    const parsed = parsePathPattern(pattern)
    return typeof parsed === "string" ? Result.fail(parsed) : Result.succeed({ _tag: "Path", pattern: parsed })
  }
  if (tool === "WebFetch") {
    const m = /^domain:(\*\.)?([A-Za-z0-9.-]+)$/.exec(pattern)
    if (m === null) return Result.fail("WebFetch patterns are `domain:host` or `domain:*.host`")
    const domain = m[2]!.toLowerCase().replace(/\.$/, "")
    if (domain === "" || domain.startsWith(".") || domain.includes(".."))
      return Result.fail(`an invalid domain: ${m[2]}`)
    return Result.succeed({ _tag: "Domain", domain, subdomains: m[1] !== undefined })
  }
  return Result.succeed({ _tag: "Raw", text: pattern })
}

/**
 * Parses `Tool` or `Tool(pattern)`; the failure says what is wrong. With `tools`, the tool name must also be a
 * built-in tool, an MCP name or one of `tools.custom` (see `unknownToolReason`).
 */
export const parseRule = (
  text: string,
  behavior: RuleBehavior,
  source: string,
  tools?: { readonly custom: ReadonlyArray<string> }
): Result.Result<Rule, string> => {
  const trimmed = text.trim()
  const open = trimmed.indexOf("(")
  const tool = open === -1 ? trimmed : trimmed.slice(0, open)
  if (!TOOL_NAME.test(tool)) return Result.fail(`invalid rule ${JSON.stringify(text)}: not a tool name`)
  if (tools !== undefined) {
    const unknown = unknownToolReason(tool, behavior, tools.custom)
    if (unknown !== undefined) return Result.fail(`invalid rule ${JSON.stringify(text)}: ${unknown}`)
  }
  if (open === -1) return Result.succeed({ text: trimmed, tool: trimmed, content: { _tag: "Any" }, behavior, source })
  if (!trimmed.endsWith(")")) return Result.fail(`invalid rule ${JSON.stringify(text)}: missing ")"`)
  const pattern = trimmed.slice(open + 1, -1)
  if (pattern.trim() === "") return Result.fail(`invalid rule ${JSON.stringify(text)}: empty pattern`)
  return Result.mapBoth(parseContent(tool, pattern), {
    onFailure: (reason) => `invalid rule ${JSON.stringify(text)}: ${reason}`,
    onSuccess: (content): Rule => ({ text: trimmed, tool, content, behavior, source })
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
