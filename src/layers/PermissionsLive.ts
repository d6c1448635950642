/**
 * Provides the rule-based `Permissions` service (decisions in `permissions/PermissionEngine.ts`) on the session's
 * `Settings` (see `SettingsLive`).
 */
import * as Layer from "effect/Layer"
import type { PermissionError } from "../errors/PermissionError.js"
import { makePermissions } from "../permissions/PermissionEngine.js"
import { Permissions } from "../services/Permissions.js"
import type { Settings } from "../services/Settings.js"
import * as SettingsLive from "./SettingsLive.js"

/** `Permissions` from the `Settings` in context. */
export const layer: Layer.Layer<Permissions, never, Settings> = Layer.effect(Permissions, makePermissions)

/** `Permissions` and the `Settings` it reads, loaded from `options` (a malformed settings file fails the layer). */
export const layerWithSettings = (
  options: SettingsLive.SettingsOptions
): Layer.Layer<Permissions | Settings, PermissionError> => Layer.provideMerge(layer, SettingsLive.layer(options))
