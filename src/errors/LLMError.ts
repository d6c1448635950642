/**
 * Typed provider errors. Every error names the provider, says whether a retry can help, and carries a
 * message that tells the user what to do. None of them ever carries a secret.
 */
import * as Schema from "effect/Schema"

const common = {
  provider: Schema.String,
  message: Schema.String,
  status: Schema.optional(Schema.Number),
  requestId: Schema.optional(Schema.String)
}

/** The API key is missing, malformed or rejected (HTTP 401). */
export class AuthenticationError extends Schema.TaggedError<AuthenticationError>()("AuthenticationError", common) {
  get retryable(): boolean {
    return false
  }
}

/** The key is valid but may not use this model or endpoint (HTTP 403). */
export class ProviderPermissionError extends Schema.TaggedError<ProviderPermissionError>()(
  "ProviderPermissionError",
  common
) {
  get retryable(): boolean {
    return false
  }
}

/** The model (or endpoint) does not exist (HTTP 404). */
export class ModelNotFoundError extends Schema.TaggedError<ModelNotFoundError>()("ModelNotFoundError", {
  ...common,
  model: Schema.String
}) {
  get retryable(): boolean {
    return false
  }
}

/** The request was rejected as malformed (HTTP 400/422), other than for context length. */
export class InvalidRequestError extends Schema.TaggedError<InvalidRequestError>()("InvalidRequestError", common) {
  get retryable(): boolean {
    return false
  }
}

/** The prompt plus requested output does not fit the model's context window. */
export class ContextLengthExceededError extends Schema.TaggedError<ContextLengthExceededError>()(
  "ContextLengthExceededError",
  common
) {
  get retryable(): boolean {
    return false
  }
}

/** Too many requests (HTTP 429). `retryAfterMs` comes from `retry-after` / `retry-after-ms` when sent. */
export class RateLimitedError extends Schema.TaggedError<RateLimitedError>()("RateLimitedError", {
  ...common,
  retryAfterMs: Schema.optional(Schema.Number)
}) {
  get retryable(): boolean {
    return true
  }
}

/** The provider is overloaded (HTTP 529 or an `overloaded_error` inside the stream). */
export class OverloadedError extends Schema.TaggedError<OverloadedError>()("OverloadedError", {
  ...common,
  retryAfterMs: Schema.optional(Schema.Number)
}) {
  get retryable(): boolean {
    return true
  }
}

/** The provider failed (HTTP 5xx or an `api_error` inside the stream). */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", {
  ...common,
  retryAfterMs: Schema.optional(Schema.Number)
}) {
  get retryable(): boolean {
    return true
  }
}

/** The connection failed, was reset, or timed out before a complete response arrived. */
export class ConnectionError extends Schema.TaggedError<ConnectionError>()("ConnectionError", {
  ...common,
  timeout: Schema.Boolean
}) {
  get retryable(): boolean {
    return true
  }
}

/** The response could not be understood (malformed stream, unexpected payload). Not retryable: it would repeat. */
export class ResponseDecodeError extends Schema.TaggedError<ResponseDecodeError>()("ResponseDecodeError", common) {
  get retryable(): boolean {
    return false
  }
}

export type LLMError =
  | AuthenticationError
  | ProviderPermissionError
  | ModelNotFoundError
  | InvalidRequestError
  | ContextLengthExceededError
  | RateLimitedError
  | OverloadedError
  | ServerError
  | ConnectionError
  | ResponseDecodeError

export const LLMError = Schema.Union([
  AuthenticationError,
  ProviderPermissionError,
  ModelNotFoundError,
  InvalidRequestError,
  ContextLengthExceededError,
  RateLimitedError,
  OverloadedError,
  ServerError,
  ConnectionError,
  ResponseDecodeError
])

/** Whether a retry could succeed. */
export const isRetryable = (error: LLMError): boolean => error.retryable

/** The server-suggested wait before retrying, if any. */
export const retryAfterMs = (error: LLMError): number | undefined =>
  "retryAfterMs" in error ? error.retryAfterMs : undefined
