/**
 * Wiring of `McpServers` (the engine is `src/mcp/McpServersLive.ts`): connects the configured servers when the layer
 * is built, and closes them (killing stdio servers' process groups) when it is released.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { type McpConfigError, McpError } from "../errors/McpError.js"
import { type McpLiveOptions, make } from "../mcp/McpServersLive.js"
import { McpServers } from "../services/McpServers.js"

export { type McpLiveOptions, make }

/** `McpServers` for `options`; closing the layer closes the servers. */
export const layer = (options: McpLiveOptions): Layer.Layer<McpServers, McpConfigError> =>
  Layer.effect(McpServers, make(options))

/** No servers (what a session without any MCP configuration gets, without loading the SDK). */
export const empty: McpServers.Service = {
  statuses: Effect.succeed([]),
  changes: Stream.empty,
  tools: Effect.succeed([]),
  prompts: Effect.succeed([]),
  listResources: () => Effect.succeed([]),
  readResource: (server) => Effect.fail(new McpError({ server, message: `no MCP server named "${server}"` })),
  callTool: (server) => Effect.fail(new McpError({ server, message: `no MCP server named "${server}"` })),
  getPrompt: (server) => Effect.fail(new McpError({ server, message: `no MCP server named "${server}"` }))
}
