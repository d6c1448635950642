/**
 * The `LS` tool: the entries of one directory in the workspace, directories marked with a trailing `/`.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import { globToRegExp } from "./Glob.js"
import { Tool } from "./Tool.js"
import { resolveInside, type Workspace } from "../workspace/Workspace.js"

export interface LSOptions {
  /** Entries listed at most (the rest are counted). Default 1000. */
  readonly maxEntries?: number
}

/** Stat symlinks to find out whether they point at a directory, a few at a time. */
const STAT_CONCURRENCY = 16

/**
 * The `LS` tool for `workspace`: read-only, runs in parallel with other calls. Entries are sorted by name
 * (code-unit order); a symlink to a directory is shown as a directory.
 */
export const makeLSTool = (workspace: Workspace, options: LSOptions = {}) => {
  const maxEntries = options.maxEntries ?? 1000
  const fail = (message: string) => new ToolExecutionError({ tool: "LS", message })
  return Tool.make({
    name: "LS",
    description: [
      "List the files and directories in a directory of the workspace (one level; directories end with /), sorted by name.",
      `At most ${maxEntries} entries. Use ignore to leave out names matching glob patterns. Use Glob to find files by pattern across directories.`
    ].join(" "),
    input: Schema.Struct({
      path: Schema.String.annotations({
        description: "The directory to list: an absolute path, or a path relative to the working directory"
      }),
      ignore: Schema.optional(
        Schema.Array(Schema.String).annotations({
          description: 'Glob patterns for names to leave out, e.g. ["node_modules", "*.log"]'
        })
      )
    }),
    readOnly: true,
    execute: ({ path: dirPath, ignore }) =>
      Effect.gen(function* () {
        const resolved = yield* resolveInside(workspace, dirPath, "LS")
        const matchers = (ignore ?? [])
          .map((pattern) => pattern.replace(/\/+$/, ""))
          .filter((pattern) => pattern !== "")
          .map(globToRegExp)
        const entries = yield* Effect.tryPromise({
          try: () => fs.readdir(resolved, { withFileTypes: true }),
          catch: (error) => {
            const code = (error as NodeJS.ErrnoException).code
            return fail(
              code === "ENOENT"
                ? `Directory does not exist: ${dirPath}`
                : code === "ENOTDIR"
                  ? `${dirPath} is a file, not a directory; use Read to see its content.`
                  : `Cannot list ${dirPath}: ${(error as Error).message}`
            )
          }
        })
        const kept = entries
          .filter((entry) => !matchers.some((matcher) => matcher.test(entry.name)))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        const shown = kept.slice(0, maxEntries)
        const names = yield* Effect.forEach(
          shown,
          (entry) =>
            entry.isDirectory()
              ? Effect.succeed(`${entry.name}/`)
              : entry.isSymbolicLink()
                ? Effect.promise(() =>
                    fs.stat(path.join(resolved, entry.name)).then(
                      (stat) => (stat.isDirectory() ? `${entry.name}/` : entry.name),
                      () => entry.name
                    )
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
}
