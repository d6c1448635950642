/**
 * The `KillShell` tool: stop a background shell (started by `Bash` with `run_in_background`) and everything
 * it started.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { describeStatus } from "../process/BackgroundShells.js"
import { BackgroundShells } from "../services/BackgroundShells.js"
import { Tool } from "./Tool.js"

/** The `KillShell` tool, on the session's `BackgroundShells`. Kind `execute`; sequential. */
export const KillShellTool = Effect.gen(function* () {
  const shells = yield* BackgroundShells
  return Tool.make({
    name: "KillShell",
    description:
      "Stop a background shell started with Bash run_in_background, killing its whole process group (SIGTERM, then SIGKILL). Its remaining output can still be read with BashOutput.",
    input: Schema.Struct({
      shell_id: Schema.String.annotate({ description: "The shell id that Bash returned, e.g. bash_1" })
    }),
    kind: "execute",
    execute: ({ shell_id }) =>
      Effect.map(shells.kill(shell_id), (info) =>
        info.status.state === "killed"
          ? `Killed shell ${info.id} (${info.command}).`
          : `Shell ${info.id} had already finished (${describeStatus(info.status)}); anything it left running was stopped.`
      )
  })
})
