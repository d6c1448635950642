// (a) first-token overhead and (b) fan-out, through the built library (dist/).
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import Anthropic from "@anthropic-ai/sdk"
import { Duration, Effect, ManagedRuntime, Schema, Stream } from "effect"
import { Agent, layerNode, Tool } from "../dist/index.js"
import { anthropicStream, fmt, startServer, stats, target, writeStream } from "./support.mjs"

const tmp = () => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-bench-")))

/** The public `layerNode` (built-in tools plus `tools`, every call allowed, no OS sandbox) on the local server. */
const runtimeFor = (url, cwd, tools, maxConcurrency = 10) =>
  ManagedRuntime.make(
    layerNode({
      provider: "anthropic",
      apiKey: "bench",
      baseURL: url,
      model: "claude-bench",
      retry: { maxRetries: 0 },
      cwd,
      homeDir: cwd,
      permissionMode: "bypassPermissions",
      sandbox: "off",
      env: {},
      tools,
      maxConcurrency
    })
  )

export async function firstToken() {
  const frames = anthropicStream({ text: ["Hello", " there", ", this is", " the answer."] })
  const server = await startServer((_req, res) => writeStream(res, frames))
  const cwd = tmp()
  const runtime = runtimeFor(server.url, cwd, [])
  const raw = new Anthropic({ apiKey: "bench", baseURL: server.url, maxRetries: 0 })
  const firstText = Effect.flatMap(Agent, (agent) =>
    Stream.runHead(Stream.filter(agent.run("hi"), (e) => e.type === "text.delta"))
  )
  const sage = async () => {
    const t0 = performance.now()
    await runtime.runPromise(firstText)
    return performance.now() - t0
  }
  const vendor = async () => {
    const t0 = performance.now()
    const stream = await raw.messages.create({
      model: "claude-bench",
      max_tokens: 64,
      messages: [{ role: "user", content: "hi" }],
      stream: true
    })
    for await (const event of stream) {
      if (event.type === "content_block_delta") break
    }
    return performance.now() - t0
  }
  for (let i = 0; i < 30; i++) {
    await sage()
    await vendor()
  }
  const n = 300
  const s = []
  const v = []
  const d = []
  for (let i = 0; i < n; i++) {
    const a = await sage()
    const b = await vendor()
    s.push(a)
    v.push(b)
    d.push(a - b)
  }
  await runtime.dispose()
  await server.close()
  fs.rmSync(cwd, { recursive: true, force: true })
  const ss = stats(s)
  const vs = stats(v)
  const ds = stats(d)
  const overheadOk = ds.p95 <= 5
  console.log("\n(a) time to first text delta, %d interleaved runs each (local Anthropic-wire server)", n)
  console.log("    Agent.run (layerNode)           median %s  p95 %s", fmt(ss.median), fmt(ss.p95))
  console.log("    floor: raw @anthropic-ai/sdk    median %s  p95 %s", fmt(vs.median), fmt(vs.p95))
  console.log(
    "    overhead (paired)               median %s  p95 %s   ratio of medians %sx   %s",
    fmt(ds.median),
    fmt(ds.p95),
    (ss.median / vs.median).toFixed(2),
    target("p95 overhead <= 5 ms", overheadOk)
  )
}

export async function fanOut() {
  const calls = 64
  const tools = Array.from({ length: calls }, (_, i) => ({ id: `toolu_${i}`, name: "Wait200", input: { i } }))
  const server = await startServer((req, res) => {
    const hasResults = JSON.stringify(req.json?.messages ?? []).includes("tool_result")
    writeStream(res, hasResults ? anthropicStream({ text: ["done"] }) : anthropicStream({ tools }))
  })
  const cwd = tmp()
  const Wait200 = Tool.make({
    name: "Wait200",
    description: "waits 200 ms",
    input: Schema.Struct({ i: Schema.Number }),
    readOnly: true,
    execute: () => Effect.as(Effect.sleep(Duration.millis(200)), "ok")
  })
  const runtime = runtimeFor(server.url, cwd, [Wait200], calls)
  const once = () =>
    runtime.runPromise(
      Effect.gen(function* () {
        const agent = yield* Agent
        let first
        let lastStart
        let last
        let firstCall
        let lastCall
        const t0 = performance.now()
        yield* Stream.runForEach(agent.run("go"), (e) =>
          Effect.sync(() => {
            const now = performance.now()
            if (e.type === "tool_call.started") firstCall ??= now
            if (e.type === "tool_call.completed") lastCall = now
            if (e.type === "tool.started") {
              first ??= now
              lastStart = now
            }
            if (e.type === "tool.completed") last = now
          })
        )
        return {
          tools: last - first,
          afterLastStart: last - lastStart,
          stream: lastCall - firstCall,
          turn: performance.now() - t0
        }
      })
    )
  await once()
  const runs = []
  for (let i = 0; i < 7; i++) runs.push(await once())
  await runtime.dispose()
  await server.close()
  fs.rmSync(cwd, { recursive: true, force: true })
  const t = stats(runs.map((r) => r.tools))
  const a = stats(runs.map((r) => r.afterLastStart))
  const s = stats(runs.map((r) => r.stream))
  const w = stats(runs.map((r) => r.turn))
  const floor = 200
  console.log(
    "\n(b) fan-out: %d calls of a 200 ms tool in one message, concurrency %d, %d runs",
    calls,
    calls,
    runs.length
  )
  console.log("    floor: one call of the tool                %s", fmt(floor))
  console.log(
    "    first tool start -> last tool end   median %s   ratio %sx   %s",
    fmt(t.median),
    (t.median / floor).toFixed(2),
    target("<= 1.5x", t.median <= 1.5 * floor)
  )
  console.log(
    "    last tool start -> last tool end    median %s   ratio %sx",
    fmt(a.median),
    (a.median / floor).toFixed(2)
  )
  console.log("    model streaming the 64 calls        median %s   (tools start as each call completes)", fmt(s.median))
  console.log("    whole turn (2 model requests)       median %s", fmt(w.median))
}
