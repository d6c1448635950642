/**
 * The git part of the environment that commands run by Sage (Bash, background shells) start with. Sage itself
 * never runs git; the model does, through the shell, and git runs programs named in its configuration
 * (`core.fsmonitor`, filters, diff drivers, hooks). A model that may edit workspace files can write such a
 * configuration; the permission check is the first defence (it asks for `HOME=...`, `--git-dir`, `-c`, ...), and
 * this environment is the second, for a configuration that slips through:
 *
 * - `core.fsmonitor=false` (as `GIT_CONFIG_*` variables, which beat every configuration file): `git status` and
 *   friends never run an fsmonitor hook, whichever configuration names one (a model-written `.gitconfig` reached
 *   through `HOME`, a nested `.git` or gitfile, `--git-dir`). Costs only the speed-up of a real fsmonitor.
 * - `safe.bareRepository=explicit`: git does not pick up a bare repository the model wrote inside the workspace
 *   (its `config` would run code) unless `--git-dir` names it.
 * - `protocol.ext.allow=never`: no `ext::` remote helper commands.
 * - `GIT_CONFIG_GLOBAL` pinned to the user's global configuration file: a changed `HOME` or `XDG_CONFIG_HOME`
 *   (`for HOME in src; do git status; done`) no longer makes git read a model-written `.gitconfig`.
 * - `GIT_TERMINAL_PROMPT=0`: git fails instead of waiting for a password on a terminal nobody watches.
 *
 * Hooks are kept (no `core.hooksPath=/dev/null`): users rely on their pre-commit hooks (linters, secret scanners)
 * for the commits the model makes, and the hooks of the workspace's own repository live in `.git/`, which the
 * file tools refuse and the sandbox keeps read-only.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"

/** Configuration that commands' git must use whatever the files say (`GIT_CONFIG_KEY_n` / `GIT_CONFIG_VALUE_n`). */
export const GIT_CONFIG_OVERRIDES: ReadonlyArray<readonly [key: string, value: string]> = [
  ["core.fsmonitor", "false"],
  ["safe.bareRepository", "explicit"],
  ["protocol.ext.allow", "never"]
]

/**
 * The global git configuration file git would read for `env`: `~/.gitconfig`, or the XDG file
 * (`$XDG_CONFIG_HOME/git/config`, default `~/.config/git/config`) when only that one exists. `undefined` when
 * `env` has no absolute `HOME` or already pins the file (`GIT_CONFIG_GLOBAL`). When both files exist git reads
 * both; a pin names one, `~/.gitconfig`.
 */
export const globalGitConfig = (
  env: Readonly<Record<string, string>>,
  exists: (file: string) => boolean
): string | undefined => {
  const home = env.HOME
  if (env.GIT_CONFIG_GLOBAL !== undefined || home === undefined || !path.isAbsolute(home)) return undefined
  const legacy = path.join(home, ".gitconfig")
  const xdgHome = env.XDG_CONFIG_HOME
  const xdg = path.join(
    xdgHome !== undefined && path.isAbsolute(xdgHome) ? xdgHome : path.join(home, ".config"),
    "git",
    "config"
  )
  return !exists(legacy) && exists(xdg) ? xdg : legacy
}

/**
 * `env` with the hardened git settings added. Configuration entries the user already passes
 * (`GIT_CONFIG_COUNT`) are kept; ours come after them, so ours win.
 */
export const hardenGitEnv = (
  env: Readonly<Record<string, string>>,
  exists: (file: string) => boolean = fs.existsSync
): Record<string, string> => {
  const out: Record<string, string> = { ...env }
  const given = env.GIT_CONFIG_COUNT
  let next = given !== undefined && /^\d{1,4}$/.test(given) ? Number(given) : 0
  for (const [key, value] of GIT_CONFIG_OVERRIDES) {
    out[`GIT_CONFIG_KEY_${next}`] = key
    out[`GIT_CONFIG_VALUE_${next}`] = value
    next++
  }
  out.GIT_CONFIG_COUNT = String(next)
  const global = globalGitConfig(env, exists)
  if (global !== undefined) out.GIT_CONFIG_GLOBAL = global
  out.GIT_TERMINAL_PROMPT = "0"
  return out
}

/** `hardenGitEnv` as an Effect (it looks at the file system for the global configuration file). */
export const gitHardenedEnv = (env: Readonly<Record<string, string>>): Effect.Effect<Record<string, string>> =>
  Effect.sync(() => hardenGitEnv(env))
