/**
 * The stdio transport of MCP servers Sage starts: newline-delimited JSON-RPC over the child's stdin/stdout, like
 * the SDK's `StdioClientTransport`, except that
 *
 * - the server runs in its own process group, and closing kills the whole group (`npx` wrappers, shells and
 *   whatever the server started go with it): SIGTERM, then SIGKILL after a grace period; the group is tracked with
 *   the commands' groups (`process/ProcessGroup`), so it is killed too if Sage exits before closing it;
 * - its stderr goes to a log file, never the terminal;
 * - its environment is exactly what the caller gives (the scrubbed one plus the config's `env`).
 *
 * Only types are imported from the SDK (erased at runtime): the SDK itself loads lazily in `Sdk.ts`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import type { JSONRPCMessage, Transport } from "@modelcontextprotocol/client"
import { groupAlive, trackGroup, untrackGroup } from "../process/ProcessGroup.js"

export interface StdioParams {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  readonly cwd: string
  /** Where stderr is appended; `undefined` discards it. */
  readonly stderrFile: string | undefined
  /** Messages larger than this (bytes) close the connection (default 16 MiB). */
  readonly maxMessageBytes?: number
  /** Between SIGTERM and SIGKILL (default 2 s). */
  readonly killGraceMs?: number
}

const isMessage = (value: unknown): value is JSONRPCMessage =>
  typeof value === "object" && value !== null && "jsonrpc" in value && value.jsonrpc === "2.0"

/** Signal the whole process group of `pid` (falls back to the process itself). */
const killGroup = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // gone already
    }
  }
}

export class ProcessGroupStdioTransport implements Transport {
  onclose?: (() => void) | undefined
  onerror?: ((error: Error) => void) | undefined
  onmessage?: (<T extends JSONRPCMessage>(message: T) => void) | undefined

  private child: ChildProcess | undefined
  private buffer = ""
  private closed = false
  private exited = false
  private logFd: number | undefined

  constructor(private readonly params: StdioParams) {}

  get pid(): number | undefined {
    return this.child?.pid
  }

  start(): Promise<void> {
    if (this.child !== undefined) return Promise.reject(new Error("the transport was already started"))
    return new Promise((resolve, reject) => {
      let stderr: "ignore" | number = "ignore"
      if (this.params.stderrFile !== undefined) {
        try {
          this.logFd = fs.openSync(this.params.stderrFile, "a", 0o600)
          stderr = this.logFd
        } catch {
          stderr = "ignore"
        }
      }
      const child = spawn(this.params.command, [...this.params.args], {
        cwd: this.params.cwd,
        env: { ...this.params.env },
        stdio: ["pipe", "pipe", stderr],
        detached: true,
        windowsHide: true
      })
      this.child = child
      child.once("error", (error) => {
        this.exited = true
        this.closeLog()
        reject(new Error(`cannot start ${this.params.command}: ${error.message}`))
        this.finish()
      })
      child.once("spawn", () => {
        if (child.pid !== undefined) trackGroup(child.pid)
        resolve()
      })
      child.once("exit", () => {
        this.exited = true
        this.closeLog()
        this.finish()
      })
      child.stdin?.on("error", (error) => this.onerror?.(error))
      child.stdout?.setEncoding("utf8")
      child.stdout?.on("data", (chunk: string) => this.receive(chunk))
      child.stdout?.on("error", (error) => this.onerror?.(error))
    })
  }

  private receive(chunk: string): void {
    this.buffer += chunk
    const max = this.params.maxMessageBytes ?? 16 * 1024 * 1024
    for (;;) {
      const newline = this.buffer.indexOf("\n")
      if (newline === -1) break
      const line = this.buffer.slice(0, newline).replace(/\r$/, "")
      this.buffer = this.buffer.slice(newline + 1)
      if (line.trim() === "") continue
      let parsed: unknown
      try {
        parsed = JSON.parse(line)
      } catch {
        this.onerror?.(new Error(`the server wrote a line that is not JSON: ${line.slice(0, 200)}`))
        continue
      }
      if (isMessage(parsed)) this.onmessage?.(parsed)
      else this.onerror?.(new Error(`the server wrote a line that is not JSON-RPC: ${line.slice(0, 200)}`))
    }
    if (this.buffer.length > max) {
      this.onerror?.(new Error(`a message from the server exceeds ${max} bytes`))
      this.buffer = ""
      void this.close()
    }
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin
    if (stdin === undefined || stdin === null || this.closed || this.exited) {
      return Promise.reject(new Error("the server is not running"))
    }
    return new Promise((resolve, reject) => {
      stdin.write(`${JSON.stringify(message)}\n`, (error) => (error ? reject(error) : resolve()))
    })
  }

  /** Ends the server: stdin closed, SIGTERM to its group, SIGKILL after the grace period. */
  async close(): Promise<void> {
    const child = this.child
    if (child === undefined) {
      this.finish()
      return
    }
    this.closed = true
    const pid = child.pid
    if (!this.exited && pid !== undefined) {
      child.stdin?.end()
      killGroup(pid, "SIGTERM")
      const grace = this.params.killGraceMs ?? 2000
      const exited = new Promise<void>((resolve) => {
        if (this.exited) resolve()
        else child.once("exit", () => resolve())
      })
      const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), grace).unref())
      if ((await Promise.race([exited, timer])) === "timeout") {
        killGroup(pid, "SIGKILL")
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 500).unref())])
      }
    }
    // Children the server left behind in its group (its own exit does not end them).
    if (pid !== undefined) {
      if (groupAlive(pid)) killGroup(pid, "SIGKILL")
      untrackGroup(pid)
    }
    this.closeLog()
    this.finish()
  }

  private closeLog(): void {
    if (this.logFd === undefined) return
    try {
      fs.closeSync(this.logFd)
    } catch {
      // already closed
    }
    this.logFd = undefined
  }

  private finished = false
  private finish(): void {
    if (this.finished) return
    this.finished = true
    this.onclose?.()
  }
}
