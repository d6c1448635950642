/**
 * One step of a turn: one model request, streamed into events. Each tool call starts as soon as it is complete
 * in the stream (while the model is still streaming the rest); when the response ends, the results are joined
 * in call order and appended as one tool message. The partial response and the finished results are kept in
 * the turn's transcript as they arrive, so that an interrupt can repair it.
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { LLMError } from "../errors/LLMError.js"
import type { LLMClient, LLMRequest } from "../services/LLMClient.js"
import { applyPart, emptyResponse, toResponse } from "../streams/Response.js"
import type { StreamPart } from "../streams/StreamPart.js"
import type { ToolResult } from "../streams/ToolCall.js"
import type { StopReason, Usage } from "../streams/Usage.js"
import * as AgentEvents from "./AgentEvents.js"
import type { Dispatch } from "./ToolDispatch.js"
import { toolResultsMessage, type TurnTranscript } from "./TranscriptRepair.js"

export interface StepContext {
  readonly turnId: string
  readonly llm: LLMClient.Service
  /** The request without its messages (those come from the transcript). */
  readonly request: Omit<LLMRequest, "messages">
  readonly transcript: Ref.Ref<TurnTranscript>
  readonly emit: AgentEvents.Emit
  readonly state: AgentEvents.StateCell
  /** Runs one tool call to its result (and records the result in the transcript). */
  readonly dispatch: Dispatch
  /** The cost of a usage in USD, when the model's price is known. */
  readonly cost?: (usage: Usage) => number | undefined
}

export interface StepOutcome {
  /** True when the model ended its turn (no tool calls to answer). */
  readonly done: boolean
  readonly stopReason: StopReason
}

/** Runs step `n`. Fails only when the model request fails; tool failures are results. */
export const runStep = (context: StepContext, n: number): Effect.Effect<StepOutcome, LLMError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const { turnId, transcript, emit } = context
      yield* Ref.update(transcript, (t) => ({ ...t, steps: n, partial: emptyResponse, results: new Map() }))
      yield* emit(AgentEvents.stepStarted(turnId, n))
      yield* context.state.set("thinking")
      const messages = (yield* Ref.get(transcript)).messages

      // The hot path (once per streamed delta): fold the part into the transcript, publish its event, and start
      // the tool of a complete call in this step's scope (interrupting the step interrupts it).
      const onPart = (
        running: ReadonlyArray<Fiber.Fiber<ToolResult>>,
        part: StreamPart
      ): Effect.Effect<ReadonlyArray<Fiber.Fiber<ToolResult>>, never, Scope.Scope> => {
        const folded = Ref.update(transcript, (t) => ({ ...t, partial: applyPart(t.partial, part) }))
        const body = AgentEvents.fromStreamPart(turnId, part)
        const published = body === undefined ? folded : Effect.andThen(folded, emit(body))
        if (part.type !== "tool-call-complete") return Effect.as(published, running)
        const call =
          part.parseError === undefined
            ? { id: part.id, name: part.name, input: part.input }
            : { id: part.id, name: part.name, input: part.input, parseError: part.parseError }
        return Effect.andThen(
          published,
          Effect.map(Effect.forkScoped(context.dispatch(call)), (fiber) => [...running, fiber])
        )
      }

      const running = yield* context.llm
        .stream({ ...context.request, messages })
        .pipe(Stream.runFoldEffect((): ReadonlyArray<Fiber.Fiber<ToolResult>> => [], onPart))

      // The transcript and the events change together: an interrupt sees both or neither.
      const response = yield* Effect.uninterruptible(
        Effect.gen(function* () {
          const response = toResponse((yield* Ref.get(transcript)).partial)
          const total = yield* Ref.modify(transcript, (t): readonly [Usage, TurnTranscript] => {
            const usage = t.usage.add(response.usage)
            return [usage, { ...t, usage, partial: emptyResponse, messages: [...t.messages, response.message] }]
          })
          yield* emit(AgentEvents.usageReported(turnId, response.usage, total, context.cost?.(total)))
          yield* emit(AgentEvents.messageAppended(turnId, response.message))
          return response
        })
      )
      if (running.length === 0) return { done: true, stopReason: response.stopReason }

      yield* context.state.set("executing_tools")
      const answer = toolResultsMessage(yield* Fiber.joinAll(running))
      yield* Effect.uninterruptible(
        Effect.andThen(
          Ref.update(transcript, (t) => ({ ...t, messages: [...t.messages, answer], results: new Map() })),
          emit(AgentEvents.messageAppended(turnId, answer))
        )
      )
      return { done: false, stopReason: response.stopReason }
    })
  )
