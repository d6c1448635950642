/**
 * Structured output: the turn's final answer must be JSON matching a schema, and comes back as data
 * (`RunResult.structuredOutput`).
 *
 * - Native mode, when the client has one (`capabilities.structuredOutput`): every request carries `responseFormat`
 *   (OpenAI `response_format: json_schema`, Anthropic `output_config.format`) and the final text is parsed.
 * - Fallback elsewhere: a `StructuredOutput` tool whose input schema is the schema; the model calls it with the
 *   answer to finish (the system prompt says so). A valid call ends the turn; a final text answer is accepted
 *   when it is valid JSON for the schema.
 *
 * Every answer is validated (a JSON Schema with `JsonSchemaValidator`, an Effect `Schema` by decoding it). An invalid
 * answer gets ONE repair request that says what was wrong (a user message, or the error result of the tool call);
 * a second invalid answer fails the turn with `StructuredOutputError`.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { AgentError } from "../errors/AgentError.js"
import { ConfigError } from "../errors/ConfigError.js"
import { StructuredOutputError } from "../errors/StructuredOutputError.js"
import { Agent, type OutputSchema, type Prompt, type RunOptions, type RunResult } from "../services/Agent.js"
import type { LLMClient, LLMRequest } from "../services/LLMClient.js"
import type { Message } from "../streams/Message.js"
import type { ToolDefinition, ToolResult } from "../streams/ToolCall.js"
import type { StopReason } from "../streams/Usage.js"
import * as AgentEvents from "./AgentEvents.js"
import { compile } from "./JsonSchemaValidator.js"
import type { StepOutcome } from "./Step.js"
import type { Dispatch } from "./ToolDispatch.js"
import { finalText, type TurnTranscript } from "./TranscriptRepair.js"

/** The name of the fallback tool. */
export const TOOL_NAME = "StructuredOutput"

export type { OutputSchema } from "../services/Agent.js"

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const NAME = /^[A-Za-z0-9_-]{1,64}$/

const nameOf = (schema: Readonly<Record<string, unknown>>, name: string | undefined): string => {
  if (name !== undefined && NAME.test(name)) return name
  const title = typeof schema.title === "string" ? schema.title.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 64) : ""
  return title !== "" && NAME.test(title) ? title : "output"
}

/**
 * An output from a JSON Schema object (a `ConfigError` naming `source` when it is not an object or not a valid
 * schema). Validation needs the `ajv` package (see `JsonSchemaValidator`).
 */
export const fromJsonSchema = (
  schema: unknown,
  options: { readonly name?: string; readonly source?: string } = {}
): Effect.Effect<OutputSchema, ConfigError> => {
  const source = options.source ?? "outputSchema"
  if (!isRecord(schema)) {
    return Effect.fail(
      new ConfigError({
        message: `the output schema must be a JSON Schema object, got ${JSON.stringify(schema)}`,
        source
      })
    )
  }
  return Effect.map(compile(schema, source), (validate) => ({
    name: nameOf(schema, options.name),
    jsonSchema: schema,
    validate
  }))
}

/** The JSON Schema of an Effect `Schema` (draft 2020-12, definitions under `$defs`). */
export const jsonSchemaOf = (schema: Schema.Constraint): Readonly<Record<string, unknown>> => {
  const document = Schema.toJsonSchemaDocument(schema)
  const definitions = Object.keys(document.definitions).length === 0 ? {} : { $defs: document.definitions }
  return { ...document.schema, ...definitions }
}

/** An output from an Effect `Schema`: the JSON Schema derived from it, answers checked by decoding its JSON form. */
export const fromSchema = <S extends Schema.ConstraintDecoder<unknown>>(
  schema: S,
  options: { readonly name?: string } = {}
): OutputSchema => {
  const jsonSchema = jsonSchemaOf(schema)
  const decode = Schema.decodeUnknownResult(Schema.toCodecJson(schema))
  return {
    name: nameOf(jsonSchema, options.name),
    jsonSchema,
    validate: (value) => {
      const result = decode(value)
      return Result.isSuccess(result) ? undefined : result.failure.message
    }
  }
}

/** The answer as typed data, decoded with `schema` (the answer is `RunResult.structuredOutput`, plain JSON). */
export const decode = <S extends Schema.ConstraintDecoder<unknown>>(
  schema: S,
  answer: unknown
): Effect.Effect<S["Type"], StructuredOutputError> =>
  Effect.mapError(
    Schema.decodeUnknownEffect(Schema.toCodecJson(schema))(answer),
    (error) =>
      new StructuredOutputError({
        message: `the structured output does not match the schema: ${error.message}`,
        issue: error.message
      })
  )

/**
 * One turn whose answer is typed data: `run(schema)(prompt)` starts the turn with the schema as its output and
 * decodes the result's `structuredOutput`.
 */
export const run =
  <S extends Schema.ConstraintDecoder<unknown>>(schema: S, options: { readonly name?: string } = {}) =>
  (
    prompt: Prompt,
    runOptions: Omit<RunOptions, "outputSchema"> = {}
  ): Effect.Effect<{ readonly value: S["Type"]; readonly result: RunResult }, AgentError, Agent | Scope.Scope> =>
    Effect.gen(function* () {
      const agent = yield* Agent
      const execution = yield* agent.start(prompt, { ...runOptions, outputSchema: fromSchema(schema, options) })
      const result = yield* execution.result
      const value = yield* decode(schema, result.structuredOutput)
      return { value, result }
    })

// ---------------------------------------------------------------------------------------------------------------
// In the loop

/** The answer text as JSON: the whole text, else the body of a ```json fence in it. */
export const parseAnswer = (text: string): Result.Result<unknown, string> => {
  const candidates = [text.trim()]
  const fenced = /```(?:json)?\s*\n([\s\S]*?)\n?```/.exec(text)
  if (fenced?.[1] !== undefined) candidates.push(fenced[1].trim())
  for (const candidate of candidates) {
    try {
      return Result.succeed(JSON.parse(candidate))
    } catch {}
  }
  return Result.fail(text.trim() === "" ? "the answer was empty, not JSON" : "the answer was not valid JSON")
}

const shorten = (text: string): string => (text.length > 2000 ? `${text.slice(0, 2000)}...` : text)

const INSTRUCTION = `When you have the final answer, call the ${TOOL_NAME} tool with it as the tool's input (it must match the tool's input schema). Calling it ends your turn; do not answer in plain text.`

/** What one turn with a requested output needs from the loop. */
export interface TurnOutput {
  /** The request with the output requested (native `responseFormat`, or the fallback tool and its instruction). */
  readonly request: <R extends Omit<LLMRequest, "messages">>(request: R) => R
  /** The dispatcher, answering calls of the fallback tool itself. */
  readonly dispatch: (dispatch: Dispatch) => Dispatch
  /** A step that ends the turn on a valid answer and asks for one repair after an invalid one. */
  readonly step: <E>(
    step: (n: number) => Effect.Effect<StepOutcome, E>
  ) => (n: number) => Effect.Effect<StepOutcome, E | StructuredOutputError>
  /** After the steps: a turn that ended without an accepted answer (e.g. at `max_steps`) fails. */
  readonly finish: (stopReason: StopReason) => Effect.Effect<StopReason, StructuredOutputError>
}

export const forTurn = (
  output: OutputSchema,
  context: {
    readonly llm: LLMClient.Service
    readonly turnId: string
    readonly transcript: Ref.Ref<TurnTranscript>
    readonly emit: AgentEvents.Emit
    /** Where the accepted answer is kept (the turn's result reads it). */
    readonly accepted: Ref.Ref<Option.Option<unknown>>
  }
): Effect.Effect<TurnOutput> =>
  Effect.gen(function* () {
    const native = context.llm.capabilities.structuredOutput === true
    const accepted = context.accepted
    /** How many invalid answers so far (the first one gets a repair request, the second fails the turn). */
    const invalid = yield* Ref.make(0)

    const tool: ToolDefinition = {
      name: TOOL_NAME,
      description: `Give your final answer as structured data matching this input schema. ${INSTRUCTION}`,
      inputSchema: output.jsonSchema
    }

    const request = <R extends Omit<LLMRequest, "messages">>(base: R): R =>
      native
        ? { ...base, responseFormat: { name: output.name, schema: output.jsonSchema } }
        : {
            ...base,
            tools: [...(base.tools ?? []), tool],
            system: [base.system ?? "", INSTRUCTION].filter((s) => s !== "").join("\n\n")
          }

    /** Counts an invalid answer: the first gets a repair request, the second is the turn's error. */
    const failure = yield* Ref.make<Option.Option<StructuredOutputError>>(Option.none())
    const rejected = (issue: string, answer: string) =>
      Effect.flatMap(
        Ref.updateAndGet(invalid, (n) => n + 1),
        (n) =>
          n >= 2
            ? Ref.set(
                failure,
                Option.some(
                  new StructuredOutputError({
                    message: `the answer did not match the output schema after one repair request: ${issue.split("\n")[0] ?? issue}`,
                    issue,
                    answer: shorten(answer)
                  })
                )
              )
            : Effect.void
      )
    const failIfRejectedTwice = Effect.flatMap(Ref.get(failure), (f) =>
      Option.isSome(f) ? Effect.fail(f.value) : Effect.void
    )

    const toolResult = (call: { readonly id: string }, text: string, ok: boolean): ToolResult => ({
      toolCallId: call.id,
      toolName: TOOL_NAME,
      status: ok ? "success" : "error",
      output: [{ type: "text", text }],
      durationMs: 0
    })

    const dispatch =
      (inner: Dispatch): Dispatch =>
      (call) => {
        if (native || call.name !== TOOL_NAME) return inner(call)
        return Effect.gen(function* () {
          const issue =
            call.parseError === undefined
              ? output.validate(call.input)
              : `the input was not valid JSON (${call.parseError})`
          if (issue === undefined) {
            yield* Ref.set(accepted, Option.some(call.input))
            return toolResult(call, "Answer accepted.", true)
          }
          yield* rejected(issue, JSON.stringify(call.input) ?? "")
          return toolResult(
            call,
            `The answer does not match the schema:\n${issue}\nCall ${TOOL_NAME} again with a corrected answer.`,
            false
          )
        }).pipe(
          Effect.tap((result) =>
            Effect.andThen(
              Ref.update(context.transcript, (t) => ({ ...t, results: new Map([...t.results, [call.id, result]]) })),
              context.emit(AgentEvents.toolCompleted(context.turnId, result))
            )
          )
        )
      }

    /** A repair request as a user message (appended to the transcript and published). */
    const askRepair = (text: string) => {
      const message: Message = { role: "user", content: [{ type: "text", text }] }
      return Effect.andThen(
        Ref.update(context.transcript, (t) => ({ ...t, messages: [...t.messages, message] })),
        context.emit(AgentEvents.messageAppended(context.turnId, message))
      )
    }

    const step =
      <E>(inner: (n: number) => Effect.Effect<StepOutcome, E>) =>
      (n: number): Effect.Effect<StepOutcome, E | StructuredOutputError> =>
        Effect.gen(function* () {
          const outcome = yield* inner(n)
          if (Option.isSome(yield* Ref.get(accepted))) return { done: true, stopReason: "end_turn" }
          // A rejected call of the fallback tool: its error result was the repair request (or the second rejection).
          yield* failIfRejectedTwice
          if (!outcome.done || outcome.stopReason === "max_budget") return outcome
          const text = finalText((yield* Ref.get(context.transcript)).messages)
          const parsed = parseAnswer(text)
          const issue = Result.isSuccess(parsed) ? output.validate(parsed.success) : parsed.failure
          if (issue === undefined && Result.isSuccess(parsed)) {
            yield* Ref.set(accepted, Option.some(parsed.success))
            return outcome
          }
          const problem = issue ?? "invalid"
          yield* rejected(problem, text)
          yield* failIfRejectedTwice
          yield* askRepair(
            native
              ? `Your answer does not match the required JSON Schema:\n${problem}\nAnswer again with only the corrected JSON.`
              : `Your answer does not match the required schema:\n${problem}\nCall the ${TOOL_NAME} tool with the corrected answer.`
          )
          return { done: false, stopReason: outcome.stopReason }
        })

    const finish = (stopReason: StopReason) =>
      Effect.flatMap(Ref.get(accepted), (value) =>
        Option.isSome(value)
          ? Effect.succeed(stopReason)
          : Effect.fail(
              new StructuredOutputError({
                message: `the turn ended (stop reason ${stopReason}) before the model gave an answer matching the output schema`,
                issue: `no answer (stop reason ${stopReason})`
              })
            )
      )

    return { request, dispatch, step, finish }
  })
