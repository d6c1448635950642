/**
 * The `MultiEdit` tool: several exact-string replacements in one file, applied in order in memory and written
 * once — all or nothing.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import { applyEdit, changeSnippet, commitEdit, EditInput, editServices, loadForEdit } from "./Edit.js"
import { Tool } from "./Tool.js"

/** Edits accepted in one call. */
export const MAX_EDITS = 100

/**
 * The `MultiEdit` tool. Each edit works on the result of the ones before it, with `Edit`'s rules (unique match
 * unless `replace_all`, line endings kept). If any edit fails, nothing is written and the error names the edit
 * (its index in `edits`). Kind `edit`, `sequential` like `Edit`.
 */
export const makeMultiEditTool = Effect.fn("MultiEditTool")(function* () {
  const services = yield* editServices
  return Tool.make({
    name: "MultiEdit",
    description: [
      "Make several exact-text replacements in one file in a single call. The edits are applied in order, each to the result of the previous ones,",
      "with the same rules as Edit (old_string unique unless replace_all; exact whitespace). All or nothing: if any edit fails, the file is not changed.",
      "Read the file first in this session."
    ].join(" "),
    input: Schema.Struct({
      file_path: Schema.String.annotate({
        description: "The file to change: an absolute path, or a path relative to the working directory"
      }),
      edits: Schema.Array(EditInput)
        .check(Schema.isMinLength(1), Schema.isMaxLength(MAX_EDITS))
        .annotate({ description: "The edits, applied in order" })
    }),
    kind: "edit",
    concurrency: { type: "sequential" },
    execute: ({ file_path, edits }) =>
      Effect.gen(function* () {
        const target = yield* loadForEdit(services, file_path, "MultiEdit")
        let content = target.content
        let replacements = 0
        for (const [index, edit] of edits.entries()) {
          const result = applyEdit(content, edit)
          if (!result.ok) {
            return yield* new ToolExecutionError({
              tool: "MultiEdit",
              message: `${file_path}: edit ${index + 1} of ${edits.length} (edits[${index}]) failed: ${result.reason} No edits were applied; the file is unchanged.`
            })
          }
          content = result.content
          replacements += result.replacements
        }
        yield* commitEdit(services, target, content, "MultiEdit", file_path)
        return `Applied ${edits.length} edit${edits.length === 1 ? "" : "s"} (${replacements} replacement${replacements === 1 ? "" : "s"}) to ${target.resolved}. The changed region now reads:\n${changeSnippet(target.content, content)}`
      })
  })
})

/** The `MultiEdit` tool. Requires `Workspace`, `FileState` and `FileSystem`. */
export const MultiEditTool = makeMultiEditTool()
