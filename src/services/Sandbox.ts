/**
 * The OS sandbox contract: how the commands the agent runs (Bash, background shells) are started. `wrap`
 * returns the argv that runs a command confined (writes only inside the workspace roots, minus their `.git` and
 * `.sage`, and a private /tmp; no view of Sage's processes; no network unless allowed), and `env` is the
 * environment they start with (the host's, credentials removed: `commandEnv` in `src/process/CommandEnv.ts`).
 * `SandboxLive.layer` (`src/layers/SandboxLive.ts`) implements it with bubblewrap on Linux; a user may provide
 * their own.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { ToolExecutionError } from "../errors/ToolError.js"

export interface SandboxPolicy {
  /**
   * Directories commands may write to (absolute); everything else is read-only, and so are each root's `.git`
   * and `.sage` (an implementation must keep those read-only too).
   */
  readonly writableRoots: ReadonlyArray<string>
  /** Whether commands may use the network. */
  readonly network: boolean
}

export declare namespace Sandbox {
  interface Service {
    /** `bubblewrap`, or `none` when commands run unconfined. */
    readonly name: Effect.Effect<string>
    /** The argv that runs `argv` inside the sandbox; fails when a required sandbox cannot start. */
    readonly wrap: (argv: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<string>, ToolExecutionError>
    /** The complete environment commands start with (already free of credentials). */
    readonly env: Readonly<Record<string, string>>
  }
}

export class Sandbox extends Context.Service<Sandbox, Sandbox.Service>()("sage/Sandbox") {}
