import * as Schema from "effect/Schema"

/**
 * A path a tool was given cannot be used. `reason`: `invalid` (empty, NUL byte, too long, a symlink loop),
 * `outside` (it resolves outside every workspace root), `protected` (a file-changing tool aimed at `.git`/`.sage`),
 * `unresolvable` (the file system refused to resolve it). `message` is written for the model.
 */
export class WorkspacePathError extends Schema.TaggedError<WorkspacePathError>()("WorkspacePathError", {
  path: Schema.String,
  reason: Schema.Literals(["invalid", "outside", "protected", "unresolvable"]),
  message: Schema.String
}) {}

/**
 * A file may not be written now. `reason`: `not-read` (it exists and was not read in this session), `modified`
 * (it changed on disk since it was read), `unreadable` (its current state cannot be checked). `message` is
 * written for the model.
 */
export class FileStateError extends Schema.TaggedError<FileStateError>()("FileStateError", {
  path: Schema.String,
  reason: Schema.Literals(["not-read", "modified", "unreadable"]),
  message: Schema.String
}) {}
