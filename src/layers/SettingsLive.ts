/** Provides `Settings`: the permission rules of the settings files, rules given in code and CLI flags. */
import * as Layer from "effect/Layer"
import type { PermissionError } from "../errors/PermissionError.js"
import { makeSettings, type SettingsOptions } from "../permissions/Settings.js"
import { Settings } from "../services/Settings.js"

export type { SettingsOptions } from "../permissions/Settings.js"

/** Loads every settings source when built; a malformed file or rule fails the layer with `file:line:column`. */
export const layer = (options: SettingsOptions): Layer.Layer<Settings, PermissionError> =>
  Layer.effect(Settings, makeSettings(options))
