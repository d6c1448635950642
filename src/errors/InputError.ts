import * as Schema from "effect/Schema"

/**
 * A prompt Sage refused before sending any request: `vision_unsupported` (images for a model without vision),
 * `image_not_found`, `image_unsupported` (not PNG, JPEG, GIF or WebP), `image_too_large`, `image_denied` (outside
 * the workspace, or a read the permission rules deny). `path` names the image file, `model` the model.
 */
export class InputError extends Schema.TaggedError<InputError>()("InputError", {
  message: Schema.String,
  reason: Schema.Literals([
    "vision_unsupported",
    "image_not_found",
    "image_unsupported",
    "image_too_large",
    "image_denied"
  ]),
  path: Schema.optional(Schema.String),
  model: Schema.optional(Schema.String)
}) {}
