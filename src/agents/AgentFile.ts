/**
 * Agent files: Markdown with a front matter block, the format Claude Code uses for its sub-agents.
 *
 * ```markdown
 * ---
 * name: code-reviewer
 * description: Reviews a change for bugs and style. Use after writing code.
 * tools: Read, Grep, Glob        # or a list (`- Read` lines, `[Read, Grep]`); absent: all of the parent's tools
 * model: claude-sonnet-4-5       # absent or `inherit`: the parent's model
 * permissionMode: default        # made no wider than the parent's
 * ---
 * You are a code reviewer. ...   (the body is the system prompt)
 * ```
 *
 * The front matter is read by a small, strict parser of the YAML subset these files use: `key: value` lines with
 * plain, single- or double-quoted values, `|` / `>` blocks, `[a, b]` lists and `- item` lists. Also read:
 * `disallowedTools` and `maxTurns` (the sub-agent's `maxSteps`); `color` and the other keys of Claude Code that Sage
 * has no use for are skipped. Anything else (an unknown key, a line that is not `key: value`, a missing `name` or
 * `description`, an empty body) is a `ConfigError` naming the file and the line.
 */
import * as Effect from "effect/Effect"
import { ConfigError } from "../errors/ConfigError.js"
import { PERMISSION_MODES, type PermissionMode } from "../services/Permissions.js"
import type { AgentDefinition, AgentSource } from "../services/SubAgents.js"

/** Agent names (`subagent_type`): like tool names. */
export const AGENT_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/

/** Tool names in `tools` lists (MCP tools included). */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/

/** Keys of Claude Code's agent files that Sage reads past without using. */
const SKIPPED_KEYS: ReadonlySet<string> = new Set(["color", "hooks", "skills", "memory", "mcpServers", "background"])

const KNOWN_KEYS = ["name", "description", "tools", "disallowedTools", "model", "permissionMode", "maxTurns"]

type Value = { readonly line: number } & (
  | { readonly type: "string"; readonly value: string }
  | { readonly type: "list"; readonly items: ReadonlyArray<string> }
)

/** What is wrong, and on which line of the file. */
class Problem {
  constructor(
    readonly line: number,
    readonly message: string
  ) {}
}

const isProblem = (value: unknown): value is Problem => value instanceof Problem

/** The first problem among `values`, else the values. */
const all = <A>(values: ReadonlyArray<A | Problem>): ReadonlyArray<A> | Problem => {
  const out: Array<A> = []
  for (const value of values) {
    if (isProblem(value)) return value
    out.push(value)
  }
  return out
}

const ESCAPES: Readonly<Record<string, string>> = { n: "\n", t: "\t", '"': '"', "\\": "\\", "/": "/", r: "\r" }

const unquoteDouble = (raw: string, line: number): string | Problem => {
  let out = ""
  for (let i = 1; i < raw.length - 1; i++) {
    const c = raw[i]
    if (c !== "\\") {
      out += c
      continue
    }
    const next = raw[++i]
    const mapped = next === undefined ? undefined : ESCAPES[next]
    if (mapped === undefined) return new Problem(line, `unsupported escape \\${next ?? ""} in a double-quoted value`)
    out += mapped
  }
  return out
}

/** A one-line scalar: quoted or plain (a plain value loses a trailing ` # comment`). */
const scalar = (raw: string, line: number): string | Problem => {
  const text = raw.trim()
  if (text.startsWith('"')) {
    if (text.length < 2 || !text.endsWith('"') || text.endsWith('\\"'))
      return new Problem(line, "a double-quoted value must end on its line with a closing quote")
    return unquoteDouble(text, line)
  }
  if (text.startsWith("'")) {
    if (text.length < 2 || !text.endsWith("'"))
      return new Problem(line, "a single-quoted value must end on its line with a closing quote")
    return text.slice(1, -1).replaceAll("''", "'")
  }
  const comment = text.search(/\s#/)
  return (comment === -1 ? text : text.slice(0, comment)).trim()
}

/** `[a, "b", c]`. */
const flowList = (raw: string, line: number): ReadonlyArray<string> | Problem => {
  const text = raw.trim()
  if (!text.endsWith("]")) return new Problem(line, "a [list] must end on its line with ]")
  const inner = text.slice(1, -1).trim()
  return inner === "" ? [] : all(inner.split(",").map((item) => scalar(item, line)))
}

const indentOf = (line: string): number => line.length - line.trimStart().length

/** The value of one key, from the rest of its line and its indented lines. */
const keyValue = (key: string, rest: string, block: ReadonlyArray<string>, lineNo: number): Value | Problem => {
  if (/^[|>][-+]?$/.test(rest)) {
    const indents = block.filter((l) => l.trim() !== "").map(indentOf)
    const cut = indents.length === 0 ? 0 : Math.min(...indents)
    const body = block.map((l) => l.slice(cut).trimEnd())
    const value = rest.startsWith("|")
      ? body.join("\n").trim()
      : body
          .join("\n")
          .split(/\n{2,}/)
          .map((p) => p.replace(/\n/g, " "))
          .join("\n")
          .trim()
    return { type: "string", value, line: lineNo }
  }
  if (rest === "") {
    const items = block.filter((l) => l.trim() !== "")
    if (items.length === 0) return { type: "string", value: "", line: lineNo }
    const list = all(
      items.map((l, k) => {
        const item = /^\s*-\s+(.*)$/.exec(l)
        if (item === null) return new Problem(lineNo + 1 + k, `expected a "- item" line under "${key}"`)
        return scalar(item[1] ?? "", lineNo + 1 + k)
      })
    )
    return isProblem(list) ? list : { type: "list", items: list, line: lineNo }
  }
  if (block.some((l) => l.trim() !== "")) {
    return new Problem(lineNo + 1, `unexpected indented line after "${key}: ${rest.slice(0, 40)}"`)
  }
  if (rest.startsWith("[")) {
    const items = flowList(rest, lineNo)
    return isProblem(items) ? items : { type: "list", items, line: lineNo }
  }
  const value = scalar(rest, lineNo)
  return isProblem(value) ? value : { type: "string", value, line: lineNo }
}

/** Parses the front matter lines (`first` is the file line number of `lines[0]`). */
const parseFrontMatter = (lines: ReadonlyArray<string>, first: number): Map<string, Value> | Problem => {
  const values = new Map<string, Value>()
  let i = 0
  while (i < lines.length) {
    const text = lines[i] ?? ""
    const lineNo = first + i
    i++
    if (text.trim() === "" || text.trimStart().startsWith("#")) continue
    if (text.startsWith("\t")) return new Problem(lineNo, "tabs are not allowed for indentation")
    const match = /^([A-Za-z][A-Za-z0-9_-]*)\s*:(?:\s+(.*))?$/.exec(text.trimEnd())
    if (indentOf(text) > 0 || match === null) {
      return new Problem(lineNo, `expected "key: value", got ${JSON.stringify(text.trim().slice(0, 60))}`)
    }
    const key = match[1] ?? ""
    const rest = (match[2] ?? "").trim()
    if (values.has(key)) return new Problem(lineNo, `"${key}" is given twice`)
    // The indented lines (and `- item` lines) that belong to this key.
    const block: Array<string> = []
    while (i < lines.length) {
      const next = lines[i] ?? ""
      if (next.trim() !== "" && indentOf(next) === 0 && !next.startsWith("-")) break
      if (next.trim() === "" && (i + 1 >= lines.length || indentOf(lines[i + 1] ?? "") === 0)) {
        i++
        break
      }
      block.push(next)
      i++
    }
    if (SKIPPED_KEYS.has(key)) continue
    if (!KNOWN_KEYS.includes(key)) {
      return new Problem(lineNo, `unknown key "${key}"; the keys are ${KNOWN_KEYS.join(", ")}`)
    }
    const value = keyValue(key, rest, block, lineNo)
    if (isProblem(value)) return value
    values.set(key, value)
  }
  return values
}

type Field<A> = { readonly value: A; readonly line: number } | undefined

const stringOf = (values: Map<string, Value>, key: string): Field<string> | Problem => {
  const v = values.get(key)
  if (v === undefined) return undefined
  if (v.type !== "string") return new Problem(v.line, `"${key}" must be a single value, not a list`)
  return { value: v.value, line: v.line }
}

/** A tool list: comma-separated, or a list; `*` (or nothing) means every tool. */
const toolsOf = (values: Map<string, Value>, key: string): ReadonlyArray<string> | undefined | Problem => {
  const v = values.get(key)
  if (v === undefined) return undefined
  const items = (v.type === "list" ? v.items : v.value.split(",")).map((t) => t.trim()).filter((t) => t !== "")
  if (items.length === 0 || (items.length === 1 && items[0] === "*")) return undefined
  const bad = items.find((tool) => !TOOL_NAME.test(tool))
  return bad === undefined ? items : new Problem(v.line, `"${bad}" in ${key} is not a tool name`)
}

/**
 * The definition in an agent file's text. Fails with a `ConfigError` whose message starts with `path:line:`.
 */
export const parseAgentFile = (
  text: string,
  path: string,
  source: AgentSource
): Effect.Effect<AgentDefinition, ConfigError> =>
  Effect.suspend(() => {
    const parsed = parse(text, path, source)
    return isProblem(parsed)
      ? Effect.fail(
          new ConfigError({ message: `${path}:${parsed.line}: ${parsed.message} (agent file)`, source: path })
        )
      : Effect.succeed(parsed)
  })

const parse = (raw: string, path: string, source: AgentSource): AgentDefinition | Problem => {
  const lines = raw.replace(/^\uFEFF/, "").split(/\r?\n/)
  if ((lines[0] ?? "").trimEnd() !== "---") {
    return new Problem(1, 'an agent file starts with a front matter block between two "---" lines')
  }
  const end = lines.findIndex((l, i) => i > 0 && l.trimEnd() === "---")
  if (end === -1) return new Problem(1, 'the front matter block is not closed with a "---" line')
  const values = parseFrontMatter(lines.slice(1, end), 2)
  if (isProblem(values)) return values
  const name = stringOf(values, "name")
  if (isProblem(name)) return name
  if (name === undefined || name.value === "") return new Problem(1, 'the front matter has no "name"')
  if (!AGENT_NAME_PATTERN.test(name.value)) {
    return new Problem(name.line, `the name "${name.value}" must be 1-64 characters from a-z, A-Z, 0-9, "_" and "-"`)
  }
  const description = stringOf(values, "description")
  if (isProblem(description)) return description
  if (description === undefined || description.value.trim() === "") {
    return new Problem(1, 'the front matter has no "description" (it tells the model when to use the agent)')
  }
  const prompt = lines
    .slice(end + 1)
    .join("\n")
    .trim()
  if (prompt === "") return new Problem(end + 1, "the body (the agent's system prompt) is empty")
  const model = stringOf(values, "model")
  if (isProblem(model)) return model
  if (model !== undefined && model.value === "") return new Problem(model.line, '"model" is empty')
  const mode = stringOf(values, "permissionMode")
  if (isProblem(mode)) return mode
  const permissionMode = PERMISSION_MODES.find((m): m is PermissionMode => m === mode?.value)
  if (mode !== undefined && permissionMode === undefined) {
    return new Problem(mode.line, `permissionMode must be one of ${PERMISSION_MODES.join(", ")}, got "${mode.value}"`)
  }
  const turns = stringOf(values, "maxTurns")
  if (isProblem(turns)) return turns
  const maxSteps = turns === undefined ? undefined : Number(turns.value)
  if (turns !== undefined && !(maxSteps !== undefined && Number.isInteger(maxSteps) && maxSteps >= 1)) {
    return new Problem(turns.line, `maxTurns must be an integer >= 1, got "${turns.value}"`)
  }
  const tools = toolsOf(values, "tools")
  if (isProblem(tools)) return tools
  const disallowedTools = toolsOf(values, "disallowedTools")
  if (isProblem(disallowedTools)) return disallowedTools
  return {
    name: name.value,
    description: description.value.trim(),
    prompt,
    ...(tools === undefined ? {} : { tools }),
    ...(disallowedTools === undefined ? {} : { disallowedTools }),
    ...(model === undefined ? {} : { model: model.value }),
    ...(permissionMode === undefined ? {} : { permissionMode }),
    ...(maxSteps === undefined ? {} : { maxSteps }),
    source,
    path
  }
}
