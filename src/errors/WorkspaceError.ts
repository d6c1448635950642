import * as Schema from "effect/Schema"

/**
 * A path a tool was given cannot be used. `reason`: `invalid` (empty, NUL byte, too long, a symlink loop),
 * `outside` (it resolves outside every workspace root), `protected` (a file-changing tool aimed at `.git`/`.sage`),
 * `unresolvable` (the file system refused to resolve it), `moved` (a directory on the way was swapped, moved or
 * turned into a symlink while the file was opened or written: nothing outside the workspace was touched), `io`
 * (the operating system refused the open or write; `code` is its errno name). `message` is written for the model.
 */
export class WorkspacePathError extends Schema.TaggedError<WorkspacePathError>()("WorkspacePathError", {
  path: Schema.String,
  reason: Schema.Literals(["invalid", "outside", "protected", "unresolvable", "moved", "io"]),
  message: Schema.String,
  code: Schema.optionalKey(Schema.String)
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
