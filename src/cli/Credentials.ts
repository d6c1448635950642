/**
 * The CLI entry's handling of its own environment: the CLI works on a copy (keys are read from it through
 * `Config`; commands get a scrubbed copy of it), and the credential variables leave the live environment, so that
 * nothing started without an explicit environment (`ps`, a library's child process) inherits them and a
 * diagnostic report does not list them. The kernel's copy (`/proc/<pid>/environ`) cannot be changed from Node:
 * the sandbox's PID namespace is what hides it from commands.
 */
import { isSecretEnvName } from "../process/CommandEnv.js"

/** A copy of `env` (the CLI's to use), after deleting every credential variable (`isSecretEnvName`) from `env`. */
export const withdrawCredentials = (env: Record<string, string | undefined>): Record<string, string | undefined> => {
  const copy = { ...env }
  for (const name of Object.keys(env)) if (isSecretEnvName(name)) delete env[name]
  return copy
}
