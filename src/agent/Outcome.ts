/**
 * The outcome of a turn, shared by every entry point (the SDK, the CLI): `done`, `failed` or `interrupted`, with
 * the process exit code that goes with it (0 / 1 / 130), the error as a plain JSON-serializable object, and the
 * result when there is one. Pure functions over an `Exit`; nothing here runs an effect.
 */
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Result from "effect/Result"

/** A failure as plain JSON: the error's `_tag` (or name), its message, and its other scalar fields. */
export interface ErrorInfo {
  /** The error's `_tag` (`AuthenticationError`, `ConfigError`, ...), else its `name`, else `"UnknownError"`. */
  readonly tag: string
  readonly message: string
  /** Set for provider errors: whether a later retry could succeed. */
  readonly retryable?: boolean
  /** The error's other string / number / boolean fields (`provider`, `status`, `source`, `path`, ...). */
  readonly details?: Readonly<Record<string, string | number | boolean>>
  /** True when this was a defect (a bug), not a typed failure. */
  readonly defect?: boolean
}

/** The turn ran to its end (any stop reason other than `interrupted`: `end_turn`, `max_steps`, ...). */
export interface Done<A> {
  readonly status: "done"
  readonly exitCode: 0
  readonly result: A
}

/** The turn failed with a typed error (or a defect). */
export interface Failed {
  readonly status: "failed"
  readonly exitCode: 1
  readonly error: ErrorInfo
}

/** The turn was interrupted; `result` is set when the loop ended it cleanly (stop reason `interrupted`). */
export interface Interrupted<A> {
  readonly status: "interrupted"
  readonly exitCode: 130
  readonly result?: A
}

export type Outcome<A> = Done<A> | Failed | Interrupted<A>

export type OutcomeStatus = Outcome<unknown>["status"]

const SKIPPED = new Set(["_tag", "name", "message", "stack", "cause"])

/** Any thrown or failed value as a plain `ErrorInfo` (secrets never reach it: Sage errors do not carry them). */
export const errorInfo = (error: unknown, options?: { readonly defect?: boolean }): ErrorInfo => {
  const defect = options?.defect === true ? { defect: true } : {}
  if (typeof error !== "object" || error === null) {
    return { tag: "UnknownError", message: typeof error === "string" ? error : String(error), ...defect }
  }
  const record: Readonly<Record<string, unknown>> = { ...error }
  const tag =
    "_tag" in error && typeof error._tag === "string"
      ? error._tag
      : error instanceof Error && error.name !== ""
        ? error.name
        : "UnknownError"
  const message = "message" in error && typeof error.message === "string" ? error.message : String(error)
  const retryable = "retryable" in error && typeof error.retryable === "boolean" ? { retryable: error.retryable } : {}
  const details: Record<string, string | number | boolean> = {}
  for (const [key, value] of Object.entries(record)) {
    if (SKIPPED.has(key)) continue
    if (
      typeof value === "string" ||
      typeof value === "boolean" ||
      (typeof value === "number" && Number.isFinite(value))
    )
      details[key] = value
  }
  return {
    tag,
    message,
    ...retryable,
    ...(Object.keys(details).length === 0 ? {} : { details }),
    ...defect
  }
}

/**
 * The outcome of a turn's `Exit`. Success is `done`, unless the loop stopped the turn cleanly on an interrupt
 * (stop reason `interrupted`); a cause with only interruptions is `interrupted`; otherwise `failed`, with the
 * first typed error, else the first defect.
 */
export const fromExit = <A extends { readonly stopReason: string }, E>(exit: Exit.Exit<A, E>): Outcome<A> => {
  if (Exit.isSuccess(exit)) {
    return exit.value.stopReason === "interrupted"
      ? { status: "interrupted", exitCode: 130, result: exit.value }
      : { status: "done", exitCode: 0, result: exit.value }
  }
  return fromCause(exit.cause)
}

/** The outcome of a failed turn from its `Cause`: `interrupted` or `failed` (never `done`). */
export const fromCause = <E>(cause: Cause.Cause<E>): Failed | Interrupted<never> => {
  const failure = Cause.findErrorOption(cause)
  if (Option.isSome(failure)) return { status: "failed", exitCode: 1, error: errorInfo(failure.value) }
  const defect = Cause.findDefect(cause)
  if (Result.isSuccess(defect))
    return { status: "failed", exitCode: 1, error: errorInfo(defect.success, { defect: true }) }
  return { status: "interrupted", exitCode: 130 }
}
