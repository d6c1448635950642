/**
 * A `LogBackend` of JSONL files: `<dir>/<id>.jsonl`, appended through a file opened in append mode (each record is
 * one write, so a killed process leaves at most one torn last line), synced to disk on `sync`.
 *
 * The lock of a session is `<dir>/<id>.lock`, holding the writer's pid and hostname. It is created atomically
 * with its content (written to a private file, then hard-linked to the lock's name, which fails if the lock
 * exists), removed when the writer's scope closes. A lock whose process is dead (same host, no such pid) is stale
 * and taken over; a lock of another host cannot be checked and is respected.
 *
 * The summary cache of `list` is `<dir>/index.json` (one file: a list reads it once instead of a sidecar per log),
 * replaced atomically (written to a private temporary file, then renamed over it; a later save removes the
 * temporary files a killed process left, once they are a minute old). It is only a cache: deleting it costs one read
 * of every log at the next list.
 */
import * as os from "node:os"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import * as Path from "effect/Path"
import type * as PlatformError from "effect/PlatformError"
import { SessionError, SessionLocked } from "../errors/SessionError.js"
import type { LockHolder, LogBackend } from "./SessionLogStore.js"

/** This process, as lock files name it, and how to tell whether another process is alive. */
export interface ProcessIdentity {
  readonly pid: number
  readonly hostname: string
  readonly isAlive: (pid: number) => boolean
}

/** How the summary cache's temporary files are named (`<prefix><pid>.<random>`, renamed to `index.json`). */
const INDEX_TEMP_PREFIX = ".index.json."

/** Age past which a temporary file of the summary cache belongs to a save that died before its rename. */
export const STALE_INDEX_TEMP_MS = 60_000

/** The identity of the running Node process. */
export const nodeIdentity = (): ProcessIdentity => ({
  pid: process.pid,
  hostname: os.hostname(),
  isAlive: (pid) => {
    try {
      process.kill(pid, 0)
      return true
    } catch (error) {
      // EPERM: it exists but belongs to someone else.
      return typeof error === "object" && error !== null && "code" in error && error.code === "EPERM"
    }
  }
})

const reasonTag = (error: PlatformError.PlatformError): string => error.reason._tag

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** How much of a log `head` reads to find its first line (a header is a few hundred bytes). */
const HEAD_BYTES = 64 * 1024

export const make = (dir: string, identity: ProcessIdentity = nodeIdentity()) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const logPath = (id: string) => path.join(dir, `${id}.jsonl`)
    const lockPath = (id: string) => path.join(dir, `${id}.lock`)
    const indexPath = path.join(dir, "index.json")
    const io =
      (id: string | undefined, file: string, what: string) =>
      (error: PlatformError.PlatformError): SessionError =>
        new SessionError({
          ...(id === undefined ? {} : { sessionId: id }),
          path: file,
          message: `could not ${what} ${file}: ${error.message}`
        })

    const ensureDir = fs.makeDirectory(dir, { recursive: true }).pipe(Effect.mapError(io(undefined, dir, "create")))

    /** The holder named in a lock file (none when it is unreadable: a lock is written whole, so that means gone). */
    const readHolder = (file: string): Effect.Effect<Option.Option<LockHolder>> =>
      fs.readFileString(file).pipe(
        Effect.map((text) => {
          try {
            const value: unknown = JSON.parse(text)
            if (
              typeof value === "object" &&
              value !== null &&
              "pid" in value &&
              typeof value.pid === "number" &&
              "hostname" in value &&
              typeof value.hostname === "string"
            ) {
              return Option.some({ pid: value.pid, hostname: value.hostname })
            }
          } catch {}
          return Option.none()
        }),
        Effect.orElseSucceed(() => Option.none())
      )

    const isLive = (holder: LockHolder): boolean =>
      holder.hostname !== identity.hostname || identity.isAlive(holder.pid)

    const lockHolder = (id: string) => Effect.map(readHolder(lockPath(id)), Option.filter(isLive))

    const tryLink = (from: string, to: string) =>
      fs.link(from, to).pipe(
        Effect.as(true),
        Effect.catchIf(
          (error) => reasonTag(error) === "AlreadyExists",
          () => Effect.succeed(false)
        ),
        Effect.mapError(io(undefined, to, "create"))
      )

    const acquire = (id: string): Effect.Effect<void, SessionLocked | SessionError> =>
      Effect.gen(function* () {
        yield* ensureDir
        const target = lockPath(id)
        const mine = path.join(dir, `.${id}.lock.${identity.pid}.${globalThis.crypto.randomUUID().slice(0, 8)}`)
        const me = { pid: identity.pid, hostname: identity.hostname, created: yield* Clock.currentTimeMillis }
        yield* fs.writeFileString(mine, JSON.stringify(me)).pipe(Effect.mapError(io(id, mine, "write")))
        const attempt = Effect.gen(function* () {
          for (let tries = 0; tries < 3; tries++) {
            if (yield* tryLink(mine, target)) return
            const holder = yield* readHolder(target)
            if (Option.isSome(holder) && isLive(holder.value)) {
              const { pid, hostname } = holder.value
              const here = hostname === identity.hostname
              return yield* new SessionLocked({
                sessionId: id,
                pid,
                hostname,
                path: target,
                message:
                  pid === identity.pid && here
                    ? `session ${id} is already open in this process`
                    : `session ${id} is in use by process ${pid} on ${hostname}; wait for it to finish${here ? "" : `, or remove ${target} if that process is gone`}`
              })
            }
            // Stale (its process is dead) or unreadable: move it aside, and put it back if it was not the one we saw.
            const aside = `${mine}.stale`
            const moved = yield* fs.rename(target, aside).pipe(
              Effect.as(true),
              Effect.orElseSucceed(() => false)
            )
            if (moved) {
              const seen = yield* readHolder(aside)
              const same =
                Option.isNone(holder) ||
                (Option.isSome(seen) &&
                  seen.value.pid === holder.value.pid &&
                  seen.value.hostname === holder.value.hostname)
              if (!same) yield* Effect.ignore(tryLink(aside, target))
              yield* Effect.ignore(fs.remove(aside))
            }
          }
          return yield* new SessionLocked({
            sessionId: id,
            pid: 0,
            hostname: identity.hostname,
            path: target,
            message: `session ${id} is locked (${target}); another process keeps taking it`
          })
        })
        yield* attempt.pipe(Effect.ensuring(Effect.ignore(fs.remove(mine))))
      })

    /**
     * Removes the temporary files of saves that never reached their rename (a process killed in between): those
     * older than `STALE_INDEX_TEMP_MS` (a save takes milliseconds). Best effort: a failure leaves them for the next.
     */
    const sweepIndexTemps: Effect.Effect<void> = Effect.gen(function* () {
      const names = (yield* fs.readDirectory(dir)).filter((name) => name.startsWith(INDEX_TEMP_PREFIX))
      if (names.length === 0) return
      const now = yield* Clock.currentTimeMillis
      yield* Effect.forEach(
        names,
        (name) =>
          Effect.gen(function* () {
            const file = path.join(dir, name)
            const info = yield* fs.stat(file)
            const mtime = Option.getOrUndefined(info.mtime)
            if (mtime !== undefined && now - mtime.getTime() > STALE_INDEX_TEMP_MS) yield* fs.remove(file)
          }).pipe(Effect.ignore),
        { concurrency: 4, discard: true }
      )
    }).pipe(Effect.ignore)

    const backend: LogBackend = {
      ids: fs.readDirectory(dir).pipe(
        Effect.map((names) => names.filter((n) => n.endsWith(".jsonl")).map((n) => n.slice(0, -".jsonl".length))),
        Effect.catchIf(
          (error) => reasonTag(error) === "NotFound",
          () => Effect.succeed([])
        ),
        Effect.mapError(io(undefined, dir, "list"))
      ),
      read: (id) =>
        fs.readFileString(logPath(id)).pipe(
          Effect.map(Option.some),
          Effect.catchIf(
            (error) => reasonTag(error) === "NotFound",
            () => Effect.succeed(Option.none<string>())
          ),
          Effect.mapError(io(id, logPath(id), "read"))
        ),
      create: (id, text) =>
        Effect.gen(function* () {
          yield* ensureDir
          const file = logPath(id)
          return yield* Effect.scoped(
            Effect.gen(function* () {
              const handle = yield* fs.open(file, { flag: "wx" })
              yield* handle.writeAll(encoder.encode(text))
              yield* handle.sync
              return true
            })
          ).pipe(
            Effect.catchIf(
              (error) => reasonTag(error) === "AlreadyExists",
              () => Effect.succeed(false)
            ),
            Effect.mapError(io(id, file, "create"))
          )
        }),
      lock: (id) => Effect.acquireRelease(acquire(id), () => Effect.ignore(fs.remove(lockPath(id)))),
      lockHolder: (id) => lockHolder(id),
      appender: (id) =>
        Effect.gen(function* () {
          const file = logPath(id)
          const handle = yield* fs.open(file, { flag: "a" }).pipe(Effect.mapError(io(id, file, "open")))
          return {
            append: (text: string) =>
              handle.writeAll(encoder.encode(text)).pipe(Effect.mapError(io(id, file, "append to"))),
            sync: handle.sync.pipe(Effect.mapError(io(id, file, "sync")))
          }
        }),
      remove: (id) => fs.remove(logPath(id)).pipe(Effect.mapError(io(id, logPath(id), "delete"))),
      stat: (id) =>
        fs.stat(logPath(id)).pipe(
          Effect.map((info) =>
            Option.some({
              size: Number(info.size),
              mtime: Option.match(info.mtime, { onNone: () => 0, onSome: (d) => d.getTime() }),
              ...Option.match(info.ino, { onNone: () => ({}), onSome: (ino) => ({ ino: ino.toString() }) })
            })
          ),
          Effect.catchIf(
            (error) => reasonTag(error) === "NotFound",
            () => Effect.succeed(Option.none())
          ),
          Effect.mapError(io(id, logPath(id), "stat"))
        ),
      head: (id) =>
        Effect.scoped(
          Effect.gen(function* () {
            const handle = yield* fs.open(logPath(id), { flag: "r" })
            const bytes = yield* handle.readAlloc(HEAD_BYTES)
            if (Option.isNone(bytes)) return Option.none<string>()
            const end = bytes.value.indexOf(10)
            return end === -1 ? Option.none<string>() : Option.some(decoder.decode(bytes.value.subarray(0, end)))
          })
        ).pipe(
          Effect.catchIf(
            (error) => reasonTag(error) === "NotFound",
            () => Effect.succeed(Option.none<string>())
          ),
          Effect.mapError(io(id, logPath(id), "read"))
        ),
      index: {
        load: fs.readFileString(indexPath).pipe(
          Effect.map(Option.some),
          Effect.orElseSucceed(() => Option.none<string>())
        ),
        save: (text) => {
          const temp = path.join(
            dir,
            `${INDEX_TEMP_PREFIX}${identity.pid}.${globalThis.crypto.randomUUID().slice(0, 8)}`
          )
          return fs.writeFileString(temp, text).pipe(
            Effect.andThen(fs.rename(temp, indexPath)),
            Effect.tapError(() => Effect.ignore(fs.remove(temp))),
            Effect.mapError(io(undefined, indexPath, "write")),
            Effect.andThen(sweepIndexTemps)
          )
        }
      }
    }
    return backend
  })
