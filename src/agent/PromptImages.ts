/**
 * Image files named in a prompt (CLI `--image` / `@file.png`, SDK `{ type: "image", path }`) as image blocks. A file
 * is read only when the `Read` tool could read it: inside the workspace roots (real path, symlinks followed), not
 * denied by the read rules (`Workspace.readAccess` and `Permissions.check` for a `Read` call, the same decision the
 * Read tool gets), at most `maxBytes` (default 5 MB, Read's limit), and PNG, JPEG, GIF or WebP by its content.
 * Anything else fails with `InputError` before any request.
 */
import * as Effect from "effect/Effect"
import { InputError } from "../errors/InputError.js"
import { type PermissionMode, Permissions } from "../services/Permissions.js"
import { Workspace } from "../services/Workspace.js"
import type { ImageBlock } from "../streams/Message.js"
import { imageMediaType } from "../tools/Read.js"

export const DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024

/** File extensions `@path` references are recognised by. */
export const IMAGE_EXTENSIONS = ["png", "jpg", "jpeg", "gif", "webp"] as const

export interface ImageFileOptions {
  /** The permission mode the run uses (default `default`). */
  readonly mode?: PermissionMode
  readonly maxBytes?: number
}

/** The image file at `path` (relative to the workspace's cwd) as a base64 image block. */
export const imageFromFile = (
  path: string,
  options: ImageFileOptions = {}
): Effect.Effect<ImageBlock, InputError, Workspace | Permissions> =>
  Effect.gen(function* () {
    const workspace = yield* Workspace
    const permissions = yield* Permissions
    const refuse = (reason: InputError["reason"], why: string) =>
      Effect.fail(new InputError({ message: `image ${path}: ${why}`, reason, path }))
    const realPath = yield* workspace
      .resolve(path)
      .pipe(
        Effect.catch((error) => refuse(error.reason === "outside" ? "image_denied" : "image_not_found", error.message))
      )
    if (workspace.readAccess(realPath) === "denied") return yield* refuse("image_denied", "reading it is denied")
    const decision = yield* permissions
      .check(
        { id: "image", name: "Read", input: { file_path: realPath } },
        { tool: { name: "Read", readOnly: true, kind: "read" }, cwd: workspace.cwd, mode: options.mode ?? "default" }
      )
      .pipe(Effect.catch((error) => refuse("image_denied", error.message)))
    if (decision.type !== "allow") {
      return yield* refuse(
        "image_denied",
        decision.type === "deny" ? decision.reason : `reading it needs approval (${decision.reason})`
      )
    }
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_IMAGE_BYTES
    const bytes = yield* Effect.scoped(
      Effect.gen(function* () {
        const file = yield* workspace.open(realPath)
        if (file.type !== "File") return yield* refuse("image_not_found", "not a file")
        if (file.size > maxBytes) {
          return yield* refuse("image_too_large", `${file.size} bytes; images may have at most ${maxBytes} bytes`)
        }
        return yield* file.readAll
      })
    ).pipe(
      Effect.catchTag("WorkspacePathError", (error) =>
        refuse(
          error.code === "ENOENT" || error.reason === "unresolvable" ? "image_not_found" : "image_denied",
          error.message
        )
      )
    )
    const mediaType = imageMediaType(bytes)
    if (mediaType === undefined) return yield* refuse("image_unsupported", "not a PNG, JPEG, GIF or WebP image")
    return { type: "image", source: { type: "base64", mediaType, data: Buffer.from(bytes).toString("base64") } }
  })

/**
 * `@path` references to image files in a prompt (a word starting with `@` and ending in .png, .jpg, .jpeg, .gif or
 * .webp), in order, without repeats. `\@` is not a reference.
 */
export const imageReferences = (prompt: string): ReadonlyArray<string> => {
  const found: Array<string> = []
  const pattern = new RegExp(
    `(?:^|[\\s(])@((?:[^\\s"'()]|\\\\ )+\\.(?:${IMAGE_EXTENSIONS.join("|")}))(?=$|[\\s),.;:!?])`,
    "gi"
  )
  for (const match of prompt.matchAll(pattern)) {
    const path = match[1]?.replaceAll("\\ ", " ")
    if (path !== undefined && !found.includes(path)) found.push(path)
  }
  return found
}
