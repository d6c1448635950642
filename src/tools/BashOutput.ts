/**
 * The `BashOutput` tool: the new output of a background shell (started by `Bash` with `run_in_background`)
 * since the previous call, and whether it is still running.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import { describeStatus } from "../process/BackgroundShells.js"
import { BackgroundShells } from "../services/BackgroundShells.js"
import { stripControlSequences } from "./Bash.js"
import { Tool } from "./Tool.js"

const compileFilter = (filter: string | undefined) =>
  Effect.try({
    try: () => (filter === undefined ? undefined : new RegExp(filter)),
    catch: (error) =>
      new ToolExecutionError({
        tool: "BashOutput",
        message: `Invalid filter regular expression ${JSON.stringify(filter)}: ${error instanceof Error ? error.message : String(error)}`
      })
  })

/**
 * The `BashOutput` tool, on the session's `BackgroundShells`. Read-only (it only reads what a shell already
 * printed; each call moves the shell's read position), runs in parallel with other calls.
 */
export const BashOutputTool = Effect.gen(function* () {
  const shells = yield* BackgroundShells
  return Tool.make({
    name: "BashOutput",
    description: [
      "Get the output of a background shell (started with Bash run_in_background) produced since the last BashOutput call for it, and its status (running, exited with code N, killed).",
      "With filter, only the new lines matching that regular expression are returned (the others are discarded).",
      "Only the most recent output is kept while nobody reads it."
    ].join(" "),
    input: Schema.Struct({
      shell_id: Schema.String.annotate({ description: "The shell id that Bash returned, e.g. bash_1" }),
      filter: Schema.optionalKey(
        Schema.String.annotate({
          description: "A JavaScript regular expression; only output lines matching it are returned"
        })
      )
    }),
    readOnly: true,
    execute: ({ shell_id, filter }) =>
      Effect.gen(function* () {
        const matcher = yield* compileFilter(filter)
        const result = yield* shells.read(shell_id)
        let output = stripControlSequences(result.output)
        if (matcher !== undefined) {
          output = output
            .split("\n")
            .filter((line) => matcher.test(line))
            .join("\n")
        }
        output = output.replace(/\s+$/, "")
        const lines = [`Shell ${result.id} (pid ${result.pid}): ${describeStatus(result.status)}`]
        if (result.dropped > 0) {
          lines.push(`[${result.dropped} characters of earlier output were dropped; only the most recent is kept]`)
        }
        lines.push(output === "" ? "(no new output)" : output)
        return lines.join("\n")
      })
  })
})
