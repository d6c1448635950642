/**
 * The environment the commands Sage starts receive (Bash, background shells, the sandbox's own `bwrap`): the
 * host's, with credentials removed. One function, `commandEnv`, decides for every spawn:
 *
 * - a variable whose NAME looks like a credential is dropped: any `_`-separated part ending in `KEY`, `TOKEN`,
 *   `SECRET(S)`, `PASSWORD(S)`, `PASSWD`, `PASSPHRASE`, `CREDENTIAL(S)`, `CREDS`, `AUTH`, `PRIVATE`, `JWT`,
 *   `DSN`, `COOKIE`, `WEBHOOK` (`ANTHROPIC_API_KEY`, `GH_TOKEN`, `PRIVATE_KEY`, `GPG_PASSPHRASE`,
 *   `SECRET_KEY_BASE`, `npm_config__authToken`, `SSH_AUTH_SOCK`, `SENTRY_DSN`), a `*_PWD` (`MYSQL_PWD`), and every
 *   variable of a vendor whose variables are credentials or configure them (`STRIPE_*`, `ANTHROPIC_*`, `OPENAI_*`);
 * - a VALUE that is or contains a URL with a password (`postgres://app:hunter2@db/x`) keeps the URL without the
 *   password (`postgres://app@db/x`); a user name that looks like a token (`https://ghp_...@github.com`) goes too;
 * - a value holding a known secret shape (`sk-ant-...`, `ghp_...`, a private key block: see `Redact.ts`) under any
 *   name is dropped.
 *
 * Names on the pass-through list (settings `sandbox.envPassthrough`: exact names, or a prefix ending in `*`) are
 * passed unchanged. Pure, and free of Effect so that the CLI entry can use it before anything else loads.
 */
import { redactSecrets } from "../streams/Redact.js"

/** Name parts that mark a credential when a part ends with them. */
const SECRET_SUFFIXES: ReadonlyArray<string> = [
  "KEY",
  "TOKEN",
  "SECRET",
  "SECRETS",
  "PASSWORD",
  "PASSWORDS",
  "PASSWD",
  "PASSPHRASE",
  "CREDENTIAL",
  "CREDENTIALS",
  "CREDS",
  "AUTH",
  "PRIVATE",
  "JWT",
  "DSN",
  "COOKIE",
  "WEBHOOK"
]

/** `GIT_CONFIG_COUNT`, `GIT_CONFIG_KEY_<n>`, `GIT_CONFIG_VALUE_<n>`: entries git reads only as a whole. */
const GIT_CONFIG_GROUP = /^GIT_CONFIG_(?:COUNT|KEY_\d+|VALUE_\d+)$/

/** Vendors whose every variable is withheld (credentials, or endpoints and options that go with them). */
const SECRET_PREFIXES: ReadonlyArray<string> = ["STRIPE_", "ANTHROPIC_", "OPENAI_"]

/**
 * Whether an environment variable NAME looks like a credential (see the module comment). `PATH`, `HOME`,
 * `AWS_REGION`, `TOKENIZERS_PARALLELISM`, `KEYBOARD`, `SECRETARY`, `PWD`, `GIT_AUTHOR_NAME`, `MAX_TOKENS` do not.
 */
export const isSecretEnvName = (name: string): boolean => {
  const upper = name.toUpperCase()
  // git's configuration through the environment: a key name, judged by its value like the rest of the group.
  if (GIT_CONFIG_GROUP.test(upper)) return false
  if (SECRET_PREFIXES.some((prefix) => upper.startsWith(prefix))) return true
  const parts = upper.split(/[^A-Z0-9]+/).filter((part) => part !== "")
  if (parts.length > 1 && parts[parts.length - 1] === "PWD") return true
  return parts.some((part) => SECRET_SUFFIXES.some((suffix) => part.endsWith(suffix)))
}

/** `scheme://user:password@` (password removed) and `scheme://<token-like user>@` (user removed). */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]{0,31}:\/\/)([^\s/?#@:]{0,256}):([^\s/?#]{0,256})@/gi
const URL_TOKEN_USER = /\b([a-z][a-z0-9+.-]{0,31}:\/\/)([A-Za-z0-9_.~%+-]{20,256})@/gi

/** `value` without the passwords (and token-like user names) of the URLs in it. */
export const stripUrlCredentials = (value: string): string =>
  value
    .replace(URL_PASSWORD, (_all, scheme: string, user: string) => (user === "" ? scheme : `${scheme}${user}@`))
    .replace(URL_TOKEN_USER, "$1")

/** Whether `name` is on the pass-through list (`NAME`, or `PREFIX*`; case-sensitive, as environment names are). */
export const isPassedThrough = (name: string, passthrough: ReadonlyArray<string>): boolean =>
  passthrough.some((entry) => (entry.endsWith("*") ? name.startsWith(entry.slice(0, -1)) : name === entry))

/** What a pass-through entry must look like: a variable name, or a prefix of one ending in `*`. */
export const PASSTHROUGH_ENTRY = /^[A-Za-z_][A-Za-z0-9_]*\*?$/

export interface CommandEnvOptions {
  /** Names passed unchanged even when they look like credentials (`NAME` or `PREFIX*`). */
  readonly passthrough?: ReadonlyArray<string>
}

/** The result of scrubbing: the environment, and the names that were dropped or changed (never their values). */
export interface ScrubbedEnv {
  readonly env: Record<string, string>
  readonly removed: ReadonlyArray<string>
  readonly changed: ReadonlyArray<string>
}

/** `env` as commands receive it: unset values, credential names and secret values dropped, URL passwords cut. */
export const commandEnvReport = (
  env: Readonly<Record<string, string | undefined>>,
  options: CommandEnvOptions = {}
): ScrubbedEnv => {
  const passthrough = options.passthrough ?? []
  const clean: Record<string, string> = {}
  const removed: Array<string> = []
  const changed: Array<string> = []
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue
    if (isPassedThrough(name, passthrough)) {
      clean[name] = value
      continue
    }
    if (isSecretEnvName(name)) {
      removed.push(name)
      continue
    }
    const stripped = stripUrlCredentials(value)
    if (redactSecrets(stripped) !== stripped) {
      removed.push(name)
      continue
    }
    if (stripped !== value) changed.push(name)
    clean[name] = stripped
  }
  // Half a GIT_CONFIG_* group makes every git command fail: when a part of it goes, all of it goes.
  if ([...removed, ...changed].some((name) => GIT_CONFIG_GROUP.test(name.toUpperCase()))) {
    for (const name of Object.keys(clean)) {
      if (GIT_CONFIG_GROUP.test(name.toUpperCase()) && !isPassedThrough(name, passthrough)) {
        delete clean[name]
        if (!removed.includes(name)) removed.push(name)
      }
    }
    return { env: clean, removed, changed: changed.filter((name) => !GIT_CONFIG_GROUP.test(name.toUpperCase())) }
  }
  return { env: clean, removed, changed }
}

/** `env` as commands receive it (see `commandEnvReport`). */
export const commandEnv = (
  env: Readonly<Record<string, string | undefined>>,
  options: CommandEnvOptions = {}
): Record<string, string> => commandEnvReport(env, options).env

/** `env` without unset values and without credentials (no pass-through list). */
export const scrubEnv = (env: Readonly<Record<string, string | undefined>>): Record<string, string> => commandEnv(env)
