/**
 * The `Sandbox` layer: bubblewrap when it works here; otherwise, in `auto` mode, commands run unconfined (a
 * warning is logged once), and in `require` mode every command fails with a message saying why.
 */
import * as Layer from "effect/Layer"
import { type BubblewrapOptions, make, type SandboxMode } from "../process/SandboxBubblewrap.js"
import { Sandbox } from "../services/Sandbox.js"

export type { SandboxMode }

export interface SandboxLiveOptions extends BubblewrapOptions {
  readonly mode: SandboxMode
}

/**
 * `Sandbox` for `options`: `mode`, the `writableRoots`, `network`, the environment commands start from (scrubbed of
 * credentials, except the names on `envPassthrough`) and the home directory (its start-up files stay read-only
 * when it lies in a root).
 */
export const layer = (options: SandboxLiveOptions): Layer.Layer<Sandbox> => Layer.effect(Sandbox, make(options))
