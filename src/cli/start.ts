/**
 * What `bin.ts` needs to run the CLI, as one module: one dynamic import (and fewer, larger chunks on the way to the
 * first model request) instead of one per piece.
 */
export * as NodeRuntime from "@effect/platform-node-shared/NodeRuntime"
export * as Cause from "effect/Cause"
export * as Effect from "effect/Effect"
export * as Exit from "effect/Exit"
export { runCli } from "./main.js"
export { killDescendants } from "./ProcessTree.js"
