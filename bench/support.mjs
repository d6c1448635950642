// Shared bench helpers: a local HTTP server, Anthropic SSE frames, statistics.
import * as fs from "node:fs"
import * as http from "node:http"

/**
 * This process's peak RSS in MB: the kernel's high-water mark (VmHWM). `process.resourceUsage().maxRSS` would also
 * count the RSS of the forked copy of the parent that started this process, before its exec.
 */
export const peakRssMb = () => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"))
    if (m) return Number(m[1]) / 1024
  } catch {}
  return process.resourceUsage().maxRSS / 1024
}

export const startServer = (handler) =>
  new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      let body = ""
      req.on("data", (c) => (body += c))
      req.on("end", () => {
        try {
          req.json = body === "" ? undefined : JSON.parse(body)
        } catch {
          req.json = undefined
        }
        handler(req, res)
      })
    })
    server.keepAliveTimeout = 1000
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections()
            server.close(() => r())
          })
      })
    )
  })

export const sse = (name, data) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`

/** A complete Anthropic Messages stream: optional text, then tool_use blocks. */
export const anthropicStream = ({ text = [], tools = [], stop = tools.length > 0 ? "tool_use" : "end_turn" }) => {
  const out = [
    sse("message_start", {
      type: "message_start",
      message: {
        id: "msg_bench",
        type: "message",
        role: "assistant",
        model: "claude-bench",
        content: [],
        stop_reason: null,
        usage: { input_tokens: 100, output_tokens: 1 }
      }
    })
  ]
  let index = 0
  if (text.length > 0) {
    out.push(
      sse("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } })
    )
    for (const t of text)
      out.push(
        sse("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: t } })
      )
    out.push(sse("content_block_stop", { type: "content_block_stop", index }))
    index++
  }
  for (const tool of tools) {
    out.push(
      sse("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: tool.id, name: tool.name, input: {} }
      })
    )
    out.push(
      sse("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: JSON.stringify(tool.input) }
      })
    )
    out.push(sse("content_block_stop", { type: "content_block_stop", index }))
    index++
  }
  out.push(sse("message_delta", { type: "message_delta", delta: { stop_reason: stop }, usage: { output_tokens: 20 } }))
  out.push(sse("message_stop", { type: "message_stop" }))
  return out
}

export const writeStream = (res, frames) => {
  res.writeHead(200, { "content-type": "text/event-stream" })
  for (const f of frames) res.write(f)
  res.end()
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]

export const stats = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return { median: percentile(sorted, 50), p95: percentile(sorted, 95), min: sorted[0], max: sorted.at(-1) }
}

export const fmt = (ms) => `${ms.toFixed(2).padStart(8)} ms`

/** `met` / `NOT MET`. */
export const verdict = (ok) => (ok ? "met" : "NOT MET")

/** "(target <text>): met" or "(target <text>): NOT MET". */
export const target = (text, ok) => `(target ${text}): ${verdict(ok)}`
