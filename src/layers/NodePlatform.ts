/**
 * The Node platform services Sage itself needs: `FileSystem` and `Path`. They come from
 * `@effect/platform-node-shared` (marked unstable in Effect 4, so pinned exactly and imported only here), which
 * is what `@effect/platform-node` builds on, without its HTTP, Redis and cluster pieces.
 */
import * as NodeFileSystem from "@effect/platform-node-shared/NodeFileSystem"
import * as NodePath from "@effect/platform-node-shared/NodePath"
import type * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import type * as Path from "effect/Path"

export const layer: Layer.Layer<FileSystem.FileSystem | Path.Path> = Layer.mergeAll(
  NodeFileSystem.layer,
  NodePath.layer
)
