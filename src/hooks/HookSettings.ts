/**
 * The `hooks` key of a settings file, in Claude Code's format:
 *
 * ```json
 * { "hooks": { "PreToolUse": [{ "matcher": "Bash|Write", "hooks": [{ "type": "command", "command": "...", "timeout": 30 }] }] } }
 * ```
 *
 * Checked strictly like the rest of the file: an unknown event (`PreToolUSe`), an unknown key, a hook type other
 * than `command`, a matcher that is not a valid regular expression or a timeout that is not a positive number is a
 * problem at its node (reported as `file:line:column:` by `Settings.ts`).
 */
import * as Result from "effect/Result"
import type { Node as JsonNode } from "jsonc-parser"
import {
  HOOK_EVENTS,
  type HookEventName,
  type HookHandler,
  type HookMatcher,
  type HooksConfig
} from "../services/Hooks.js"
import { type NodeProblem, properties, unknownKey, wrongType } from "../permissions/SettingsNodes.js"
import { matcherProblem } from "./Matcher.js"

const MATCHER_KEYS: ReadonlyArray<string> = ["matcher", "hooks"]
const HOOK_KEYS: ReadonlyArray<string> = ["type", "command", "timeout"]

const isEvent = (name: string): name is HookEventName => HOOK_EVENTS.some((event) => event === name)

const parseHandler = (node: JsonNode, at: string): Result.Result<HookHandler, NodeProblem> => {
  if (node.type !== "object") return wrongType(node, at, 'an object { "type": "command", "command": "..." }')
  let command: string | undefined
  let timeout: number | undefined
  let sawType = false
  for (const [key, value] of properties(node)) {
    const name = String(key.value)
    if (!HOOK_KEYS.includes(name)) return unknownKey(key, at, HOOK_KEYS)
    if (name === "type") {
      if (value.type !== "string" || value.value !== "command") {
        return wrongType(value, `${at}.type`, '"command" (the only hook type Sage runs from settings)')
      }
      sawType = true
    }
    if (name === "command") {
      if (value.type !== "string" || String(value.value).trim() === "") {
        return wrongType(value, `${at}.command`, "a non-empty shell command")
      }
      command = String(value.value)
    }
    if (name === "timeout") {
      if (value.type !== "number" || !(Number(value.value) > 0) || !Number.isFinite(Number(value.value))) {
        return wrongType(value, `${at}.timeout`, "a number of seconds > 0")
      }
      timeout = Number(value.value)
    }
  }
  if (!sawType) return Result.fail({ node, message: `invalid settings at ${at}: "type": "command" is missing` })
  if (command === undefined) return Result.fail({ node, message: `invalid settings at ${at}: "command" is missing` })
  return Result.succeed({ type: "command", command, ...(timeout === undefined ? {} : { timeout }) })
}

const parseMatcher = (node: JsonNode, at: string): Result.Result<HookMatcher, NodeProblem> => {
  if (node.type !== "object") return wrongType(node, at, 'an object { "matcher": "...", "hooks": [...] }')
  let matcher: string | undefined
  let handlers: Array<HookHandler> | undefined
  for (const [key, value] of properties(node)) {
    const name = String(key.value)
    if (!MATCHER_KEYS.includes(name)) return unknownKey(key, at, MATCHER_KEYS)
    if (name === "matcher") {
      if (value.type !== "string") return wrongType(value, `${at}.matcher`, 'a string such as "Bash|Write"')
      const problem = matcherProblem(String(value.value))
      if (problem !== undefined) {
        return Result.fail({ node: value, message: `invalid settings at ${at}.matcher: ${problem}` })
      }
      matcher = String(value.value)
    }
    if (name === "hooks") {
      if (value.type !== "array") return wrongType(value, `${at}.hooks`, "an array of hooks")
      handlers = []
      for (const [n, item] of (value.children ?? []).entries()) {
        const parsed = parseHandler(item, `${at}.hooks[${n}]`)
        if (Result.isFailure(parsed)) return Result.fail(parsed.failure)
        handlers.push(parsed.success)
      }
    }
  }
  if (handlers === undefined) return Result.fail({ node, message: `invalid settings at ${at}: "hooks" is missing` })
  return Result.succeed({ ...(matcher === undefined ? {} : { matcher }), hooks: handlers })
}

/** Parses the `hooks` section of a settings file. */
export const parseHooks = (node: JsonNode): Result.Result<HooksConfig, NodeProblem> => {
  if (node.type !== "object") return wrongType(node, "hooks", "an object of hook event -> matchers")
  const config: { [E in HookEventName]?: ReadonlyArray<HookMatcher> } = {}
  for (const [key, value] of properties(node)) {
    const name = String(key.value)
    if (!isEvent(name)) return unknownKey(key, "hooks", HOOK_EVENTS)
    if (value.type !== "array") return wrongType(value, `hooks.${name}`, "an array of matchers")
    const matchers: Array<HookMatcher> = []
    for (const [n, item] of (value.children ?? []).entries()) {
      const parsed = parseMatcher(item, `hooks.${name}[${n}]`)
      if (Result.isFailure(parsed)) return Result.fail(parsed.failure)
      matchers.push(parsed.success)
    }
    config[name] = [...(config[name] ?? []), ...matchers]
  }
  return Result.succeed(config)
}

/** The hooks of several sources together (lowest precedence first; every hook of every source runs). */
export const mergeHooks = (...configs: ReadonlyArray<HooksConfig | undefined>): HooksConfig => {
  const merged: { [E in HookEventName]?: ReadonlyArray<HookMatcher> } = {}
  for (const config of configs) {
    if (config === undefined) continue
    for (const event of HOOK_EVENTS) {
      const matchers = config[event]
      if (matchers !== undefined && matchers.length > 0) merged[event] = [...(merged[event] ?? []), ...matchers]
    }
  }
  return merged
}
