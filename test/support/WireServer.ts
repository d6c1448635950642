/**
 * A real local HTTP server that speaks provider wire formats for tests: it serves scripted SSE / NDJSON bodies,
 * replays recorded fixture files, delays, fails with a status and headers, cuts the connection mid-body, or
 * hangs so a test can see the client abort. It records every request and every connection the client closed.
 */
import { existsSync, readFileSync } from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

export interface Chunk {
  /** Text (written as UTF-8) or bytes (binary bodies such as AWS event streams). */
  readonly data: string | Uint8Array
  /** Wait this long before writing the chunk. */
  readonly delayMs?: number
}

export type Reply =
  /** A streamed body, written chunk by chunk. */
  | {
      readonly kind: "stream"
      readonly chunks: ReadonlyArray<string | Uint8Array | Chunk>
      readonly contentType?: string
      readonly status?: number
      readonly headers?: Record<string, string>
    }
  /** A recorded file, written in `chunkSize`-byte pieces (default: whole). */
  | { readonly kind: "file"; readonly path: string; readonly contentType?: string; readonly chunkSize?: number }
  /** An error response. */
  | {
      readonly kind: "error"
      readonly status: number
      readonly body: unknown
      readonly headers?: Record<string, string>
    }
  /** Write the chunks, then destroy the socket without ending the body. */
  | { readonly kind: "cut"; readonly chunks: ReadonlyArray<string | Uint8Array | Chunk>; readonly contentType?: string }
  /** Write the chunks, then keep the connection open until the client goes away. */
  | {
      readonly kind: "hang"
      readonly chunks: ReadonlyArray<string | Uint8Array | Chunk>
      readonly contentType?: string
    }

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: unknown
}

export type Handler = (request: RecordedRequest, index: number) => Reply

export interface WireServer {
  readonly url: string
  /** Replies served in order, one per request; when empty, the handler (if any) answers, else 500. */
  readonly enqueue: (...replies: ReadonlyArray<Reply>) => void
  readonly setHandler: (handler: Handler | undefined) => void
  readonly requests: ReadonlyArray<RecordedRequest>
  /** How many responses were closed by the client before they ended. */
  readonly clientAborts: () => number
  /** Resolves when the client next closes a response early. */
  readonly nextClientAbort: () => Promise<void>
}

const SSE = "text/event-stream"

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const writeChunks = async (
  res: http.ServerResponse,
  chunks: ReadonlyArray<string | Uint8Array | Chunk>,
  isGone: () => boolean
): Promise<void> => {
  for (const chunk of chunks) {
    const c = typeof chunk === "string" || chunk instanceof Uint8Array ? { data: chunk } : chunk
    if (c.delayMs !== undefined && c.delayMs > 0) await sleep(c.delayMs)
    if (isGone()) return
    res.write(c.data)
  }
}

/**
 * Split a recorded body into pieces of `size` code points (to exercise parsers across chunk boundaries); code
 * points, not UTF-16 units, so no surrogate pair is cut into two replacement characters.
 */
export const splitEvery = (body: string, size: number): ReadonlyArray<string> => {
  const points = Array.from(body)
  const out: Array<string> = []
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(""))
  return out
}

/** A started server on 127.0.0.1 (a random port), closed with every open connection when the scope closes. */
export const make: Effect.Effect<WireServer, never, Scope.Scope> = Effect.acquireRelease(
  Effect.callback<{ server: http.Server; wire: WireServer }>((resume) => {
    const queue: Array<Reply> = []
    const requests: Array<RecordedRequest> = []
    let handler: Handler | undefined
    let aborts = 0
    let abortWaiters: Array<() => void> = []
    const sockets = new Set<import("node:net").Socket>()

    const server = http.createServer((req, res) => {
      const body: Array<Buffer> = []
      req.on("data", (b: Buffer) => body.push(b))
      req.on("end", () => {
        const text = Buffer.concat(body).toString("utf8")
        let parsed: unknown = text
        try {
          parsed = text === "" ? undefined : JSON.parse(text)
        } catch {
          parsed = text
        }
        const recorded: RecordedRequest = {
          method: req.method ?? "GET",
          path: req.url ?? "/",
          headers: req.headers,
          body: parsed
        }
        const index = requests.length
        requests.push(recorded)
        let gone = false
        res.on("close", () => {
          if (!res.writableFinished) {
            gone = true
            aborts++
            const waiters = abortWaiters
            abortWaiters = []
            for (const w of waiters) w()
          }
        })
        const reply: Reply = queue.shift() ??
          handler?.(recorded, index) ?? {
            kind: "error",
            status: 500,
            body: { error: { type: "api_error", message: "WireServer: no reply scripted" } }
          }
        void serve(reply, res, () => gone)
      })
    })
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })

    const serve = async (reply: Reply, res: http.ServerResponse, isGone: () => boolean): Promise<void> => {
      switch (reply.kind) {
        case "stream": {
          res.writeHead(reply.status ?? 200, { "content-type": reply.contentType ?? SSE, ...reply.headers })
          res.flushHeaders()
          await writeChunks(res, reply.chunks, isGone)
          if (!isGone()) res.end()
          return
        }
        case "file": {
          const body = readFileSync(reply.path, "utf8")
          res.writeHead(200, { "content-type": reply.contentType ?? SSE })
          res.flushHeaders()
          await writeChunks(res, reply.chunkSize === undefined ? [body] : splitEvery(body, reply.chunkSize), isGone)
          if (!isGone()) res.end()
          return
        }
        case "error": {
          const payload = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body)
          res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers })
          res.end(payload)
          return
        }
        case "cut": {
          res.writeHead(200, { "content-type": reply.contentType ?? SSE })
          res.flushHeaders()
          await writeChunks(res, reply.chunks, isGone)
          await sleep(5)
          res.socket?.destroy()
          return
        }
        case "hang": {
          res.writeHead(200, { "content-type": reply.contentType ?? SSE })
          res.flushHeaders()
          await writeChunks(res, reply.chunks, isGone)
          return
        }
      }
    }

    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      const wire: WireServer = {
        url: `http://127.0.0.1:${port}`,
        enqueue: (...replies) => {
          queue.push(...replies)
        },
        setHandler: (h) => {
          handler = h
        },
        requests,
        clientAborts: () => aborts,
        nextClientAbort: () => new Promise<void>((resolve) => abortWaiters.push(resolve))
      }
      server.on("close", () => {
        for (const s of sockets) s.destroy()
      })
      resume(Effect.succeed({ server, wire }))
    })
  }),
  ({ server }) =>
    Effect.callback<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map(({ wire }) => wire))

/**
 * Path of a recorded fixture in `test/fixtures/providers` (copied from the shared recordings, see its SOURCES.md),
 * e.g. `fixture("anthropic/text-basic.sse")`. A missing fixture throws at once with its path.
 */
export const fixture = (relative: string): string => {
  const path = new URL(`../fixtures/providers/${relative}`, import.meta.url).pathname
  if (!existsSync(path)) throw new Error(`missing recorded fixture: ${path}`)
  return path
}

export const readFixture = (relative: string): string => readFileSync(fixture(relative), "utf8")
