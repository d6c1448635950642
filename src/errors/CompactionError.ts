import * as Schema from "effect/Schema"

/**
 * Compacting a conversation failed; the conversation is unchanged. `reason`: `empty` (nothing to summarize),
 * `request_failed` (the summarizing model request failed: `errorTag` and `retryable` say how), `no_summary` (the
 * model answered without a summary).
 */
export class CompactionError extends Schema.TaggedError<CompactionError>()("CompactionError", {
  message: Schema.String,
  reason: Schema.Literals(["empty", "request_failed", "no_summary"]),
  /** The `_tag` of the provider error, for `request_failed`. */
  errorTag: Schema.optional(Schema.String),
  retryable: Schema.optional(Schema.Boolean)
}) {}
