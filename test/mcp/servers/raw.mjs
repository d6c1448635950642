// A tiny MCP server speaking raw stdio JSON-RPC (2025 protocol), for the client's failure tests.
// Modes (argv[2]): "hang" never answers anything; "ok" answers and offers the tools
//   "crash" (the process exits at once), "slow" (never answers; a notifications/cancelled for it is
//   appended to $MARK_FILE), "pid" (its process id), "spawn" (starts a child `sleep` in its group, returns its pid).
// "strict" is "ok" but exits on any request before `initialize` (as servers on some SDKs do). "late" exits at its
// first two starts (see below) and is "ok" after.
// Every start appends "start <pid>" to $MARK_FILE when set. Writes a line to stderr at start.
import { spawn } from "node:child_process"
import * as fs from "node:fs"

const asked = process.argv[2] ?? "ok"
const mark = (line) => {
  if (process.env.MARK_FILE) fs.appendFileSync(process.env.MARK_FILE, `${line}\n`)
}
mark(`start ${process.pid}`)
// "late": the first two starts (counted in $LATE_FILE) exit at once, so that the client's start, and its retry
// with the 2025 handshake, both fail; later starts are "ok".
const lateStarts = () =>
  fs.existsSync(process.env.LATE_FILE) ? fs.readFileSync(process.env.LATE_FILE, "utf8").length : 0
if (asked === "late" && process.env.LATE_FILE && lateStarts() < 2) {
  fs.appendFileSync(process.env.LATE_FILE, "x")
  process.exit(1)
}
const mode = asked === "late" ? "ok" : asked
process.stderr.write(`raw server starting in mode ${mode}\n`)
const send = (message) => process.stdout.write(`${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`)
const text = (t) => ({ content: [{ type: "text", text: t }] })
// With $EXTRA_TOOL_FILE present at start, one more tool: "extra".
const names = [
  "crash",
  "slow",
  "pid",
  "spawn",
  ...(process.env.EXTRA_TOOL_FILE && fs.existsSync(process.env.EXTRA_TOOL_FILE) ? ["extra"] : [])
]
const tools = names.map((name) => ({
  name,
  description: `test tool ${name}`,
  inputSchema: { type: "object", properties: {} }
}))

let buffer = ""
let initialized = false
process.stdin.setEncoding("utf8")
process.stdin.on("data", (chunk) => {
  buffer += chunk
  for (let newline = buffer.indexOf("\n"); newline !== -1; newline = buffer.indexOf("\n")) {
    const line = buffer.slice(0, newline)
    buffer = buffer.slice(newline + 1)
    if (line.trim() === "") continue
    const message = JSON.parse(line)
    if (mode === "hang") continue
    // "strict": like servers on SDKs that exit on any request before `initialize`.
    if (mode === "strict" && !initialized && message.method !== "initialize") process.exit(1)
    if (message.method === "initialize") initialized = true
    handle(message)
  }
})
process.stdin.on("end", () => process.exit(0))

function handle(message) {
  const { id, method, params } = message
  if (method === "notifications/cancelled") {
    mark(`cancelled ${params?.requestId}`)
    return
  }
  if (id === undefined) return
  switch (method) {
    case "initialize":
      return send({
        id,
        result: {
          protocolVersion: params.protocolVersion,
          capabilities: { tools: {} },
          serverInfo: { name: "raw-test", version: "1.0.0" }
        }
      })
    case "tools/list":
      return send({ id, result: { tools } })
    case "ping":
      return send({ id, result: {} })
    case "tools/call":
      switch (params.name) {
        case "crash":
          process.exit(3)
          return
        case "slow":
          mark(`slow ${id}`)
          return
        case "pid":
          return send({ id, result: text(String(process.pid)) })
        case "spawn": {
          const child = spawn("sleep", ["300"], { stdio: "ignore" })
          return send({ id, result: text(String(child.pid)) })
        }
      }
      return send({ id, error: { code: -32602, message: `unknown tool ${params.name}` } })
    default:
      return send({ id, error: { code: -32601, message: `Method not found: ${method}` } })
  }
}
