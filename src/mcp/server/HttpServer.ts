/**
 * A fetch-shaped handler served by `node:http` on 127.0.0.1 only, as a scoped resource: closing the scope stops
 * listening, cuts every open connection (aborting their requests) and closes the handler. Responses are streamed
 * (SSE bodies are written as they come); a client that goes away aborts its request's signal.
 */
import * as http from "node:http"
import { Readable } from "node:stream"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

export class McpServeError extends Schema.TaggedError<McpServeError>()("McpServeError", {
  message: Schema.String
}) {}

export interface FetchHandler {
  readonly fetch: (request: Request) => Promise<Response>
  readonly close: () => Promise<void>
}

export const HOST = "127.0.0.1"
/** The one endpoint. */
export const PATH = "/mcp"

const toRequest = (req: http.IncomingMessage, signal: AbortSignal, port: number): Request => {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
  }
  const method = req.method ?? "GET"
  const hasBody = method !== "GET" && method !== "HEAD"
  return new Request(`http://${HOST}:${port}${req.url ?? "/"}`, {
    method,
    headers,
    signal,
    ...(hasBody ? { body: Readable.toWeb(req), duplex: "half" } : {})
  })
}

const writeResponse = async (response: Response, res: http.ServerResponse): Promise<void> => {
  const headers: Record<string, string | Array<string>> = {}
  response.headers.forEach((value, name) => {
    const previous = headers[name]
    headers[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value]
  })
  res.writeHead(response.status, headers)
  res.flushHeaders()
  if (response.body === null) {
    res.end()
    return
  }
  const reader = response.body.getReader()
  const cancel = () => {
    reader.cancel().catch(() => undefined)
  }
  res.once("close", cancel)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (!res.write(value)) await new Promise<void>((resolve) => res.once("drain", resolve).once("close", resolve))
    }
  } catch {
    // The client went away (or the body failed): nothing more to write.
  } finally {
    res.off("close", cancel)
    res.end()
  }
}

/** Listens on 127.0.0.1:`port` (0: any free port) until the scope closes; returns the port. */
export const serve = (
  handler: FetchHandler,
  port: number,
  onError: (error: unknown) => void
): Effect.Effect<{ readonly port: number; readonly url: string }, McpServeError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ server: http.Server; port: number }, McpServeError>((resume) => {
      const server = http.createServer((req, res) => {
        const aborter = new AbortController()
        res.once("close", () => {
          if (!res.writableFinished) aborter.abort()
        })
        const address = server.address()
        const listening = typeof address === "object" && address !== null ? address.port : port
        if (new URL(req.url ?? "/", `http://${HOST}`).pathname !== PATH) {
          res.writeHead(404, { "content-type": "text/plain" }).end(`Not found: the MCP endpoint is ${PATH}\n`)
          return
        }
        handler
          .fetch(toRequest(req, aborter.signal, listening))
          .then((response) => writeResponse(response, res))
          .catch((error: unknown) => {
            onError(error)
            if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" })
            res.end()
          })
      })
      server.once("error", (error) =>
        resume(Effect.fail(new McpServeError({ message: `cannot listen on ${HOST}:${port}: ${error.message}` })))
      )
      server.listen(port, HOST, () => {
        const address = server.address()
        resume(Effect.succeed({ server, port: typeof address === "object" && address !== null ? address.port : port }))
      })
    }),
    ({ server }) =>
      Effect.promise(async () => {
        await handler.close().catch(() => undefined)
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
      })
  ).pipe(Effect.map(({ port }) => ({ port, url: `http://${HOST}:${port}${PATH}` })))
