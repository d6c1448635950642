/**
 * Wiring of the `SessionStore`: the JSONL store (the default: one file per session under `$SAGE_HOME/sessions`,
 * else `~/.sage/sessions`) and the in-memory store. The engine is `src/session/`.
 */
import * as os from "node:os"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Path from "effect/Path"
import { SessionStore } from "../services/SessionStore.js"
import * as JsonlLogBackend from "../session/JsonlLogBackend.js"
import * as MemoryLogBackend from "../session/MemoryLogBackend.js"
import { make } from "../session/SessionLogStore.js"

export interface JsonlOptions {
  /** The directory of the logs. Default: `$SAGE_HOME/sessions`, else `<home>/.sage/sessions`. */
  readonly dir?: string
  /** The home directory for the default (default: `HOME`, else the OS's). */
  readonly homeDir?: string
  /** This process as lock files name it (default: the Node process). */
  readonly identity?: JsonlLogBackend.ProcessIdentity
}

/** Where the JSONL store keeps its logs for `options` (reads `SAGE_HOME` and `HOME` through `Config`). */
export const sessionsDir = (options: JsonlOptions = {}): Effect.Effect<string, never, Path.Path> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    if (options.dir !== undefined) return path.resolve(options.dir)
    const sageHome = yield* Config.option(Config.String("SAGE_HOME")).pipe(Effect.orElseSucceed(() => undefined))
    if (sageHome !== undefined && sageHome._tag === "Some" && sageHome.value !== "") {
      return path.join(path.resolve(sageHome.value), "sessions")
    }
    const home =
      options.homeDir ??
      (yield* Config.String("HOME").pipe(
        Effect.orElseSucceed(() => os.homedir()),
        Effect.map((h) => (h === "" ? os.homedir() : h))
      ))
    return path.join(home, ".sage", "sessions")
  })

/** The JSONL store. */
export const layerJsonl = (
  options: JsonlOptions = {}
): Layer.Layer<SessionStore, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(
    SessionStore,
    Effect.gen(function* () {
      const dir = yield* sessionsDir(options)
      return make(yield* JsonlLogBackend.make(dir, options.identity))
    })
  )

/** The default store: JSONL files. */
export const layer = layerJsonl()

/** A store in memory (nothing is written to disk; gone with the layer). */
export const layerMemory: Layer.Layer<SessionStore> = Layer.effect(
  SessionStore,
  Effect.map(MemoryLogBackend.make(), make)
)
