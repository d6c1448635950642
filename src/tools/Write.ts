/**
 * The `Write` tool: create or overwrite a file in the workspace, atomically, only after the model has read the
 * current version of an existing file.
 */
import { randomBytes } from "node:crypto"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import type * as PlatformError from "effect/PlatformError"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import { FileState } from "../services/FileState.js"
import { Workspace, type WorkspacePathError } from "../services/Workspace.js"
import { platformMessage } from "./Read.js"
import { Tool } from "./Tool.js"

/** The name of a temporary file beside `target` (same directory, so the final rename is atomic). */
export const tempPathFor = (target: string): string =>
  path.join(path.dirname(target), `.${path.basename(target)}.sage-${randomBytes(6).toString("hex")}.tmp`)

/**
 * Replace `target` with `content` atomically: write a temporary file in the same directory, fsync it, give it
 * the existing file's permission bits (a new file gets the default `0o666` minus umask), rename it over the
 * target, then fsync the directory (best effort). Readers see the old or the new content, never a mix; on any
 * failure the temporary file is removed and the target is untouched. Parent directories are created. A rename
 * replaces the directory entry: hard links to the old file keep the old content, a symlink is never replaced
 * (pass a real path). Uninterruptible once started, so no temporary file is ever left behind. By path: the tools
 * write through `Workspace.writeFile` instead, which cannot be raced out of the workspace.
 */
export const writeFileAtomic = (
  fs: FileSystem.FileSystem,
  target: string,
  content: Uint8Array
): Effect.Effect<void, PlatformError.PlatformError> =>
  Effect.uninterruptible(
    Effect.gen(function* () {
      const dir = path.dirname(target)
      yield* fs.makeDirectory(dir, { recursive: true })
      const mode = yield* fs.stat(target).pipe(
        Effect.map((info) => info.mode & 0o7777),
        Effect.orElseSucceed(() => undefined)
      )
      const temp = tempPathFor(target)
      yield* Effect.scoped(
        Effect.gen(function* () {
          const file = yield* fs.open(temp, { flag: "wx", mode: mode ?? 0o666 })
          yield* file.writeAll(content)
          yield* file.sync
        })
      ).pipe(
        Effect.andThen(mode === undefined ? Effect.void : fs.chmod(temp, mode)),
        Effect.andThen(fs.rename(temp, target)),
        Effect.onError(() => fs.remove(temp, { force: true }).pipe(Effect.ignore))
      )
      yield* Effect.scoped(Effect.flatMap(fs.open(dir, { flag: "r" }), (handle) => handle.sync)).pipe(Effect.ignore)
    })
  )

/** `writeFileAtomic`, with a failure as the `ToolExecutionError` of `tool` (`shown` is the path the model gave). */
export const atomicWrite = (
  fs: FileSystem.FileSystem,
  target: string,
  content: Uint8Array,
  tool: string,
  shown: string
): Effect.Effect<void, ToolExecutionError> =>
  writeFileAtomic(fs, target, content).pipe(
    Effect.mapError(
      (error) =>
        new ToolExecutionError({
          tool,
          message: `Cannot write ${shown}: ${isDirectoryError(error) ? "it is a directory" : platformMessage(error)}`
        })
    )
  )

const isDirectoryError = (error: PlatformError.PlatformError): boolean => {
  const cause = error.reason.cause
  return typeof cause === "object" && cause !== null && "code" in cause && cause.code === "EISDIR"
}

/** What to tell the model when a confined write fails (`WorkspacePathError` from `Workspace.writeFile`). */
export const writeFailure = (shown: string, error: WorkspacePathError): string =>
  error.reason === "moved"
    ? `Cannot write ${shown}: ${error.message}`
    : error.code === "EISDIR"
      ? `Cannot write ${shown}: it is a directory`
      : error.message.replace(/^Cannot use [^:]*: /, `Cannot write ${shown}: `)

const countLines = (text: string): number => (text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0))

/**
 * The `Write` tool on the `Workspace`, `FileState` and `FileSystem` in context. Kind `edit`.
 *
 * Concurrency: `sequential`. The read-before-write check and the write must not interleave with another change
 * to the same file; running file changes one at a time is the simplest way to guarantee it (writes are fast).
 */
export const makeWriteTool = Effect.fn("WriteTool")(function* () {
  const workspace = yield* Workspace
  const fileState = yield* FileState
  const fs = yield* FileSystem.FileSystem
  const fail = (message: string) => new ToolExecutionError({ tool: "Write", message })
  return Tool.make({
    name: "Write",
    description: [
      "Write a file in the workspace, replacing it if it exists (parent directories are created).",
      "An existing file must have been read with Read in this session first, and not changed since; prefer Edit to change part of a file.",
      "Give the complete content. Protected paths cannot be written: .git, .sage, .husky, .vscode, .idea and .devcontainer (at any depth), .gitconfig, .config/git and shell start-up files (.bashrc, .profile, ...)."
    ].join(" "),
    input: Schema.Struct({
      file_path: Schema.String.annotate({
        description: "The file to write: an absolute path, or a path relative to the working directory"
      }),
      content: Schema.String.annotate({ description: "The complete new content of the file" })
    }),
    kind: "edit",
    concurrency: { type: "sequential" },
    execute: Effect.fn("Write.execute")(function* ({ file_path, content }) {
      const resolved = yield* workspace.resolveWritable(file_path).pipe(Effect.mapError((e) => fail(e.message)))
      const existing = yield* fs.stat(resolved).pipe(Effect.option)
      if (existing._tag === "Some") {
        if (existing.value.type === "Directory")
          return yield* fail(`${file_path} is a directory; give the path of a file.`)
        if (existing.value.type !== "File") {
          return yield* fail(`${file_path} is not a regular file (a device, socket or pipe); it cannot be written.`)
        }
      }
      yield* fileState.checkWritable(resolved).pipe(Effect.mapError((e) => fail(e.message)))
      const bytes = new TextEncoder().encode(content)
      // Confined: the directories are opened without following symlinks and verified before and after the rename.
      const written = yield* workspace
        .writeFile(resolved, bytes)
        .pipe(Effect.mapError((e) => fail(writeFailure(file_path, e))))
      yield* fileState.recordWrite(written.realPath, bytes)
      const lines = countLines(content)
      const count = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`
      return `${written.created ? "Created" : "Updated"} ${written.realPath} (${count(lines, "line")}, ${count(bytes.length, "byte")}).`
    })
  })
})

/** The `Write` tool. Requires `Workspace`, `FileState` and `FileSystem`. */
export const WriteTool = makeWriteTool()
