/**
 * Loading the agent (its wiring and the provider's SDK) is the slow part of a start: it begins as early as possible
 * (in `bin.ts` before the CLI itself has loaded, again in `runCli`; a module loads once), so that it overlaps with
 * loading the CLI and reading stdin. A load failure surfaces where the module is used; here it is not unhandled.
 */
import { isProviderId, loadProvider } from "../providers/registry.js"

export const preloadAgent = (provider: string | undefined): Promise<typeof import("./agentModules.js")> => {
  const wiring = import("./agentModules.js")
  const vendor = loadProvider(isProviderId(provider) ? provider : "anthropic")
  wiring.catch(() => undefined)
  vendor.catch(() => undefined)
  return wiring
}
