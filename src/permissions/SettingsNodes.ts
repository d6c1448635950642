/**
 * Helpers for checking the JSON tree of a settings file (`jsonc-parser` nodes), shared by the sections'
 * parsers (`Settings.ts`, `ModelSettings.ts`, `SandboxSettings.ts`): a problem is reported at its node, and
 * `Settings.ts` turns it into a `file:line:column:` error.
 */
import * as Result from "effect/Result"
import type { Node as JsonNode } from "jsonc-parser"
import { didYouMean } from "./ToolNames.js"

/** A problem at a node: what `Settings.ts` reports with the node's line and column. */
export interface NodeProblem {
  readonly node: JsonNode
  readonly message: string
}

/** What a JSON value is, for messages (`a string "Bash"`, `an array`). */
export const describeNode = (node: JsonNode): string => {
  switch (node.type) {
    case "object":
      return "an object"
    case "array":
      return "an array"
    case "string":
      return `a string ${JSON.stringify(node.value)}`
    case "number":
      return `a number ${String(node.value)}`
    case "boolean":
      return String(node.value)
    default:
      return "null"
  }
}

/** The properties of an object node as [key node, value node] pairs. */
export const properties = (node: JsonNode): ReadonlyArray<readonly [JsonNode, JsonNode]> =>
  (node.children ?? []).flatMap((property) => {
    const [key, value] = property.children ?? []
    return key === undefined || value === undefined ? [] : [[key, value] as const]
  })

/** `node` (at the dotted path `at`) is not what was `expected`. */
export const wrongType = (node: JsonNode, at: string, expected: string): Result.Result<never, NodeProblem> =>
  Result.fail({ node, message: `invalid settings at ${at}: expected ${expected}, found ${describeNode(node)}` })

/** `key` is not one of the `known` keys of the section `where`. */
export const unknownKey = (
  key: JsonNode,
  where: string,
  known: ReadonlyArray<string>
): Result.Result<never, NodeProblem> => {
  const name = String(key.value)
  return Result.fail({
    node: key,
    message: `unknown key ${JSON.stringify(name)} in ${where}; expected one of: ${known.join(", ")}${didYouMean(name, known)}`
  })
}
