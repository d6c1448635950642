// `npm run bench`: Sage's speed and memory numbers, each side by side with a baseline in the same run.
// Everything talks to local servers on 127.0.0.1. The machine is noisy: read medians, p95 and ratios.
//
//   (a) first-token overhead: Agent.run vs the raw @anthropic-ai/sdk on the same local stream
//   (b) fan-out: 64 calls of a 200 ms tool in one message, wall time vs 200 ms
//   (c) peak RSS of a 50-step session (child process) vs a bare node process
//   (c) also: peak RSS of a one-step hello run of `sage -p`, and `sdk.run()` of 50 steps with nobody reading events
//   (d) CLI start-up: `sage -p` to the first request vs a bare `node:http` client, `sage --version` vs `node -e 0`
//   (e) tools: Grep and Glob on a generated 20,000-file tree vs rg / find, and permission checks per second
//   (f) the package: npm pack + a fresh consumer install, size besides effect (bench/package.mjs)
//   (g) the REPL: its prompt ready vs `sage -p` to the first request (bench/repl.mjs)
//   (h) sessions: `sage -r` of a 10,000-event session to the first request; a 500-turn session's RSS (bench/sessions.mjs)
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { performance } from "node:perf_hooks"
import { buildSync } from "esbuild"
import { fanOut, firstToken } from "./agent.mjs"
import { anthropicStream, fmt, startServer, stats, writeStream } from "./support.mjs"
import { replStartup } from "./repl.mjs"
import { sessionBenches } from "./sessions.mjs"
import { toolBenches } from "./tools.mjs"

const here = path.dirname(fileURLToPath(import.meta.url))
const bin = path.resolve(here, "../dist/bin.js")
const only = process.argv.slice(2)
const want = (name) => only.length === 0 || only.includes(name)

const spawnTimed = (args, env, onRequest) =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    let firstRequest
    onRequest.current = () => {
      firstRequest ??= performance.now() - t0
    }
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"]
    })
    let err = ""
    child.stderr.on("data", (d) => (err += d))
    child.on("error", reject)
    child.on("exit", () => resolve({ total: performance.now() - t0, firstRequest, stderr: err }))
  })

/** A bare `fetch` client doing one POST (the code for `node -e`). */
const bareFetchCode = (url) =>
  `fetch(${JSON.stringify(`${url}/v1/messages`)}, { method: "POST", body: "{}" }).then((r) => r.arrayBuffer(), () => {})`

/**
 * The script a user would write with the raw Anthropic SDK: import it, one streaming request. Returns the paths of
 * the script as written (the SDK's ESM files loaded one by one) and of the same script bundled into one CommonJS file
 * (the SDK at its fastest), both in a new temporary directory.
 */
const rawSdkScripts = (url) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sage-bench-sdk-"))
  const script = path.join(dir, "sdk.mjs")
  fs.writeFileSync(
    script,
    `import Anthropic from ${JSON.stringify(fileURLToPath(import.meta.resolve("@anthropic-ai/sdk")))}
const client = new Anthropic({ apiKey: "bench", baseURL: ${JSON.stringify(url)}, maxRetries: 0 })
client.messages.stream({ model: "claude-sonnet-4-5", max_tokens: 1024, messages: [{ role: "user", content: "hi" }] }).done().catch(() => {})
`
  )
  const bundled = path.join(dir, "sdk.cjs")
  buildSync({
    entryPoints: [script],
    bundle: true,
    platform: "node",
    format: "cjs",
    mainFields: ["module", "main"],
    outfile: bundled,
    logLevel: "warning"
  })
  return { dir, script, bundled }
}

async function cliStartup() {
  const onRequest = { current: () => {} }
  const server = await startServer((_req, res) => {
    onRequest.current()
    res.writeHead(401, { "content-type": "application/json" })
    res.end(JSON.stringify({ type: "error", error: { type: "authentication_error", message: "bench" } }))
  })
  const env = { ANTHROPIC_API_KEY: "bench", ANTHROPIC_BASE_URL: server.url, SAGE_PROVIDER: "anthropic" }
  // The floor: a bare node:http client making one streaming POST (no fetch, no SDK).
  const bare = `require("node:http").request(${JSON.stringify(`${server.url}/v1/messages`)}, { method: "POST" }, (r) => r.resume()).on("error", () => {}).end("{}")`
  // Two more floors, for what the stack under Sage costs: Node's `fetch` (undici, which the vendor SDKs need) and the
  // raw Anthropic SDK (the same script a user would write without Sage: import it, one streaming request).
  const bareFetch = bareFetchCode(server.url)
  const sdk = rawSdkScripts(server.url)
  const runs = 15
  const sageReq = []
  const nodeReq = []
  const fetchReq = []
  const sdkReq = []
  const bundledReq = []
  const sageVersion = []
  const nodeNothing = []
  for (let i = 0; i < runs + 2; i++) {
    const s = await spawnTimed([bin, "-p", "hi", "--max-steps", "1"], env, onRequest)
    const n = await spawnTimed(["-e", bare], env, onRequest)
    const f = await spawnTimed(["-e", bareFetch], env, onRequest)
    const k = await spawnTimed([sdk.script], env, onRequest)
    const u = await spawnTimed([sdk.bundled], env, onRequest)
    const v = await spawnTimed([bin, "--version"], env, onRequest)
    const e = await spawnTimed(["-e", "0"], env, onRequest)
    if (i < 2) continue // warm-up (disk cache)
    if (s.firstRequest === undefined) throw new Error(`sage -p never reached the server: ${s.stderr}`)
    if (k.firstRequest === undefined || u.firstRequest === undefined) {
      throw new Error(`the raw SDK never reached the server: ${k.stderr}${u.stderr}`)
    }
    sageReq.push(s.firstRequest)
    nodeReq.push(n.firstRequest)
    fetchReq.push(f.firstRequest)
    sdkReq.push(k.firstRequest)
    bundledReq.push(u.firstRequest)
    sageVersion.push(v.total)
    nodeNothing.push(e.total)
  }
  await server.close()
  fs.rmSync(sdk.dir, { recursive: true, force: true })
  const a = stats(sageReq)
  const b = stats(nodeReq)
  const f = stats(fetchReq)
  const k = stats(sdkReq)
  const u = stats(bundledReq)
  const v = stats(sageVersion)
  const e = stats(nodeNothing)
  console.log("\n(d) CLI start-up, %d runs each (spawn -> first request at the local server; --version to exit)", runs)
  console.log("    sage -p to first request   median %s  p95 %s", fmt(a.median), fmt(a.p95))
  console.log(
    "    bare node:http client      median %s  p95 %s   ratio %sx (target <= 2.5x): %s",
    fmt(b.median),
    fmt(b.p95),
    (a.median / b.median).toFixed(2),
    verdict(a.median <= 2.5 * b.median)
  )
  console.log(
    "    bare fetch client          median %s  p95 %s   ratio %sx",
    fmt(f.median),
    fmt(f.p95),
    (a.median / f.median).toFixed(2)
  )
  console.log(
    "    raw Anthropic SDK script   median %s  p95 %s   ratio %sx",
    fmt(k.median),
    fmt(k.p95),
    (a.median / k.median).toFixed(2)
  )
  console.log(
    "      the same, bundled (CJS)  median %s  p95 %s   ratio %sx",
    fmt(u.median),
    fmt(u.p95),
    (a.median / u.median).toFixed(2)
  )
  console.log("    sage --version             median %s  p95 %s", fmt(v.median), fmt(v.p95))
  console.log(
    "    node -e 0                  median %s  p95 %s   ratio %sx (target <= 1.2x): %s",
    fmt(e.median),
    fmt(e.p95),
    (v.median / e.median).toFixed(2),
    verdict(v.median <= 1.2 * e.median)
  )
}

/** Peak RSS of a running child, from /proc/<pid>/status VmHWM (the kernel's high-water mark), polled until exit. */
const peakRssOfChild = (child) =>
  new Promise((resolve) => {
    let peak = 0
    const read = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"))
        if (m) peak = Math.max(peak, Number(m[1]) / 1024)
      } catch {}
    }
    const timer = setInterval(read, 5)
    child.on("exit", (code) => {
      clearInterval(timer)
      resolve({ peak, code })
    })
  })

async function cliSessionRss(steps) {
  let request = 0
  const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-rss-cli-")))
  for (let i = 0; i < 20; i++)
    fs.writeFileSync(path.join(cwd, `file${i}.ts`), `export const v${i} = ${i}\n`.repeat(200))
  const text = Array.from({ length: 40 }, (_, i) => `word${i} `)
  const server = await startServer((_req, res) => {
    request++
    writeStream(
      res,
      request === steps
        ? anthropicStream({ text })
        : anthropicStream({
            text,
            tools: [
              { id: `r${request}`, name: "Read", input: { file_path: `file${request % 20}.ts` } },
              { id: `g${request}`, name: "Glob", input: { pattern: "*.ts" } }
            ]
          })
    )
  })
  const child = spawn(
    process.execPath,
    [bin, "-p", "work", "--max-steps", String(steps), "--cwd", cwd, "--output-format", "json"],
    {
      env: {
        ...process.env,
        ANTHROPIC_API_KEY: "bench",
        ANTHROPIC_BASE_URL: server.url,
        SAGE_PROVIDER: "anthropic",
        HOME: cwd
      },
      stdio: ["ignore", "ignore", "inherit"]
    }
  )
  const { peak, code } = await peakRssOfChild(child)
  await server.close()
  fs.rmSync(cwd, { recursive: true, force: true })
  if (code !== 0 || request !== steps) throw new Error(`CLI session: exit ${code}, ${request} requests`)
  return peak
}

async function rss() {
  const run = (args) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] })
      let out = ""
      child.stdout.on("data", (d) => (out += d))
      child.on("error", reject)
      child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}: ${out}`))))
    })
  const session = await run(["--expose-gc", path.join(here, "rss-session.mjs")])
  const hello = await cliSessionRss(1)
  const cli = await cliSessionRss(50)
  const bare = await run([
    "-e",
    // The kernel's high-water mark of this process (resourceUsage().maxRSS would include the bench's own RSS at
    // the fork that started it).
    'process.stdout.write(JSON.stringify({ maxRssMb: /VmHWM:\\s+(\\d+)/.exec(require("fs").readFileSync("/proc/self/status", "utf8"))[1] / 1024 }))'
  ])
  const floors = await requestFloorsRss()
  console.log("\n(c) peak RSS (each step: text, Read and Glob)")
  console.log(
    "    sage -p hello run (1 step)              %s MB   (target <= 75 MB): %s",
    hello.toFixed(1),
    verdict(hello <= 75)
  )
  console.log(
    "    sage -p 50-step session                 %s MB   (target <= 100 MB): %s",
    cli.toFixed(1),
    verdict(cli <= 100)
  )
  console.log(
    "    sdk.run() 50 steps, no event reader     %s MB   (%d deltas streamed; heap after GC %s MB at step 5, %s MB at step 50)",
    session.maxRssMb.toFixed(1),
    session.deltas,
    session.heapAt5.toFixed(1),
    session.heapAt50.toFixed(1)
  )
  console.log("    bare node process                       %s MB", bare.maxRssMb.toFixed(1))
  console.log("    bare fetch client, one request          %s MB", floors.fetch.toFixed(1))
  console.log("    raw Anthropic SDK script, one request   %s MB", floors.sdk.toFixed(1))
  console.log("      the same, bundled (CJS)               %s MB", floors.bundled.toFixed(1))
}

/** Peak RSS of the floors of a hello run: Node's `fetch` (undici) and the raw Anthropic SDK, one request each. */
async function requestFloorsRss() {
  const server = await startServer((_req, res) => {
    res.writeHead(401, { "content-type": "application/json" })
    res.end(JSON.stringify({ type: "error", error: { type: "authentication_error", message: "bench" } }))
  })
  const sdk = rawSdkScripts(server.url)
  const peak = async (args) => {
    const child = spawn(process.execPath, args, { stdio: "ignore" })
    return (await peakRssOfChild(child)).peak
  }
  const fetchPeak = await peak(["-e", bareFetchCode(server.url)])
  const sdkPeak = await peak([sdk.script])
  const bundledPeak = await peak([sdk.bundled])
  fs.rmSync(sdk.dir, { recursive: true, force: true })
  await server.close()
  return { fetch: fetchPeak, sdk: sdkPeak, bundled: bundledPeak }
}

const verdict = (ok) => (ok ? "met" : "NOT MET")

console.log("Sage benchmarks on %s, node %s, %d cpus", os.platform(), process.version, os.cpus().length)
if (!fs.existsSync(bin)) throw new Error("dist/bin.js missing: run npm run build")
if (want("first-token")) await firstToken()
if (want("fan-out")) await fanOut()
if (want("rss")) await rss()
if (want("cli")) await cliStartup()
if (want("tools")) await toolBenches()
if (want("repl")) await replStartup(bin)
if (want("sessions")) await sessionBenches(bin)
if (want("package")) {
  const { status } = await import("node:child_process").then((cp) =>
    cp.spawnSync(process.execPath, [path.join(here, "package.mjs")], { stdio: "inherit" })
  )
  if (status !== 0) process.exitCode = 1
}
