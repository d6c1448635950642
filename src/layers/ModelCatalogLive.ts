/**
 * The `ModelCatalog` layer: the built-in entries (`providers/ModelCatalog.ts`), then the settings files' `models`
 * (when a `Settings` service is present), then the overrides given in code, each on top of the one before.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { mergeOverrides } from "../permissions/ModelSettings.js"
import { costOf, lookupModel } from "../providers/ModelCatalog.js"
import { ModelCatalog, type ModelOverrides } from "../services/ModelCatalog.js"
import { Settings } from "../services/Settings.js"

/** A catalog of the built-in entries with `overrides` on top (no settings read). */
export const fromOverrides = (overrides: ModelOverrides = {}): ModelCatalog.Service => {
  const lookup = (model: string) => lookupModel(model, overrides)
  return ModelCatalog.of({
    lookup,
    costUsd: (model, usage) => {
      const pricing = lookup(model).pricing
      return pricing === undefined ? undefined : costOf(usage, pricing)
    }
  })
}

/** Built-ins, then the settings' `models` (if the context has `Settings`), then `overrides`. */
export const make = (overrides?: ModelOverrides): Effect.Effect<ModelCatalog.Service> =>
  Effect.gen(function* () {
    const settings = yield* Effect.serviceOption(Settings)
    const fromSettings = Option.isSome(settings) ? (yield* settings.value.ruleSet).models : undefined
    return fromOverrides(mergeOverrides(fromSettings, overrides))
  })

export const layer = (overrides?: ModelOverrides): Layer.Layer<ModelCatalog> =>
  Layer.effect(ModelCatalog, make(overrides))
