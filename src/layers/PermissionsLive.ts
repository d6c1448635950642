/**
 * The rule-based `Permissions` service: modes plus allow/ask/deny rules from settings files and CLI flags,
 * with shell-aware matching of `Bash` rules (see `permissions/Check.ts`).
 */
import * as os from "node:os"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import type { PermissionError } from "../errors/PermissionError.js"
import { type PermissionMode, Permissions } from "../services/Permissions.js"
import { checkPermission } from "../permissions/Check.js"
import { appendAllowRule, loadRuleSet, type RuleLists, type RuleSet, settingsPaths } from "../permissions/Settings.js"

export { checkPermission, PLAN_MODE_MESSAGE } from "../permissions/Check.js"
export type { Rule, RuleBehavior } from "../permissions/Rule.js"
export { parseRule } from "../permissions/Rule.js"
export type { LoadOptions, RuleLists, RuleSet } from "../permissions/Settings.js"
export { loadRuleSet, settingsPaths } from "../permissions/Settings.js"

export interface PermissionsOptions {
  /** The project root: `.sage/settings*.json` are read from here and path rules are relative to it. */
  readonly cwd: string
  /**
   * The session's starting mode. Each `check` uses the mode in its `PermissionContext`; use
   * `startingMode(options, rules)` to combine this with a settings file's `defaultMode`.
   */
  readonly mode?: PermissionMode
  /** `--allowed-tools` (allow rules) and `--disallowed-tools` (deny rules). */
  readonly flags?: { readonly allowed: ReadonlyArray<string>; readonly disallowed: ReadonlyArray<string> }
  /** Defaults to the OS home directory. */
  readonly homeDir?: string
  readonly additionalRules?: RuleLists
  /** Extra workspace roots (`--add-dir`). */
  readonly additionalDirectories?: ReadonlyArray<string>
}

/** The mode a session starts in: the explicit option, else the settings' `defaultMode`, else `default`. */
export const startingMode = (options: Pick<PermissionsOptions, "mode">, rules: RuleSet): PermissionMode =>
  options.mode ?? rules.defaultMode ?? "default"

/** Builds the service; fails with `PermissionError` when a settings file or flag is malformed. */
export const make = (
  options: PermissionsOptions
): Effect.Effect<Permissions.Service & { readonly rules: Effect.Effect<RuleSet> }, PermissionError> =>
  Effect.gen(function* () {
    const homeDir = options.homeDir ?? os.homedir()
    const loaded = yield* loadRuleSet({
      cwd: options.cwd,
      homeDir,
      ...(options.flags === undefined ? {} : { flags: options.flags }),
      ...(options.additionalRules === undefined ? {} : { additionalRules: options.additionalRules }),
      ...(options.additionalDirectories === undefined ? {} : { additionalDirectories: options.additionalDirectories })
    })
    const ref = yield* Ref.make(loaded)
    const lock = yield* Effect.makeSemaphore(1)
    const localFile = settingsPaths(loaded.projectRoot, homeDir).local

    const check = Effect.fn("Permissions.check")(function* (
      call: Parameters<Permissions.Service["check"]>[0],
      context: Parameters<Permissions.Service["check"]>[1]
    ) {
      const rules = yield* Ref.get(ref)
      return yield* checkPermission(rules, call, context)
    })

    const allowAlways = Effect.fn("Permissions.allowAlways")(function* (rule: string) {
      yield* lock.withPermits(1)(
        Effect.gen(function* () {
          const saved = yield* appendAllowRule(localFile, rule, { projectRoot: loaded.projectRoot, homeDir })
          yield* Ref.update(ref, (current) =>
            current.rules.some((r) => r.behavior === "allow" && r.text === saved.text && r.source === saved.source)
              ? current
              : { ...current, rules: [...current.rules, saved] }
          )
        })
      )
    })

    return { check, allowAlways, rules: Ref.get(ref) }
  })

/** Provides `Permissions`; building it loads the settings files (a malformed one fails the layer). */
export const layer = (options: PermissionsOptions): Layer.Layer<Permissions, PermissionError> =>
  Layer.effect(
    Permissions,
    Effect.map(make(options), ({ check, allowAlways }) => ({ check, allowAlways }))
  )
