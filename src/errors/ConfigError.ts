import * as Schema from "effect/Schema"

/** Configuration is missing or invalid. `source` names the variable, flag or file (and line) to fix. */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  message: Schema.String,
  source: Schema.optional(Schema.String)
}) {}
