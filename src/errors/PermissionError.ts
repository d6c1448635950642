import * as Schema from "effect/Schema"

/** The permission system could not decide (for example a malformed settings file). Never means "allow". */
export class PermissionError extends Schema.TaggedError<PermissionError>()("PermissionError", {
  message: Schema.String,
  source: Schema.optional(Schema.String)
}) {}
