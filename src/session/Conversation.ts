/**
 * A conversation: turns of the `Agent` in one session, recorded as they happen. The one runner used by the CLI
 * (`sage -p`, `-c`, `-r`), the SDK (`resume`, `continue`, `forkSession`) and the REPL.
 *
 * `open` picks the session (a new one, the one to resume, the latest of the directory, or a fork), takes its lock
 * for the caller's scope and records `session.started`; `start` runs a turn with the session's history and appends
 * every event of the turn to the log while it runs (synced to disk at every completed tool result, message and
 * turn end). The history the next turn is sent with is a fold over the same events the log holds (`SessionLog`),
 * so a resumed session continues exactly where the original was. Closing the scope records `session.ended`.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Clock from "effect/Clock"
import type * as Scope from "effect/Scope"
import { ConfigError } from "../errors/ConfigError.js"
import * as HookRun from "../hooks/Run.js"
import { stamp } from "../agent/AgentEvents.js"
import type { AgentError } from "../errors/AgentError.js"
import type { PermissionError } from "../errors/PermissionError.js"
import type { SessionStoreError } from "../errors/SessionError.js"
import { Agent, type AgentExecution, type Prompt, type RunOptions } from "../services/Agent.js"
import { LLMClient } from "../services/LLMClient.js"
import { Permissions } from "../services/Permissions.js"
import { Todos } from "../services/Todos.js"
import {
  type LoadedSession,
  type PermissionGranted,
  type SessionRecord,
  SessionStore,
  type SessionWriter,
  type TodoItem
} from "../services/SessionStore.js"
import { type AgentEvent, PROTOCOL_VERSION } from "../streams/AgentEvent.js"
import type { Message } from "../streams/Message.js"
import { applyRecord, emptyState, isValidSessionId, type LogState } from "./SessionLog.js"

/** Which session a conversation runs in. At most one of `resume` and `continue`; `fork` needs one of them. */
export interface SessionSelection {
  /** The working directory (a new session's `cwd`; `continue` picks the latest session of it). */
  readonly cwd: string
  /** The id of a session to continue. */
  readonly resume?: string
  /** Continue the latest session of `cwd` (a new session when it has none). */
  readonly continue?: boolean
  /** Continue the chosen session as a new session (a new id whose `parentSessionId` is the original's). */
  readonly fork?: boolean
  /** The id of the new session (or of the fork). Given alone, it must not exist yet. */
  readonly sessionId?: string
  /** False: nothing is written (the history of a resumed session is still read). Default true. */
  readonly persist?: boolean
  /** A new session's earlier conversation (e.g. from elsewhere); recorded in its log as `message` events. */
  readonly history?: ReadonlyArray<Message>
}

export interface ConversationOptions extends SessionSelection {
  /** Recorded in a new session's header; default: the `LLMClient`'s. */
  readonly provider?: string
  readonly model?: string
  /** A plan already made with `plan` (e.g. to apply the session's grants before building the agent). */
  readonly plan?: SessionPlan
}

/** What `open` will do: start a new session, or resume / fork `loaded`. */
export type SessionPlan =
  | { readonly kind: "new"; readonly sessionId?: string }
  | { readonly kind: "resume"; readonly loaded: LoadedSession }
  | { readonly kind: "fork"; readonly loaded: LoadedSession; readonly sessionId?: string }

export interface Conversation {
  readonly sessionId: string
  readonly parentSessionId: string | undefined
  /** Whether the conversation is written to the session store. */
  readonly persisted: boolean
  /** The history the next turn is sent with. */
  readonly messages: Effect.Effect<ReadonlyArray<Message>>
  readonly todos: Effect.Effect<ReadonlyArray<TodoItem>>
  /** Permission rules allowed for this session. */
  readonly grants: Effect.Effect<ReadonlyArray<string>>
  /** Turns ended so far (resumed ones included). */
  readonly turns: Effect.Effect<number>
  /**
   * Starts a turn (see `Agent.start`) with the session's history and id. Its events are appended to the log as they
   * happen; its `result` resolves once the log holds the turn's terminal event. The first turn's events begin with
   * `session.started`. Run one turn at a time.
   */
  readonly start: (
    prompt: Prompt,
    options?: Omit<RunOptions, "history" | "sessionId">
  ) => Effect.Effect<AgentExecution, never, Scope.Scope>
  /** `start` viewed as its event stream. */
  readonly run: (
    prompt: Prompt,
    options?: Omit<RunOptions, "history" | "sessionId">
  ) => Stream.Stream<AgentEvent, AgentError>
  /** Appends an event of one's own (e.g. a `compaction`); it changes the history the way the log's fold says. */
  readonly record: (event: AgentEvent) => Effect.Effect<void>
  /**
   * Allows a permission rule for this session (through `Permissions.allowForSession`, when the context has it) and
   * records it, so it holds again when the session is resumed. An invalid rule fails with `PermissionError` and is
   * not recorded. Answers "allow for this session" given through the `Approver` are recorded without this (their
   * `permission.resolved` event names the rule).
   */
  readonly grant: (rule: string) => Effect.Effect<void, PermissionError>
}

const invalid = (message: string, source: string) => new ConfigError({ message, source })

/** Decides which session `selection` means (reading the store, writing nothing). */
export const plan = Effect.fn("Conversation.plan")(function* (
  selection: SessionSelection
): Effect.fn.Return<SessionPlan, SessionStoreError | ConfigError, SessionStore> {
  const store = yield* SessionStore
  if (selection.resume !== undefined && selection.continue === true) {
    return yield* invalid("resume and continue cannot be used together: give one", "resume")
  }
  if (selection.history !== undefined && (selection.resume !== undefined || selection.continue === true)) {
    return yield* invalid(
      "history cannot be combined with resume or continue: a saved session has its own history",
      "history"
    )
  }
  if (selection.fork === true && selection.resume === undefined && selection.continue !== true) {
    return yield* invalid("forkSession needs resume (a session id) or continue", "forkSession")
  }
  if (selection.sessionId !== undefined && !isValidSessionId(selection.sessionId)) {
    return yield* invalid(
      `invalid session id ${JSON.stringify(selection.sessionId)}: ids are 1-128 letters, digits, "_" or "-"`,
      "sessionId"
    )
  }
  let from: string | undefined = selection.resume
  if (selection.continue === true) {
    const latest = (yield* store.list({ cwd: selection.cwd }))[0]
    if (latest === undefined) {
      return { kind: "new", ...(selection.sessionId === undefined ? {} : { sessionId: selection.sessionId }) }
    }
    from = latest.id
  }
  if (from === undefined) {
    return { kind: "new", ...(selection.sessionId === undefined ? {} : { sessionId: selection.sessionId }) }
  }
  if (selection.fork !== true && selection.sessionId !== undefined && selection.sessionId !== from) {
    return yield* invalid(
      `sessionId ${selection.sessionId} names a new session, but ${from} is being resumed; add forkSession to continue it as ${selection.sessionId}`,
      "sessionId"
    )
  }
  const loaded = yield* store.load(from)
  return selection.fork === true
    ? {
        kind: "fork",
        loaded,
        ...(selection.sessionId === undefined ? {} : { sessionId: selection.sessionId })
      }
    : { kind: "resume", loaded }
})

const randomId = (): Effect.Effect<string> =>
  Effect.sync(() => `ses_${globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`)

/** The fold's state for a loaded session (no need to fold its records again). */
const stateOf = (loaded: LoadedSession | undefined): LogState => {
  const state = emptyState()
  if (loaded === undefined) return state
  state.header = loaded.header
  state.messages = [...loaded.messages]
  state.todos = loaded.todos
  state.grants = [...loaded.grants]
  state.turns = loaded.summary.turns
  state.costUsd = loaded.summary.costUsd
  state.title = loaded.summary.title === "" ? undefined : loaded.summary.title
  state.lastUsed = loaded.summary.lastUsed
  return state
}

/** The events that end a turn. */
const TERMINAL: ReadonlySet<string> = new Set(["turn.ended", "interrupted", "failed"])

/** The turn's own terminal event (a sub-agent's, which has a `parentAgentId`, does not end the turn). */
const isTerminal = (event: AgentEvent): boolean => TERMINAL.has(event.type) && event.parentAgentId === undefined

/** Events after which the log is synced to disk: a crash never loses them. */
const DURABLE: ReadonlySet<string> = new Set([
  "tool.completed",
  "message",
  "turn.ended",
  "interrupted",
  "failed",
  "todos.updated",
  "session.started",
  "session.ended",
  "compaction"
])

/** Opens the conversation (see the module comment). The session is locked until the scope closes. */
export const open = Effect.fn("Conversation.open")(function* (
  options: ConversationOptions
): Effect.fn.Return<Conversation, SessionStoreError | ConfigError, Agent | SessionStore | Scope.Scope> {
  const agent = yield* Agent
  const store = yield* SessionStore
  const llm = yield* Effect.serviceOption(LLMClient)
  const provider = options.provider ?? (Option.isSome(llm) ? llm.value.provider : "unknown")
  const model = options.model ?? (Option.isSome(llm) ? llm.value.model : "unknown")
  const chosen = options.plan ?? (yield* plan(options))
  const persist = options.persist !== false
  let writer: SessionWriter | undefined
  let sessionId: string
  let parentSessionId: string | undefined
  let loaded: LoadedSession | undefined
  switch (chosen.kind) {
    case "new": {
      if (persist) {
        writer = yield* store.create({
          ...(chosen.sessionId === undefined ? {} : { id: chosen.sessionId }),
          cwd: options.cwd,
          provider,
          model
        })
        sessionId = writer.sessionId
      } else sessionId = chosen.sessionId ?? (yield* randomId())
      break
    }
    case "resume": {
      if (persist) {
        writer = yield* store.open(chosen.loaded.header.id)
        loaded = writer.session
      } else loaded = chosen.loaded
      sessionId = chosen.loaded.header.id
      parentSessionId = loaded.header.parentSessionId
      break
    }
    case "fork": {
      parentSessionId = chosen.loaded.header.id
      if (persist) {
        writer = yield* store.fork(chosen.loaded.header.id, {
          ...(chosen.sessionId === undefined ? {} : { newId: chosen.sessionId }),
          cwd: options.cwd,
          provider,
          model
        })
        loaded = writer.session
        sessionId = writer.sessionId
      } else {
        loaded = chosen.loaded
        sessionId = chosen.sessionId ?? (yield* randomId())
      }
      break
    }
  }
  const state = stateOf(loaded)
  const out = writer
  // The session's "for this session" permission grants hold again, for this session only, until it closes (the
  // grants of a conversation closed before, in the same process, no longer hold).
  const permissions = yield* Effect.serviceOption(Permissions)
  if (Option.isSome(permissions)) {
    const { allowForSession: allow, endSession } = permissions.value
    if (endSession !== undefined) {
      yield* endSession(sessionId)
      yield* Effect.addFinalizer(() => endSession(sessionId))
    }
    if (allow !== undefined) {
      for (const rule of state.grants) {
        yield* allow(rule, sessionId).pipe(
          Effect.catch((error) => Effect.logWarning(`could not allow ${rule} for this session`, error.message))
        )
      }
    }
  }
  // TodoWrite starts from the session's last list (a new session's is empty); forgotten when the scope closes.
  const todos = yield* Effect.serviceOption(Todos)
  if (Option.isSome(todos)) {
    const lists = todos.value
    yield* lists.set(sessionId, state.todos)
    yield* Effect.addFinalizer(() => lists.forget(sessionId))
  }

  /** Applies the record to the history and appends it to the log (a failed write is logged, never fatal). */
  const record = (event: SessionRecord): Effect.Effect<void> =>
    Effect.suspend(() => {
      applyRecord(state, event)
      if (out === undefined) return Effect.void
      return out
        .append(event, { flush: DURABLE.has(event.type) })
        .pipe(Effect.catch((error) => Effect.logWarning("could not write to the session log", error.message)))
    })

  const envelope = (timestamp: number) => ({ v: PROTOCOL_VERSION, sessionId, agentId: "main", timestamp })
  const started: AgentEvent = {
    type: "session.started",
    ...envelope(yield* Clock.currentTimeMillis),
    cwd: options.cwd,
    provider,
    model
  }
  yield* record(started)
  if (chosen.kind === "new" && options.history !== undefined) {
    const seeded = yield* Clock.currentTimeMillis
    for (const message of options.history) {
      yield* record({ type: "message", ...envelope(seeded), turnId: "history", message })
    }
  }
  // SessionStart / SessionEnd hooks: their `hook` events go to the log (and, for SessionStart, ahead of the first
  // turn's events); the context SessionStart adds is a user message of the history.
  const hookEvents: Array<AgentEvent> = []
  const hooks = yield* HookRun.scopeOf(
    { session_id: sessionId, cwd: options.cwd },
    {
      emit: (body) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const event = stamp(body, { sessionId, agentId: "main" }, now)
          hookEvents.push(event)
          return record(event)
        })
    }
  )
  const context = yield* HookRun.sessionStart(hooks, chosen.kind === "new" ? "startup" : "resume")
  if (context !== undefined) {
    yield* record({
      type: "message",
      ...envelope(yield* Clock.currentTimeMillis),
      turnId: "session-start",
      message: context
    })
  }
  const opening = [...hookEvents]
  yield* Effect.addFinalizer(() =>
    Effect.andThen(
      HookRun.sessionEnd(hooks, "other"),
      Effect.flatMap(Clock.currentTimeMillis, (now) => record({ type: "session.ended", ...envelope(now) }))
    )
  )
  let announced = false

  const start: Conversation["start"] = (prompt, runOptions) =>
    Effect.gen(function* () {
      const execution = yield* agent.start(prompt, { ...runOptions, history: [...state.messages], sessionId })
      // The turn's terminal event reaches the caller only once it is in the log (a caller that stops reading then
      // and closes the scope loses nothing).
      const ended = yield* Deferred.make<void>()
      const recorder = yield* Effect.forkScoped(
        execution.events.pipe(
          Stream.runForEach((event) =>
            Effect.andThen(record(event), isTerminal(event) ? Deferred.succeed(ended, undefined) : Effect.void)
          ),
          Effect.ignore
        )
      )
      const result = Effect.exit(execution.result).pipe(
        Effect.tap(() => Fiber.await(recorder)),
        Effect.flatten
      )
      const events = execution.events.pipe(
        Stream.tap((event) => (isTerminal(event) ? Deferred.await(ended) : Effect.void))
      )
      const first = !announced
      announced = true
      return {
        ...execution,
        events: first ? Stream.concat(Stream.make(started, ...opening), events) : events,
        result
      } satisfies AgentExecution
    })

  const conversation: Conversation = {
    sessionId,
    parentSessionId,
    persisted: out !== undefined,
    messages: Effect.sync(() => [...state.messages]),
    todos: Effect.sync(() => state.todos),
    grants: Effect.sync(() => [...state.grants]),
    turns: Effect.sync(() => state.turns),
    start,
    run: (prompt, runOptions) => Stream.unwrap(Effect.map(start(prompt, runOptions), (e) => e.events)),
    record,
    grant: (rule) =>
      Effect.gen(function* () {
        const allow = Option.isSome(permissions) ? permissions.value.allowForSession : undefined
        if (allow !== undefined) yield* allow(rule, sessionId)
        const granted: PermissionGranted = {
          type: "permission.granted",
          timestamp: yield* Clock.currentTimeMillis,
          rule
        }
        yield* record(granted)
      })
  }
  return conversation
})
