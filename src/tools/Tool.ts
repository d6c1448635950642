/**
 * The public API for defining tools (`Tool.make`) and for running one tool call (`runToolCall`).
 * Built-in tools use exactly this API; so can any user of the library.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import { ToolExecutionError } from "../errors/ToolError.js"
import type { Tool as ToolContract, ToolConcurrency, ToolContext, ToolKind, ToolReturn } from "../services/Tool.js"
import type { ToolCall, ToolDefinition, ToolOutput, ToolResult } from "../streams/ToolCall.js"
import { ToolInputError } from "../errors/ToolError.js"

export { ToolInputError }

export type { ToolConcurrency, ToolContext, ToolKind, ToolReturn } from "../services/Tool.js"

/** Tool names as every provider accepts them. */
export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/

/** Whether `name` is a valid tool name (`^[a-zA-Z0-9_-]{1,64}$`). */
export const isValidToolName = (name: string): boolean => TOOL_NAME_PATTERN.test(name)

/** Options shared by both forms of `Tool.make`. */
interface MakeOptionsBase<I, IE> {
  /** `^[a-zA-Z0-9_-]{1,64}$`. */
  readonly name: string
  /** Shown to the model: say what the tool does, when to use it and what it returns. */
  readonly description: string
  /**
   * Decodes the model's raw input; its JSON Schema (with `description` annotations) is what the model sees. Use
   * `Schema.Finite`/`Schema.Int` rather than `Schema.Number` and `Schema.optionalKey` rather than
   * `Schema.optional`, so that the model is not offered `"NaN"` or `null`.
   */
  readonly input: Schema.Codec<I, IE>
  /** Default `false`. */
  readonly readOnly?: boolean
  /** Default `"read"` when `readOnly`, else `"other"`. */
  readonly kind?: ToolKind
  /** Default `parallel` when `readOnly`, else `sequential` (a tool that changes things runs alone). */
  readonly concurrency?: ToolConcurrency
  /** Per-call timeout; when absent the agent's default applies. */
  readonly timeout?: Duration.Input
}

/** `Tool.make` options for a tool whose `execute` returns text or output pieces. */
export interface MakeOptions<I, IE> extends MakeOptionsBase<I, IE> {
  readonly output?: undefined
  readonly execute: (input: I, context: ToolContext) => Effect.Effect<ToolReturn, ToolExecutionError>
}

/** `Tool.make` options for a tool with a typed result, encoded with `output` into one `json` output piece. */
export interface MakeTypedOptions<I, IE, O, OE> extends MakeOptionsBase<I, IE> {
  readonly output: Schema.Codec<O, OE>
  readonly execute: (input: I, context: ToolContext) => Effect.Effect<O, ToolExecutionError>
}

type Json = Record<string, unknown>

const isRecord = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)

/** Replace `$ref`s into `$defs` with the definitions themselves, except recursive ones (those stay references). */
const inlineRefs = (node: unknown, defs: Json, stack: ReadonlyArray<string>): unknown => {
  if (Array.isArray(node)) return node.map((item) => inlineRefs(item, defs, stack))
  if (!isRecord(node)) return node
  const ref = node.$ref
  if (typeof ref === "string" && ref.startsWith("#/$defs/")) {
    const name = ref.slice("#/$defs/".length)
    const target = defs[name]
    if (isRecord(target) && !stack.includes(name)) {
      const { $ref: _ref, ...siblings } = node
      const inlined = inlineRefs(target, defs, [...stack, name])
      const rest = inlineRefs(siblings, defs, stack)
      return { ...(isRecord(inlined) ? inlined : {}), ...(isRecord(rest) ? rest : {}) }
    }
  }
  const out: Json = {}
  for (const [key, value] of Object.entries(node)) out[key] = inlineRefs(value, defs, stack)
  return out
}

/**
 * The model-facing JSON Schema of an input schema: `Schema.toJsonSchemaDocument` (draft 2020-12) with references
 * inlined (providers differ in `$ref` support; recursive schemas keep theirs, with the `$defs` they need), objects
 * closed (`additionalProperties: false`), and `type: "object"` at the top level (providers require an object
 * schema).
 */
export const inputJsonSchema = (input: Schema.Top): Json => {
  const document = Schema.toJsonSchemaDocument(input, { onExcessProperty: "error" })
  const defs: Json = { ...document.definitions }
  const inlined = inlineRefs(document.schema, defs, [])
  let root: Json = isRecord(inlined) ? inlined : {}
  if (root.type !== "object") {
    // `Schema.Struct({})` becomes "anything but null"; any other top level gets an object type too.
    const { not: _not, ...rest } = root
    root = { ...(Object.keys(root).length === 1 && root.not !== undefined ? rest : root), type: "object" }
  }
  if (root.properties === undefined) root = { ...root, properties: {} }
  return JSON.stringify(root).includes('"#/$defs/') ? { ...root, $defs: defs } : root
}

/**
 * Define a tool. Defaults: `readOnly: false`; `kind` is `"read"` for read-only tools, else `"other"`;
 * `concurrency` is `parallel` for read-only tools, else `sequential`; no own `timeout` (the agent's default
 * applies). With an `output` schema, `execute` returns a typed value that is encoded into one `json` piece.
 * Throws `IllegalArgumentError` for a name providers would refuse (`^[a-zA-Z0-9_-]{1,64}$`): that is a
 * mistake in the definition, not a runtime condition.
 */
const make: {
  <I, IE, O, OE>(options: MakeTypedOptions<I, IE, O, OE>): ToolContract<I>
  <I, IE>(options: MakeOptions<I, IE>): ToolContract<I>
} = <I, IE, O, OE>(options: MakeOptions<I, IE> | MakeTypedOptions<I, IE, O, OE>): ToolContract<I> => {
  if (!isValidToolName(options.name)) {
    throw new Cause.IllegalArgumentError(
      `Invalid tool name "${options.name}": use 1-64 characters from a-z, A-Z, 0-9, "_" and "-"`
    )
  }
  const readOnly = options.readOnly ?? false
  return {
    name: options.name,
    description: options.description,
    input: options.input,
    jsonSchema: inputJsonSchema(options.input),
    readOnly,
    kind: options.kind ?? (readOnly ? "read" : "other"),
    concurrency: options.concurrency ?? (readOnly ? { type: "parallel" } : { type: "sequential" }),
    ...(options.timeout === undefined ? {} : { timeout: Duration.fromInputUnsafe(options.timeout) }),
    execute: typedExecute(options)
  }
}

const typedExecute = <I, IE, O, OE>(
  options: MakeOptions<I, IE> | MakeTypedOptions<I, IE, O, OE>
): ToolContract<I>["execute"] => {
  if (options.output === undefined) return options.execute
  const { output, execute, name } = options
  const encode = Schema.encodeEffect(output)
  return (input, context) =>
    execute(input, context).pipe(
      Effect.flatMap((value) =>
        encode(value).pipe(
          Effect.mapError(
            (error) =>
              new ToolExecutionError({
                tool: name,
                message: `Tool ${name} produced a result that does not match its output schema:\n${error.message}`
              })
          )
        )
      ),
      Effect.map((value): ReadonlyArray<ToolOutput> => [{ type: "json", value }])
    )
}

/** The definition the model sees. */
export const toolDefinition = (tool: Tool.Any): ToolDefinition => ({
  name: tool.name,
  description: tool.description,
  inputSchema: tool.jsonSchema
})

/** What `execute` returned, as output pieces. */
export const normalizeOutput = (value: ToolReturn): ReadonlyArray<ToolOutput> =>
  typeof value === "string" ? [{ type: "text", text: value }] : value

const defectMessage = (defect: unknown): string => {
  if (defect instanceof Error) return defect.message === "" ? defect.name : defect.message
  if (typeof defect === "string") return defect
  try {
    return JSON.stringify(defect) ?? String(defect)
  } catch {
    return String(defect)
  }
}

const standardIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/** `a.b[0].c` for a decoding path (`(input)` for the root). */
const fieldPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (out, key) =>
      typeof key === "number"
        ? `${out}[${key}]`
        : typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)
          ? out === ""
            ? key
            : `${out}.${key}`
          : `${out}[${JSON.stringify(String(key))}]`,
    ""
  )

const valueAt = (
  input: unknown,
  path: ReadonlyArray<PropertyKey>
): { readonly found: boolean; readonly value?: unknown } => {
  let current = input
  for (const key of path) {
    if (typeof current !== "object" || current === null || typeof key === "symbol" || !(key in current)) {
      return { found: false }
    }
    current = (current as Record<string | number, unknown>)[key]
  }
  return { found: true, value: current }
}

const shortJson = (value: unknown): string => {
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/**
 * Decode the model's raw input for `tool`. Fails with `ToolInputError` listing every problem by field, with the
 * value the model gave, and any top-level field the schema does not know (a likely misspelling).
 */
export const decodeToolInput = <I>(tool: ToolContract<I>, input: unknown): Effect.Effect<I, ToolInputError> =>
  Schema.decodeUnknownEffect(tool.input)(input, { errors: "all" }).pipe(
    Effect.mapError((error) => {
      const issues = standardIssues(error.issue).issues.map((issue) => {
        const path = (issue.path ?? []).map((segment) =>
          typeof segment === "object" && segment !== null && "key" in segment ? segment.key : segment
        )
        const at = valueAt(input, path)
        const got = at.found ? `, got ${shortJson(at.value)}` : ""
        return { path: fieldPath(path), message: `${issue.message}${got}` }
      })
      const known = isRecord(tool.jsonSchema.properties) ? Object.keys(tool.jsonSchema.properties) : []
      const unknown = isRecord(input) && known.length > 0 ? Object.keys(input).filter((k) => !known.includes(k)) : []
      const lines = issues.map((issue) => `- ${issue.path === "" ? "(the input)" : issue.path}: ${issue.message}`)
      if (unknown.length > 0) {
        lines.push(
          `- unknown field${unknown.length === 1 ? "" : "s"} ${unknown.map((k) => JSON.stringify(k)).join(", ")} (the fields are: ${known.join(", ")})`
        )
      }
      return new ToolInputError({
        tool: tool.name,
        issues,
        message: `Invalid input for tool ${tool.name}; fix these problems and call it again:\n${lines.join("\n")}`
      })
    })
  )

export interface RunToolCallOptions {
  /** Applies when the tool declares no `timeout` of its own. */
  readonly defaultTimeout: Duration.Input
}

/**
 * Run one call of `tool`: decode the input, execute with the timeout (the tool's own, else `defaultTimeout`),
 * and turn every outcome into a `ToolResult`. Bad input (`ToolInputError`), a `ToolExecutionError`, a timeout
 * and a defect all become results the model can read; this never fails. Interruption is not caught: it
 * propagates, so the caller can mark the call as interrupted (and the tool's resources are released).
 */
export const runToolCall: (
  tool: Tool.Any,
  call: ToolCall,
  context: ToolContext,
  options: RunToolCallOptions
) => Effect.Effect<ToolResult> = Effect.fn("Tool.runToolCall")(function* (
  tool: Tool.Any,
  call: ToolCall,
  context: ToolContext,
  options: RunToolCallOptions
) {
  const started = yield* Clock.currentTimeMillis
  const result = (status: ToolResult["status"], output: ReadonlyArray<ToolOutput>) =>
    Effect.map(
      Clock.currentTimeMillis,
      (ended): ToolResult => ({
        toolCallId: call.id,
        toolName: tool.name,
        status,
        output,
        durationMs: Math.max(0, ended - started)
      })
    )
  const text = (t: string): ReadonlyArray<ToolOutput> => [{ type: "text", text: t }]
  const timeout = tool.timeout ?? Duration.fromInputUnsafe(options.defaultTimeout)

  return yield* decodeToolInput(tool, call.input).pipe(
    Effect.flatMap((input) => tool.execute(input, context)),
    Effect.map(normalizeOutput),
    Effect.timeoutOption(timeout),
    Effect.flatMap(
      Option.match({
        onNone: () =>
          result("timeout", text(`Tool ${tool.name} timed out after ${Duration.format(timeout)} and was stopped.`)),
        onSome: (output) => result("success", output)
      })
    ),
    Effect.catch((error: unknown) => {
      // Typed as ToolInputError | ToolExecutionError; a hand-built tool may still fail with something else.
      const message =
        typeof error === "object" && error !== null && "message" in error && typeof error.message === "string"
          ? error.message
          : `Tool ${tool.name} failed: ${defectMessage(error)}`
      return result("error", text(message))
    }),
    Effect.catchDefect((defect) =>
      result("error", text(`Tool ${tool.name} failed unexpectedly: ${defectMessage(defect)}`))
    )
  )
})

/** The tool API: `Tool.make` defines a tool; `Tool.Any` is a tool of any input type. */
export const Tool = {
  make,
  definition: toolDefinition,
  run: runToolCall,
  decodeInput: decodeToolInput,
  isValidName: isValidToolName
} as const

export type Tool<I = unknown> = ToolContract<I>

export declare namespace Tool {
  type Any = ToolContract.Any
}
