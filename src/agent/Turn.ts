/**
 * A turn: steps (model request, then the tools it called) until the model ends its turn or `maxSteps` is
 * reached, then exactly one terminal event. `runSteps` is the interruptible part; `conclude` turns its exit into
 * the turn's outcome and runs uninterruptibly (from `onExit`): `turn.ended` when it finished, `interrupted`
 * (after repairing the transcript) when it was interrupted, `failed` when the model request failed.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type { AgentError } from "../errors/AgentError.js"
import type { RunResult } from "../services/Agent.js"
import type { StopReason, Usage } from "../streams/Usage.js"
import * as AgentEvents from "./AgentEvents.js"
import type { StepOutcome } from "./Step.js"
import { finalText, repairAfterInterrupt, type TurnTranscript } from "./TranscriptRepair.js"

/** What `conclude` needs of a turn. */
export interface TurnContext {
  readonly sessionId: string
  readonly turnId: string
  readonly transcript: Ref.Ref<TurnTranscript>
  readonly emit: AgentEvents.Emit
  readonly state: AgentEvents.StateCell
  /** The cost of a usage in USD, when the model's price is known. */
  readonly cost?: (usage: Usage) => number | undefined
  /** What the turn's sub-agents used so far (added to the turn's own usage and cost in its result). */
  readonly subAgents?: Ref.Ref<SubAgentTotals>
  /** The accepted structured output, when the turn asked for one (`RunOptions.outputSchema`). */
  readonly structuredOutput?: Effect.Effect<Option.Option<unknown>>
}

/** Usage and cost of a turn's sub-agents (cost: of those whose model's price is known). */
export interface SubAgentTotals {
  readonly usage: Usage
  readonly costUsd: number
}

/** A turn's usage and cost: its own model requests plus its sub-agents'. */
export const totals = (
  context: TurnContext,
  transcript: TurnTranscript,
  rolled: SubAgentTotals | undefined
): { readonly usage: Usage; readonly costUsd: number | undefined } => {
  const own = context.cost?.(transcript.usage)
  if (rolled === undefined) return { usage: transcript.usage, costUsd: own }
  return { usage: transcript.usage.add(rolled.usage), costUsd: own === undefined ? undefined : own + rolled.costUsd }
}

/**
 * The steps of the turn (`step(n)` runs step `n`, see `Step.runStep`); succeeds with the turn's stop reason.
 * `overBudget` is asked before every step after the first: when it says so, the turn stops with `max_budget`
 * (no further model request).
 */
export const runSteps = <E>(
  limits: { readonly maxSteps: number; readonly overBudget?: Effect.Effect<boolean> },
  step: (n: number) => Effect.Effect<StepOutcome, E>
): Effect.Effect<StopReason, E> =>
  Effect.gen(function* () {
    for (let n = 1; n <= limits.maxSteps; n++) {
      if (n > 1 && limits.overBudget !== undefined && (yield* limits.overBudget)) return "max_budget" as const
      const outcome = yield* step(n)
      if (outcome.done) return outcome.stopReason
    }
    return "max_steps" as const
  })

const resultOf = (
  context: TurnContext,
  transcript: TurnTranscript,
  stopReason: StopReason,
  rolled: SubAgentTotals | undefined
): RunResult => {
  const { usage, costUsd } = totals(context, transcript, rolled)
  return {
    sessionId: context.sessionId,
    turnId: context.turnId,
    text: finalText(transcript.messages),
    stopReason,
    steps: transcript.steps,
    usage,
    ...(costUsd === undefined ? {} : { costUsd }),
    messages: transcript.messages
  }
}

/** What the `failed` event says about an error (never a secret: errors carry none). */
const describe = (cause: Cause.Cause<AgentError>) =>
  Option.match(Cause.findErrorOption(cause), {
    onNone: () => ({ tag: "Defect", message: Cause.pretty(cause) }),
    onSome: (error) => ({
      tag: error._tag,
      message: error.message,
      ...("retryable" in error && typeof error.retryable === "boolean" ? { retryable: error.retryable } : {})
    })
  })

/**
 * The turn's outcome from the exit of `runSteps`, with its terminal event. An interrupted turn succeeds with
 * stop reason `interrupted`; only a failed one fails.
 */
export const conclude = (
  context: TurnContext,
  exit: Exit.Exit<StopReason, AgentError>
): Effect.Effect<Exit.Exit<RunResult, AgentError>> =>
  Effect.gen(function* () {
    const { emit, state, turnId } = context
    const rolled = context.subAgents === undefined ? undefined : yield* Ref.get(context.subAgents)
    if (Exit.isSuccess(exit)) {
      const answer = context.structuredOutput === undefined ? Option.none() : yield* context.structuredOutput
      const plain = resultOf(context, yield* Ref.get(context.transcript), exit.value, rolled)
      const done: RunResult = Option.isSome(answer) ? { ...plain, structuredOutput: answer.value } : plain
      yield* emit(
        AgentEvents.turnEnded(turnId, {
          stopReason: done.stopReason,
          steps: done.steps,
          usage: done.usage,
          text: done.text,
          ...(done.costUsd === undefined ? {} : { costUsd: done.costUsd })
        })
      )
      yield* state.set("completed")
      return Exit.succeed(done)
    }
    if (Cause.hasInterruptsOnly(exit.cause)) {
      const repair = repairAfterInterrupt(yield* Ref.get(context.transcript))
      const transcript = yield* Ref.updateAndGet(context.transcript, (t) => ({ ...t, messages: repair.messages }))
      const partial = repair.appended.filter((m) => m.role === "assistant")
      const answers = repair.appended.filter((m) => m.role !== "assistant")
      yield* Effect.forEach(partial, (m) => emit(AgentEvents.messageAppended(turnId, m)), { discard: true })
      yield* Effect.forEach(repair.cancelled, (r) => emit(AgentEvents.toolCompleted(turnId, r)), { discard: true })
      yield* Effect.forEach(answers, (m) => emit(AgentEvents.messageAppended(turnId, m)), { discard: true })
      yield* state.set("cancelled")
      yield* emit(AgentEvents.interrupted(turnId, "interrupted by the user"))
      return Exit.succeed(resultOf(context, transcript, "interrupted", rolled))
    }
    yield* state.set("failed")
    yield* emit(AgentEvents.failed(turnId, describe(exit.cause)))
    return Exit.failCause(exit.cause)
  })
