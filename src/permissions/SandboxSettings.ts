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
import { type NodeProblem, properties, unknownKey, wrongType } from "./SettingsNodes.js"

export const SANDBOX_KEYS: ReadonlyArray<string> = ["envPassthrough"]

/** The `sandbox` section: an object with known keys only, `envPassthrough` an array of variable names. */
export const parseSandbox = (node: JsonNode): Result.Result<SandboxSettings, NodeProblem> => {
  if (node.type !== "object") return wrongType(node, "sandbox", "an object")
  const envPassthrough: Array<string> = []
  for (const [key, value] of properties(node)) {
    if (!SANDBOX_KEYS.includes(String(key.value))) return unknownKey(key, "sandbox", SANDBOX_KEYS)
    if (value.type !== "array") return wrongType(value, "sandbox.envPassthrough", "an array of variable names")
    for (const [n, item] of (value.children ?? []).entries()) {
      const at = `sandbox.envPassthrough[${n}]`
      if (item.type !== "string" || !PASSTHROUGH_ENTRY.test(String(item.value))) {
        return wrongType(item, at, 'an environment variable name ("MY_TOKEN") or a prefix ending in * ("DEPLOY_*")')
      }
      envPassthrough.push(String(item.value))
    }
  }
  return Result.succeed({ envPassthrough })
}
