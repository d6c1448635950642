/**
 * The `sandbox` key of a settings file, checked like the rest of it (`Settings.ts` turns a problem into a
 * `file:line:column:` error at the offending node):
 *
 * ```json
 * { "sandbox": { "envPassthrough": ["MY_TOKEN", "DEPLOY_*"] } }
 * ```
 *
 * `envPassthrough`: environment variables that commands receive unchanged although their name or value looks
 * like a credential (an exact name, or a prefix ending in `*`). The lists of all settings files are joined.
 */
import * as Result from "effect/Result"
import type { Node as JsonNode } from "jsonc-parser"
import { PASSTHROUGH_ENTRY } from "../process/CommandEnv.js"
import type { SandboxSettings } from "../services/Settings.js"
import type { NodeProblem } from "./ModelSettings.js"
import { didYouMean } from "./ToolNames.js"

export const SANDBOX_KEYS: ReadonlyArray<string> = ["envPassthrough"]

const describe = (node: JsonNode): string =>
  node.type === "string"
    ? `a string ${JSON.stringify(node.value)}`
    : node.type === "number"
      ? `a number ${String(node.value)}`
      : node.type === "boolean"
        ? String(node.value)
        : node.type === "null"
          ? "null"
          : `an ${node.type}`

const wrong = (node: JsonNode, at: string, expected: string): Result.Result<never, NodeProblem> =>
  Result.fail({ node, message: `invalid settings at ${at}: expected ${expected}, found ${describe(node)}` })

/** The `sandbox` section: an object with known keys only, `envPassthrough` an array of variable names. */
export const parseSandbox = (node: JsonNode): Result.Result<SandboxSettings, NodeProblem> => {
  if (node.type !== "object") return wrong(node, "sandbox", "an object")
  const envPassthrough: Array<string> = []
  for (const property of node.children ?? []) {
    const [key, value] = property.children ?? []
    if (key === undefined || value === undefined) continue
    const name = String(key.value)
    if (!SANDBOX_KEYS.includes(name)) {
      return Result.fail({
        node: key,
        message: `unknown key ${JSON.stringify(name)} in sandbox; expected one of: ${SANDBOX_KEYS.join(", ")}${didYouMean(name, SANDBOX_KEYS)}`
      })
    }
    if (value.type !== "array") return wrong(value, "sandbox.envPassthrough", "an array of variable names")
    for (const [n, item] of (value.children ?? []).entries()) {
      const at = `sandbox.envPassthrough[${n}]`
      if (item.type !== "string" || !PASSTHROUGH_ENTRY.test(String(item.value))) {
        return wrong(item, at, 'an environment variable name ("MY_TOKEN") or a prefix ending in * ("DEPLOY_*")')
      }
      envPassthrough.push(String(item.value))
    }
  }
  return Result.succeed({ envPassthrough })
}
