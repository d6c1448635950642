/**
 * The session store contract. A session is an append-only log: a header, then the `AgentEvent`s of its turns (the
 * same JSON as `--output-format stream-json`) and a few records of the store's own (crash repairs, permission
 * grants made for the session). The log is the only source of truth: the conversation, the todos, the grants and
 * the list of sessions are all derived from it. Nothing is deleted unless `delete` is called.
 *
 * Loading a log that a crash cut short repairs it instead of failing: a torn last line is skipped, a turn that
 * never ended gets the tool results it was missing and an `interrupted` event, and the repair is itself appended
 * to the log (a visible `session.repaired` record). A session is written by one writer at a time: `create`, `open`
 * and `fork` take the session's lock for their scope, and a second writer fails with `SessionLocked`.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type {
  InvalidSessionId,
  SessionError,
  SessionExists,
  SessionLocked,
  SessionNotFound
} from "../errors/SessionError.js"
import type { AgentEvent, TodoItem as TodoItemSchema } from "../streams/AgentEvent.js"
import type { Message } from "../streams/Message.js"

/** One task of the model's todo list (`TodoWrite`). */
export type TodoItem = typeof TodoItemSchema.Type

/** The version of the log format written in every header. */
export const SESSION_FORMAT = 1 as const

/** The first line of a log. */
export type SessionHeader = {
  readonly type: "session"
  readonly format: number
  readonly id: string
  /** The working directory the session ran in (`sage -c` continues the latest session of a directory). */
  readonly cwd: string
  /** Epoch milliseconds. */
  readonly created: number
  readonly provider: string
  readonly model: string
  /** Set when the session was forked from another one (whose history it starts with). */
  readonly parentSessionId?: string
}

/** A record the store appended after a crash: what it skipped and what it added, for anyone reading the log. */
export type SessionRepaired = {
  readonly type: "session.repaired"
  readonly timestamp: number
  /** One line per repair, e.g. `skipped a torn line at byte 1234 (56 bytes)`. */
  readonly repairs: ReadonlyArray<string>
  /** Byte offsets of the unreadable lines it skipped (later loads skip them silently). */
  readonly skipped: ReadonlyArray<number>
}

/** A permission rule the user allowed "for this session" (it applies again when the session is resumed). */
export type PermissionGranted = {
  readonly type: "permission.granted"
  readonly timestamp: number
  readonly rule: string
}

/** What a writer appends: the agent's events and the store's own records. */
export type SessionRecord = AgentEvent | SessionRepaired | PermissionGranted

/** One row of `sage sessions list`, derived from the session's log. */
export interface SessionSummary {
  readonly id: string
  /** The first prompt, on one line, shortened. */
  readonly title: string
  readonly cwd: string
  readonly created: number
  /** The timestamp of the log's last record. */
  readonly lastUsed: number
  /** Turns that ended (`turn.ended`, `interrupted` or `failed`). */
  readonly turns: number
  /** The sum of the turns' `costUsd`, when the turns reported one. */
  readonly costUsd?: number
  readonly provider: string
  readonly model: string
  readonly parentSessionId?: string
}

/** A session as its log says it is now. */
export interface LoadedSession {
  readonly header: SessionHeader
  readonly summary: SessionSummary
  /** The conversation to continue from: what the next turn is sent with. */
  readonly messages: ReadonlyArray<Message>
  /** The latest todo list (`todos.updated`). */
  readonly todos: ReadonlyArray<TodoItem>
  /** Rules allowed for this session (`permission.granted`), oldest first. */
  readonly grants: ReadonlyArray<string>
  /** What loading repaired (empty for a clean log). */
  readonly repairs: ReadonlyArray<string>
  /** Every readable record of the log (header first), as JSON data. */
  readonly records: ReadonlyArray<LogRecord>
}

/** A record of a log as JSON data (an `AgentEvent`, a header, a store record, or a type from a newer version). */
export interface LogRecord {
  readonly type: string
  readonly [field: string]: unknown
}

/** What a new session starts with. */
export interface NewSession {
  /** Default: a new random id (`ses_...`). */
  readonly id?: string
  readonly cwd: string
  readonly provider: string
  readonly model: string
}

/** Appends to one session's log; holds the session's lock until its scope closes. */
export interface SessionWriter {
  readonly sessionId: string
  /** The session as it was when the writer opened it (after any repair). */
  readonly session: LoadedSession
  /**
   * Appends one record. It reaches the operating system at once (a killed process loses nothing appended); with
   * `flush: true` it is also synced to disk.
   */
  readonly append: (record: SessionRecord, options?: { readonly flush?: boolean }) => Effect.Effect<void, SessionError>
  /** Syncs everything appended so far to disk. */
  readonly flush: Effect.Effect<void, SessionError>
}

export declare namespace SessionStore {
  interface Service {
    /** Starts a new session log (`SessionExists` when the id is taken). */
    readonly create: (
      session: NewSession
    ) => Effect.Effect<SessionWriter, SessionExists | InvalidSessionId | SessionLocked | SessionError, Scope.Scope>
    /** Opens a session to continue it (repairing a crashed log first). */
    readonly open: (
      id: string
    ) => Effect.Effect<SessionWriter, SessionNotFound | InvalidSessionId | SessionLocked | SessionError, Scope.Scope>
    /**
     * A new session that starts with the history of `id` (its records are copied; `parentSessionId` names it). The
     * original is not changed.
     */
    readonly fork: (
      id: string,
      options?: { readonly newId?: string; readonly cwd?: string; readonly provider?: string; readonly model?: string }
    ) => Effect.Effect<
      SessionWriter,
      SessionNotFound | SessionExists | InvalidSessionId | SessionLocked | SessionError,
      Scope.Scope
    >
    /**
     * Reads a session. A crashed log is repaired (on disk when no other process is writing it; otherwise only in
     * the returned view).
     */
    readonly load: (id: string) => Effect.Effect<LoadedSession, SessionNotFound | InvalidSessionId | SessionError>
    /** Every session (optionally only those of `cwd`), the most recently used first. */
    readonly list: (filter?: { readonly cwd?: string }) => Effect.Effect<ReadonlyArray<SessionSummary>, SessionError>
    /** The log as it is stored (JSONL), for export. */
    readonly read: (id: string) => Effect.Effect<string, SessionNotFound | InvalidSessionId | SessionError>
    /** Deletes a session's log (only ever on the user's request). `SessionLocked` while another process writes it. */
    readonly delete: (
      id: string
    ) => Effect.Effect<void, SessionNotFound | InvalidSessionId | SessionLocked | SessionError>
  }
}

export class SessionStore extends Context.Service<SessionStore, SessionStore.Service>()("sage/SessionStore") {}
