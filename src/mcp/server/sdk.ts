/**
 * The one module that imports the MCP server SDK (`@modelcontextprotocol/server` 2.x), loaded lazily by
 * `sage mcp serve`. It turns a `Handlers` (plain Promises: the Effect side lives in `ToolHost`) into an MCP server
 * over stdio or into a fetch-shaped HTTP handler:
 *
 * - stdio: `serveStdio` decides the era from the opening exchange (a 2025 `initialize`, or a 2026-07-28 request).
 * - HTTP: 2026-07-28 requests are served statelessly by `createMcpHandler`; 2025-era traffic gets sessions
 *   (`Mcp-Session-Id`, one `WebStandardStreamableHTTPServerTransport` per session). In front of both: the Host and
 *   Origin checks (loopback only, against DNS rebinding) and the bearer token.
 */
import { createHash, timingSafeEqual } from "node:crypto"
import { Readable, Writable } from "node:stream"
import {
  createMcpHandler,
  hostHeaderValidationResponse,
  isLegacyRequest,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
  Server,
  WebStandardStreamableHTTPServerTransport
} from "@modelcontextprotocol/server"
import { StdioServerTransport, serveStdio } from "@modelcontextprotocol/server/stdio"
import type { McpCallResult, McpTool } from "./ToolHost.js"

export interface CallOptions {
  readonly signal: AbortSignal
  /** Sends a progress notification when the request carried a progress token (else does nothing). */
  readonly progress: (message: string) => Promise<void>
}

/** What the server does, as Promises. */
export interface Handlers {
  readonly name: string
  readonly version: string
  readonly tools: ReadonlyArray<McpTool>
  readonly call: (name: string, args: unknown, options: CallOptions) => Promise<McpCallResult>
  readonly onError: (error: Error) => void
}

/** One server instance (the factory both entries call per connection / request). */
const makeServer = (handlers: Handlers): Server => {
  const server = new Server(
    { name: handlers.name, version: handlers.version },
    {
      capabilities: { tools: {} },
      instructions:
        "Sage's coding tools (Read, Write, Edit, Glob, Grep, LS, Bash, ...) confined to the server's workspace under " +
        "its permission rules, and an `agent` tool that runs a whole Sage turn."
    }
  )
  server.setRequestHandler("tools/list", () => ({
    tools: handlers.tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: { ...tool.inputSchema, type: "object" as const },
      annotations: { readOnlyHint: tool.readOnly, openWorldHint: false }
    }))
  }))
  server.setRequestHandler("tools/call", async (request, ctx) => {
    const token = request.params._meta?.progressToken
    let sent = 0
    const progress =
      token === undefined
        ? () => Promise.resolve()
        : (message: string) => {
            sent++
            return ctx.mcpReq
              .notify({ method: "notifications/progress", params: { progressToken: token, progress: sent, message } })
              .catch(() => undefined)
          }
    const result = await handlers.call(request.params.name, request.params.arguments ?? {}, {
      signal: ctx.mcpReq.signal,
      progress
    })
    return {
      content: result.content.map((c) => ({ ...c })),
      isError: result.isError,
      ...(result.structuredContent === undefined ? {} : { structuredContent: { ...result.structuredContent } })
    }
  })
  server.onerror = handlers.onError
  return server
}

export interface StdioHandle {
  readonly close: () => Promise<void>
}

/** Serves MCP on the given streams (both eras; the opening exchange decides). */
export const serveOnStdio = (
  handlers: Handlers,
  stdin: NodeJS.ReadableStream,
  stdout: NodeJS.WritableStream
): StdioHandle =>
  serveStdio(() => makeServer(handlers), {
    // The SDK's transport wants Node's stream classes (process.stdin/stdout are; anything else is wrapped).
    transport: new StdioServerTransport(
      stdin instanceof Readable ? stdin : new Readable().wrap(stdin),
      stdout instanceof Writable
        ? stdout
        : new Writable({ write: (chunk, _encoding, done) => stdout.write(chunk, done) })
    ),
    onerror: handlers.onError
  })

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

/** Constant-time: the digests have one length whatever was sent. */
const tokenMatches = (header: string | null, expected: Buffer): boolean => {
  const match = header === null ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(header)
  const given = digest(match?.[1] ?? "")
  return timingSafeEqual(given, expected) && match !== null
}

const jsonError = (status: number, message: string, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }), {
    status,
    headers: { "content-type": "application/json", ...headers }
  })

/** 2025-era HTTP sessions open at once at most (each holds a server instance until DELETE or shutdown). */
const MAX_SESSIONS = 64

export interface HttpHandler {
  readonly fetch: (request: Request) => Promise<Response>
  /** Ends every session and in-flight exchange. */
  readonly close: () => Promise<void>
}

/** The HTTP face: loopback Host/Origin only, bearer token, then 2026-07-28 (stateless) or 2025 (sessions). */
export const httpHandler = (handlers: Handlers, token: string): HttpHandler => {
  const expected = digest(token)
  const hostnames = localhostAllowedHostnames()
  const origins = localhostAllowedOrigins()
  const modern = createMcpHandler(() => makeServer(handlers), { legacy: "reject", onerror: handlers.onError })
  const sessions = new Map<string, { transport: WebStandardStreamableHTTPServerTransport; server: Server }>()

  const legacy = async (request: Request): Promise<Response> => {
    const sessionId = request.headers.get("mcp-session-id")
    if (sessionId !== null) {
      const session = sessions.get(sessionId)
      if (session === undefined) return jsonError(404, "Session not found")
      return session.transport.handleRequest(request)
    }
    if (sessions.size >= MAX_SESSIONS) {
      return jsonError(503, `Too many open sessions (${MAX_SESSIONS}): end one (DELETE) before opening another`)
    }
    const server = makeServer(handlers)
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => globalThis.crypto.randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server })
      },
      onsessionclosed: (id) => {
        sessions.delete(id)
      }
    })
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId)
    }
    await server.connect(transport)
    const response = await transport.handleRequest(request)
    // Not an initialize (rejected by the transport): nothing to keep.
    if (transport.sessionId === undefined) await server.close().catch(() => undefined)
    return response
  }

  return {
    fetch: async (request) => {
      const rejected = hostHeaderValidationResponse(request, hostnames) ?? originValidationResponse(request, origins)
      if (rejected !== undefined) return rejected
      if (!tokenMatches(request.headers.get("authorization"), expected)) {
        return jsonError(401, "Unauthorized: send Authorization: Bearer <token>", { "www-authenticate": "Bearer" })
      }
      return (await isLegacyRequest(request)) ? legacy(request) : modern.fetch(request)
    },
    close: async () => {
      const open = [...sessions.values()]
      sessions.clear()
      await Promise.allSettled([modern.close(), ...open.map((s) => s.server.close())])
    }
  }
}
