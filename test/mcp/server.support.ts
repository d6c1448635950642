/** `sage mcp serve` as a real child process, and the official MCP clients of both generations that talk to it. */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Client as ClientV2 } from "@modelcontextprotocol/client"
import { StdioClientTransport as StdioV2 } from "@modelcontextprotocol/client/stdio"
import { StreamableHTTPClientTransport as HttpV2 } from "@modelcontextprotocol/client"
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport as StdioV1 } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPClientTransport as HttpV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { bin } from "../cli/support.js"

/** Set SAGE_MCP_TEST_BIN to test another entry (e.g. a development bundle); default the built CLI. */
export const sageBin = process.env.SAGE_MCP_TEST_BIN ?? bin

export interface Workspace {
  readonly root: string
  readonly dir: string
  readonly home: string
  readonly outside: string
  readonly cleanup: () => void
}

/** A temp workspace (files, a deny rule in .sage/settings.json), an empty HOME and a directory outside both. */
export const makeWorkspace = (): Workspace => {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-mcp-")))
  const dir = path.join(root, "ws")
  const home = path.join(root, "home")
  const outside = path.join(root, "outside")
  for (const d of [dir, home, outside, path.join(dir, "src"), path.join(dir, ".sage")]) fs.mkdirSync(d)
  fs.writeFileSync(path.join(dir, "a.txt"), "hello from a\n")
  fs.writeFileSync(path.join(dir, "src", "b.ts"), "export const b = 1\n")
  fs.writeFileSync(path.join(dir, "secret.txt"), "top secret\n")
  fs.writeFileSync(
    path.join(dir, ".sage", "settings.json"),
    JSON.stringify({ permissions: { deny: ["Read(./secret.txt)"] } })
  )
  return { root, dir, home, outside, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) }
}

export const serverEnv = (ws: Workspace, wireUrl: string): Record<string, string> => ({
  PATH: process.env.PATH ?? "",
  HOME: ws.home,
  ANTHROPIC_API_KEY: "sk-ant-mcp-test",
  ANTHROPIC_BASE_URL: wireUrl,
  SAGE_MODEL: "claude-test"
})

export type AnyClient = ClientV1 | ClientV2

export const clientInfo = { name: "sage-mcp-test", version: "1.0.0" }

/** The 1.x client (2025 protocol only) over stdio: it starts the server. */
export const stdioV1 = async (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  stderr: Array<string>,
  onVersion: (version: string) => void
) => {
  // The 1.x client tells a transport the negotiated version through `setProtocolVersion` (stdio has none: add one).
  const transport = Object.assign(
    new StdioV1({ command: process.execPath, args: [sageBin, ...args], env, stderr: "pipe" }),
    { setProtocolVersion: onVersion }
  )
  transport.stderr?.on("data", (d) => stderr.push(String(d)))
  const client = new ClientV1(clientInfo)
  await client.connect(transport)
  return { client, transport, pid: () => transport.pid }
}

/** The 2.x client over stdio, negotiating (2026-07-28 when the server offers it). */
export const stdioV2 = async (args: ReadonlyArray<string>, env: Record<string, string>, stderr: Array<string>) => {
  const transport = new StdioV2({ command: process.execPath, args: [sageBin, ...args], env, stderr: "pipe" })
  transport.stderr?.on("data", (d) => stderr.push(String(d)))
  const client = new ClientV2(clientInfo, { versionNegotiation: { mode: "auto" } })
  await client.connect(transport)
  return { client, transport, pid: () => transport.pid }
}

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } })

export const httpV1 = async (url: string, token: string) => {
  const transport = new HttpV1(new URL(url), { requestInit: bearer(token) })
  const client = new ClientV1(clientInfo)
  await client.connect(transport)
  return { client, transport }
}

export const httpV2 = async (url: string, token: string) => {
  const transport = new HttpV2(new URL(url), { requestInit: bearer(token) })
  const client = new ClientV2(clientInfo, { versionNegotiation: { mode: "auto" } })
  await client.connect(transport)
  return { client, transport }
}

export interface HttpServerProcess {
  readonly child: ChildProcess
  readonly url: string
  readonly token: string
  readonly stderr: () => string
  readonly stop: () => Promise<number | null>
}

/** `sage mcp serve --http 0 ...`: resolves once it printed its URL and token. */
export const startHttp = (args: ReadonlyArray<string>, env: Record<string, string>): Promise<HttpServerProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [sageBin, "mcp", "serve", "--http", "0", ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let err = ""
    let out = ""
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${err}`)), 20_000)
    child.stdout.on("data", (d) => {
      out += d
    })
    child.stderr.on("data", (d) => {
      err += d
      const url = /at (http:\/\/\S+)/.exec(err)?.[1]
      const token = /token: (\S+)/.exec(err)?.[1]
      if (url !== undefined && token !== undefined) {
        clearTimeout(timer)
        resolve({
          child,
          url,
          token,
          stderr: () => err + (out === "" ? "" : `\n[stdout] ${out}`),
          stop: () => {
            if (child.exitCode === null) child.kill("SIGTERM")
            return exited
          }
        })
      }
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`the server exited (${code}):\n${err}`))
    })
  })

/** Pids of processes whose command line contains `marker` (visible across the sandbox's pid namespace). */
export const pidsWith = (marker: string): ReadonlyArray<number> => {
  const found: Array<number> = []
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ")
      if (!cmdline.includes(marker)) continue
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8")
      if (stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z") continue
      found.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return found
}

/** Whether a process whose whole command line is `command` runs (the command itself, not a wrapper naming it). */
export const isRunning = (command: string): boolean =>
  fs.readdirSync("/proc").some((entry) => {
    if (!/^\d+$/.test(entry)) return false
    try {
      return fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim() === command
    } catch {
      return false
    }
  })

export const until = async (check: () => boolean, ms: number): Promise<boolean> => {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 20))
  }
  return true
}

/** The text of a tool result's content. */
export const textOf = (result: unknown): string => {
  const content = typeof result === "object" && result !== null && "content" in result ? result.content : undefined
  return Array.isArray(content)
    ? content
        .map((c: unknown) =>
          typeof c === "object" && c !== null && "text" in c && typeof c.text === "string" ? c.text : ""
        )
        .join("\n")
    : ""
}

/** Local listening TCP sockets on `port` (from /proc/net/tcp{,6}): their local addresses in hex. */
export const listeningAddresses = (port: number): ReadonlyArray<string> => {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0")
  const out: Array<string> = []
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!fs.existsSync(file)) continue
    for (const line of fs.readFileSync(file, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/)
      const local = cols[1]
      if (local === undefined || cols[3] !== "0A") continue
      const [addr, p] = local.split(":")
      if (p === hexPort && addr !== undefined) out.push(addr)
    }
  }
  return out
}
