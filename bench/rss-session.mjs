// A 50-step session in its own process through the SDK's `run()`, with nobody reading events: each step streams
// 40 text deltas and calls Read on a real file and Glob. The turn's events must not pile up in memory, so the heap
// after GC is measured at step 5 and at step 50 (the model server runs in this process). Prints JSON for
// bench/run.mjs (c). Run with --expose-gc.
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { SageAgentSDK } from "../dist/sdk/index.js"
import { anthropicStream, peakRssMb, startServer, writeStream } from "./support.mjs"

const steps = 50
const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-rss-")))
for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(cwd, `file${i}.ts`), `export const v${i} = ${i}\n`.repeat(200))
let request = 0
const heap = {}
const heapAfterGc = () => {
  globalThis.gc?.()
  return process.memoryUsage().heapUsed / 1024 / 1024
}
const text = Array.from({ length: 40 }, (_, i) => `word${i} `)
const server = await startServer((_req, res) => {
  request++
  if (request === 5 || request === steps) heap[request] = heapAfterGc()
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
const sage = new SageAgentSDK({
  provider: "anthropic",
  apiKey: "bench",
  baseURL: server.url,
  model: "claude-bench",
  cwd,
  maxSteps: steps,
  permissionMode: "bypassPermissions",
  sandbox: "off",
  env: {}
})
const result = await sage.run("work")
await sage.close()
await server.close()
fs.rmSync(cwd, { recursive: true, force: true })
if (request !== steps) throw new Error(`expected ${steps} model requests, saw ${request}`)
process.stdout.write(
  JSON.stringify({
    maxRssMb: peakRssMb(),
    deltas: steps * text.length,
    steps: result.steps,
    heapAt5: heap[5],
    heapAt50: heap[steps]
  })
)
