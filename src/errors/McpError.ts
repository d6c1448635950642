import * as Schema from "effect/Schema"

/** An MCP server could not be reached, refused a request, or timed out. `server` names it. */
export class McpError extends Schema.TaggedError<McpError>()("McpError", {
  server: Schema.String,
  message: Schema.String
}) {}

/** An MCP configuration (`.mcp.json`, `--mcp-config`, settings `mcpServers`, the `mcpServers` option) is invalid. */
export class McpConfigError extends Schema.TaggedError<McpConfigError>()("McpConfigError", {
  message: Schema.String,
  source: Schema.optional(Schema.String)
}) {}
