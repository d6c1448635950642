/**
 * Sage's one boundary to the MCP client SDK (`@modelcontextprotocol/client` v2). The SDK is imported with
 * `import()` on the first connection, so a run without MCP servers never loads it. Everything here speaks
 * Promises and plain data (`McpConnection`); `layers/McpLive.ts` wraps it in Effects.
 *
 * Version negotiation is `auto`: the client probes with `server/discover` (2026-07-28) and falls back to the
 * 2025 `initialize` handshake for servers that do not know it.
 */
import type {
  CallToolResult,
  Client,
  ContentBlock,
  Tool as SdkToolDefinition,
  Transport
} from "@modelcontextprotocol/client"
import type { McpCallResult, McpPromptMessage, McpResourceInfo } from "../services/McpServers.js"
import type { ToolOutput } from "../streams/ToolCall.js"
import type { McpServerConfig } from "./Config.js"
import { ProcessGroupStdioTransport } from "./StdioTransport.js"

type SdkModule = typeof import("@modelcontextprotocol/client")

let sdk: Promise<SdkModule> | undefined

/** The SDK module, imported once. */
export const loadSdk = (): Promise<SdkModule> => {
  sdk ??= import("@modelcontextprotocol/client")
  return sdk
}

export interface ConnectParams {
  readonly server: string
  /** Expanded (no `${VAR}` left). */
  readonly config: McpServerConfig
  /** The complete environment of a stdio server (scrubbed, plus the config's `env`). */
  readonly env: Readonly<Record<string, string>>
  readonly cwd: string
  readonly stderrFile: string | undefined
  readonly timeoutMs: number
  readonly clientVersion: string
}

export interface SdkTool {
  readonly name: string
  readonly description: string
  readonly inputSchema: Record<string, unknown>
  readonly readOnlyHint: boolean
}

export interface SdkPrompt {
  readonly name: string
  readonly description?: string
  readonly arguments: ReadonlyArray<{
    readonly name: string
    readonly description?: string
    readonly required: boolean
  }>
}

/** One live connection to a server. */
export interface McpConnection {
  readonly protocolVersion: string | undefined
  readonly serverName: string | undefined
  readonly serverVersion: string | undefined
  readonly tools: ReadonlyArray<SdkTool>
  readonly prompts: ReadonlyArray<SdkPrompt>
  readonly resources: ReadonlyArray<Omit<McpResourceInfo, "server">>
  readonly pid: number | undefined
  readonly callTool: (
    name: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
    timeoutMs: number
  ) => Promise<McpCallResult>
  readonly listResources: (signal: AbortSignal) => Promise<ReadonlyArray<Omit<McpResourceInfo, "server">>>
  readonly readResource: (uri: string, signal: AbortSignal) => Promise<ReadonlyArray<ToolOutput>>
  readonly getPrompt: (
    name: string,
    args: Readonly<Record<string, string>>,
    signal: AbortSignal
  ) => Promise<ReadonlyArray<McpPromptMessage>>
  /** Set once: called when the connection ends for any reason but `close()`. */
  onLost: ((reason: string) => void) | undefined
  /** Set once: called with the new list when the server says its tools changed (`notifications/tools/list_changed`). */
  onToolsChanged: ((tools: ReadonlyArray<SdkTool>) => void) | undefined
  readonly close: () => Promise<void>
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const sameJson = (text: string, value: unknown): boolean => {
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(value)
  } catch {
    return false
  }
}

/** One content block as tool output pieces. */
export const contentOutput = (block: ContentBlock): ReadonlyArray<ToolOutput> => {
  switch (block.type) {
    case "text":
      return [{ type: "text", text: block.text }]
    case "image":
      return [{ type: "image", mediaType: block.mimeType, data: block.data }]
    case "audio":
      return [{ type: "text", text: `[audio ${block.mimeType}, ${Math.floor((block.data.length * 3) / 4)} bytes]` }]
    case "resource_link":
      return [
        {
          type: "text",
          text: `[resource ${block.uri}${block.name === "" ? "" : ` "${block.name}"`}${block.mimeType === undefined ? "" : ` ${block.mimeType}`}]`
        }
      ]
    case "resource": {
      const resource = block.resource
      if ("text" in resource && typeof resource.text === "string") {
        return [{ type: "text", text: `[resource ${resource.uri}]\n${resource.text}` }]
      }
      const mime = resource.mimeType ?? "application/octet-stream"
      if ("blob" in resource && typeof resource.blob === "string" && mime.startsWith("image/")) {
        return [{ type: "image", mediaType: mime, data: resource.blob }]
      }
      return [{ type: "text", text: `[resource ${resource.uri}: binary ${mime}]` }]
    }
    default:
      return [{ type: "text", text: `[unsupported content ${JSON.stringify(block).slice(0, 200)}]` }]
  }
}

/** A `tools/call` result as tool output: content blocks, structured content as JSON text, `isError`. */
export const callResultOutput = (result: CallToolResult): McpCallResult => {
  const output: Array<ToolOutput> = result.content.flatMap(contentOutput)
  const structured = result.structuredContent
  if (structured !== undefined && !output.some((o) => o.type === "text" && sameJson(o.text, structured))) {
    output.push({ type: "text", text: JSON.stringify(structured, null, 2) })
  }
  if (output.length === 0) output.push({ type: "text", text: "(no output)" })
  return { output, isError: result.isError === true }
}

const sdkTool = (tool: SdkToolDefinition): SdkTool => ({
  name: tool.name,
  description: tool.description ?? tool.title ?? "",
  inputSchema: isRecord(tool.inputSchema) ? { ...tool.inputSchema } : { type: "object", properties: {} },
  readOnlyHint: tool.annotations?.readOnlyHint === true
})

const makeTransport = (module: SdkModule, params: ConnectParams): Transport => {
  const config = params.config
  if (config.type === "stdio") {
    return new ProcessGroupStdioTransport({
      command: config.command,
      args: config.args ?? [],
      env: params.env,
      cwd: config.cwd ?? params.cwd,
      stderrFile: params.stderrFile
    })
  }
  const url = new URL(config.url)
  const requestInit = config.headers === undefined ? undefined : { headers: { ...config.headers } }
  return config.type === "sse"
    ? new module.SSEClientTransport(url, requestInit === undefined ? {} : { requestInit })
    : new module.StreamableHTTPClientTransport(url, requestInit === undefined ? {} : { requestInit })
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const listed = async <T>(available: boolean, list: () => Promise<T>, empty: T): Promise<T> => {
  if (!available) return empty
  try {
    return await list()
  } catch {
    return empty
  }
}

/**
 * Connects and lists the server's tools, prompts and resources; on any failure the transport is closed. A stdio
 * server that fails the 2026-07-28 probe (some 2025 servers exit on any request before `initialize`) is started
 * again with the plain 2025 handshake.
 */
export const connect = async (params: ConnectParams, signal: AbortSignal): Promise<McpConnection> => {
  try {
    return await connectWith(params, signal, "auto")
  } catch (error) {
    if (params.config.type !== "stdio" || signal.aborted || isSpawnFailure(error)) throw error
    return await connectWith(params, signal, "legacy")
  }
}

/** The program could not be started at all: starting it again would fail the same way. */
const isSpawnFailure = (error: unknown): boolean => /^cannot start /.test(errorText(error))

const connectWith = async (
  params: ConnectParams,
  signal: AbortSignal,
  mode: "auto" | "legacy"
): Promise<McpConnection> => {
  const module = await loadSdk()
  const transport = makeTransport(module, params)
  const client: Client = new module.Client(
    { name: "sage", version: params.clientVersion },
    {
      capabilities: {},
      listChanged: {
        tools: {
          debounceMs: 100,
          onChanged: (error, tools) => {
            if (error === null && tools !== null) toolsChanged?.(tools.map(sdkTool))
          }
        }
      },
      versionNegotiation:
        mode === "auto" ? { mode: "auto", probe: { timeoutMs: Math.min(params.timeoutMs, 5000) } } : { mode: "legacy" }
    }
  )
  let closing = false
  let lost: ((reason: string) => void) | undefined
  let toolsChanged: ((tools: ReadonlyArray<SdkTool>) => void) | undefined
  let lastError: string | undefined
  client.onerror = (error) => {
    lastError = errorText(error)
  }
  client.onclose = () => {
    if (!closing) lost?.(lastError === undefined ? "the connection closed" : `the connection closed (${lastError})`)
  }
  const close = async () => {
    closing = true
    try {
      await client.close()
    } catch {
      // closing anyway
    }
    try {
      await transport.close()
    } catch {
      // already closed
    }
  }
  const onAbort = () => void close()
  signal.addEventListener("abort", onAbort, { once: true })
  try {
    await client.connect(transport, { signal, timeout: params.timeoutMs })
    const capabilities = client.getServerCapabilities() ?? {}
    const request = { signal, timeout: params.timeoutMs }
    const tools = await listed(capabilities.tools !== undefined, () => client.listTools(undefined, request), {
      tools: []
    })
    const prompts = await listed(capabilities.prompts !== undefined, () => client.listPrompts(undefined, request), {
      prompts: []
    })
    const resources = await listed(
      capabilities.resources !== undefined,
      () => client.listResources(undefined, request),
      { resources: [] }
    )
    const mapResources = (list: typeof resources.resources) =>
      list.map((r) => ({
        uri: r.uri,
        name: r.name,
        ...(r.description === undefined ? {} : { description: r.description }),
        ...(r.mimeType === undefined ? {} : { mimeType: r.mimeType })
      }))
    const server = client.getServerVersion()
    const connection: McpConnection = {
      protocolVersion: client.getNegotiatedProtocolVersion(),
      serverName: server?.name,
      serverVersion: server?.version,
      tools: tools.tools.map(sdkTool),
      prompts: prompts.prompts.map((prompt) => ({
        name: prompt.name,
        ...(prompt.description === undefined ? {} : { description: prompt.description }),
        arguments: (prompt.arguments ?? []).map((a) => ({
          name: a.name,
          ...(a.description === undefined ? {} : { description: a.description }),
          required: a.required === true
        }))
      })),
      resources: mapResources(resources.resources),
      pid: transport instanceof ProcessGroupStdioTransport ? transport.pid : undefined,
      callTool: async (name, args, callSignal, timeoutMs) =>
        callResultOutput(await client.callTool({ name, arguments: args }, { signal: callSignal, timeout: timeoutMs })),
      listResources: async (callSignal) =>
        mapResources((await client.listResources(undefined, { signal: callSignal, cacheMode: "bypass" })).resources),
      readResource: async (uri, callSignal) => {
        const result = await client.readResource({ uri }, { signal: callSignal, cacheMode: "bypass" })
        return result.contents.flatMap((contents) => contentOutput({ type: "resource", resource: contents }))
      },
      getPrompt: async (name, args, callSignal) => {
        const result = await client.getPrompt({ name, arguments: { ...args } }, { signal: callSignal })
        return result.messages.map((message) => ({
          role: message.role,
          text: contentOutput(message.content)
            .map((o) =>
              o.type === "text" ? o.text : o.type === "image" ? `[image ${o.mediaType}]` : JSON.stringify(o)
            )
            .join("\n")
        }))
      },
      get onLost() {
        return lost
      },
      set onLost(callback) {
        lost = callback
      },
      get onToolsChanged() {
        return toolsChanged
      },
      set onToolsChanged(callback) {
        toolsChanged = callback
      },
      close
    }
    return connection
  } catch (error) {
    await close()
    throw new Error(
      lastError !== undefined && !errorText(error).includes(lastError)
        ? `${errorText(error)} (${lastError})`
        : errorText(error)
    )
  } finally {
    signal.removeEventListener("abort", onAbort)
  }
}
