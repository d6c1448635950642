/**
 * The errors `SageAgentSDK` rejects with, typed without Effect. The values are the library's real tagged error
 * classes (so `error instanceof AuthenticationError` and `error._tag` work), re-exported under plain declared
 * types: their `Schema.TaggedError` declarations stay out of the SDK's `.d.ts`.
 */
import * as Errors from "../errors/index.js"

/** What every Sage error has: a real `Error` with a `_tag` naming its class. */
export interface SageErrorBase extends Error {
  readonly _tag: string
  readonly name: string
  readonly message: string
}

/** A Sage error class: `new` builds one (mainly for tests), `instanceof` recognises one. */
export interface SageErrorClass<E extends SageErrorBase, F> {
  new (fields: F): E
  readonly prototype: E
}

/** The fields of every provider (model API) error. */
export interface ProviderErrorFields {
  /** `anthropic`, `openai`, ... */
  readonly provider: string
  /** What went wrong and what to do; never contains a secret. */
  readonly message: string
  /** The HTTP status, when there was a response. */
  readonly status?: number
  /** The provider's request id, for support tickets. */
  readonly requestId?: string
}

export interface RetryAfterFields extends ProviderErrorFields {
  /** The server's suggested wait (`retry-after` / `retry-after-ms`), when it sent one. */
  readonly retryAfterMs?: number
}

export interface ModelNotFoundFields extends ProviderErrorFields {
  readonly model: string
}

export interface ConnectionFields extends ProviderErrorFields {
  readonly timeout: boolean
}

/** A provider error: says whether a retry could succeed (Sage already retried the retryable ones). */
export interface ProviderError<Tag extends string> extends SageErrorBase {
  readonly _tag: Tag
  readonly provider: string
  readonly status?: number
  readonly requestId?: string
  readonly retryable: boolean
}

/** The API key is missing, malformed or rejected (HTTP 401). */
export interface AuthenticationError extends ProviderError<"AuthenticationError"> {}
/** The key is valid but may not use this model or endpoint (HTTP 403). */
export interface ProviderPermissionError extends ProviderError<"ProviderPermissionError"> {}
/** The model (or endpoint) does not exist (HTTP 404). */
export interface ModelNotFoundError extends ProviderError<"ModelNotFoundError"> {
  readonly model: string
}
/** The request was rejected as malformed (HTTP 400/422), other than for context length. */
export interface InvalidRequestError extends ProviderError<"InvalidRequestError"> {}
/** The prompt plus requested output does not fit the model's context window. */
export interface ContextLengthExceededError extends ProviderError<"ContextLengthExceededError"> {}
/** Too many requests (HTTP 429). */
export interface RateLimitedError extends ProviderError<"RateLimitedError"> {
  readonly retryAfterMs?: number
}
/** The provider is overloaded (HTTP 529 or an `overloaded_error` inside the stream). */
export interface OverloadedError extends ProviderError<"OverloadedError"> {
  readonly retryAfterMs?: number
}
/** The provider failed (HTTP 5xx or an `api_error` inside the stream). */
export interface ServerError extends ProviderError<"ServerError"> {
  readonly retryAfterMs?: number
}
/** The connection failed, was reset, or timed out before a complete response arrived. */
export interface ConnectionError extends ProviderError<"ConnectionError"> {
  readonly timeout: boolean
}
/** The response could not be understood (malformed stream, unexpected payload). */
export interface ResponseDecodeError extends ProviderError<"ResponseDecodeError"> {}

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

export interface ConfigErrorFields {
  readonly message: string
  /** The variable, option or file (and line) to fix. */
  readonly source?: string
}

/**
 * Configuration is missing or invalid: no API key (`source` is the variable), or an invalid `SageAgentSDK` option
 * (thrown by the constructor; `source` is the option, e.g. `provider` or `tools[0].execute`, and the message names
 * the bad value and the accepted values).
 */
export interface ConfigError extends SageErrorBase {
  readonly _tag: "ConfigError"
  readonly source?: string
}

/** The permission system could not decide (e.g. a malformed settings file). Never means "allow". */
export interface PermissionError extends SageErrorBase {
  readonly _tag: "PermissionError"
  readonly source?: string
}

export interface SessionErrorFields {
  readonly message: string
  readonly sessionId?: string
  readonly path?: string
}

/** Reading or writing a session log failed. */
export interface SessionError extends SageErrorBase {
  readonly _tag: "SessionError"
  readonly sessionId?: string
  readonly path?: string
}

export interface ToolRegistrationFields {
  readonly name: string
  readonly message: string
}

/** A custom tool could not be registered (an invalid name, or one a built-in tool already has). */
export interface ToolRegistrationError extends SageErrorBase {
  readonly _tag: "ToolRegistrationError"
  /** The tool's name (here `name` is not the error's name: `_tag` is). */
  readonly name: string
}

export interface StructuredOutputErrorFields {
  readonly message: string
  /** What was wrong with the last answer. */
  readonly issue: string
  /** (The start of) the last answer. */
  readonly answer?: string
}

/** The final answer did not match the output schema, also after one repair request. */
export interface StructuredOutputError extends SageErrorBase {
  readonly _tag: "StructuredOutputError"
  readonly issue: string
  readonly answer?: string
}

export interface InputErrorFields {
  readonly message: string
  readonly reason: "vision_unsupported" | "image_not_found" | "image_unsupported" | "image_too_large" | "image_denied"
  readonly path?: string
  readonly model?: string
}

/**
 * A prompt refused before any request: images for a model without vision, or an image file that is missing, not an
 * image, too large, or not readable (outside the workspace, or denied by the permission rules).
 */
export interface InputError extends SageErrorBase {
  readonly _tag: "InputError"
  readonly reason: InputErrorFields["reason"]
  readonly path?: string
  readonly model?: string
}

/** Everything that can end a turn with a failure (tool failures never do: they become results). */
export type AgentError = LLMError | ConfigError | PermissionError | SessionError | StructuredOutputError | InputError

export interface SessionIdFields {
  readonly sessionId: string
  readonly message: string
}

export interface SessionLockedFields extends SessionIdFields {
  readonly pid: number
  readonly hostname: string
  readonly path: string
}

/** No saved session has this id (`listSessions()` shows them). */
export interface SessionNotFound extends SageErrorBase {
  readonly _tag: "SessionNotFound"
  readonly sessionId: string
}

/** Another process (or call) is writing this session. */
export interface SessionLocked extends SageErrorBase {
  readonly _tag: "SessionLocked"
  readonly sessionId: string
  /** The process holding the lock, and its machine. */
  readonly pid: number
  readonly hostname: string
  /** The lock file. */
  readonly path: string
}

/** `sessionId` names a session that exists already (resume it instead). */
export interface SessionExists extends SageErrorBase {
  readonly _tag: "SessionExists"
  readonly sessionId: string
}

/** Not a possible session id (1-128 letters, digits, `_` or `-`). */
export interface InvalidSessionId extends SageErrorBase {
  readonly _tag: "InvalidSessionId"
  readonly sessionId: string
}

/** Choosing or opening a saved session failed. */
export type SessionStoreError = SessionError | SessionNotFound | SessionLocked | SessionExists | InvalidSessionId

/**
 * A call on a `SageAgentSDK` that was closed, or a turn that `close()` stopped while it ran. Create a new instance
 * to run again.
 */
export class SageClosedError extends Error implements SageErrorBase {
  readonly _tag = "SageClosedError"
  override readonly name = "SageClosedError"
  constructor(message = "This SageAgentSDK was closed; create a new instance to run again") {
    super(message)
  }
}

export interface CompactionErrorFields {
  readonly message: string
  /** `empty` (nothing to summarize), `request_failed` (the model request failed), `no_summary`. */
  readonly reason: "empty" | "request_failed" | "no_summary"
  /** The `_tag` of the provider error, for `request_failed`. */
  readonly errorTag?: string
  readonly retryable?: boolean
}

/** `compact()` failed; the conversation is unchanged. */
export interface CompactionError extends SageErrorBase {
  readonly _tag: "CompactionError"
  readonly reason: "empty" | "request_failed" | "no_summary"
  readonly errorTag?: string
  readonly retryable?: boolean
}

/** Rejection of a call stopped by its `AbortSignal` (`error.name === "AbortError"`). */
export class AbortError extends Error {
  override readonly name = "AbortError"
  constructor(message = "The operation was aborted") {
    super(message)
  }
}

/** Every error `SageAgentSDK` rejects with, besides `AbortError`. */
export type SageError = AgentError | ToolRegistrationError | CompactionError | SessionStoreError | SageClosedError

export const AuthenticationError: SageErrorClass<AuthenticationError, ProviderErrorFields> = Errors.AuthenticationError
export const ProviderPermissionError: SageErrorClass<ProviderPermissionError, ProviderErrorFields> =
  Errors.ProviderPermissionError
export const ModelNotFoundError: SageErrorClass<ModelNotFoundError, ModelNotFoundFields> = Errors.ModelNotFoundError
export const InvalidRequestError: SageErrorClass<InvalidRequestError, ProviderErrorFields> = Errors.InvalidRequestError
export const ContextLengthExceededError: SageErrorClass<ContextLengthExceededError, ProviderErrorFields> =
  Errors.ContextLengthExceededError
export const RateLimitedError: SageErrorClass<RateLimitedError, RetryAfterFields> = Errors.RateLimitedError
export const OverloadedError: SageErrorClass<OverloadedError, RetryAfterFields> = Errors.OverloadedError
export const ServerError: SageErrorClass<ServerError, RetryAfterFields> = Errors.ServerError
export const ConnectionError: SageErrorClass<ConnectionError, ConnectionFields> = Errors.ConnectionError
export const ResponseDecodeError: SageErrorClass<ResponseDecodeError, ProviderErrorFields> = Errors.ResponseDecodeError
export const ConfigError: SageErrorClass<ConfigError, ConfigErrorFields> = Errors.ConfigError
export const PermissionError: SageErrorClass<PermissionError, ConfigErrorFields> = Errors.PermissionError
export const SessionError: SageErrorClass<SessionError, SessionErrorFields> = Errors.SessionError
export const ToolRegistrationError: SageErrorClass<ToolRegistrationError, ToolRegistrationFields> =
  Errors.ToolRegistrationError
export const CompactionError: SageErrorClass<CompactionError, CompactionErrorFields> = Errors.CompactionError
export const StructuredOutputError: SageErrorClass<StructuredOutputError, StructuredOutputErrorFields> =
  Errors.StructuredOutputError
export const InputError: SageErrorClass<InputError, InputErrorFields> = Errors.InputError
export const SessionNotFound: SageErrorClass<SessionNotFound, SessionIdFields> = Errors.SessionNotFound
export const SessionLocked: SageErrorClass<SessionLocked, SessionLockedFields> = Errors.SessionLocked
export const SessionExists: SageErrorClass<SessionExists, SessionIdFields> = Errors.SessionExists
export const InvalidSessionId: SageErrorClass<InvalidSessionId, SessionIdFields> = Errors.InvalidSessionId

const classes = [
  Errors.AuthenticationError,
  Errors.ProviderPermissionError,
  Errors.ModelNotFoundError,
  Errors.InvalidRequestError,
  Errors.ContextLengthExceededError,
  Errors.RateLimitedError,
  Errors.OverloadedError,
  Errors.ServerError,
  Errors.ConnectionError,
  Errors.ResponseDecodeError,
  Errors.ConfigError,
  Errors.PermissionError,
  Errors.SessionError,
  Errors.ToolRegistrationError,
  Errors.CompactionError,
  Errors.StructuredOutputError,
  Errors.InputError,
  Errors.SessionNotFound,
  Errors.SessionLocked,
  Errors.SessionExists,
  Errors.InvalidSessionId,
  SageClosedError
] as const

/** Whether `error` is one of the errors above (an instance of one of their classes). */
export const isSageError = (error: unknown): error is SageError => classes.some((c) => error instanceof c)

// ---------------------------------------------------------------------------------------------------------------
// Conformance (type level only). The annotations above check each class against its plain instance type and
// that the plain fields are accepted by its constructor; these check that the fields are exactly the schema's.

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type Assert<T extends true> = T
type Flat<T> = { [K in keyof T]: T[K] }
/** The constructor's fields, without the optional `_tag` every tagged error's constructor also accepts. */
type FieldsOf<C extends abstract new (...args: never) => unknown> = Flat<Omit<ConstructorParameters<C>[0], "_tag">>
type InstanceOf<C extends abstract new (...args: never) => unknown> = InstanceType<C>

/**
 * The instance's own data (fields, `_tag`, `retryable`) must be the plain interface's, key for key. `message` and
 * `name` also come from `Error` (writable there), so they are compared through the constructor fields only.
 */
type DataKeys<C extends abstract new (...args: never) => unknown, Extra extends string> =
  | Exclude<keyof FieldsOf<C>, "message" | "name">
  | "_tag"
  | Extra
type PickSome<T, K> = Flat<Pick<T, Extract<K, keyof T>>>
type SameData<C extends abstract new (...args: never) => unknown, E, Extra extends string> = Equals<
  PickSome<InstanceOf<C>, DataKeys<C, Extra>>,
  PickSome<E, DataKeys<C, Extra>>
>

type ErrorChecks = [
  Assert<Equals<FieldsOf<typeof Errors.AuthenticationError>, Flat<ProviderErrorFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.ProviderPermissionError>, Flat<ProviderErrorFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.ModelNotFoundError>, Flat<ModelNotFoundFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.InvalidRequestError>, Flat<ProviderErrorFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.ContextLengthExceededError>, Flat<ProviderErrorFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.RateLimitedError>, Flat<RetryAfterFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.OverloadedError>, Flat<RetryAfterFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.ServerError>, Flat<RetryAfterFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.ConnectionError>, Flat<ConnectionFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.ResponseDecodeError>, Flat<ProviderErrorFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.ConfigError>, Flat<ConfigErrorFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.PermissionError>, Flat<ConfigErrorFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.SessionError>, Flat<SessionErrorFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.ToolRegistrationError>, Flat<ToolRegistrationFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.CompactionError>, Flat<CompactionErrorFields>>>,
  Assert<SameData<typeof Errors.CompactionError, CompactionError, never>>,
  Assert<Equals<FieldsOf<typeof Errors.StructuredOutputError>, Flat<StructuredOutputErrorFields>>>,
  Assert<SameData<typeof Errors.StructuredOutputError, StructuredOutputError, never>>,
  Assert<Equals<FieldsOf<typeof Errors.InputError>, Flat<InputErrorFields>>>,
  Assert<SameData<typeof Errors.InputError, InputError, never>>,
  Assert<Equals<FieldsOf<typeof Errors.SessionNotFound>, Flat<SessionIdFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.SessionLocked>, Flat<SessionLockedFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.SessionExists>, Flat<SessionIdFields>>>,
  Assert<Equals<FieldsOf<typeof Errors.InvalidSessionId>, Flat<SessionIdFields>>>,
  Assert<SameData<typeof Errors.SessionNotFound, SessionNotFound, never>>,
  Assert<SameData<typeof Errors.SessionLocked, SessionLocked, never>>,
  Assert<SameData<typeof Errors.SessionExists, SessionExists, never>>,
  Assert<SameData<typeof Errors.InvalidSessionId, InvalidSessionId, never>>,
  Assert<SameData<typeof Errors.AuthenticationError, AuthenticationError, "retryable">>,
  Assert<SameData<typeof Errors.ProviderPermissionError, ProviderPermissionError, "retryable">>,
  Assert<SameData<typeof Errors.ModelNotFoundError, ModelNotFoundError, "retryable">>,
  Assert<SameData<typeof Errors.InvalidRequestError, InvalidRequestError, "retryable">>,
  Assert<SameData<typeof Errors.ContextLengthExceededError, ContextLengthExceededError, "retryable">>,
  Assert<SameData<typeof Errors.RateLimitedError, RateLimitedError, "retryable">>,
  Assert<SameData<typeof Errors.OverloadedError, OverloadedError, "retryable">>,
  Assert<SameData<typeof Errors.ServerError, ServerError, "retryable">>,
  Assert<SameData<typeof Errors.ConnectionError, ConnectionError, "retryable">>,
  Assert<SameData<typeof Errors.ResponseDecodeError, ResponseDecodeError, "retryable">>,
  Assert<SameData<typeof Errors.ConfigError, ConfigError, never>>,
  Assert<SameData<typeof Errors.PermissionError, PermissionError, never>>,
  Assert<SameData<typeof Errors.SessionError, SessionError, never>>,
  Assert<SameData<typeof Errors.ToolRegistrationError, ToolRegistrationError, never>>,
  // The plain unions cover the library's: every tag on both sides.
  Assert<Equals<AgentError["_tag"], Errors.AgentError["_tag"]>>,
  Assert<Equals<LLMError["_tag"], Errors.LLMError["_tag"]>>,
  ErrorsChecked?
]
// `ErrorChecks` and `ErrorsChecked` refer to each other so that `noUnusedLocals` accepts them unexported.
type ErrorsChecked = ErrorChecks
