/**
 * The public API for defining tools (`Tool.make`) and for running one tool call (`runToolCall`).
 * Built-in tools use exactly this API; so can any user of the library.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as JSONSchema from "effect/JSONSchema"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import type { Tool as ToolContract, ToolConcurrency, ToolContext, ToolKind, ToolReturn } from "../services/Tool.js"
import type { ToolCall, ToolDefinition, ToolOutput, ToolResult } from "../streams/ToolCall.js"

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
  /** Decodes the model's raw input; its JSON Schema (with `description` annotations) is what the model sees. */
  readonly input: Schema.Schema<I, IE>
  /** Default `false`. */
  readonly readOnly?: boolean
  /** Default `"read"` when `readOnly`, else `"other"`. */
  readonly kind?: ToolKind
  /** Default `parallel` when `readOnly`, else `sequential` (a tool that changes things runs alone). */
  readonly concurrency?: ToolConcurrency
  /** Per-call timeout; when absent the agent's default applies. */
  readonly timeout?: Duration.DurationInput
}

/** `Tool.make` options for a tool whose `execute` returns text or output pieces. */
export interface MakeOptions<I, IE> extends MakeOptionsBase<I, IE> {
  readonly output?: undefined
  readonly execute: (input: I, context: ToolContext) => Effect.Effect<ToolReturn, ToolExecutionError>
}

/** `Tool.make` options for a tool with a typed result, encoded with `output` into one `json` output piece. */
export interface MakeTypedOptions<I, IE, O, OE> extends MakeOptionsBase<I, IE> {
  readonly output: Schema.Schema<O, OE>
  readonly execute: (input: I, context: ToolContext) => Effect.Effect<O, ToolExecutionError>
}

/** Replace `$ref`s into `$defs` with the definitions themselves, except recursive ones (those stay references). */
const inlineRefs = (node: unknown, defs: Record<string, unknown>, stack: ReadonlyArray<string>): unknown => {
  if (Array.isArray(node)) return node.map((item) => inlineRefs(item, defs, stack))
  if (typeof node !== "object" || node === null) return node
  const record = node as Record<string, unknown>
  const ref = record.$ref
  if (typeof ref === "string" && ref.startsWith("#/$defs/")) {
    const name = ref.slice("#/$defs/".length)
    const target = defs[name]
    if (typeof target === "object" && target !== null && !stack.includes(name)) {
      const { $ref: _ref, ...siblings } = record
      return {
        ...(inlineRefs(target, defs, [...stack, name]) as object),
        ...(inlineRefs(siblings, defs, stack) as object)
      }
    }
  }
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(record)) out[key] = inlineRefs(value, defs, stack)
  return out
}

/**
 * The model-facing JSON Schema of an input schema: `JSONSchema.make` without `$schema`/`$id`, references
 * inlined (providers differ in `$ref` support; recursive schemas keep theirs), and `type: "object"` at the
 * top level (providers require an object schema).
 */
export const inputJsonSchema = <I, IE>(input: Schema.Schema<I, IE>): Record<string, unknown> => {
  const {
    $schema: _schema,
    $id: _id,
    $defs,
    ...generated
  } = JSONSchema.make(input) as unknown as Record<string, unknown>
  const defs = ($defs ?? {}) as Record<string, unknown>
  let root = inlineRefs(generated, defs, []) as Record<string, unknown>
  if (root.type !== "object") {
    // `Schema.Struct({})` becomes `anyOf: [object, array]`; any other top level gets an object type too.
    const { anyOf, ...withoutAnyOf } = root
    const emptyStruct = JSON.stringify(anyOf) === '[{"type":"object"},{"type":"array"}]'
    root = { ...(emptyStruct ? withoutAnyOf : root), type: "object" }
  }
  if (root.properties === undefined) root = { ...root, properties: {} }
  return JSON.stringify(root).includes('"#/$defs/') ? { ...root, $defs: defs } : root
}

/**
 * Define a tool. Defaults: `readOnly: false`; `kind` is `"read"` for read-only tools, else `"other"`;
 * `concurrency` is `parallel` for read-only tools, else `sequential`; no own `timeout` (the agent's default
 * applies). With an `output` schema, `execute` returns a typed value that is encoded into one `json` piece.
 * Throws `IllegalArgumentException` for a name providers would refuse (`^[a-zA-Z0-9_-]{1,64}$`): that is a
 * mistake in the definition, not a runtime condition.
 */
const make: {
  <I, IE, O, OE>(options: MakeTypedOptions<I, IE, O, OE>): ToolContract<I>
  <I, IE>(options: MakeOptions<I, IE>): ToolContract<I>
} = <I, IE, O, OE>(options: MakeOptions<I, IE> | MakeTypedOptions<I, IE, O, OE>): ToolContract<I> => {
  if (!isValidToolName(options.name)) {
    throw new Cause.IllegalArgumentException(
      `Invalid tool name "${options.name}": use 1-64 characters from a-z, A-Z, 0-9, "_" and "-"`
    )
  }
  const readOnly = options.readOnly ?? false
  const input: Schema.Schema<I, unknown> = Schema.compose(Schema.Unknown, options.input, { strict: false })
  const execute = typedExecute(options)
  return {
    name: options.name,
    description: options.description,
    input,
    jsonSchema: inputJsonSchema(options.input),
    readOnly,
    kind: options.kind ?? (readOnly ? "read" : "other"),
    concurrency: options.concurrency ?? (readOnly ? { type: "parallel" } : { type: "sequential" }),
    ...(options.timeout === undefined ? {} : { timeout: Duration.decode(options.timeout) }),
    execute
  }
}

const typedExecute = <I, IE, O, OE>(
  options: MakeOptions<I, IE> | MakeTypedOptions<I, IE, O, OE>
): ToolContract<I>["execute"] => {
  if (options.output === undefined) return (options as MakeOptions<I, IE>).execute
  const typed = options as MakeTypedOptions<I, IE, O, OE>
  const encode = Schema.encode(typed.output)
  return (input, context) =>
    typed.execute(input, context).pipe(
      Effect.flatMap((value) =>
        encode(value).pipe(
          Effect.mapError(
            (error) =>
              new ToolExecutionError({
                tool: typed.name,
                message: `Tool ${typed.name} produced a result that does not match its output schema:\n${ParseResult.TreeFormatter.formatErrorSync(error)}`
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

export interface RunToolCallOptions {
  /** Applies when the tool declares no `timeout` of its own. */
  readonly defaultTimeout: Duration.DurationInput
}

/**
 * Run one call of `tool`: decode the input, execute with the timeout (the tool's own, else `defaultTimeout`),
 * and turn every outcome into a `ToolResult`. Bad input, a `ToolExecutionError`, a timeout and a defect all
 * become results the model can read; this never fails. Interruption is not caught: it propagates, so the
 * caller can mark the call as interrupted (and the tool's resources are released).
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

  const decoded = Schema.decodeUnknownEither(tool.input)(call.input, { errors: "all" })
  if (Either.isLeft(decoded)) {
    const detail = ParseResult.TreeFormatter.formatErrorSync(decoded.left)
    return yield* result(
      "error",
      text(`Invalid input for tool ${tool.name}; fix these problems and call it again:\n${detail}`)
    )
  }

  const timeout = tool.timeout ?? Duration.decode(options.defaultTimeout)
  const outcome = yield* tool
    .execute(decoded.right, context)
    .pipe(Effect.map(normalizeOutput), Effect.timeoutOption(timeout), Effect.exit)
  if (outcome._tag === "Success") {
    return yield* Option.match(outcome.value, {
      onNone: () =>
        result("timeout", text(`Tool ${tool.name} timed out after ${Duration.format(timeout)} and was stopped.`)),
      onSome: (output) => result("success", output)
    })
  }
  const cause = outcome.cause
  if (Cause.isInterruptedOnly(cause)) return yield* Effect.failCause(Cause.stripFailures(cause))
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    // Typed as ToolExecutionError; a hand-built tool may still fail with something else.
    const error: unknown = failure.value
    const message =
      typeof error === "object" && error !== null && "message" in error && typeof error.message === "string"
        ? error.message
        : `Tool ${tool.name} failed: ${defectMessage(error)}`
    return yield* result("error", text(message))
  }
  const defect = Cause.dieOption(cause)
  const message = Option.match(defect, {
    onNone: () => Cause.pretty(cause),
    onSome: defectMessage
  })
  return yield* result("error", text(`Tool ${tool.name} failed unexpectedly: ${message}`))
})

/** The tool API: `Tool.make` defines a tool; `Tool.Any` is a tool of any input type. */
export const Tool = {
  make,
  definition: toolDefinition,
  run: runToolCall,
  isValidName: isValidToolName
} as const

export type Tool<I = unknown> = ToolContract<I>

export declare namespace Tool {
  type Any = ToolContract.Any
}
