/**
 * A `LogBackend` in memory: logs are strings in a map, locks are held by scopes of this process. For tests, and for
 * programs that want sessions without files (`SessionStoreLive.layerMemory`).
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { SessionLocked } from "../errors/SessionError.js"
import type { LogBackend } from "./SessionLogStore.js"

const HOLDER = { pid: 0, hostname: "memory" } as const

/** The backend, and its logs (tests write torn logs into them). */
export type MemoryLogBackend = LogBackend & { readonly logs: Map<string, string> }

export const make = (): Effect.Effect<MemoryLogBackend> =>
  Effect.sync(() => {
    const logs = new Map<string, string>()
    const locks = new Set<string>()
    const backend: MemoryLogBackend = {
      logs,
      ids: Effect.sync(() => [...logs.keys()]),
      read: (id) => Effect.sync(() => Option.fromNullishOr(logs.get(id))),
      create: (id, text) =>
        Effect.sync(() => {
          if (logs.has(id)) return false
          logs.set(id, text)
          return true
        }),
      lock: (id) =>
        Effect.acquireRelease(
          Effect.suspend(() => {
            if (locks.has(id)) {
              return Effect.fail(
                new SessionLocked({
                  sessionId: id,
                  ...HOLDER,
                  path: `memory:${id}`,
                  message: `session ${id} is in use by another writer`
                })
              )
            }
            locks.add(id)
            return Effect.void
          }),
          () => Effect.sync(() => locks.delete(id))
        ),
      lockHolder: (id) => Effect.sync(() => (locks.has(id) ? Option.some(HOLDER) : Option.none())),
      appender: (id) =>
        Effect.succeed({
          append: (text: string) => Effect.sync(() => logs.set(id, (logs.get(id) ?? "") + text)),
          sync: Effect.void
        }),
      remove: (id) => Effect.sync(() => logs.delete(id))
    }
    return backend
  })
