// A 50-step session in its own process: each step streams text and calls Read on a real file and Glob;
// prints the process's peak RSS as JSON. Used by bench/run.mjs (c).
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Layer, ManagedRuntime, Redacted, Stream } from "effect"
import {
  Agent,
  AgentLive,
  Anthropic as AnthropicProvider,
  builtinTools,
  EventBusLive,
  PermissionsLive,
  ToolRegistryLive
} from "../dist/index.js"
import { anthropicStream, startServer, writeStream } from "./support.mjs"

const steps = 50
const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-rss-")))
for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(cwd, `file${i}.ts`), `export const v${i} = ${i}\n`.repeat(200))
let request = 0
const text = Array.from({ length: 40 }, (_, i) => `word${i} `)
const server = await startServer((_req, res) => {
  request++
  const last = request % steps === 0
  writeStream(
    res,
    last
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
const runtime = ManagedRuntime.make(
  Layer.provideMerge(
    AgentLive.layer({ cwd, maxSteps: steps, permissionMode: "bypassPermissions" }),
    Layer.mergeAll(
      AnthropicProvider.layer({ apiKey: Redacted.make("bench"), baseURL: server.url, model: "claude-bench" }),
      ToolRegistryLive.layer(builtinTools({ workspace: { roots: [cwd] }, env: {} })),
      PermissionsLive.layer({ cwd, mode: "bypassPermissions", homeDir: cwd }),
      EventBusLive.layer()
    )
  )
)
let events = 0
let toolCalls = 0
await runtime.runPromise(
  Effect.flatMap(Agent, (agent) =>
    Stream.runForEach(agent.run("work"), (e) =>
      Effect.sync(() => {
        events++
        if (e.type === "tool.completed") toolCalls++
      })
    )
  )
)
await runtime.dispose()
await server.close()
fs.rmSync(cwd, { recursive: true, force: true })
if (request !== steps) throw new Error(`expected ${steps} model requests, saw ${request}`)
process.stdout.write(JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024, events, toolCalls }))
