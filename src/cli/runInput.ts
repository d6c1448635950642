/**
 * What `sage -p` adds to a turn from its flags: the images (`--image FILE`, repeatable, and `@path.png` references in
 * the prompt, read through the workspace and the Read permission rules: see `agent/PromptImages`) and the output
 * schema (`--json-schema FILE`). Runs inside the agent's layer (it needs the `Workspace` and `Permissions`).
 */
import * as fs from "node:fs"
import * as Effect from "effect/Effect"
import { imageFromFile, imageReferences } from "../agent/PromptImages.js"
import { fromJsonSchema } from "../agent/StructuredOutput.js"
import { ConfigError } from "../errors/ConfigError.js"
import type { InputError } from "../errors/InputError.js"
import type { OutputSchema, Prompt } from "../services/Agent.js"
import type { Permissions } from "../services/Permissions.js"
import type { Workspace } from "../services/Workspace.js"
import type { RunArgs } from "./Args.js"

/** The schema in `file` (a `ConfigError` naming the flag and the file when it cannot be read or is no schema). */
export const loadJsonSchema = (file: string): Effect.Effect<OutputSchema, ConfigError> => {
  const source = `--json-schema ${file}`
  return Effect.try({
    try: () => JSON.parse(fs.readFileSync(file, "utf8")) as unknown,
    catch: (error) =>
      new ConfigError({
        message: `--json-schema ${file}: ${error instanceof SyntaxError ? `not valid JSON (${error.message})` : error instanceof Error ? error.message : String(error)}`,
        source
      })
  }).pipe(Effect.flatMap((schema) => fromJsonSchema(schema, { source })))
}

/** The prompt with the images of `--image` and `@path` references (the text stays as typed), and the schema. */
export const runInput = (
  args: RunArgs,
  prompt: string
): Effect.Effect<
  { readonly prompt: Prompt; readonly outputSchema?: OutputSchema },
  ConfigError | InputError,
  Workspace | Permissions
> =>
  Effect.gen(function* () {
    const paths = [...(args.images ?? []), ...imageReferences(prompt).filter((p) => !(args.images ?? []).includes(p))]
    const mode = args.permissionMode === undefined ? {} : { mode: args.permissionMode }
    const images = yield* Effect.forEach(paths, (path) => imageFromFile(path, mode))
    const outputSchema = args.jsonSchema === undefined ? undefined : yield* loadJsonSchema(args.jsonSchema)
    return {
      prompt: images.length === 0 ? prompt : [{ type: "text" as const, text: prompt }, ...images],
      ...(outputSchema === undefined ? {} : { outputSchema })
    }
  })
