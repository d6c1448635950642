/**
 * MCP tools as Sage tools: each tool of a connected server becomes `mcp__<server>__<tool>` with the server's
 * JSON Schema as what the model sees, plus `ListMcpResources` and `ReadMcpResource` when a server offers resources.
 *
 * Permissions: every MCP tool is `kind: "other"` and never `readOnly`, whatever its `readOnlyHint` says (the
 * hint comes from the server, which we do not trust): it asks in `default` mode unless a rule (`mcp__server`,
 * `mcp__server__tool`) allows it, and `plan` mode refuses it. The hint only lets calls of the tool run in
 * parallel.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ToolExecutionError } from "../errors/ToolError.js"
import type { McpServers, McpToolInfo } from "../services/McpServers.js"
import type { Tool } from "../services/Tool.js"
import type { ToolOutput } from "../streams/ToolCall.js"

const McpInput = Schema.Record(Schema.String, Schema.Unknown)

/** What the model sees of an MCP tool's schema: an object schema (the server's), without `$schema`. */
const modelSchema = (schema: Record<string, unknown>): Record<string, unknown> => {
  const { $schema: _schema, ...rest } = schema
  return { ...rest, type: "object", ...(rest.properties === undefined ? { properties: {} } : {}) }
}

const MAX_DESCRIPTION = 2048

/** Text a server's result may put before the model, in characters (about 25 000 tokens). */
export const MAX_MCP_OUTPUT_CHARS = 100_000

/**
 * `output` with its text bounded to `max` characters in all: a piece too long keeps its head and tail and says how
 * much was cut between them; pieces after the budget is spent are replaced by a note.
 */
export const boundOutput = (
  output: ReadonlyArray<ToolOutput>,
  max = MAX_MCP_OUTPUT_CHARS
): ReadonlyArray<ToolOutput> => {
  let left = max
  return output.map((piece): ToolOutput => {
    if (piece.type !== "text") return piece
    if (piece.text.length <= left) {
      left -= piece.text.length
      return piece
    }
    if (left <= 0) return { type: "text", text: `[${piece.text.length} more characters of output cut]` }
    const head = Math.ceil(left * 0.7)
    const tail = left - head
    const cut = piece.text.length - head - tail
    left = 0
    return {
      type: "text",
      text: `${piece.text.slice(0, head)}\n[... ${cut} characters cut: the output was too long ...]\n${tail === 0 ? "" : piece.text.slice(-tail)}`
    }
  })
}

/** One MCP tool as a Sage tool. */
export const mcpTool = (servers: McpServers.Service, info: McpToolInfo): Tool<Record<string, unknown>> => ({
  name: info.registryName,
  description:
    (info.description.length > MAX_DESCRIPTION
      ? `${info.description.slice(0, MAX_DESCRIPTION)}...`
      : info.description) || `Tool ${info.name} of the MCP server ${info.server}.`,
  input: McpInput,
  jsonSchema: modelSchema(info.inputSchema),
  readOnly: false,
  kind: "other",
  concurrency: info.readOnlyHint ? { type: "parallel" } : { type: "sequential" },
  // A little longer than the server's own timeout, which cancels the request with a clear message first.
  timeout: Duration.millis(info.timeoutMs + 2_000),
  execute: (input) =>
    servers.callTool(info.server, info.name, input).pipe(
      Effect.mapError((error) => new ToolExecutionError({ tool: info.registryName, message: error.message })),
      Effect.flatMap((result) =>
        result.isError
          ? Effect.fail(
              new ToolExecutionError({
                tool: info.registryName,
                message: boundOutput(result.output)
                  .map((o) => (o.type === "text" ? o.text : JSON.stringify(o.type === "json" ? o.value : o.mediaType)))
                  .join("\n")
              })
            )
          : Effect.succeed(boundOutput(result.output))
      )
    )
})

const ListInput = Schema.Struct({
  server: Schema.optionalKey(Schema.String.annotate({ description: "Only this server's resources (default: all)" }))
})

const ReadInput = Schema.Struct({
  server: Schema.String.annotate({ description: "The MCP server that has the resource" }),
  uri: Schema.String.annotate({ description: "The resource URI, as ListMcpResources shows it" })
})

const toolError = (tool: string) => (error: { readonly message: string }) =>
  new ToolExecutionError({ tool, message: error.message })

/** `ListMcpResources` and `ReadMcpResource`. */
export const resourceTools = (servers: McpServers.Service, timeoutMs: number): ReadonlyArray<Tool.Any> => {
  const list: Tool<typeof ListInput.Type> = {
    name: "ListMcpResources",
    description:
      "Lists the resources (files, documents, data) that the connected MCP servers offer: server, URI, name and type of each. Read one with ReadMcpResource.",
    input: ListInput,
    jsonSchema: {
      type: "object",
      properties: { server: { type: "string", description: "Only this server's resources (default: all)" } },
      additionalProperties: false
    },
    readOnly: false,
    kind: "other",
    concurrency: { type: "parallel" },
    timeout: Duration.millis(timeoutMs + 2_000),
    execute: (input) =>
      servers.listResources(input.server).pipe(
        Effect.mapError(toolError("ListMcpResources")),
        Effect.map((resources) =>
          resources.length === 0
            ? "No resources."
            : resources
                .map(
                  (r) =>
                    `${r.server}\t${r.uri}\t${r.name}${r.mimeType === undefined ? "" : `\t${r.mimeType}`}${r.description === undefined ? "" : `\t${r.description}`}`
                )
                .join("\n")
        )
      )
  }
  const read: Tool<typeof ReadInput.Type> = {
    name: "ReadMcpResource",
    description: "Reads one resource of an MCP server by its URI (see ListMcpResources).",
    input: ReadInput,
    jsonSchema: {
      type: "object",
      properties: {
        server: { type: "string", description: "The MCP server that has the resource" },
        uri: { type: "string", description: "The resource URI, as ListMcpResources shows it" }
      },
      required: ["server", "uri"],
      additionalProperties: false
    },
    readOnly: false,
    kind: "other",
    concurrency: { type: "parallel" },
    timeout: Duration.millis(timeoutMs + 2_000),
    execute: (input) =>
      servers
        .readResource(input.server, input.uri)
        .pipe(Effect.mapError(toolError("ReadMcpResource")), Effect.map(boundOutput))
  }
  return [list, read]
}

/** Every tool the servers offer now (for the registry), resources tools included when any server has some. */
export const mcpTools = (servers: McpServers.Service): Effect.Effect<ReadonlyArray<Tool.Any>> =>
  Effect.gen(function* () {
    const tools = yield* servers.tools
    const statuses = yield* servers.statuses
    const withResources = statuses.some((s) => s.state === "connected" && s.resources > 0)
    const seen = new Set<string>()
    const out: Array<Tool.Any> = []
    for (const info of tools) {
      if (seen.has(info.registryName)) continue
      seen.add(info.registryName)
      out.push(mcpTool(servers, info))
    }
    if (withResources) out.push(...resourceTools(servers, Math.max(...tools.map((t) => t.timeoutMs), 60_000)))
    return out
  })
