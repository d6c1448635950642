/** The tool API and the built-in tools. */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { Sandbox } from "../services/Sandbox.js"
import type { Tool as ToolContract } from "../services/Tool.js"
import {
  type BackgroundShells,
  type BackgroundShellsOptions,
  makeBackgroundShells
} from "../process/BackgroundShells.js"
import { type BashOptions, makeBashTool } from "./Bash.js"
import { makeBashOutputTool } from "./BashOutput.js"
import { makeEditTool } from "./Edit.js"
import { type FileState, makeFileState, unsafeMakeFileState } from "../workspace/FileState.js"
import { type GlobOptions, makeGlobTool } from "./Glob.js"
import { type GrepOptions, makeGrepTool } from "./Grep.js"
import { makeKillShellTool } from "./KillShell.js"
import { type LSOptions, makeLSTool } from "./LS.js"
import { makeMultiEditTool } from "./MultiEdit.js"
import { makeReadTool, type ReadOptions } from "./Read.js"
import { makeTodoWriteTool, type TodoWriteTool } from "./TodoWrite.js"
import { makeWebFetchTool, type WebFetchOptions } from "./WebFetch.js"
import { makeWriteTool } from "./Write.js"
import type { Workspace } from "../workspace/Workspace.js"

export * from "../process/BackgroundShells.js"
export * from "./Bash.js"
export * from "./BashOutput.js"
export * from "./Edit.js"
export * from "../workspace/FileState.js"
export * from "../workspace/Gitignore.js"
export * from "./Glob.js"
export * from "./Grep.js"
export * from "./KillShell.js"
export * from "./LS.js"
export * from "./MultiEdit.js"
export * from "../process/ProcessGroup.js"
export * from "./Read.js"
export * from "./TodoWrite.js"
export * from "./Tool.js"
export * from "./WebFetch.js"
export * from "../workspace/Workspace.js"
export * from "./Write.js"

export interface BuiltinToolsOptions {
  /** Where file tools may read and write and commands run (the first root is the working directory). */
  readonly workspace: Workspace
  /** The environment commands start from (secrets are scrubbed). */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly read?: Omit<ReadOptions, "fileState">
  readonly glob?: GlobOptions
  readonly ls?: LSOptions
  readonly bash?: Omit<BashOptions, "workspace" | "env" | "backgroundShells">
  readonly grep?: Omit<GrepOptions, "env">
  /** WebFetch refuses private and loopback addresses unless `allowPrivate` / `allowedHosts` say otherwise. */
  readonly webFetch?: WebFetchOptions
  /** The session's TodoWrite (its list is per-session state); when absent a fresh one is made. */
  readonly todoWrite?: TodoWriteTool
  /**
   * Whether Write/Edit/MultiEdit may change a file in a protected directory (`.git/`, `.sage/`), given its real
   * path. Default: never. Wire it to an explicit permission allow rule for that path.
   */
  readonly allowProtected?: (path: string) => boolean
  /**
   * The session's read-before-write record, shared by Read and the file-changing tools. When absent,
   * `builtinTools` makes one for this tool set (so it is shared by every session that uses the set);
   * `makeBuiltinTools` makes a fresh one.
   */
  readonly fileState?: FileState
  /**
   * The session's background shells. When absent, `builtinTools` leaves out BashOutput and KillShell and Bash
   * refuses `run_in_background`; `makeBuiltinTools` makes a registry in the current scope.
   */
  readonly backgroundShells?: BackgroundShells
  /** The OS sandbox Bash runs commands in; without it they run unconfined. */
  readonly sandbox?: Sandbox.Service
}

export interface MakeBuiltinToolsOptions extends BuiltinToolsOptions {
  /** For the registry `makeBuiltinTools` creates when `backgroundShells` is absent. */
  readonly backgroundShellsOptions?: BackgroundShellsOptions
}

/**
 * The built-in tools, in the order the model sees them: Read, Write, Edit, MultiEdit, LS, Glob, Bash,
 * (with `backgroundShells`) BashOutput, KillShell, then Grep, WebFetch, TodoWrite. Pure: per-session state is taken from `options`; prefer
 * `makeBuiltinTools`, which creates it.
 */
export const builtinTools = (options: BuiltinToolsOptions): ReadonlyArray<ToolContract.Any> => {
  const fileState = options.fileState ?? unsafeMakeFileState()
  const edit = {
    fileState,
    ...(options.allowProtected === undefined ? {} : { allowProtected: options.allowProtected })
  }
  const shells = options.backgroundShells
  return [
    makeReadTool(options.workspace, { ...options.read, fileState }),
    makeWriteTool(options.workspace, edit),
    makeEditTool(options.workspace, edit),
    makeMultiEditTool(options.workspace, edit),
    makeLSTool(options.workspace, options.ls),
    makeGlobTool(options.workspace, options.glob),
    makeBashTool({
      ...options.bash,
      workspace: options.workspace,
      env: options.env,
      ...(shells === undefined ? {} : { backgroundShells: shells }),
      ...(options.sandbox === undefined ? {} : { sandbox: options.sandbox })
    }),
    ...(shells === undefined ? [] : [makeBashOutputTool(shells), makeKillShellTool(shells)]),
    makeGrepTool(options.workspace, { env: options.env, ...options.grep }),
    makeWebFetchTool(options.webFetch),
    options.todoWrite ?? makeTodoWriteTool()
  ]
}

/**
 * The built-in tools for one session, with that session's state: a fresh `FileState` and a `BackgroundShells`
 * registry that lives in the current scope (closing it kills every background shell), unless `options` passes
 * its own. Same order as `builtinTools`, always including BashOutput and KillShell.
 */
export const makeBuiltinTools = (
  options: MakeBuiltinToolsOptions
): Effect.Effect<ReadonlyArray<ToolContract.Any>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const fileState = options.fileState ?? (yield* makeFileState())
    const backgroundShells = options.backgroundShells ?? (yield* makeBackgroundShells(options.backgroundShellsOptions))
    return builtinTools({ ...options, fileState, backgroundShells })
  })
