/**
 * `mcp.status` events for a run's output: at the start, every MCP server that is not `connected` (failed, or
 * waiting for approval); then every status change (a crash, a reconnection) while the run lasts.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { McpServers, type McpServerStatus } from "../services/McpServers.js"
import { type AgentEvent, PROTOCOL_VERSION } from "../streams/AgentEvent.js"

const toEvent = (status: McpServerStatus, sessionId: string): Effect.Effect<AgentEvent> =>
  Effect.map(Clock.currentTimeMillis, (timestamp) => ({
    type: "mcp.status" as const,
    v: PROTOCOL_VERSION,
    sessionId,
    agentId: "main",
    timestamp,
    server: status.name,
    state: status.state,
    ...(status.reason === undefined ? {} : { reason: status.reason }),
    ...(status.protocolVersion === undefined ? {} : { protocolVersion: status.protocolVersion }),
    tools: status.tools
  }))

/** Prints the servers' problems now and their status changes from now on (run it forked, in the run's scope). */
export const printMcpStatus = (
  sessionId: string,
  print: (event: AgentEvent) => Effect.Effect<void>
): Effect.Effect<void, never, McpServers> =>
  Effect.gen(function* () {
    const mcp = yield* McpServers
    const now = yield* mcp.statuses
    yield* Effect.forEach(
      now.filter((s) => s.state !== "connected"),
      (s) => Effect.flatMap(toEvent(s, sessionId), print),
      { discard: true }
    )
    yield* mcp.changes.pipe(Stream.runForEach((s) => Effect.flatMap(toEvent(s, sessionId), print)))
  })

/** The line shown for a status (the REPL's form of `mcp.status`), or nothing for one that needs no attention. */
export const mcpStatusLine = (status: McpServerStatus): string | undefined => {
  switch (status.state) {
    case "connecting":
      return undefined
    case "connected":
      return `MCP server ${status.name} connected (${status.tools} tool${status.tools === 1 ? "" : "s"})`
    case "needs-approval":
      return `MCP server ${status.name} needs approval: sage mcp approve ${status.name}`
    case "failed":
      return `MCP server ${status.name} failed${status.reason === undefined ? "" : `: ${status.reason.split("\n")[0]}`}`
  }
}

/** For the REPL: shows the servers' problems once the agent is loaded, then their status changes. */
export const watchMcpStatus = (
  context: Context.Context<McpServers>,
  show: (line: string) => Effect.Effect<unknown>
): Effect.Effect<void> =>
  Effect.gen(function* () {
    const mcp = Context.get(context, McpServers)
    const showStatus = (s: McpServerStatus) => {
      const line = mcpStatusLine(s)
      return line === undefined ? Effect.void : Effect.asVoid(show(line))
    }
    yield* Effect.forEach(
      (yield* mcp.statuses).filter((s) => s.state !== "connected"),
      showStatus,
      { discard: true }
    )
    yield* mcp.changes.pipe(Stream.runForEach(showStatus))
  })
