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
 * The request floors as scripts, in a new temporary directory, each making one streaming request to `url`:
 * - `script`: what a user would write with the raw Anthropic SDK (import it, one streaming request), as written (the
 *   SDK's ESM files loaded one by one), and `bundled`, the same bundled into one CommonJS file (the SDK at its fastest);
 * - `messages`: the least of the official SDK a client can load (its base client with only the Messages resource, as
 *   Sage's provider does), bundled;
 * - `stack`: that client inside the least of Effect 4 a Sage-like CLI runs on (NodeRuntime.runMain, a Layer-provided
 *   service, Schema-decoded options, the response as a Stream), bundled: the floor of the stack DESIGN.md prescribes.
 */
const floorScripts = (url) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sage-bench-sdk-"))
  const write = (name, code) => {
    fs.writeFileSync(path.join(dir, name), code)
    return path.join(dir, name)
  }
  const bundle = (entry, outfile, format) => {
    buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      format,
      mainFields: ["module", "main"],
      nodePaths: [path.resolve(here, "../node_modules")],
      outfile,
      logLevel: "warning"
    })
    return outfile
  }
  const request = `{ model: "claude-sonnet-4-5", max_tokens: 1024, messages: [{ role: "user", content: "hi" }] }`
  const options = `{ apiKey: "bench", baseURL: ${JSON.stringify(url)}, maxRetries: 0 }`
  const script = write(
    "sdk.mjs",
    `import Anthropic from ${JSON.stringify(fileURLToPath(import.meta.resolve("@anthropic-ai/sdk")))}
const client = new Anthropic(${options})
client.messages.stream(${request}).done().catch(() => {})
`
  )
  const messagesEntry = write(
    "messages-entry.mjs",
    `import { BaseAnthropic } from "@anthropic-ai/sdk/client"
import { Messages } from "@anthropic-ai/sdk/resources/messages/messages"
class Client extends BaseAnthropic { messages = new Messages(this) }
new Client(${options}).messages.create({ ...${request}, stream: true }).then(async (events) => { for await (const _ of events); }).catch(() => {})
`
  )
  const stackEntry = write(
    "stack-entry.mjs",
    `import { BaseAnthropic } from "@anthropic-ai/sdk/client"
import { Messages } from "@anthropic-ai/sdk/resources/messages/messages"
import * as NodeRuntime from "@effect/platform-node-shared/NodeRuntime"
import { Context, Effect, Layer, Schema, Stream } from "effect"
class Client extends BaseAnthropic { messages = new Messages(this) }
class Model extends Context.Service()("bench/Model") {}
const Options = Schema.Struct({ model: Schema.String, max_tokens: Schema.Number })
const ModelLive = Layer.sync(Model, () => {
  const client = new Client(${options})
  return {
    stream: (options) =>
      Stream.unwrap(
        Effect.tryPromise(() => client.messages.create({ ...options, messages: [{ role: "user", content: "hi" }], stream: true })).pipe(
          Effect.map((events) => Stream.fromAsyncIterable(events, (error) => error))
        )
      )
  }
})
const program = Effect.gen(function* () {
  const options = yield* Schema.decodeUnknownEffect(Options)(${request})
  const model = yield* Model
  yield* Stream.runDrain(model.stream(options))
})
NodeRuntime.runMain(program.pipe(Effect.ignore, Effect.provide(ModelLive)))
`
  )
  return {
    dir,
    script,
    bundled: bundle(script, path.join(dir, "sdk.cjs"), "cjs"),
    messages: bundle(messagesEntry, path.join(dir, "messages.cjs"), "cjs"),
    stack: bundle(stackEntry, path.join(dir, "stack.mjs"), "esm")
  }
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
  const sdk = floorScripts(server.url)
  const runs = 15
  const sageReq = []
  const nodeReq = []
  const fetchReq = []
  const sdkReq = []
  const bundledReq = []
  const messagesReq = []
  const stackReq = []
  const sageVersion = []
  const nodeNothing = []
  for (let i = 0; i < runs + 2; i++) {
    const s = await spawnTimed([bin, "-p", "hi", "--max-steps", "1"], env, onRequest)
    const n = await spawnTimed(["-e", bare], env, onRequest)
    const f = await spawnTimed(["-e", bareFetch], env, onRequest)
    const k = await spawnTimed([sdk.script], env, onRequest)
    const u = await spawnTimed([sdk.bundled], env, onRequest)
    const m = await spawnTimed([sdk.messages], env, onRequest)
    const t = await spawnTimed([sdk.stack], env, onRequest)
    const v = await spawnTimed([bin, "--version"], env, onRequest)
    const e = await spawnTimed(["-e", "0"], env, onRequest)
    if (i < 2) continue // warm-up (disk cache)
    if (s.firstRequest === undefined) throw new Error(`sage -p never reached the server: ${s.stderr}`)
    for (const floor of [k, u, m, t]) {
      if (floor.firstRequest === undefined) throw new Error(`a floor script never reached the server: ${floor.stderr}`)
    }
    sageReq.push(s.firstRequest)
    nodeReq.push(n.firstRequest)
    fetchReq.push(f.firstRequest)
    sdkReq.push(k.firstRequest)
    bundledReq.push(u.firstRequest)
    messagesReq.push(m.firstRequest)
    stackReq.push(t.firstRequest)
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
  const m = stats(messagesReq)
  const t = stats(stackReq)
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
  /** A floor of the first request beside Sage's: its times, Sage's ratio to it, and a note. */
  const floorRow = (label, floor, note = "") =>
    console.log(
      "    %s median %s  p95 %s   ratio %sx%s",
      label.padEnd(26),
      fmt(floor.median),
      fmt(floor.p95),
      (a.median / floor.median).toFixed(2),
      note
    )
  const ofNodeHttp = (floor, what) => ` (${what}: ${(floor.median / b.median).toFixed(2)}x node:http)`
  floorRow("bare fetch client", f)
  floorRow("raw Anthropic SDK script", k)
  floorRow("  the same, bundled (CJS)", u)
  floorRow("  its Messages client only", m, ofNodeHttp(m, "the official SDK's floor"))
  floorRow("  that client in Effect 4", t, ofNodeHttp(t, "the stack's floor"))
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
  // Peak RSS varies from run to run (when V8 grows its young generation, how glibc spreads its arenas): medians.
  const hello = await medianOf(7, () => cliSessionRss(1))
  const cli = await medianOf(3, () => cliSessionRss(50))
  const bare = await run([
    "-e",
    // The kernel's high-water mark of this process (resourceUsage().maxRSS would include the bench's own RSS at
    // the fork that started it).
    'process.stdout.write(JSON.stringify({ maxRssMb: /VmHWM:\\s+(\\d+)/.exec(require("fs").readFileSync("/proc/self/status", "utf8"))[1] / 1024 }))'
  ])
  const floors = await requestFloorsRss()
  console.log("\n(c) peak RSS, medians of 7 runs (3 for 50 steps; each step: text, Read and Glob)")
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
  console.log(
    "      its Messages client only, bundled     %s MB   (the official SDK's floor)",
    floors.messages.toFixed(1)
  )
  console.log("      that client in Effect 4, bundled      %s MB   (the stack's floor)", floors.stack.toFixed(1))
}

/** Peak RSS of the floors of a hello run: Node's `fetch` (undici) and the raw Anthropic SDK, one request each. */
async function requestFloorsRss() {
  const server = await startServer((_req, res) => {
    res.writeHead(401, { "content-type": "application/json" })
    res.end(JSON.stringify({ type: "error", error: { type: "authentication_error", message: "bench" } }))
  })
  const sdk = floorScripts(server.url)
  const peak = (args) =>
    medianOf(7, async () => {
      const child = spawn(process.execPath, args, { stdio: "ignore" })
      return (await peakRssOfChild(child)).peak
    })
  const fetchPeak = await peak(["-e", bareFetchCode(server.url)])
  const sdkPeak = await peak([sdk.script])
  const bundledPeak = await peak([sdk.bundled])
  const messagesPeak = await peak([sdk.messages])
  const stackPeak = await peak([sdk.stack])
  fs.rmSync(sdk.dir, { recursive: true, force: true })
  await server.close()
  return { fetch: fetchPeak, sdk: sdkPeak, bundled: bundledPeak, messages: messagesPeak, stack: stackPeak }
}

/** The median of `runs` sequential runs of `measure`. */
const medianOf = async (runs, measure) => {
  const values = []
  for (let i = 0; i < runs; i++) values.push(await measure())
  return stats(values).median
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
