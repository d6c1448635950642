/** The `FileState` service on effect's `FileSystem`: a fresh, empty record of what was read, one per layer build. */
import type * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import { FileState } from "../services/FileState.js"
import { makeFileState } from "../workspace/FileState.js"

export const layer: Layer.Layer<FileState, never, FileSystem.FileSystem> = Layer.effect(FileState, makeFileState())
