/**
 * The `Hooks` layer: the hooks of the settings files (`hooks` key; read from the context's `Settings` at every event)
 * plus the hooks given in code (`hooks`: Effects or commands), run by `src/hooks/HookRunner.ts`. Commands get the
 * scrubbed environment (`CommandEnv.ts`, with the settings' `sandbox.envPassthrough`) plus `SAGE_PROJECT_DIR` and
 * `CLAUDE_PROJECT_DIR`. Replace it with `Layer.provide(Layer.succeed(Hooks, mine))`.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { makeHookRunner } from "../hooks/HookRunner.js"
import { mergeHooks } from "../hooks/HookSettings.js"
import { commandEnv } from "../process/CommandEnv.js"
import { Hooks, type HooksConfig } from "../services/Hooks.js"
import { Settings } from "../services/Settings.js"

export interface HooksLiveOptions {
  /** The workspace root: commands run here. */
  readonly cwd: string
  /** The environment commands start from (credentials are scrubbed from it). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Hooks given in code, run after (and beside) those of the settings files. */
  readonly hooks?: HooksConfig
  /** Hooks of one event running at once at most (default 8). */
  readonly concurrency?: number
}

export const layer = (options: HooksLiveOptions): Layer.Layer<Hooks> =>
  Layer.effect(
    Hooks,
    Effect.gen(function* () {
      const settings = yield* Effect.serviceOption(Settings)
      const rules = Option.isSome(settings) ? yield* settings.value.ruleSet : undefined
      const env = {
        ...commandEnv(options.env ?? {}, { passthrough: rules?.sandbox?.envPassthrough ?? [] }),
        SAGE_PROJECT_DIR: options.cwd,
        CLAUDE_PROJECT_DIR: options.cwd
      }
      const own = options.hooks
      const config = Option.match(settings, {
        onNone: () => Effect.succeed(mergeHooks(own)),
        onSome: (s) => Effect.map(s.ruleSet, (r) => mergeHooks(r.hooks, own))
      })
      return Hooks.of(
        makeHookRunner({
          config,
          cwd: options.cwd,
          env,
          ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency })
        })
      )
    })
  )
