import * as Schema from "effect/Schema"

/** Reading or writing a session log failed (an I/O error). */
export class SessionError extends Schema.TaggedError<SessionError>()("SessionError", {
  sessionId: Schema.optional(Schema.String),
  path: Schema.optional(Schema.String),
  message: Schema.String
}) {}

/** No session has this id (`sage sessions list` shows the ids). */
export class SessionNotFound extends Schema.TaggedError<SessionNotFound>()("SessionNotFound", {
  sessionId: Schema.String,
  message: Schema.String
}) {}

/** Another process is writing this session (it holds the session's lock file). */
export class SessionLocked extends Schema.TaggedError<SessionLocked>()("SessionLocked", {
  sessionId: Schema.String,
  /** The process holding the lock, and the machine it runs on. */
  pid: Schema.Number,
  hostname: Schema.String,
  path: Schema.String,
  message: Schema.String
}) {}

/** A new session was asked for with an id that is already taken. */
export class SessionExists extends Schema.TaggedError<SessionExists>()("SessionExists", {
  sessionId: Schema.String,
  message: Schema.String
}) {}

/** A session id that cannot be a session's (ids are 1-128 letters, digits, `_` or `-`). */
export class InvalidSessionId extends Schema.TaggedError<InvalidSessionId>()("InvalidSessionId", {
  sessionId: Schema.String,
  message: Schema.String
}) {}

/** Everything a `SessionStore` can fail with. */
export const SessionStoreError = Schema.Union([
  SessionError,
  SessionNotFound,
  SessionLocked,
  SessionExists,
  InvalidSessionId
])
export type SessionStoreError = typeof SessionStoreError.Type
