import * as Schema from "effect/Schema"

/** Registering a tool failed (for example a duplicate name). */
export class ToolRegistrationError extends Schema.TaggedError<ToolRegistrationError>()("ToolRegistrationError", {
  name: Schema.String,
  message: Schema.String
}) {}

/** A tool was asked for by name and is not registered. */
export class ToolNotFoundError extends Schema.TaggedError<ToolNotFoundError>()("ToolNotFoundError", {
  name: Schema.String,
  message: Schema.String
}) {}

/**
 * A tool's own failure, raised from `execute`. The agent loop turns it into an error `ToolResult`
 * whose text is `message`, so write it for the model: say what was wrong and how to fix the call.
 */
export class ToolExecutionError extends Schema.TaggedError<ToolExecutionError>()("ToolExecutionError", {
  tool: Schema.String,
  message: Schema.String
}) {}

/**
 * The model's input for a tool does not match the tool's input schema. Distinct from a permission denial and
 * from a failure of the tool itself: the call never ran. `message` lists every problem, by field, for the model.
 */
export class ToolInputError extends Schema.TaggedError<ToolInputError>()("ToolInputError", {
  tool: Schema.String,
  message: Schema.String,
  /** One entry per problem: the field path (`command`, `edits[0].old_string`; empty for the whole input) and what is wrong. */
  issues: Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String }))
}) {}

export type ToolError = ToolRegistrationError | ToolNotFoundError | ToolExecutionError | ToolInputError
