/**
 * The `Read` tool: a text file with line numbers (like `cat -n`), a window of lines at a time; images (PNG,
 * JPEG, GIF, WebP) as image output for vision models.
 */
import type { FileHandle } from "node:fs/promises"
import * as fs from "node:fs/promises"
import { StringDecoder } from "node:string_decoder"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import type { ToolOutput } from "../streams/ToolCall.js"
import type { FileState } from "../workspace/FileState.js"
import { Tool } from "./Tool.js"
import { resolveInside, type Workspace } from "../workspace/Workspace.js"

export interface ReadOptions {
  /** Lines returned when the call gives no `limit`. Default 2000. */
  readonly defaultLimit?: number
  /** Longer lines are cut. Default 2000 characters. */
  readonly maxLineLength?: number
  /** The numbered output stops at a line boundary before this many characters. Default 256 000. */
  readonly maxOutputChars?: number
  /** Larger images are refused. Default 5 MB (5 242 880 bytes). */
  readonly maxImageBytes?: number
  /**
   * The session's record of what was read: every successful read (a window of a text file, an empty file,
   * an image) is recorded, which is what lets `Write`/`Edit`/`MultiEdit` change the file afterwards.
   */
  readonly fileState?: FileState
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

/** Read lines `offset .. offset + limit - 1` (1-based) in chunks, keeping only what is shown. */
const readWindow = async (
  handle: FileHandle,
  options: { offset: number; limit: number; maxLineLength: number; maxOutputChars: number },
  signal: AbortSignal
): Promise<Window> => {
  const lines: Array<string> = []
  const decoder = new StringDecoder("utf8")
  const buffer = Buffer.alloc(CHUNK)
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
    if (signal.aborted) throw signal.reason
    const { bytesRead } = await handle.read(buffer, 0, CHUNK, null)
    if (bytesRead === 0) break
    const text = decoder.write(buffer.subarray(0, bytesRead))
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
}

/** The `Read` tool for `workspace`: read-only, runs in parallel with other calls. */
export const makeReadTool = (workspace: Workspace, options: ReadOptions = {}) => {
  const defaultLimit = options.defaultLimit ?? 2000
  const maxLineLength = options.maxLineLength ?? 2000
  const maxOutputChars = options.maxOutputChars ?? 256_000
  const maxImageBytes = options.maxImageBytes ?? 5 * 1024 * 1024
  const fileState = options.fileState
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
      file_path: Schema.String.annotations({
        description: "The file to read: an absolute path, or a path relative to the working directory"
      }),
      offset: Schema.optional(
        Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)).annotations({
          description: "The line number to start at (1-based). Only for files too long to read at once"
        })
      ),
      limit: Schema.optional(
        Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)).annotations({
          description: `How many lines to read (default ${defaultLimit})`
        })
      )
    }),
    readOnly: true,
    execute: ({ file_path, offset, limit }): Effect.Effect<string | ReadonlyArray<ToolOutput>, ToolExecutionError> =>
      Effect.gen(function* () {
        const resolved = yield* resolveInside(workspace, file_path, "Read")
        const stat = yield* Effect.tryPromise({
          try: () => fs.stat(resolved),
          catch: (error) =>
            fail(
              (error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR"
                ? `File does not exist: ${file_path}. Use Glob to find the right path.`
                : `Cannot read ${file_path}: ${String((error as Error).message)}`
            )
        })
        if (stat.isDirectory()) {
          return yield* fail(`${file_path} is a directory, not a file. Use LS or Glob to see what it contains.`)
        }
        if (!stat.isFile()) return yield* fail(`${file_path} is not a regular file (a device, socket or pipe).`)
        const recordRead = (content?: Uint8Array) =>
          fileState === undefined ? Effect.void : fileState.recordRead(resolved, content)
        if (stat.size === 0) {
          yield* recordRead()
          return `(${file_path} exists but is empty)`
        }

        const start = offset ?? 1
        const window = yield* Effect.acquireUseRelease(
          Effect.tryPromise({
            try: () => fs.open(resolved, "r"),
            catch: (error) => fail(`Cannot open ${file_path}: ${String((error as Error).message)}`)
          }),
          (handle) =>
            Effect.tryPromise({
              try: async (signal) => {
                const sniff = Buffer.alloc(Math.min(SNIFF, stat.size))
                const { bytesRead } = await handle.read(sniff, 0, sniff.length, 0)
                const head = sniff.subarray(0, bytesRead)
                const mediaType = imageMediaType(head)
                if (mediaType !== undefined) {
                  if (stat.size > maxImageBytes) return { type: "image-too-large" as const, mediaType }
                  return { type: "image" as const, mediaType, data: await handle.readFile() }
                }
                if (looksBinary(head)) return "binary" as const
                return readWindow(
                  handle,
                  { offset: start, limit: limit ?? defaultLimit, maxLineLength, maxOutputChars },
                  signal
                )
              },
              catch: (error) => fail(`Cannot read ${file_path}: ${String((error as Error).message)}`)
            }),
          (handle) => Effect.promise(() => handle.close())
        )
        if (typeof window === "object" && "type" in window) {
          if (window.type === "image-too-large") {
            return yield* fail(
              `${file_path} is a ${window.mediaType} image of ${stat.size} bytes; images up to ${maxImageBytes} bytes can be read. Make a smaller copy (e.g. with Bash) and read that.`
            )
          }
          yield* recordRead(window.data)
          return [
            { type: "text", text: `Image ${file_path} (${window.mediaType}, ${window.data.length} bytes):` },
            { type: "image", mediaType: window.mediaType, data: window.data.toString("base64") }
          ]
        }
        if (window === "binary") {
          return yield* fail(
            `${file_path} looks like a binary file (${stat.size} bytes); Read only shows text. Use Bash (\`file\`, \`xxd | head\`) to inspect it.`
          )
        }
        if (window.lines.length === 0) {
          return yield* fail(
            `${file_path} has ${window.linesSeen} lines; offset ${start} is past the end. Use a smaller offset.`
          )
        }
        yield* recordRead()
        const lastShown = start + window.lines.length - 1
        const note = window.capped
          ? `\n\n[Output stopped at line ${lastShown} to stay under ${maxOutputChars} characters; continue with offset=${lastShown + 1}.]`
          : window.more
            ? `\n\n[More lines follow; continue with offset=${lastShown + 1}.]`
            : ""
        return window.lines.join("\n") + note
      })
  })
}
