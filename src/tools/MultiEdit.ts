/**
 * The `MultiEdit` tool: several exact-string replacements in one file, applied in order in memory and written
 * once — all or nothing.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import { applyEdit, changeSnippet, commitEdit, EditInput, loadForEdit } from "./Edit.js"
import { Tool } from "./Tool.js"
import type { FileEditOptions } from "./Write.js"
import type { Workspace } from "../workspace/Workspace.js"

/** Edits accepted in one call. */
export const MAX_EDITS = 100

/**
 * The `MultiEdit` tool. Each edit works on the result of the ones before it, with `Edit`'s rules (unique match
 * unless `replace_all`, line endings kept). If any edit fails, nothing is written and the error names the edit
 * (its index in `edits`). Kind `edit`, `sequential` like `Edit`.
 */
export const makeMultiEditTool = (workspace: Workspace, options: FileEditOptions) =>
  Tool.make({
    name: "MultiEdit",
    description: [
      "Make several exact-text replacements in one file in a single call. The edits are applied in order, each to the result of the previous ones,",
      "with the same rules as Edit (old_string unique unless replace_all; exact whitespace). All or nothing: if any edit fails, the file is not changed.",
      "Read the file first in this session."
    ].join(" "),
    input: Schema.Struct({
      file_path: Schema.String.annotations({
        description: "The file to change: an absolute path, or a path relative to the working directory"
      }),
      edits: Schema.Array(EditInput)
        .pipe(Schema.minItems(1), Schema.maxItems(MAX_EDITS))
        .annotations({ description: "The edits, applied in order" })
    }),
    kind: "edit",
    concurrency: { type: "sequential" },
    execute: ({ file_path, edits }) =>
      Effect.gen(function* () {
        const target = yield* loadForEdit(workspace, options, file_path, "MultiEdit")
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
        yield* commitEdit(options, target, content, "MultiEdit", file_path)
        return `Applied ${edits.length} edit${edits.length === 1 ? "" : "s"} (${replacements} replacement${replacements === 1 ? "" : "s"}) to ${target.resolved}. The changed region now reads:\n${changeSnippet(target.content, content)}`
      })
  })
