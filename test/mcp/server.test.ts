/**
 * `sage mcp serve` end to end: the built CLI as a child process, driven by the official MCP clients of both
 * generations (`@modelcontextprotocol/sdk` 1.x: 2025-11-25 only; `@modelcontextprotocol/client` 2.x: negotiates
 * 2026-07-28) over stdio and over Streamable HTTP on 127.0.0.1. The `agent` tool talks to the scripted model server.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as WireServer from "../support/WireServer.js"
import { answer, callTools, isAlive } from "../cli/support.js"
import {
  type HttpServerProcess,
  httpV1,
  httpV2,
  isRunning,
  listeningAddresses,
  makeWorkspace,
  pidsWith,
  sageBin,
  serverEnv,
  startHttp,
  stdioV1,
  stdioV2,
  textOf,
  until,
  type Workspace
} from "./server.support.js"

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } }
})
const JSON_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" }

/**
 * Within this many ms of the cancellation, the call has ended and its processes are gone. (The cancellation comes
 * once the command itself runs: one that arrives while bubblewrap is still setting the sandbox up is not ended by
 * SIGTERM and waits out the kill grace, 2 s, before SIGKILL.)
 */
const CANCEL_BOUND_MS = 2000

const SERVE_FLAGS = ["--permission-mode", "acceptEdits", "--allowed-tools", "Bash(sleep:*)"]

interface Progress {
  readonly progress: number
  readonly message?: string | undefined
}

type Clients = {
  readonly v1: Awaited<ReturnType<typeof stdioV1>>["client"] | Awaited<ReturnType<typeof httpV1>>["client"]
  readonly v2: Awaited<ReturnType<typeof stdioV2>>["client"] | Awaited<ReturnType<typeof httpV2>>["client"]
}

/** `callTool` of either generation, with a signal and a progress callback. */
const call = (
  clients: Clients,
  gen: "v1" | "v2",
  name: string,
  args: Record<string, unknown>,
  options: { signal?: AbortSignal; onprogress?: (p: Progress) => void } = {}
) =>
  gen === "v1"
    ? clients.v1.callTool({ name, arguments: args }, undefined, { ...options, timeout: 60_000 })
    : clients.v2.callTool({ name, arguments: args }, { ...options, timeout: 60_000 })

let marker = 0
/** A sleep whose command line is unique (so its processes can be found in /proc). */
const uniqueSleep = () => `sleep 29.${String(++marker).padStart(3, "0")}${process.pid % 1000}`

/** Starts a long call, waits until its process runs, cancels it; returns how long the ends took. */
const cancelLongCall = async (
  start: (signal: AbortSignal) => Promise<unknown>,
  command: string
): Promise<{ readonly settledMs: number; readonly goneMs: number; readonly outcome: string }> => {
  const controller = new AbortController()
  let settledAt = 0
  const settled = start(controller.signal).then(
    () => "resolved",
    (error: unknown) => `rejected: ${String(error)}`
  )
  expect(await until(() => isRunning(command), 20_000)).toBe(true)
  const t0 = performance.now()
  controller.abort()
  const outcome = await settled.finally(() => {
    settledAt = performance.now()
  })
  const gone = await until(() => pidsWith(command).length === 0, 10_000)
  expect(gone).toBe(true)
  return { settledMs: settledAt - t0, goneMs: performance.now() - t0, outcome }
}

const sharedTests = (name: string, setup: () => { clients: Clients; ws: Workspace; wire: WireServer.WireServer }) => {
  for (const gen of ["v1", "v2"] as const) {
    describe(`${name} (${gen} client)`, () => {
      it.live("lists the built-in tools with their JSON Schemas, and the agent tool", () =>
        Effect.promise(async () => {
          const { clients } = setup()
          const { tools } = gen === "v1" ? await clients.v1.listTools() : await clients.v2.listTools()
          const names = tools.map((t) => t.name)
          expect(names).toEqual(
            expect.arrayContaining(["Read", "Write", "Edit", "Glob", "Grep", "LS", "Bash", "agent"])
          )
          const read = tools.find((t) => t.name === "Read")
          expect(read?.inputSchema.type).toBe("object")
          expect(read?.inputSchema.properties).toHaveProperty("file_path")
          expect(read?.annotations?.readOnlyHint).toBe(true)
          expect(tools.find((t) => t.name === "agent")?.inputSchema.required).toEqual(["prompt"])
        })
      )

      it.live("Read and Glob work in the workspace", () =>
        Effect.promise(async () => {
          const { clients } = setup()
          const read = await call(clients, gen, "Read", { file_path: "a.txt" })
          expect(read.isError).toBe(false)
          expect(textOf(read)).toContain("hello from a")
          const glob = await call(clients, gen, "Glob", { pattern: "**/*.ts" })
          expect(glob.isError).toBe(false)
          expect(textOf(glob)).toContain("b.ts")
          const bad = await call(clients, gen, "Read", { path: "a.txt" })
          expect(bad.isError).toBe(true)
          expect(textOf(bad)).toMatch(/file_path/)
        })
      )

      it.live("a write outside the workspace is refused; inside it is done", () =>
        Effect.promise(async () => {
          const { clients, ws } = setup()
          const target = path.join(ws.outside, `${gen}.txt`)
          const refused = await call(clients, gen, "Write", { file_path: target, content: "escape" })
          expect(refused.isError).toBe(true)
          expect(textOf(refused)).toMatch(/outside|workspace/i)
          expect(fs.existsSync(target)).toBe(false)
          const inside = await call(clients, gen, "Write", { file_path: `new-${gen}.txt`, content: "ok" })
          expect(inside.isError).toBe(false)
          expect(fs.readFileSync(path.join(ws.dir, `new-${gen}.txt`), "utf8")).toBe("ok")
        })
      )

      it.live("a deny rule of .sage/settings.json is honoured", () =>
        Effect.promise(async () => {
          const { clients } = setup()
          const denied = await call(clients, gen, "Read", { file_path: "secret.txt" })
          expect(denied.isError).toBe(true)
          expect(textOf(denied)).not.toContain("top secret")
          expect(textOf(denied)).toMatch(/deny|denied/i)
        })
      )

      it.live("a command that needs approval is refused: nobody can approve it", () =>
        Effect.promise(async () => {
          const { clients, ws } = setup()
          const refused = await call(clients, gen, "Bash", {
            command: `node -e "require('fs').writeFileSync('x-${gen}','')"`
          })
          expect(refused.isError).toBe(true)
          expect(textOf(refused)).toContain("No one is available to approve it")
          expect(textOf(refused)).toContain("Bash(node:*)")
          expect(fs.existsSync(path.join(ws.dir, `x-${gen}`))).toBe(false)
        })
      )

      it.live("the agent tool runs a turn against the model and reports progress", () =>
        Effect.promise(async () => {
          const { clients, wire } = setup()
          wire.enqueue(
            callTools([{ id: `r-${gen}`, name: "Read", input: { file_path: "a.txt" } }]),
            answer(`The file says hello (${gen})`)
          )
          const progress: Array<Progress> = []
          const result = await call(
            clients,
            gen,
            "agent",
            { prompt: "What does a.txt say?" },
            {
              onprogress: (p) => {
                progress.push(p)
              }
            }
          )
          expect(result.isError).toBe(false)
          expect(textOf(result)).toBe(`The file says hello (${gen})`)
          const messages = progress.map((p) => p.message)
          expect(messages).toEqual(
            expect.arrayContaining(["step 1", "tool Read started", "tool Read success", "step 2"])
          )
          // Progress counts up.
          expect(progress.map((p) => p.progress)).toEqual([...progress.map((p) => p.progress)].sort((a, b) => a - b))
        })
      )

      it.live("cancelling a long Bash call ends it promptly and kills the command", () =>
        Effect.promise(async () => {
          const { clients } = setup()
          const command = uniqueSleep()
          const { settledMs, goneMs, outcome } = await cancelLongCall(
            (signal) => call(clients, gen, "Bash", { command }, { signal }),
            command
          )
          expect(outcome).toMatch(/^rejected/)
          expect(settledMs).toBeLessThan(CANCEL_BOUND_MS)
          expect(goneMs).toBeLessThan(CANCEL_BOUND_MS)
        })
      )

      it.live("cancelling an agent call interrupts the turn and kills its command", () =>
        Effect.promise(async () => {
          const { clients, wire } = setup()
          const command = uniqueSleep()
          // Nothing after the tool call: the turn never gets that far.
          wire.enqueue(callTools([{ id: `b-${gen}`, name: "Bash", input: { command } }]))
          const { settledMs, goneMs, outcome } = await cancelLongCall(
            (signal) => call(clients, gen, "agent", { prompt: "sleep" }, { signal }),
            command
          )
          expect(outcome).toMatch(/^rejected/)
          expect(settledMs).toBeLessThan(CANCEL_BOUND_MS)
          expect(goneMs).toBeLessThan(CANCEL_BOUND_MS)
          // The server is still fine after the interrupt.
          const read = await call(clients, gen, "Read", { file_path: "a.txt" })
          expect(textOf(read)).toContain("hello from a")
        })
      )
    })
  }
}

describe("sage mcp serve over stdio", () => {
  let scope: Scope.Closeable
  let ws: Workspace
  let wire: WireServer.WireServer
  let v1: Awaited<ReturnType<typeof stdioV1>>
  let v2: Awaited<ReturnType<typeof stdioV2>>
  let v1Version: string | undefined
  const stderr: Array<string> = []

  beforeAll(async () => {
    scope = await Effect.runPromise(Scope.make())
    wire = await Effect.runPromise(Scope.provide(scope)(WireServer.make))
    ws = makeWorkspace()
    const args = ["mcp", "serve", "--cwd", ws.dir, ...SERVE_FLAGS]
    v1 = await stdioV1(args, serverEnv(ws, wire.url), stderr, (version) => {
      v1Version = version
    })
    v2 = await stdioV2(args, serverEnv(ws, wire.url), stderr)
  }, 60_000)

  afterAll(async () => {
    await Promise.allSettled([v1?.client.close(), v2?.client.close()])
    if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
    ws?.cleanup()
  })

  it.live("negotiates 2025-11-25 with the 1.x client and 2026-07-28 with the 2.x client", () =>
    Effect.sync(() => {
      expect(v1Version).toBe("2025-11-25")
      expect(v2.client.getNegotiatedProtocolVersion()).toBe("2026-07-28")
      expect(v1.client.getServerVersion()?.name).toBe("sage")
    })
  )

  sharedTests("stdio", () => ({ clients: { v1: v1.client, v2: v2.client }, ws, wire }))

  it.live("stdout carries only JSON-RPC (the logs go to stderr); stdin's end exits 0", () =>
    Effect.promise(async () => {
      const child = spawn(process.execPath, [sageBin, "mcp", "serve", "--cwd", ws.dir, ...SERVE_FLAGS], {
        env: serverEnv(ws, wire.url),
        stdio: ["pipe", "pipe", "pipe"]
      })
      let out = ""
      let err = ""
      child.stdout.on("data", (d) => {
        out += d
      })
      child.stderr.on("data", (d) => {
        err += d
      })
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve))
      const send = (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`)
      send({ jsonrpc: "2.0", id: 1, method: "initialize", params: JSON.parse(INITIALIZE).params })
      expect(await until(() => out.includes('"id":1'), 20_000)).toBe(true)
      send({ jsonrpc: "2.0", method: "notifications/initialized" })
      send({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "Bash", arguments: { command: "echo to-stdout" } }
      })
      send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "Read", arguments: { file_path: "a.txt" } } })
      expect(await until(() => out.includes('"id":3') && out.includes('"id":2'), 20_000)).toBe(true)
      child.stdin.end()
      expect(await exited).toBe(0)
      const lines = out.split("\n").filter((line) => line !== "")
      for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" })
      expect(lines).toHaveLength(3)
      expect(err).toContain("serving")
    })
  )

  it.live("stdin's end stops the server", () =>
    Effect.promise(async () => {
      const pid = v1.transport.pid
      expect(pid).toBeTypeOf("number")
      const t0 = performance.now()
      // The 1.x transport ends stdin, then waits 2 s before it sends SIGTERM: an exit before that is stdin's doing.
      const closing = v1.client.close()
      expect(await until(() => pid === null || !isAlive(pid), 5000)).toBe(true)
      expect(performance.now() - t0).toBeLessThan(1900)
      await closing
    })
  )
})

/** A raw HTTP POST (to set any header, Host included). */
const rawPost = (
  url: string,
  headers: Record<string, string>,
  body: string
): Promise<{ readonly status: number; readonly body: string }> =>
  new Promise((resolve, reject) => {
    const target = new URL(url)
    const req = http.request(
      { host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers },
      (res) => {
        let text = ""
        res.on("data", (d) => {
          text += d
        })
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }))
      }
    )
    req.on("error", reject)
    req.end(body)
  })

describe("sage mcp serve over HTTP", () => {
  let scope: Scope.Closeable
  let ws: Workspace
  let wire: WireServer.WireServer
  let server: HttpServerProcess
  let v1: Awaited<ReturnType<typeof httpV1>>
  let v2: Awaited<ReturnType<typeof httpV2>>

  beforeAll(async () => {
    scope = await Effect.runPromise(Scope.make())
    wire = await Effect.runPromise(Scope.provide(scope)(WireServer.make))
    ws = makeWorkspace()
    server = await startHttp(["--cwd", ws.dir, ...SERVE_FLAGS], serverEnv(ws, wire.url))
    v1 = await httpV1(server.url, server.token)
    v2 = await httpV2(server.url, server.token)
  }, 60_000)

  afterAll(async () => {
    await Promise.allSettled([v1?.client.close(), v2?.client.close()])
    await server?.stop()
    if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
    ws?.cleanup()
  })

  it.live("listens on 127.0.0.1 only", () =>
    Effect.sync(() => {
      const url = new URL(server.url)
      expect(url.hostname).toBe("127.0.0.1")
      expect(url.pathname).toBe("/mcp")
      const addresses = listeningAddresses(Number(url.port))
      expect(addresses.length).toBeGreaterThan(0)
      expect(addresses.every((a) => a === "0100007F")).toBe(true)
    })
  )

  it.live("answers 401 without the token or with a wrong one", () =>
    Effect.promise(async () => {
      const none = await rawPost(server.url, JSON_HEADERS, INITIALIZE)
      expect(none.status).toBe(401)
      const wrong = await rawPost(server.url, { ...JSON_HEADERS, authorization: `Bearer ${server.token}x` }, INITIALIZE)
      expect(wrong.status).toBe(401)
      const basic = await rawPost(server.url, { ...JSON_HEADERS, authorization: `Basic ${server.token}` }, INITIALIZE)
      expect(basic.status).toBe(401)
      const right = await rawPost(server.url, { ...JSON_HEADERS, authorization: `Bearer ${server.token}` }, INITIALIZE)
      expect(right.status).toBe(200)
    })
  )

  it.live("refuses a non-loopback Host or Origin (DNS rebinding), even with the token", () =>
    Effect.promise(async () => {
      const auth = { ...JSON_HEADERS, authorization: `Bearer ${server.token}` }
      const host = await rawPost(server.url, { ...auth, host: "evil.example:80" }, INITIALIZE)
      expect(host.status).toBe(403)
      const origin = await rawPost(server.url, { ...auth, origin: "http://evil.example" }, INITIALIZE)
      expect(origin.status).toBe(403)
      const local = await rawPost(server.url, { ...auth, origin: "http://localhost:1234" }, INITIALIZE)
      expect(local.status).toBe(200)
    })
  )

  it.live("negotiates 2025-11-25 (with a session) with the 1.x client and 2026-07-28 with the 2.x client", () =>
    Effect.sync(() => {
      expect(v1.transport.protocolVersion).toBe("2025-11-25")
      expect(v1.transport.sessionId).toBeTypeOf("string")
      expect(v2.client.getNegotiatedProtocolVersion()).toBe("2026-07-28")
    })
  )

  sharedTests("HTTP", () => ({ clients: { v1: v1.client, v2: v2.client }, ws, wire }))

  it.live("SIGTERM stops the server cleanly (exit 130), killing a running command", () =>
    Effect.promise(async () => {
      const command = uniqueSleep()
      const running = v2.client.callTool({ name: "Bash", arguments: { command } }).catch(() => "ended")
      expect(await until(() => pidsWith(command).length > 0, 20_000)).toBe(true)
      const t0 = performance.now()
      const code = await server.stop()
      expect(code).toBe(130)
      expect(await until(() => pidsWith(command).length === 0, 5000)).toBe(true)
      expect(performance.now() - t0).toBeLessThan(5000)
      await running
    })
  )
})

describe("sage mcp serve without a model key", () => {
  it.live("serves the tools; the agent tool says why it cannot run", () =>
    Effect.promise(async () => {
      const ws = makeWorkspace()
      const stderr: Array<string> = []
      const { ANTHROPIC_API_KEY: _key, ...env } = serverEnv(ws, "http://127.0.0.1:9")
      const { client } = await stdioV1(["mcp", "serve", "--cwd", ws.dir], env, stderr, () => undefined)
      try {
        const read = await client.callTool({ name: "Read", arguments: { file_path: "a.txt" } })
        expect(textOf(read)).toContain("hello from a")
        const agent = await client.callTool({ name: "agent", arguments: { prompt: "hi" } })
        expect(agent.isError).toBe(true)
        expect(textOf(agent)).toContain("ANTHROPIC_API_KEY")
        expect(stderr.join("")).toContain("the agent tool is unavailable")
      } finally {
        await client.close()
        ws.cleanup()
      }
    })
  )
})
