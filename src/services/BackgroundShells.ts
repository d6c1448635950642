/**
 * The background shells contract: the commands `Bash` started with `run_in_background`, one registry per
 * session. `BackgroundShellsLive.layer` implements it; its scope closing kills every shell still running.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { ToolExecutionError } from "../errors/ToolError.js"

export type ShellStatus =
  | { readonly state: "running" }
  | { readonly state: "exited"; readonly exitCode: number }
  /** Stopped by `kill` (or the scope closing) or ended by a signal; `signal` is what ended the leader. */
  | { readonly state: "killed"; readonly signal: string | null }

export interface ShellInfo {
  readonly id: string
  readonly pid: number
  readonly command: string
  readonly status: ShellStatus
}

/** New output of a shell since the previous read. */
export interface ShellOutput extends ShellInfo {
  readonly output: string
  /** Characters that were produced since the previous read but no longer fit in the buffer. */
  readonly dropped: number
}

export interface ShellCommand {
  /** The command line, run with `shell -c`. */
  readonly command: string
  readonly cwd: string
  /** The complete environment (already scrubbed). */
  readonly env: Readonly<Record<string, string>>
  /** Default `bash`. */
  readonly shell?: string
  /** The exact argv to spawn (e.g. the command wrapped by the OS sandbox); overrides `shell -c command`. */
  readonly argv?: ReadonlyArray<string>
}

export declare namespace BackgroundShells {
  interface Service {
    /** Start `command` in the background; fails when it cannot start or too many shells are running. */
    readonly start: (command: ShellCommand) => Effect.Effect<ShellInfo, ToolExecutionError>
    /** The output produced since the previous `read` of this shell, and its status. */
    readonly read: (id: string) => Effect.Effect<ShellOutput, ToolExecutionError>
    /** Kill the shell's whole process group (SIGTERM, then SIGKILL after the grace period). */
    readonly kill: (id: string) => Effect.Effect<ShellInfo, ToolExecutionError>
    /** Every shell still known, oldest first. */
    readonly list: Effect.Effect<ReadonlyArray<ShellInfo>>
  }
}

export class BackgroundShells extends Context.Service<BackgroundShells, BackgroundShells.Service>()(
  "sage/BackgroundShells"
) {}
