import * as Schema from "effect/Schema"

/**
 * The model's final answer did not match the requested output schema, also after one repair request. `issue` says
 * what was wrong with the last answer; `answer` is (the start of) that answer.
 */
export class StructuredOutputError extends Schema.TaggedError<StructuredOutputError>()("StructuredOutputError", {
  message: Schema.String,
  issue: Schema.String,
  answer: Schema.optional(Schema.String)
}) {}
