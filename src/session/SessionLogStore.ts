/**
 * The `SessionStore` on a `LogBackend`: where the logs live (files, memory) is the backend's business; reading,
 * repairing, locking order, forking and listing are the same for every backend, so every store behaves the same.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
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
  type SessionSummary,
  type SessionWriter
} from "../services/SessionStore.js"
import { agentEventToJson } from "../streams/AgentEvent.js"
import { headerOf, isValidSessionId, loadedOf, parseLine, readLog, recordToJson, summaryOf } from "./SessionLog.js"

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
  /**
   * Optional, for the summary cache of `list` (a backend without them is listed by reading every log): what the
   * log is on disk now (none when there is no such log). Whenever its content may have changed, so has its stat.
   */
  readonly stat?: (id: string) => Effect.Effect<Option.Option<LogStat>, SessionError>
  /** Optional: the log's first line (none when there is no such log, or no newline in its first 64 KiB). */
  readonly head?: (id: string) => Effect.Effect<Option.Option<string>, SessionError>
  /**
   * Optional: where the summary cache is kept. `load` is none when there is none (or it cannot be read); `save`
   * replaces it atomically (a reader sees the old text or the new, never a mix).
   */
  readonly index?: {
    readonly load: Effect.Effect<Option.Option<string>>
    readonly save: (text: string) => Effect.Effect<void, SessionError>
  }
}

/** A log's identity on disk. */
export interface LogStat {
  readonly size: number
  /** Modification time, epoch milliseconds. */
  readonly mtime: number
  /** The inode, when the backend has one (a log deleted and created again gets a new one). */
  readonly ino?: string
}

/**
 * The version of the summary cache. Bump it whenever what `summaryOf` derives from a log changes, so that caches of
 * older versions are ignored (and rebuilt).
 */
export const INDEX_FORMAT = 1

/**
 * A log modified less than this long before it was summarized may change again without its stat showing it (file
 * times are coarse: same size, same millisecond), so its cached summary is not trusted: it is read again next time.
 */
export const RACY_MS = 1000

/** A cached summary of one log, valid while the log's stat is the same. */
const IndexEntry = Schema.Struct({
  size: Schema.Number,
  mtime: Schema.Number,
  ino: Schema.optional(Schema.String),
  /** When the log was stat'ed (epoch milliseconds; before it was read). */
  at: Schema.Number,
  cwd: Schema.String,
  /** Missing when only the header was read (a log of another directory, for a list filtered by cwd). */
  summary: Schema.optional(
    Schema.Struct({
      id: Schema.String,
      title: Schema.String,
      cwd: Schema.String,
      created: Schema.Number,
      lastUsed: Schema.Number,
      turns: Schema.Number,
      costUsd: Schema.optional(Schema.Number),
      provider: Schema.String,
      model: Schema.String,
      parentSessionId: Schema.optional(Schema.String)
    })
  )
})
type IndexEntry = typeof IndexEntry.Type
const decodeEntry = Schema.decodeUnknownExit(IndexEntry)

/** The entries of a cache's text; undefined when it is missing, corrupt or of another version. */
export const decodeIndex = (text: Option.Option<string>): Map<string, IndexEntry> | undefined => {
  if (Option.isNone(text)) return undefined
  let value: unknown
  try {
    value = JSON.parse(text.value)
  } catch {
    return undefined
  }
  if (typeof value !== "object" || value === null || !("format" in value) || value.format !== INDEX_FORMAT) {
    return undefined
  }
  if (!("entries" in value) || typeof value.entries !== "object" || value.entries === null) return undefined
  const entries = new Map<string, IndexEntry>()
  for (const [id, raw] of Object.entries(value.entries)) {
    const entry = decodeEntry(raw)
    // A bad entry costs a read of its log, not the rest of the cache.
    if (Exit.isSuccess(entry) && isValidSessionId(id)) entries.set(id, entry.value)
  }
  return entries
}

const encodeIndex = (entries: ReadonlyMap<string, IndexEntry>): string =>
  JSON.stringify({ format: INDEX_FORMAT, entries: Object.fromEntries(entries) })

const sameStat = (entry: IndexEntry, stat: LogStat): boolean =>
  entry.size === stat.size && entry.mtime === stat.mtime && entry.ino === stat.ino

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

  const sortAndFilter = (summaries: ReadonlyArray<SessionSummary>, cwd: string | undefined) =>
    summaries
      .filter((s) => cwd === undefined || s.cwd === cwd)
      .sort((a, b) => b.lastUsed - a.lastUsed || b.created - a.created)

  /** The summary of a log read in full (none when it is gone), and whether it may be cached. */
  const summarize = (id: string, now: number) =>
    Effect.map(
      backend.read(id),
      Option.map((text) => {
        const read = readLog(text, id, now)
        // A log without a readable header is summarized with `now` for its dates: not a fact worth keeping.
        return { summary: summaryOf(read.state, id), cacheable: !read.repair.some((r) => r.type === "session") }
      })
    )

  /** Every log read in full: for backends without the summary cache. */
  const listUncached = (ids: ReadonlyArray<string>, now: number) =>
    Effect.map(
      Effect.forEach(
        ids,
        (id) =>
          Effect.map(
            summarize(id, now),
            Option.map((s) => s.summary)
          ),
        { concurrency: 8 }
      ),
      (summaries) => summaries.flatMap((s) => (Option.isSome(s) ? [s.value] : []))
    )

  /**
   * The summaries through the cache: a log is read only when its stat differs from the cached one (or it is not in
   * the cache); with a cwd filter, a log of another directory has only its first line read. The cache is rewritten
   * when anything changed; it is only ever a copy of what the logs say (a missing, corrupt or foreign one is rebuilt).
   */
  const listCached = (
    ids: ReadonlyArray<string>,
    now: number,
    cwd: string | undefined,
    stat: NonNullable<LogBackend["stat"]>,
    index: NonNullable<LogBackend["index"]>
  ) =>
    Effect.gen(function* () {
      const cached = decodeIndex(yield* index.load)
      const one = (id: string) =>
        Effect.gen(function* () {
          const current = yield* stat(id)
          if (Option.isNone(current)) return { summary: undefined, entry: undefined, fresh: false }
          const info = current.value
          const prev = cached?.get(id)
          if (prev !== undefined && sameStat(prev, info) && prev.mtime < prev.at - RACY_MS) {
            if (prev.summary !== undefined) return { summary: prev.summary, entry: prev, fresh: false }
            if (cwd !== undefined && prev.cwd !== cwd) return { summary: undefined, entry: prev, fresh: false }
          }
          const base = { size: info.size, mtime: info.mtime, ...(info.ino === undefined ? {} : { ino: info.ino }) }
          if (cwd !== undefined && backend.head !== undefined) {
            const first = yield* backend.head(id)
            const header = Option.isSome(first) ? Option.fromUndefinedOr(parseLine(first.value)) : Option.none()
            const parsed = Option.flatMap(header, (r) => Option.fromUndefinedOr(headerOf(r)))
            if (Option.isSome(parsed) && parsed.value.cwd !== cwd) {
              const entry: IndexEntry = { ...base, at: now, cwd: parsed.value.cwd }
              return { summary: undefined, entry, fresh: true }
            }
          }
          const made = yield* summarize(id, now)
          if (Option.isNone(made)) return { summary: undefined, entry: undefined, fresh: false }
          const { summary, cacheable } = made.value
          const entry: IndexEntry | undefined = cacheable ? { ...base, at: now, cwd: summary.cwd, summary } : undefined
          return { summary, entry, fresh: true }
        })
      const results = yield* Effect.forEach(ids, (id) => Effect.map(one(id), (r) => ({ id, ...r })), {
        concurrency: 8
      })
      const entries = new Map<string, IndexEntry>()
      for (const r of results) if (r.entry !== undefined) entries.set(r.id, r.entry)
      const changed = cached === undefined || results.some((r) => r.fresh) || entries.size !== cached.size
      // A cache that cannot be written costs a read next time, never the list.
      if (changed) yield* Effect.ignore(index.save(encodeIndex(entries)))
      return results.flatMap((r) => (r.summary === undefined ? [] : [r.summary]))
    })

  const list: SessionStore.Service["list"] = Effect.fn("SessionStore.list")(function* (filter?: {
    readonly cwd?: string
  }) {
    const now = yield* Clock.currentTimeMillis
    const ids = (yield* backend.ids).filter(isValidSessionId)
    const summaries =
      backend.stat !== undefined && backend.index !== undefined
        ? yield* listCached(ids, now, filter?.cwd, backend.stat, backend.index)
        : yield* listUncached(ids, now)
    return sortAndFilter(summaries, filter?.cwd)
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
