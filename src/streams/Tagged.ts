import * as Schema from "effect/Schema"

/**
 * A struct discriminated by a literal `type` field: the JSON shape every Sage wire type uses
 * (content blocks, stream parts, events), so non-Effect consumers can switch on `type`.
 */
export const typed = <const T extends string, F extends Schema.Struct.Fields>(type: T, fields: F) =>
  Schema.Struct({ type: Schema.Literal(type), ...fields })
