/**
 * The `SessionStore` on a `LogBackend`: where the logs live (files, memory) is the backend's business; reading,
 * repairing, locking order, forking and listing are the same for every backend, so every store behaves the same.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import {
  InvalidSessionId,
  type SessionError,
  SessionExists,
  type SessionLocked,
  SessionNotFound
} from "../errors/SessionError.js"
import {
  type LoadedSession,
  type NewSession,
  SESSION_FORMAT,
  type SessionHeader,
  type SessionRecord,
  SessionStore,
  type SessionWriter
} from "../services/SessionStore.js"
import { agentEventToJson } from "../streams/AgentEvent.js"
import { isValidSessionId, loadedOf, readLog, recordToJson, summaryOf } from "./SessionLog.js"

/** Appends to one log (opened for the writer's scope). */
export interface Appender {
  readonly append: (text: string) => Effect.Effect<void, SessionError>
  readonly sync: Effect.Effect<void, SessionError>
}

/** Who holds a session's lock. */
export interface LockHolder {
  readonly pid: number
  readonly hostname: string
}

/** Where logs are kept. */
export interface LogBackend {
  /** The ids of every stored log. */
  readonly ids: Effect.Effect<ReadonlyArray<string>, SessionError>
  /** The log's text, or none when there is no such log. */
  readonly read: (id: string) => Effect.Effect<Option.Option<string>, SessionError>
  /** Creates the log with `text`; false (and nothing written) when it exists already. */
  readonly create: (id: string, text: string) => Effect.Effect<boolean, SessionError>
  /** Takes the session's lock for the scope (`SessionLocked` when a live process holds it). */
  readonly lock: (id: string) => Effect.Effect<void, SessionLocked | SessionError, Scope.Scope>
  /** The live holder of the session's lock, if any. */
  readonly lockHolder: (id: string) => Effect.Effect<Option.Option<LockHolder>, SessionError>
  readonly appender: (id: string) => Effect.Effect<Appender, SessionError, Scope.Scope>
  readonly remove: (id: string) => Effect.Effect<void, SessionError>
}

const newId = (): Effect.Effect<string> =>
  Effect.sync(() => `ses_${globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`)

const checkId = (id: string): Effect.Effect<string, InvalidSessionId> =>
  isValidSessionId(id)
    ? Effect.succeed(id)
    : Effect.fail(
        new InvalidSessionId({
          sessionId: id,
          message: `invalid session id ${JSON.stringify(id)}: ids are 1-128 letters, digits, "_" or "-"`
        })
      )

const notFound = (id: string) =>
  new SessionNotFound({
    sessionId: id,
    message: `no session ${JSON.stringify(id)} (sage sessions list shows the sessions)`
  })

const line = (record: SessionRecord | SessionHeader): string =>
  record.type === "session" || record.type === "session.repaired" || record.type === "permission.granted"
    ? recordToJson(record)
    : agentEventToJson(record)

/** Builds the store on `backend`. */
export const make = (backend: LogBackend): SessionStore.Service => {
  /** A writer appending through `appender`; one record at a time, so lines never interleave. */
  const writer = (id: string, session: LoadedSession, appender: Appender): Effect.Effect<SessionWriter> =>
    Effect.map(Semaphore.make(1), (mutex) => {
      const append = (record: SessionRecord, options?: { readonly flush?: boolean }) =>
        mutex.withPermits(1)(
          Effect.andThen(appender.append(`${line(record)}\n`), options?.flush === true ? appender.sync : Effect.void)
        )
      return { sessionId: id, session, append, flush: mutex.withPermits(1)(appender.sync) }
    })

  const readExisting = (id: string) =>
    Effect.flatMap(
      backend.read(id),
      Option.match({ onNone: () => Effect.fail(notFound(id)), onSome: (text) => Effect.succeed(text) })
    )

  const create: SessionStore.Service["create"] = Effect.fn("SessionStore.create")(function* (init: NewSession) {
    const id = yield* checkId(init.id ?? (yield* newId()))
    yield* backend.lock(id)
    const header: SessionHeader = {
      type: "session",
      format: SESSION_FORMAT,
      id,
      cwd: init.cwd,
      created: yield* Clock.currentTimeMillis,
      provider: init.provider,
      model: init.model
    }
    const created = yield* backend.create(id, `${line(header)}\n`)
    if (!created) {
      return yield* new SessionExists({
        sessionId: id,
        message: `a session ${JSON.stringify(id)} exists already (resume it with sage -r ${id})`
      })
    }
    const appender = yield* backend.appender(id)
    return yield* writer(id, loadedOf(readLog(`${line(header)}\n`, id, header.created), id), appender)
  })

  const open: SessionStore.Service["open"] = Effect.fn("SessionStore.open")(function* (raw: string) {
    const id = yield* checkId(raw)
    yield* backend.lock(id)
    const text = yield* readExisting(id)
    const read = readLog(text, id, yield* Clock.currentTimeMillis)
    const appender = yield* backend.appender(id)
    if (read.needsNewline || read.repair.length > 0) {
      yield* appender.append(`${read.needsNewline ? "\n" : ""}${read.repair.map((r) => `${line(r)}\n`).join("")}`)
      yield* appender.sync
    }
    return yield* writer(id, loadedOf(read, id), appender)
  })

  const load: SessionStore.Service["load"] = Effect.fn("SessionStore.load")(function* (raw: string) {
    const id = yield* checkId(raw)
    const text = yield* readExisting(id)
    const read = readLog(text, id, yield* Clock.currentTimeMillis)
    if (!read.needsNewline && read.repair.length === 0) return loadedOf(read, id)
    // Repair on disk when nobody is writing the log (a writer's torn last line may be a write in progress).
    if (Option.isSome(yield* backend.lockHolder(id))) return loadedOf(read, id)
    return yield* Effect.scoped(Effect.map(open(id), (w) => w.session)).pipe(
      Effect.catchTag("SessionLocked", () => Effect.succeed(loadedOf(read, id)))
    )
  })

  const fork: SessionStore.Service["fork"] = Effect.fn("SessionStore.fork")(function* (
    raw: string,
    options?: { readonly newId?: string; readonly cwd?: string; readonly provider?: string; readonly model?: string }
  ) {
    const parentId = yield* checkId(raw)
    const now = yield* Clock.currentTimeMillis
    const parent = readLog(yield* readExisting(parentId), parentId, now)
    const id = yield* checkId(options?.newId ?? (yield* newId()))
    const source = loadedOf(parent, parentId)
    yield* backend.lock(id)
    const header: SessionHeader = {
      type: "session",
      format: SESSION_FORMAT,
      id,
      cwd: options?.cwd ?? source.header.cwd,
      created: now,
      provider: options?.provider ?? source.header.provider,
      model: options?.model ?? source.header.model,
      parentSessionId: parentId
    }
    // The parent's history, record for record (its header and repair records stay with the parent).
    const copied = source.records
      .filter((r) => r.type !== "session" && r.type !== "session.repaired")
      .map((r) => `${JSON.stringify(r)}\n`)
    const text = `${line(header)}\n${copied.join("")}`
    const created = yield* backend.create(id, text)
    if (!created) {
      return yield* new SessionExists({ sessionId: id, message: `a session ${JSON.stringify(id)} exists already` })
    }
    const appender = yield* backend.appender(id)
    return yield* writer(id, loadedOf(readLog(text, id, now), id), appender)
  })

  const list: SessionStore.Service["list"] = Effect.fn("SessionStore.list")(function* (filter?: {
    readonly cwd?: string
  }) {
    const now = yield* Clock.currentTimeMillis
    const ids = (yield* backend.ids).filter(isValidSessionId)
    const summaries = yield* Effect.forEach(
      ids,
      (id) => Effect.map(backend.read(id), (text) => Option.map(text, (t) => summaryOf(readLog(t, id, now).state, id))),
      { concurrency: 8 }
    )
    return summaries
      .flatMap((s) => (Option.isSome(s) ? [s.value] : []))
      .filter((s) => filter?.cwd === undefined || s.cwd === filter.cwd)
      .sort((a, b) => b.lastUsed - a.lastUsed || b.created - a.created)
  })

  const read: SessionStore.Service["read"] = Effect.fn("SessionStore.read")(function* (raw: string) {
    return yield* readExisting(yield* checkId(raw))
  })

  const remove: SessionStore.Service["delete"] = Effect.fn("SessionStore.delete")(function* (raw: string) {
    const id = yield* checkId(raw)
    yield* Effect.scoped(
      Effect.gen(function* () {
        yield* readExisting(id)
        yield* backend.lock(id)
        yield* backend.remove(id)
      })
    )
  })

  return SessionStore.of({ create, open, fork, load, list, read, delete: remove })
}
