/**
 * Finding executables on a search path (like `which`): ripgrep for Grep, bwrap for the sandbox.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"

/** Whether `file` is a regular file this process may execute. */
const isExecutableFile = (file: string): Effect.Effect<boolean> =>
  Effect.tryPromise(() => fs.stat(file)).pipe(
    Effect.flatMap((stat) =>
      stat.isFile()
        ? Effect.tryPromise(() => fs.access(file, fs.constants.X_OK)).pipe(Effect.as(true))
        : Effect.succeed(false)
    ),
    Effect.orElseSucceed(() => false)
  )

/** The first executable file named `name` (or `name.exe`) in the directories of `searchPath`, or `undefined`. */
export const findExecutable = (name: string, searchPath: string): Effect.Effect<string | undefined> =>
  Effect.gen(function* () {
    const directories = searchPath.split(path.delimiter).filter((d) => d !== "" && path.isAbsolute(d))
    for (const directory of directories) {
      for (const candidate of [name, `${name}.exe`]) {
        const file = path.join(directory, candidate)
        if (yield* isExecutableFile(file)) return file
      }
    }
    return undefined
  })

/** The `PATH` of the configuration (the environment by default), or `""` when it is not set. */
export const configuredSearchPath: Effect.Effect<string> = Config.String("PATH").pipe(
  Config.withDefault(""),
  Effect.orElseSucceed(() => "")
)
