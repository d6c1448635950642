/** The tool API and the built-in tools. */
import type { Tool as ToolContract } from "../services/Tool.js"
import { type BashOptions, makeBashTool } from "./Bash.js"
import { type GlobOptions, makeGlobTool } from "./Glob.js"
import { makeReadTool, type ReadOptions } from "./Read.js"
import type { Workspace } from "./Workspace.js"

export * from "./Bash.js"
export * from "./Glob.js"
export * from "./ProcessGroup.js"
export * from "./Read.js"
export * from "./Tool.js"
export * from "./Workspace.js"

export interface BuiltinToolsOptions {
  /** Where file tools may read and commands run (the first root is the working directory). */
  readonly workspace: Workspace
  /** The environment commands start from (secrets are scrubbed). */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly read?: ReadOptions
  readonly glob?: GlobOptions
  readonly bash?: Omit<BashOptions, "workspace" | "env">
}

/** The built-in tools, in the order the model sees them: Read, Glob, Bash. */
export const builtinTools = (options: BuiltinToolsOptions): ReadonlyArray<ToolContract.Any> => [
  makeReadTool(options.workspace, options.read),
  makeGlobTool(options.workspace, options.glob),
  makeBashTool({ ...options.bash, workspace: options.workspace, env: options.env })
]
