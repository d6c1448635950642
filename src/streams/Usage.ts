import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/** A token counter: 0 when absent, both when decoding and when constructing. */
const count = Schema.Finite.pipe(
  Schema.withDecodingDefaultType(Effect.succeed(0)),
  Schema.withConstructorDefault(Effect.succeed(0))
)

/** Token usage of one response or, summed, of a whole run. */
export class Usage extends Schema.Class<Usage>("Usage")({
  inputTokens: count,
  outputTokens: count,
  cacheReadTokens: count,
  cacheWriteTokens: count,
  reasoningTokens: count
}) {
  static readonly empty: Usage = new Usage({})

  add(that: Usage): Usage {
    return new Usage({
      inputTokens: this.inputTokens + that.inputTokens,
      outputTokens: this.outputTokens + that.outputTokens,
      cacheReadTokens: this.cacheReadTokens + that.cacheReadTokens,
      cacheWriteTokens: this.cacheWriteTokens + that.cacheWriteTokens,
      reasoningTokens: this.reasoningTokens + that.reasoningTokens
    })
  }

  get totalTokens(): number {
    return this.inputTokens + this.outputTokens + this.cacheReadTokens + this.cacheWriteTokens
  }
}

/**
 * Why a response (or a run) stopped. The first group comes from models; `max_steps`, `max_budget`, `interrupted`
 * and `error` are set by the agent loop (`max_budget`: the turn's cost reached its `maxBudgetUsd`; `hook`: a hook
 * refused the prompt or stopped the turn).
 */
export const StopReason = Schema.Literals([
  "end_turn",
  "tool_use",
  "max_tokens",
  "stop_sequence",
  "refusal",
  "pause_turn",
  "content_filter",
  "max_steps",
  "max_budget",
  "hook",
  "interrupted",
  "error",
  "other"
])
export type StopReason = typeof StopReason.Type
