/**
 * The `Read` tool: a text file with line numbers (like `cat -n`), a window of lines at a time; images (PNG,
 * JPEG, GIF, WebP) as image output for vision models.
 */
import { StringDecoder } from "node:string_decoder"
import * as Effect from "effect/Effect"
import type * as PlatformError from "effect/PlatformError"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import { FileState } from "../services/FileState.js"
import { Workspace, type WorkspacePathError } from "../services/Workspace.js"
import type { ToolOutput } from "../streams/ToolCall.js"
import { Tool } from "./Tool.js"

export interface ReadOptions {
  /** Lines returned when the call gives no `limit`. Default 2000. */
  readonly defaultLimit?: number
  /** Longer lines are cut. Default 2000 characters. */
  readonly maxLineLength?: number
  /** The numbered output stops at a line boundary before this many characters. Default 256 000. */
  readonly maxOutputChars?: number
  /** Larger images are refused. Default 5 MB (5 242 880 bytes). */
  readonly maxImageBytes?: number
}

const CHUNK = 64 * 1024
const SNIFF = 8 * 1024

/** Whether a file's first bytes look binary: a NUL byte, or mostly control characters. */
export const looksBinary = (bytes: Uint8Array): boolean => {
  if (bytes.length === 0) return false
  let control = 0
  for (const byte of bytes) {
    if (byte === 0) return true
    if (byte < 32 && byte !== 9 && byte !== 10 && byte !== 13 && byte !== 12 && byte !== 27) control++
  }
  return control / bytes.length > 0.3
}

/** Image types returned as image output, by their magic bytes. */
export type ImageMediaType = "image/png" | "image/jpeg" | "image/gif" | "image/webp"

const startsWith = (bytes: Uint8Array, prefix: ReadonlyArray<number>, at = 0): boolean =>
  bytes.length >= at + prefix.length && prefix.every((byte, i) => bytes[at + i] === byte)

const ascii = (text: string): ReadonlyArray<number> => [...text].map((c) => c.charCodeAt(0))

/**
 * The image type of a file from its first bytes (PNG, JPEG, GIF, WebP), or `undefined`. The content decides,
 * not the extension: a `.png` that is not a PNG is not sent as an image, and a PNG named `.bin` is.
 */
export const imageMediaType = (bytes: Uint8Array): ImageMediaType | undefined => {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png"
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg"
  if (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a"))) return "image/gif"
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "image/webp"
  return undefined
}

/** `cat -n` style: the number right-aligned in six columns, a tab, the line. */
export const numberLine = (n: number, line: string): string => `${String(n).padStart(6, " ")}\t${line}`

interface Window {
  readonly lines: ReadonlyArray<string>
  /** Lines seen in the file while reading (all of them when `more` is false). */
  readonly linesSeen: number
  /** More lines follow the window. */
  readonly more: boolean
  /** The window stopped early at the output cap. */
  readonly capped: boolean
}

/** Read lines `offset .. offset + limit - 1` (1-based) in chunks from the file's current position, keeping only what is shown. */
const readWindow = <E>(
  read: (buffer: Uint8Array) => Effect.Effect<number, E>,
  options: { offset: number; limit: number; maxLineLength: number; maxOutputChars: number }
): Effect.Effect<Window, E> =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const decoder = new StringDecoder("utf8")
    const buffer = new Uint8Array(CHUNK)
    let lineNumber = 1
    let current = ""
    let currentLength = 0
    let outputChars = 0
    let capped = false
    const last = options.offset + options.limit - 1

    // Returns false when reading can stop.
    const endLine = (): boolean => {
      if (lineNumber >= options.offset && lineNumber <= last) {
        let text = current.endsWith("\r") && currentLength <= options.maxLineLength ? current.slice(0, -1) : current
        if (currentLength > options.maxLineLength) {
          text = `${text} [... line cut: ${currentLength} characters in total]`
        }
        const numbered = numberLine(lineNumber, text)
        if (lines.length > 0 && outputChars + numbered.length + 1 > options.maxOutputChars) {
          capped = true
          return false
        }
        lines.push(numbered)
        outputChars += numbered.length + 1
      }
      lineNumber++
      current = ""
      currentLength = 0
      return true
    }
    const addText = (text: string) => {
      currentLength += text.length
      if (current.length < options.maxLineLength) current += text.slice(0, options.maxLineLength - current.length)
    }

    for (;;) {
      const bytesRead = yield* read(buffer)
      if (bytesRead === 0) break
      const text = decoder.write(Buffer.from(buffer.buffer, buffer.byteOffset, bytesRead))
      let start = 0
      for (;;) {
        const newline = text.indexOf("\n", start)
        if (newline === -1) {
          addText(text.slice(start))
          break
        }
        // Past the window: one more line exists, that is all we need to know.
        if (lineNumber > last) return { lines, linesSeen: lineNumber, more: true, capped }
        addText(text.slice(start, newline))
        if (!endLine()) return { lines, linesSeen: lineNumber, more: true, capped }
        start = newline + 1
      }
    }
    const rest = decoder.end()
    if (rest !== "") addText(rest)
    if (currentLength > 0) {
      if (lineNumber > last) return { lines, linesSeen: lineNumber, more: true, capped }
      if (!endLine()) return { lines, linesSeen: lineNumber, more: true, capped }
    }
    return { lines, linesSeen: lineNumber - 1, more: false, capped }
  })

/** Whether a file-system error means the path does not exist (or a part of it is not a directory). */
export const isNotFound = (error: PlatformError.PlatformError): boolean =>
  error.reason._tag === "NotFound" || error.reason._tag === "BadResource"

/** The operating system's own message for a file-system error (`EEXIST: file already exists, mkdir '...'`). */
export const platformMessage = (error: PlatformError.PlatformError): string => {
  const cause = error.reason.cause
  return cause instanceof Error && cause.message !== "" ? cause.message : error.message
}

type Sniffed =
  | { readonly type: "empty"; readonly realPath: string }
  | { readonly type: "image"; readonly mediaType: ImageMediaType; readonly data: Uint8Array; readonly realPath: string }
  | { readonly type: "image-too-large"; readonly mediaType: ImageMediaType; readonly size: number }
  | { readonly type: "binary"; readonly size: number }
  | { readonly type: "text"; readonly window: Window; readonly realPath: string }

/**
 * The `Read` tool on the `Workspace` and `FileState` in context (files are opened through `Workspace.open`):
 * read-only, runs in parallel with other calls. Every successful read (a window of a text file, an empty file, an
 * image) is recorded in the `FileState`, which is what lets `Write`/`Edit`/`MultiEdit` change the file afterwards.
 */
export const makeReadTool = Effect.fn("ReadTool")(function* (options: ReadOptions = {}) {
  const workspace = yield* Workspace
  const fileState = yield* FileState
  const defaultLimit = options.defaultLimit ?? 2000
  const maxLineLength = options.maxLineLength ?? 2000
  const maxOutputChars = options.maxOutputChars ?? 256_000
  const maxImageBytes = options.maxImageBytes ?? 5 * 1024 * 1024
  const fail = (message: string) => new ToolExecutionError({ tool: "Read", message })

  return Tool.make({
    name: "Read",
    description: [
      "Read a text file from the workspace. The output is numbered like `cat -n` (line number, tab, line).",
      `Images (PNG, JPEG, GIF, WebP, up to ${maxImageBytes} bytes) are returned as images you can see.`,
      `By default up to ${defaultLimit} lines from the start; use offset (1-based line) and limit to read other parts of long files.`,
      `Lines longer than ${maxLineLength} characters are cut. Other binary files are refused. Use Glob to find files and LS to list directories.`
    ].join(" "),
    input: Schema.Struct({
      file_path: Schema.String.annotate({
        description: "The file to read: an absolute path, or a path relative to the working directory"
      }),
      offset: Schema.optionalKey(
        Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
          description: "The line number to start at (1-based). Only for files too long to read at once"
        })
      ),
      limit: Schema.optionalKey(
        Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
          description: `How many lines to read (default ${defaultLimit})`
        })
      )
    }),
    readOnly: true,
    execute: Effect.fn("Read.execute")(function* ({ file_path, offset, limit }) {
      const resolved = yield* workspace.resolve(file_path).pipe(Effect.mapError((e) => fail(e.message)))
      const cannot = (what: string) => (error: WorkspacePathError) =>
        fail(
          error.reason === "moved"
            ? `Cannot ${what} ${file_path}: ${error.message}`
            : error.message.replace(/^Cannot use [^:]*: /, `Cannot ${what} ${file_path}: `)
        )
      const start = offset ?? 1
      // Everything is read through one descriptor, opened without following symlinks and verified to lie in the
      // workspace: a directory swapped for a symlink after the check cannot redirect the read.
      const sniffed = yield* Effect.scoped(
        Effect.gen(function* () {
          const file = yield* workspace
            .open(resolved)
            .pipe(
              Effect.mapError((error) =>
                error.code === "ENOENT" || error.code === "ENOTDIR"
                  ? fail(`File does not exist: ${file_path}. Use Glob to find the right path.`)
                  : cannot("read")(error)
              )
            )
          if (file.type === "Directory") {
            return yield* fail(`${file_path} is a directory, not a file. Use LS or Glob to see what it contains.`)
          }
          if (file.type !== "File") return yield* fail(`${file_path} is not a regular file (a device, socket or pipe).`)
          const size = file.size
          if (size === 0) return { type: "empty", realPath: file.realPath } satisfies Sniffed
          const sniff = new Uint8Array(Math.min(SNIFF, size))
          const bytesRead = yield* file.read(sniff, 0).pipe(Effect.mapError(cannot("read")))
          const head = sniff.subarray(0, bytesRead)
          const mediaType = imageMediaType(head)
          if (mediaType !== undefined) {
            if (size > maxImageBytes) return { type: "image-too-large", mediaType, size } satisfies Sniffed
            const data = yield* file.readAll.pipe(Effect.mapError(cannot("read")))
            return { type: "image", mediaType, data, realPath: file.realPath } satisfies Sniffed
          }
          if (looksBinary(head)) return { type: "binary", size } satisfies Sniffed
          // The window is read from the start (the sniff read at a position, leaving the offset at 0).
          const window = yield* readWindow((buffer) => file.read(buffer), {
            offset: start,
            limit: limit ?? defaultLimit,
            maxLineLength,
            maxOutputChars
          }).pipe(Effect.mapError(cannot("read")))
          return { type: "text", window, realPath: file.realPath } satisfies Sniffed
        })
      )
      if (sniffed.type === "empty") {
        yield* fileState.recordRead(sniffed.realPath)
        return `(${file_path} exists but is empty)`
      }
      const size = "size" in sniffed ? sniffed.size : 0
      if (sniffed.type === "image-too-large") {
        return yield* fail(
          `${file_path} is a ${sniffed.mediaType} image of ${size} bytes; images up to ${maxImageBytes} bytes can be read. Make a smaller copy (e.g. with Bash) and read that.`
        )
      }
      if (sniffed.type === "image") {
        yield* fileState.recordRead(sniffed.realPath, sniffed.data)
        const output: ReadonlyArray<ToolOutput> = [
          { type: "text", text: `Image ${file_path} (${sniffed.mediaType}, ${sniffed.data.length} bytes):` },
          { type: "image", mediaType: sniffed.mediaType, data: Buffer.from(sniffed.data).toString("base64") }
        ]
        return output
      }
      if (sniffed.type === "binary") {
        return yield* fail(
          `${file_path} looks like a binary file (${size} bytes); Read only shows text. Use Bash (\`file\`, \`xxd | head\`) to inspect it.`
        )
      }
      const window = sniffed.window
      if (window.lines.length === 0) {
        return yield* fail(
          `${file_path} has ${window.linesSeen} lines; offset ${start} is past the end. Use a smaller offset.`
        )
      }
      yield* fileState.recordRead(sniffed.realPath)
      const lastShown = start + window.lines.length - 1
      const note = window.capped
        ? `\n\n[Output stopped at line ${lastShown} to stay under ${maxOutputChars} characters; continue with offset=${lastShown + 1}.]`
        : window.more
          ? `\n\n[More lines follow; continue with offset=${lastShown + 1}.]`
          : ""
      return window.lines.join("\n") + note
    })
  })
})

/** The `Read` tool with default options. Requires `Workspace` and `FileState`. */
export const ReadTool = makeReadTool()
