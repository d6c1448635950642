/**
 * The `BackgroundShells` layer: a registry of background shells that lives as long as the layer; when the
 * layer's scope closes, every shell's process group still alive is killed.
 */
import * as Layer from "effect/Layer"
import { type BackgroundShellsOptions, make } from "../process/BackgroundShells.js"
import { BackgroundShells } from "../services/BackgroundShells.js"

export type { BackgroundShellsOptions }

/** `BackgroundShells` for one session (scoped: closing the layer kills every shell). */
export const layer = (options: BackgroundShellsOptions = {}): Layer.Layer<BackgroundShells> =>
  Layer.effect(BackgroundShells, make(options))
