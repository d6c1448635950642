/**
 * The one place that validates a value against a user's JSON Schema, with `ajv` (draft-07, or draft 2020-12 when the
 * schema's `$schema` says so). `ajv` is imported on first use; the published build carries it bundled in
 * (`scripts/vendor.mjs`), so it is not a dependency. Swapping the validator touches only this file.
 */
import * as Effect from "effect/Effect"
import { ConfigError } from "../errors/ConfigError.js"

/** `undefined` when `value` is valid, else what is wrong (one line per problem, with the JSON path). */
export type Validate = (value: unknown) => string | undefined

const importAjv = () => Promise.all([import("ajv"), import("ajv/dist/2020.js")])

let modules: ReturnType<typeof importAjv> | undefined

const load = Effect.tryPromise({
  try: () => {
    modules ??= importAjv().catch((error: unknown) => {
      modules = undefined
      throw error
    })
    return modules
  },
  catch: () =>
    new ConfigError({
      message: "structured output with a JSON Schema could not load its validator (ajv)",
      source: "outputSchema"
    })
})

const is2020 = (schema: Readonly<Record<string, unknown>>): boolean =>
  typeof schema.$schema === "string" && schema.$schema.includes("2020-12")

/** Compile `schema` (a `ConfigError` naming `source` when it is not a valid JSON Schema). */
export const compile = (
  schema: Readonly<Record<string, unknown>>,
  source: string
): Effect.Effect<Validate, ConfigError> =>
  Effect.flatMap(load, ([draft07, draft2020]) =>
    Effect.try({
      try: (): Validate => {
        const options = { allErrors: true, strict: false, validateFormats: false } as const
        // `default` is the CommonJS `module.exports` both under Node and in the bundled build (`scripts/vendor.mjs`).
        const ajv = is2020(schema) ? new draft2020.default.default(options) : new draft07.default.default(options)
        const validate = ajv.compile({ ...schema })
        return (value) => {
          if (validate(value)) return undefined
          return (validate.errors ?? [])
            .map((e) => `${e.instancePath === "" ? "(root)" : e.instancePath}: ${e.message ?? "is invalid"}`)
            .join("\n")
        }
      },
      catch: (error) =>
        new ConfigError({
          message: `invalid JSON Schema: ${error instanceof Error ? error.message : String(error)}`,
          source
        })
    })
  )
