// (h) Sessions, for bench/run.mjs:
//   - `sage -p -r ID` of a 10,000-event session: spawn -> first request at the local server (the log is read,
//     folded into the conversation and sent), vs `sage -p` of a new session in the same run. Target <= 300 ms.
//   - a 500-turn session, 20 KB of tool output per turn, in one process (the way the REPL lives): peak RSS and heap
//     after GC at turns 100 and 500 (bench/sessions-long.mjs; needs the library build, dist/index.js).
//   - `sage sessions list` over 500 sessions of 300 events each: cold (no summary cache: every log is read) vs warm
//     (the cache, `$SAGE_HOME/sessions/index.json`: no log is read), and `--cwd` of one directory's 10 sessions (what
//     `sage -c` lists), against `sage sessions list` of no sessions. Alone: `node bench/sessions.mjs index`.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { fmt, startServer, stats } from "./support.mjs"

const here = path.dirname(fileURLToPath(import.meta.url))
const verdict = (ok) => (ok ? "met" : "NOT MET")

/** A session log of `turns` turns of 100 events each (text deltas, a tool call with 2 KB of output, messages). */
export const writeSessionLog = (file, id, cwd, turns) => {
  const lines = [
    JSON.stringify({ type: "session", format: 1, id, cwd, created: 1, provider: "anthropic", model: "claude-bench" })
  ]
  let t = 1
  const e = (turnId, body) => JSON.stringify({ v: 1, sessionId: id, agentId: "main", timestamp: t++, turnId, ...body })
  const output = "x".repeat(2000)
  for (let n = 0; n < turns; n++) {
    const turnId = `turn_${n}`
    const call = { id: `call_${n}`, name: "Read", input: { file_path: `f${n}.ts` } }
    lines.push(e(turnId, { type: "turn.started", prompt: `question ${n}` }))
    lines.push(e(turnId, { type: "step.started", step: 1 }))
    for (let d = 0; d < 40; d++) lines.push(e(turnId, { type: "text.delta", text: `word${d} ` }))
    lines.push(e(turnId, { type: "tool_call.completed", call }))
    const text = Array.from({ length: 40 }, (_, d) => `word${d} `).join("")
    lines.push(
      e(turnId, {
        type: "message",
        message: {
          role: "assistant",
          content: [
            { type: "text", text },
            { type: "tool_use", ...call }
          ]
        }
      })
    )
    const result = {
      toolCallId: call.id,
      toolName: "Read",
      status: "success",
      output: [{ type: "text", text: output }],
      durationMs: 1
    }
    lines.push(e(turnId, { type: "tool.completed", result }))
    lines.push(
      e(turnId, {
        type: "message",
        message: {
          role: "tool",
          content: [
            { type: "tool_result", toolUseId: call.id, content: [{ type: "text", text: output }], isError: false }
          ]
        }
      })
    )
    lines.push(e(turnId, { type: "step.started", step: 2 }))
    for (let d = 0; d < 50; d++) lines.push(e(turnId, { type: "text.delta", text: `answer${d} ` }))
    lines.push(
      e(turnId, { type: "message", message: { role: "assistant", content: [{ type: "text", text: "done" }] } })
    )
    lines.push(
      e(turnId, {
        type: "turn.ended",
        stopReason: "end_turn",
        steps: 2,
        usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
        text: "done"
      })
    )
  }
  fs.writeFileSync(file, `${lines.join("\n")}\n`)
  return lines.length
}

const timed = (bin, args, env) =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (out += d))
    child.on("error", reject)
    child.on("exit", (code) =>
      code === 0 ? resolve({ ms: performance.now() - t0, out }) : reject(new Error(`exit ${code}: ${out}`))
    )
  })

/** `sage sessions list` over 500 sessions, without and with the summary cache. */
export async function sessionIndexBench(bin) {
  const home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-bench-index-")))
  // The directory of 10 of the sessions (for --cwd), and an empty SAGE_HOME (start-up alone).
  const empty = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-bench-empty-")))
  const dir = path.join(home, "sessions")
  fs.mkdirSync(dir, { recursive: true })
  const n = 500
  const old = new Date(Date.now() - 3_600_000)
  let events = 0
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, `s${i}.jsonl`)
    events = writeSessionLog(file, `s${i}`, i % 50 === 0 ? empty : `/bench/other${i % 7}`, 3)
    fs.utimesSync(file, old, old)
  }
  const mb = fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0) / 1024 / 1024
  const index = path.join(dir, "index.json")
  const env = (h) => ({ PATH: process.env.PATH, HOME: h, SAGE_HOME: h })
  const runs = 5
  const measure = async (args, h, cold) => {
    const times = []
    for (let i = 0; i < runs + 1; i++) {
      if (cold) fs.rmSync(index, { force: true })
      const { ms, out } = await timed(bin, args, env(h))
      if (i > 0) times.push(ms)
      if (h === home && args.length === 2 && !out.includes("s499")) throw new Error(`bad list: ${out.slice(0, 200)}`)
    }
    return stats(times)
  }
  const list = ["sessions", "list"]
  const here = ["sessions", "list", "--cwd", empty]
  let cold, warm, hereCold, hereWarm, none
  try {
    cold = await measure(list, home, true)
    warm = await measure(list, home, false)
    hereCold = await measure(here, home, true)
    hereWarm = await measure(here, home, false)
    none = await measure(list, empty, false)
  } finally {
    fs.rmSync(home, { recursive: true, force: true })
    fs.rmSync(empty, { recursive: true, force: true })
  }
  console.log(
    "\n(h) sessions: sage sessions list over %d sessions (%d events each, %s MB of logs), median of %d runs",
    n,
    events,
    mb.toFixed(1),
    runs
  )
  console.log("    cold (no cache, every log read)     median %s  p95 %s", fmt(cold.median), fmt(cold.p95))
  console.log(
    "    warm (cache, no log read)           median %s  p95 %s   %sx faster",
    fmt(warm.median),
    fmt(warm.p95),
    (cold.median / warm.median).toFixed(1)
  )
  console.log(
    "    --cwd of 10 sessions: cold %s, warm %s   (sage -c lists this way)",
    fmt(hereCold.median),
    fmt(hereWarm.median)
  )
  console.log("    no sessions at all (start-up alone) median %s", fmt(none.median))
}

const firstRequestOf = (bin, args, env, onRequest) =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    let first
    onRequest.current = () => {
      first ??= performance.now() - t0
    }
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", "ignore", "pipe"] })
    let err = ""
    child.stderr.on("data", (d) => (err += d))
    child.on("error", reject)
    child.on("exit", () => (first === undefined ? reject(new Error(`no request: ${err}`)) : resolve(first)))
  })

export async function sessionBenches(bin) {
  const home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-bench-sessions-")))
  const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-bench-cwd-")))
  const dir = path.join(home, "sessions")
  fs.mkdirSync(dir, { recursive: true })
  const events = writeSessionLog(path.join(dir, "big.jsonl"), "big", cwd, 102)
  const bytes = fs.statSync(path.join(dir, "big.jsonl")).size
  const onRequest = { current: () => {} }
  let body = 0
  const server = await startServer((req, res) => {
    onRequest.current()
    body = JSON.stringify(req.json ?? "").length
    res.writeHead(401, { "content-type": "application/json" })
    res.end(JSON.stringify({ type: "error", error: { type: "authentication_error", message: "bench" } }))
  })
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    SAGE_HOME: home,
    ANTHROPIC_API_KEY: "bench",
    ANTHROPIC_BASE_URL: server.url,
    SAGE_PROVIDER: "anthropic"
  }
  const runs = 10
  const resumed = []
  const fresh = []
  let resumedBody = 0
  for (let i = 0; i < runs + 2; i++) {
    // --no-session-persistence: every run reads the same log (nothing appended), like the first resume of a day.
    const r = await firstRequestOf(bin, ["-p", "-r", "big", "next", "--no-session-persistence"], env, onRequest)
    resumedBody = body
    const f = await firstRequestOf(bin, ["-p", "hi", "--no-session-persistence"], env, onRequest)
    if (i < 2) continue
    resumed.push(r)
    fresh.push(f)
  }
  await server.close()
  const a = stats(resumed)
  const b = stats(fresh)
  console.log(
    "\n(h) sessions: sage -p -r of a %d-event session (%s MB of log, %s KB request) -> first request, %d runs",
    events,
    (bytes / 1024 / 1024).toFixed(1),
    (resumedBody / 1024).toFixed(0),
    runs
  )
  console.log(
    "    sage -p -r ID             median %s  p95 %s   (target <= 300 ms): %s",
    fmt(a.median),
    fmt(a.p95),
    verdict(a.median <= 300)
  )
  console.log(
    "    sage -p (new session)     median %s  p95 %s   resume costs +%s",
    fmt(b.median),
    fmt(b.p95),
    fmt(a.median - b.median)
  )

  const lib = path.resolve(here, "../dist/index.js")
  if (!fs.existsSync(lib) || !fs.readFileSync(lib, "utf8").includes("Conversation")) {
    console.log("    500-turn session: skipped (dist/index.js has no Conversation: run npm run build)")
  } else {
    const result = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--expose-gc", path.join(here, "sessions-long.mjs")], {
        env: { ...process.env, SAGE_HOME: home },
        stdio: ["ignore", "pipe", "inherit"]
      })
      let out = ""
      child.stdout.on("data", (d) => (out += d))
      child.on("error", reject)
      child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}: ${out}`))))
    })
    console.log(
      "    500 turns x 20 KB tool output, one process (model server in another): peak RSS %s MB (target <= 150 MB): %s; heap after GC %s MB at turn 100, %s MB at turn 500 (target within 10%%): %s; %d compactions; log %s MB",
      result.maxRssMb.toFixed(1),
      verdict(result.maxRssMb <= 150),
      result.heapAt100.toFixed(1),
      result.heapAt500.toFixed(1),
      verdict(result.heapAt500 <= result.heapAt100 * 1.1),
      result.compactions,
      result.logMb.toFixed(1)
    )
  }
  fs.rmSync(home, { recursive: true, force: true })
  fs.rmSync(cwd, { recursive: true, force: true })
  await sessionIndexBench(bin)
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "index") {
  await sessionIndexBench(path.resolve(here, "../dist/bin.js"))
}
