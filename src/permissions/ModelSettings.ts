/**
 * The `models` and `compaction` keys of a settings file, checked like the rest of it (`Settings.ts` turns a
 * problem into a `file:line:column:` error at the offending node):
 *
 * ```json
 * {
 *   "models": { "my-model": { "contextWindow": 32000, "pricing": { "input": 0.5, "output": 1.5 } } },
 *   "compaction": { "auto": true, "threshold": 0.8 }
 * }
 * ```
 */
import type { Node as JsonNode } from "jsonc-parser"
import * as Result from "effect/Result"
import type { ModelOverride, ModelOverrides } from "../services/ModelCatalog.js"
import type { CompactionSettings } from "../services/Settings.js"
import { type NodeProblem, properties, unknownKey, wrongType } from "./SettingsNodes.js"

export const MODEL_KEYS: ReadonlyArray<string> = [
  "provider",
  "contextWindow",
  "maxInputTokens",
  "maxOutputTokens",
  "pricing",
  "capabilities"
]
export const PRICING_KEYS: ReadonlyArray<string> = ["input", "output", "cacheRead", "cacheWrite"]
export const CAPABILITY_KEYS: ReadonlyArray<string> = ["tools", "vision", "reasoning"]
export const COMPACTION_KEYS: ReadonlyArray<string> = ["auto", "threshold"]

type Check<A> = Result.Result<A, NodeProblem>

const positiveInt = (node: JsonNode, at: string): Check<number> =>
  node.type === "number" && Number.isInteger(node.value) && node.value >= 1
    ? Result.succeed(node.value)
    : wrongType(node, at, "a whole number of tokens >= 1")

const price = (node: JsonNode, at: string): Check<number> =>
  node.type === "number" && Number.isFinite(node.value) && node.value >= 0
    ? Result.succeed(node.value)
    : wrongType(node, at, "a price in USD per million tokens (a number >= 0)")

const bool = (node: JsonNode, at: string): Check<boolean> =>
  node.type === "boolean" ? Result.succeed(node.value === true) : wrongType(node, at, "true or false")

const object = <A>(
  node: JsonNode,
  at: string,
  known: ReadonlyArray<string>,
  field: (key: string, value: JsonNode, at: string) => Check<A>
): Check<ReadonlyArray<readonly [string, A]>> => {
  if (node.type !== "object") return wrongType(node, at, "an object")
  const out: Array<readonly [string, A]> = []
  for (const [key, value] of properties(node)) {
    const name = String(key.value)
    if (!known.includes(name)) return unknownKey(key, at, known)
    const checked = field(name, value, `${at}.${name}`)
    if (Result.isFailure(checked)) return Result.fail(checked.failure)
    out.push([name, checked.success])
  }
  return Result.succeed(out)
}

const modelOverride = (node: JsonNode, at: string): Check<ModelOverride> => {
  if (node.type !== "object") return wrongType(node, at, "an object")
  let entry: ModelOverride = {}
  for (const [key, value] of properties(node)) {
    const name = String(key.value)
    const where = `${at}.${name}`
    if (!MODEL_KEYS.includes(name)) return unknownKey(key, at, MODEL_KEYS)
    if (name === "provider") {
      if (value.type !== "string" || value.value === "") return wrongType(value, where, "a provider name")
      entry = { ...entry, provider: String(value.value) }
    } else if (name === "pricing") {
      const fields = object(value, where, PRICING_KEYS, (_, v, w) => price(v, w))
      if (Result.isFailure(fields)) return Result.fail(fields.failure)
      entry = { ...entry, pricing: Object.fromEntries(fields.success) }
    } else if (name === "capabilities") {
      const fields = object(value, where, CAPABILITY_KEYS, (_, v, w) => bool(v, w))
      if (Result.isFailure(fields)) return Result.fail(fields.failure)
      entry = { ...entry, capabilities: Object.fromEntries(fields.success) }
    } else {
      const tokens = positiveInt(value, where)
      if (Result.isFailure(tokens)) return Result.fail(tokens.failure)
      entry = { ...entry, [name]: tokens.success }
    }
  }
  return Result.succeed(entry)
}

/** The `models` key: model id -> override. */
export const parseModels = (node: JsonNode): Check<ModelOverrides> => {
  if (node.type !== "object")
    return wrongType(node, "models", "an object of model id -> { contextWindow, pricing, ... }")
  const out: Record<string, ModelOverride> = {}
  for (const [key, value] of properties(node)) {
    const id = String(key.value)
    if (id.trim() === "") return Result.fail({ node: key, message: "invalid settings at models: a model id is empty" })
    const override = modelOverride(value, `models.${id}`)
    if (Result.isFailure(override)) return Result.fail(override.failure)
    out[id] = override.success
  }
  return Result.succeed(out)
}

/** The `compaction` key. */
export const parseCompaction = (node: JsonNode): Check<CompactionSettings> =>
  Result.map(
    object<boolean | number>(node, "compaction", COMPACTION_KEYS, (key, value, at): Check<boolean | number> => {
      if (key === "auto") return bool(value, at)
      return value.type === "number" && value.value > 0 && value.value <= 1
        ? Result.succeed(Number(value.value))
        : wrongType(value, at, "a fraction of the context window in (0, 1], e.g. 0.8")
    }),
    (fields): CompactionSettings => {
      const entry = Object.fromEntries(fields)
      return {
        ...(typeof entry.auto === "boolean" ? { auto: entry.auto } : {}),
        ...(typeof entry.threshold === "number" ? { threshold: entry.threshold } : {})
      }
    }
  )

/** Overrides merged in order (later ones win, field by field). */
export const mergeOverrides = (...layers: ReadonlyArray<ModelOverrides | undefined>): ModelOverrides => {
  const out: Record<string, ModelOverride> = {}
  for (const layer of layers) {
    for (const [id, override] of Object.entries(layer ?? {})) {
      const current = out[id]
      out[id] =
        current === undefined
          ? override
          : {
              ...current,
              ...override,
              ...(current.pricing === undefined && override.pricing === undefined
                ? {}
                : { pricing: { ...current.pricing, ...override.pricing } }),
              ...(current.capabilities === undefined && override.capabilities === undefined
                ? {}
                : { capabilities: { ...current.capabilities, ...override.capabilities } })
            }
    }
  }
  return out
}
