/**
 * The `LS` tool: the entries of one directory in the workspace, directories marked with a trailing `/`.
 */
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import { Workspace } from "../services/Workspace.js"
import { globMatcher } from "../workspace/GlobPattern.js"
import { hiddenBy } from "./Glob.js"
import { platformMessage } from "./Read.js"
import { Tool } from "./Tool.js"

export interface LSOptions {
  /** Entries listed at most (the rest are counted). Default 1000. */
  readonly maxEntries?: number
}

/** Stat symlinks to find out whether they point at a directory, a few at a time. */
const STAT_CONCURRENCY = 16

/**
 * The `LS` tool on the `Workspace` and `FileSystem` in context: read-only, runs in parallel with other calls.
 * Entries are sorted by name (code-unit order); a symlink to a directory is shown as a directory.
 */
export const makeLSTool = Effect.fn("LSTool")(function* (options: LSOptions = {}) {
  const workspace = yield* Workspace
  const fs = yield* FileSystem.FileSystem
  const maxEntries = options.maxEntries ?? 1000
  const fail = (message: string) => new ToolExecutionError({ tool: "LS", message })
  return Tool.make({
    name: "LS",
    description: [
      "List the files and directories in a directory of the workspace (one level; directories end with /), sorted by name.",
      `At most ${maxEntries} entries. Use ignore to leave out names matching glob patterns. Use Glob to find files by pattern across directories.`
    ].join(" "),
    input: Schema.Struct({
      path: Schema.String.annotate({
        description: "The directory to list: an absolute path, or a path relative to the working directory"
      }),
      ignore: Schema.optionalKey(
        Schema.Array(Schema.String).annotate({
          description: 'Glob patterns for names to leave out, e.g. ["node_modules", "*.log"]'
        })
      )
    }),
    readOnly: true,
    execute: Effect.fn("LS.execute")(function* ({ path: dirPath, ignore }) {
      const resolved = yield* workspace.resolve(dirPath).pipe(Effect.mapError((e) => fail(e.message)))
      const matchers = (ignore ?? [])
        .map((pattern) => pattern.replace(/\/+$/, ""))
        .filter((pattern) => pattern !== "")
        .map(globMatcher)
      const info = yield* fs.stat(resolved).pipe(Effect.option)
      if (info._tag === "None") return yield* fail(`Directory does not exist: ${dirPath}`)
      if (info.value.type !== "Directory") {
        return yield* fail(`${dirPath} is a file, not a directory; use Read to see its content.`)
      }
      const entries = yield* fs
        .readDirectoryEntries(resolved)
        .pipe(Effect.mapError((error) => fail(`Cannot list ${dirPath}: ${platformMessage(error)}`)))
      const access = workspace.readAccess(resolved)
      if (access === "denied") return yield* fail(`${dirPath} may not be read: a Read deny rule covers it.`)
      // Entries the permission rules keep the model from reading are left out, like ignored ones.
      const hidden = hiddenBy(access, workspace.readAccess)
      const kept = entries
        .filter((entry) => !matchers.some((matches) => matches(entry.name)))
        .filter((entry) => !hidden(path.join(resolved, entry.name)))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      const shown = kept.slice(0, maxEntries)
      const names = yield* Effect.forEach(
        shown,
        (entry) =>
          entry.type === "Directory"
            ? Effect.succeed(`${entry.name}/`)
            : entry.type === "SymbolicLink"
              ? fs.stat(path.join(resolved, entry.name)).pipe(
                  Effect.map((target) => (target.type === "Directory" ? `${entry.name}/` : entry.name)),
                  Effect.orElseSucceed(() => entry.name)
                )
              : Effect.succeed(entry.name),
        { concurrency: STAT_CONCURRENCY }
      )
      const header = resolved.endsWith(path.sep) ? resolved : `${resolved}${path.sep}`
      if (names.length === 0) {
        return `${header}\n(empty${entries.length === 0 ? "" : `; ${entries.length} ignored ${entries.length === 1 ? "entry" : "entries"}`})`
      }
      const more = kept.length > maxEntries ? [`[... ${kept.length - maxEntries} more entries not shown]`] : []
      return [header, ...names.map((name) => `  ${name}`), ...more].join("\n")
    })
  })
})

/** The `LS` tool with default options. Requires `Workspace` and `FileSystem`. */
export const LSTool = makeLSTool()
