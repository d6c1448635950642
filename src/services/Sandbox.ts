/**
 * The OS sandbox contract: commands the agent runs (Bash, background shells) are started through `wrap`, which
 * returns the argv that runs them confined: writes only inside the workspace roots (and a private /tmp), no
 * network unless allowed. Bubblewrap implements it on Linux (`src/layers/SandboxBubblewrap.ts`).
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { ToolExecutionError } from "../errors/ToolError.js"

export interface SandboxPolicy {
  /** Directories commands may write to (absolute); everything else is read-only. */
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
  }
}

export class Sandbox extends Context.Tag("sage/Sandbox")<Sandbox, Sandbox.Service>() {}
