import * as Schema from "effect/Schema"

/** Reading or writing a session log failed. */
export class SessionError extends Schema.TaggedError<SessionError>()("SessionError", {
  sessionId: Schema.optional(Schema.String),
  path: Schema.optional(Schema.String),
  message: Schema.String
}) {}
