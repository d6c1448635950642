/** The tool API and the built-in tools. */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { BackgroundShells } from "../services/BackgroundShells.js"
import { Todos } from "../services/Todos.js"
import type { Tool as ToolContract, ToolKind } from "../services/Tool.js"
import { type BashOptions, makeBashTool } from "./Bash.js"
import { BashOutputTool } from "./BashOutput.js"
import { EditTool } from "./Edit.js"
import { type GlobOptions, makeGlobTool } from "./Glob.js"
import { type GrepOptions, makeGrepTool } from "./Grep.js"
import { KillShellTool } from "./KillShell.js"
import { type LSOptions, makeLSTool } from "./LS.js"
import { MultiEditTool } from "./MultiEdit.js"
import { makeReadTool, type ReadOptions } from "./Read.js"
import { makeTodoWriteTool } from "./TodoWrite.js"
import { makeWebFetchTool, type WebFetchOptions } from "./WebFetch.js"
import { WriteTool } from "./Write.js"

export * from "./Bash.js"
export * from "./BashOutput.js"
export * from "./Edit.js"
export * from "./Glob.js"
export * from "./Grep.js"
export * from "./KillShell.js"
export * from "./LS.js"
export * from "./MultiEdit.js"
export * from "./Read.js"
export * from "./TodoWrite.js"
export * from "./Tool.js"
export * from "./WebFetch.js"
export * from "./Write.js"

/** Options of the built-in tools (each part is optional; the services come from the context). */
export interface BuiltinToolsOptions {
  readonly read?: ReadOptions
  readonly glob?: GlobOptions
  readonly ls?: LSOptions
  readonly bash?: BashOptions
  readonly grep?: GrepOptions
  /** WebFetch refuses private and loopback addresses unless `allowPrivate` / `allowedHosts` say otherwise. */
  readonly webFetch?: WebFetchOptions
}

/**
 * The built-in tools, in the order the model sees them: Read, Write, Edit, MultiEdit, LS, Glob, Bash,
 * BashOutput, KillShell, Grep, WebFetch, TodoWrite. Made on the services of the context: `Workspace`,
 * `FileState` (shared by Read and the file-changing tools), `Sandbox` (how Bash runs commands), `FileSystem`,
 * and, when present, `BackgroundShells` (without it, BashOutput and KillShell are left out and Bash refuses
 * `run_in_background`). TodoWrite keeps its lists in the `Todos` service when the context has one (by session id,
 * seeded by `Conversation.open`), else in lists of its own.
 */
export const makeBuiltinTools = Effect.fn("makeBuiltinTools")(function* (options: BuiltinToolsOptions = {}) {
  const shells = yield* Effect.serviceOption(BackgroundShells)
  const shellTools: ReadonlyArray<ToolContract.Any> = Option.isSome(shells)
    ? yield* Effect.all([BashOutputTool, KillShellTool]).pipe(Effect.provideService(BackgroundShells, shells.value))
    : []
  const tools: ReadonlyArray<ToolContract.Any> = [
    yield* makeReadTool(options.read),
    yield* WriteTool,
    yield* EditTool,
    yield* MultiEditTool,
    yield* makeLSTool(options.ls),
    yield* makeGlobTool(options.glob),
    yield* makeBashTool(options.bash),
    ...shellTools,
    yield* makeGrepTool(options.grep),
    makeWebFetchTool(options.webFetch),
    yield* makeTodoWriteTool(Option.getOrUndefined(yield* Effect.serviceOption(Todos)))
  ]
  return tools
})

/** `makeBuiltinTools` with the default options. */
export const builtinTools = makeBuiltinTools()

/** What the permission layer needs to know of a built-in tool without making it. */
export interface BuiltinToolSummary {
  readonly name: string
  readonly readOnly: boolean
  readonly kind: ToolKind
}

/** Name, `readOnly` and `kind` of every built-in tool, in `builtinTools` order (checked against the tools in tests). */
export const builtinToolSummaries: ReadonlyArray<BuiltinToolSummary> = [
  { name: "Read", readOnly: true, kind: "read" },
  { name: "Write", readOnly: false, kind: "edit" },
  { name: "Edit", readOnly: false, kind: "edit" },
  { name: "MultiEdit", readOnly: false, kind: "edit" },
  { name: "LS", readOnly: true, kind: "read" },
  { name: "Glob", readOnly: true, kind: "read" },
  { name: "Bash", readOnly: false, kind: "execute" },
  { name: "BashOutput", readOnly: true, kind: "read" },
  { name: "KillShell", readOnly: false, kind: "execute" },
  { name: "Grep", readOnly: true, kind: "read" },
  { name: "WebFetch", readOnly: true, kind: "network" },
  { name: "TodoWrite", readOnly: true, kind: "other" }
]
