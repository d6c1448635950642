/**
 * The `Edit` tool: replace an exact string in a file (once, or everywhere with `replace_all`), keeping the
 * file's line endings, with the same read-before-write guard and atomic write as `Write`.
 *
 * Line endings: Read shows lines without their `\r`, so a model editing a CRLF file sends LF strings. When the
 * file is mostly CRLF, `old_string` is matched as given first and, if it is not found, with its line breaks
 * turned into CRLF; `new_string`'s bare LF line breaks are always written as CRLF. LF files are left alone.
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import { FileState } from "../services/FileState.js"
import { Workspace } from "../services/Workspace.js"
import { looksBinary, numberLine } from "./Read.js"
import { Tool } from "./Tool.js"
import { writeFailure } from "./Write.js"

/** One exact-string replacement. */
export interface EditSpec {
  readonly old_string: string
  readonly new_string: string
  readonly replace_all?: boolean | undefined
}

export type EditResult =
  | { readonly ok: true; readonly content: string; readonly replacements: number }
  | { readonly ok: false; readonly reason: string }

/** Files larger than this are not edited in memory. */
export const MAX_EDIT_BYTES = 10 * 1024 * 1024

/** Whether most line breaks in `text` are CRLF. */
export const usesCrlf = (text: string): boolean => {
  let crlf = 0
  let lf = 0
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) {
    if (i > 0 && text[i - 1] === "\r") crlf++
    else lf++
  }
  return crlf > lf
}

/** Every bare LF as CRLF (existing CRLFs stay). */
export const toCrlf = (text: string): string => text.replace(/\r?\n/g, "\r\n")

/** Non-overlapping occurrences of `needle` in `haystack`. */
export const countOccurrences = (haystack: string, needle: string): number => {
  let count = 0
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) count++
  return count
}

const NOT_FOUND =
  "old_string was not found in the file. It must match the current text exactly, including whitespace, indentation (tabs vs spaces) and line breaks, without the line-number prefixes Read shows. Read the file again if unsure."

/** Apply one edit to `content` in memory (line endings handled as described at the top of this module). */
export const applyEdit = (content: string, edit: EditSpec): EditResult => {
  if (edit.old_string === "") return { ok: false, reason: "old_string is empty; give the exact text to replace." }
  if (edit.old_string === edit.new_string) {
    return { ok: false, reason: "old_string and new_string are identical; there is nothing to change." }
  }
  const crlf = usesCrlf(content)
  let oldString = edit.old_string
  let count = countOccurrences(content, oldString)
  if (count === 0 && crlf && oldString.includes("\n")) {
    oldString = toCrlf(oldString)
    count = countOccurrences(content, oldString)
  }
  const newString = crlf ? toCrlf(edit.new_string) : edit.new_string
  if (count === 0) return { ok: false, reason: NOT_FOUND }
  if (count > 1 && edit.replace_all !== true) {
    return {
      ok: false,
      reason: `old_string was found ${count} times in the file, but must match exactly once. Add surrounding lines to make it unique, or set replace_all to true to replace every occurrence.`
    }
  }
  if (edit.replace_all === true) {
    return { ok: true, content: content.split(oldString).join(newString), replacements: count }
  }
  const at = content.indexOf(oldString)
  return {
    ok: true,
    content: content.slice(0, at) + newString + content.slice(at + oldString.length),
    replacements: 1
  }
}

const displayLines = (text: string): Array<string> => {
  if (text === "") return []
  const lines = text.split("\n").map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line))
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop()
  return lines
}

/**
 * The changed region of `after` (compared with `before`) with `context` lines around it, numbered like Read,
 * at most `maxLines` lines.
 */
export const changeSnippet = (before: string, after: string, context = 3, maxLines = 40): string => {
  const a = displayLines(before)
  const b = displayLines(after)
  let prefix = 0
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++
  let suffix = 0
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  ) {
    suffix++
  }
  const from = Math.max(0, prefix - context)
  const to = Math.min(b.length, b.length - suffix + context)
  const shown: Array<string> = []
  for (let i = from; i < to && shown.length < maxLines; i++) shown.push(numberLine(i + 1, b[i]!))
  const rest = to - from - shown.length
  if (rest > 0) shown.push(`[... ${rest} more changed or context lines not shown]`)
  return shown.length === 0 ? "(the file is now empty)" : shown.join("\n")
}

/** A file loaded for editing. */
export interface EditTarget {
  readonly resolved: string
  readonly content: string
}

/** The services a file-changing tool works on. */
export interface EditServices {
  readonly workspace: Workspace.Service
  readonly fileState: FileState.Service
  readonly fs: FileSystem.FileSystem
}

/** The services of a file-changing tool, from context. */
export const editServices: Effect.Effect<EditServices, never, Workspace | FileState | FileSystem.FileSystem> =
  Effect.all({ workspace: Workspace, fileState: FileState, fs: FileSystem.FileSystem })

const utf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * Resolve `filePath` for a file-changing tool, load it as UTF-8 text and run the read-before-write check.
 * Refuses missing files (suggesting Write), directories, special files, files over `MAX_EDIT_BYTES`, binary
 * files and invalid UTF-8 (which a text round trip would damage).
 */
export const loadForEdit = (
  services: EditServices,
  filePath: string,
  tool: string
): Effect.Effect<EditTarget, ToolExecutionError> =>
  Effect.gen(function* () {
    const { workspace, fileState } = services
    const fail = (message: string) => new ToolExecutionError({ tool, message })
    const resolved = yield* workspace.resolveWritable(filePath).pipe(Effect.mapError((e) => fail(e.message)))
    // Read through a descriptor opened without following symlinks: what is edited is what lies in the workspace.
    const bytes = yield* Effect.scoped(
      Effect.gen(function* () {
        const file = yield* workspace
          .open(resolved)
          .pipe(
            Effect.mapError((error) =>
              fail(
                error.code === "ENOENT" || error.code === "ENOTDIR"
                  ? `File does not exist: ${filePath}. To create a new file, use Write.`
                  : error.reason === "moved"
                    ? `Cannot read ${filePath}: ${error.message}`
                    : error.message.replace(/^Cannot use [^:]*: /, `Cannot read ${filePath}: `)
              )
            )
          )
        if (file.type === "Directory") return yield* fail(`${filePath} is a directory, not a file.`)
        if (file.type !== "File") return yield* fail(`${filePath} is not a regular file (a device, socket or pipe).`)
        if (file.size > MAX_EDIT_BYTES) {
          return yield* fail(
            `${filePath} is ${file.size} bytes; ${tool} only changes files up to ${MAX_EDIT_BYTES} bytes. Use Bash (e.g. sed) for very large files.`
          )
        }
        return yield* file.readAll.pipe(Effect.mapError((error) => fail(`Cannot read ${filePath}: ${error.message}`)))
      })
    )
    if (looksBinary(bytes.subarray(0, 8192))) {
      return yield* fail(`${filePath} looks like a binary file; ${tool} only changes text files.`)
    }
    const content = yield* Effect.try({
      try: () => utf8.decode(bytes),
      catch: () => fail(`${filePath} is not valid UTF-8 text; ${tool} would damage it. Use Bash to change it.`)
    })
    yield* fileState.checkWritable(resolved, bytes).pipe(Effect.mapError((e) => fail(e.message)))
    return { resolved, content }
  })

/** Write `content` atomically to a loaded target and record the write in the file state. */
export const commitEdit = (
  services: EditServices,
  target: EditTarget,
  content: string,
  tool: string,
  filePath: string
): Effect.Effect<void, ToolExecutionError> =>
  Effect.gen(function* () {
    const bytes = new TextEncoder().encode(content)
    const written = yield* services.workspace
      .writeFile(target.resolved, bytes)
      .pipe(Effect.mapError((error) => new ToolExecutionError({ tool, message: writeFailure(filePath, error) })))
    yield* services.fileState.recordWrite(written.realPath, bytes)
  })

const editFields = {
  old_string: Schema.String.check(Schema.isMinLength(1)).annotate({
    description: "The exact text to replace (must occur exactly once unless replace_all is true)"
  }),
  new_string: Schema.String.annotate({ description: "The text to put in its place (must differ from old_string)" }),
  replace_all: Schema.optionalKey(
    Schema.Boolean.annotate({ description: "Replace every occurrence of old_string (default false)" })
  )
}

/** The input of one edit (shared with `MultiEdit`). */
export const EditInput = Schema.Struct(editFields)

/**
 * The `Edit` tool on the `Workspace`, `FileState` and `FileSystem` in context. Kind `edit`, `sequential` for the
 * same reason as `Write` (the check and the write must not interleave with another change to the file).
 */
export const makeEditTool = Effect.fn("EditTool")(function* () {
  const services = yield* editServices
  return Tool.make({
    name: "Edit",
    description: [
      "Replace exact text in a file: old_string must occur exactly once (add surrounding lines to make it unique) unless replace_all is true.",
      "Read the file first in this session; match its text exactly, indentation included, without Read's line-number prefixes.",
      "Line endings are kept (CRLF files stay CRLF). Returns the changed region with line numbers. Use MultiEdit for several changes to one file."
    ].join(" "),
    input: Schema.Struct({
      file_path: Schema.String.annotate({
        description: "The file to change: an absolute path, or a path relative to the working directory"
      }),
      ...editFields
    }),
    kind: "edit",
    concurrency: { type: "sequential" },
    execute: Effect.fn("Edit.execute")(function* ({ file_path, ...edit }) {
      const target = yield* loadForEdit(services, file_path, "Edit")
      const result = applyEdit(target.content, edit)
      if (!result.ok) return yield* new ToolExecutionError({ tool: "Edit", message: `${file_path}: ${result.reason}` })
      yield* commitEdit(services, target, result.content, "Edit", file_path)
      const what = result.replacements === 1 ? "1 replacement" : `${result.replacements} replacements`
      return `Edited ${target.resolved} (${what}). The changed region now reads:\n${changeSnippet(target.content, result.content)}`
    })
  })
})

/** The `Edit` tool. Requires `Workspace`, `FileState` and `FileSystem`. */
export const EditTool = makeEditTool()
