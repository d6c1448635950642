/**
 * The `Write` tool: create or overwrite a file in the workspace, atomically, only after the model has read the
 * current version of an existing file.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import type { FileState } from "../workspace/FileState.js"
import { Tool } from "./Tool.js"
import { isProtected, PROTECTED_DIRECTORIES, resolveInside, type Workspace } from "../workspace/Workspace.js"

export interface FileEditOptions {
  /** What the model has read in this session (shared with `Read` and the other file-changing tools). */
  readonly fileState: FileState
  /**
   * Whether a write into a protected directory (`.git/`, `.sage/`; see `isProtected`) may go ahead. Called
   * with the resolved real path. Default: never. Wire it to an explicit permission allow rule for that path
   * (e.g. `Edit(.sage/settings.json)`); the usual "ask" of edit permissions is not enough.
   */
  readonly allowProtected?: (path: string) => boolean
}

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code

/** The name of a temporary file beside `target` (same directory, so the final rename is atomic). */
export const tempPathFor = (target: string): string =>
  path.join(path.dirname(target), `.${path.basename(target)}.sage-${randomBytes(6).toString("hex")}.tmp`)

/**
 * Replace `target` with `content` atomically: write a temporary file in the same directory, fsync it, give it
 * the existing file's permission bits (a new file gets the default `0o666` minus umask), rename it over the
 * target, then fsync the directory (best effort). Readers see the old or the new content, never a mix; on any
 * failure the temporary file is removed and the target is untouched. Parent directories are created. A rename
 * replaces the directory entry: hard links to the old file keep the old content, a symlink is never replaced
 * (pass a real path).
 */
export const writeFileAtomic = async (target: string, content: Uint8Array | string): Promise<void> => {
  const dir = path.dirname(target)
  await fs.mkdir(dir, { recursive: true })
  const mode = await fs.stat(target).then(
    (stat) => stat.mode & 0o7777,
    () => undefined
  )
  const temp = tempPathFor(target)
  let renamed = false
  try {
    const handle = await fs.open(temp, "wx", mode ?? 0o666)
    try {
      await handle.writeFile(content)
      if (mode !== undefined) await handle.chmod(mode)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(temp, target)
    renamed = true
  } finally {
    if (!renamed) await fs.rm(temp, { force: true }).catch(() => undefined)
  }
  const dirHandle = await fs.open(dir, "r").catch(() => undefined)
  if (dirHandle !== undefined) {
    await dirHandle.sync().catch(() => undefined)
    await dirHandle.close().catch(() => undefined)
  }
}

/**
 * Resolve a path a file-changing tool was given and refuse it when it is outside the workspace or in a
 * protected directory (unless `allowProtected` says otherwise). Returns the real path.
 */
export const resolveWritable = (
  workspace: Workspace,
  userPath: string,
  tool: string,
  allowProtected: (path: string) => boolean = () => false
): Effect.Effect<string, ToolExecutionError> =>
  Effect.flatMap(resolveInside(workspace, userPath, tool), (resolved) =>
    isProtected(resolved, workspace) && !allowProtected(resolved)
      ? Effect.fail(
          new ToolExecutionError({
            tool,
            message: `${userPath} is inside a protected directory (${PROTECTED_DIRECTORIES.join(", ")}); changing files there requires an explicit allow rule for this path. Do not try to work around this.`
          })
        )
      : Effect.succeed(resolved)
  )

/** Run `writeFileAtomic` to completion even if the fiber is interrupted (so no temporary file is left). */
export const atomicWrite = (
  target: string,
  content: Uint8Array | string,
  tool: string,
  shown: string
): Effect.Effect<void, ToolExecutionError> =>
  Effect.uninterruptible(
    Effect.tryPromise({
      try: () => writeFileAtomic(target, content),
      catch: (error) =>
        new ToolExecutionError({
          tool,
          message: `Cannot write ${shown}: ${errorCode(error) === "EISDIR" ? "it is a directory" : errorMessage(error)}`
        })
    })
  )

const countLines = (text: string): number => (text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0))

/**
 * The `Write` tool. Kind `edit`.
 *
 * Concurrency: `sequential`. The read-before-write check and the write must not interleave with another change
 * to the same file; running file changes one at a time is the simplest way to guarantee it (writes are fast).
 * A per-path lock would let writes to different files run together; that is not worth its complexity yet.
 */
export const makeWriteTool = (workspace: Workspace, options: FileEditOptions) => {
  const fail = (message: string) => new ToolExecutionError({ tool: "Write", message })
  return Tool.make({
    name: "Write",
    description: [
      "Write a file in the workspace, replacing it if it exists (parent directories are created).",
      "An existing file must have been read with Read in this session first, and not changed since; prefer Edit to change part of a file.",
      "Give the complete content. Files in .git/ and .sage/ cannot be written."
    ].join(" "),
    input: Schema.Struct({
      file_path: Schema.String.annotations({
        description: "The file to write: an absolute path, or a path relative to the working directory"
      }),
      content: Schema.String.annotations({ description: "The complete new content of the file" })
    }),
    kind: "edit",
    concurrency: { type: "sequential" },
    execute: ({ file_path, content }) =>
      Effect.gen(function* () {
        const resolved = yield* resolveWritable(workspace, file_path, "Write", options.allowProtected)
        const existing = yield* Effect.promise(() => fs.stat(resolved).catch(() => undefined))
        if (existing?.isDirectory()) return yield* fail(`${file_path} is a directory; give the path of a file.`)
        if (existing !== undefined && !existing.isFile()) {
          return yield* fail(`${file_path} is not a regular file (a device, socket or pipe); it cannot be written.`)
        }
        yield* options.fileState.checkWritable(resolved, "Write")
        const bytes = Buffer.from(content, "utf8")
        yield* atomicWrite(resolved, bytes, "Write", file_path)
        yield* options.fileState.recordWrite(resolved, bytes)
        const lines = countLines(content)
        const count = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`
        return `${existing === undefined ? "Created" : "Updated"} ${resolved} (${count(lines, "line")}, ${count(bytes.length, "byte")}).`
      })
  })
}
