// A 500-turn session in one process (the way the REPL lives in one), each turn reading a 20 KB file, through the
// Effect API (`Conversation` on `layerNode`, the JSONL session store under $SAGE_HOME). The conversation is compacted
// when it nears the model's context window, so memory must stay flat: the heap after GC is measured at turns 100
// and 500, and the peak RSS at the end. Prints JSON for bench/sessions.mjs. Run with --expose-gc. Needs dist/.
// The model server is bench/sessions-long-server.mjs, in a child process.
import { fork } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { useCompactHeap } from "../dist/process/Heap.js"
import { peakRssMb } from "./support.mjs"

// The heap settings the `sage` REPL applies before it loads the agent.
useCompactHeap()
const { Effect } = await import("effect")
const { Conversation, layerNode } = await import("../dist/index.js")

const turns = 500
const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-long-")))
fs.writeFileSync(path.join(cwd, "big.txt"), `${"y".repeat(79)}\n`.repeat(256)) // 20 KB
const heapAfterGc = () => {
  globalThis.gc?.()
  return process.memoryUsage().heapUsed / 1024 / 1024
}
// The scripted model server runs in its own process, so the peak RSS measured here is Sage's alone (each request
// body, up to the context window, would otherwise be parsed in this process too).
const serverProcess = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), "sessions-long-server.mjs"))
const server = await new Promise((resolve) => serverProcess.once("message", resolve))
const compactionCount = () =>
  new Promise((resolve) => {
    serverProcess.once("message", (message) => resolve(message.compactions))
    serverProcess.send("compactions")
  })

const heap = {}
const program = Effect.scoped(
  Effect.gen(function* () {
    const conversation = yield* Conversation.open({ cwd })
    for (let turn = 1; turn <= turns; turn++) {
      // Each turn in its own scope (as the REPL does): a finished turn leaves nothing behind.
      yield* Effect.scoped(
        Effect.flatMap(conversation.start(`read big.txt (${turn})`), (execution) => execution.result)
      )
      if (turn === 100 || turn === turns) heap[turn] = heapAfterGc()
    }
    return conversation.sessionId
  })
).pipe(
  Effect.provide(
    layerNode({
      provider: "anthropic",
      apiKey: "bench",
      baseURL: server.url,
      model: "claude-haiku-4-5",
      cwd,
      sandbox: "off",
      env: { PATH: process.env.PATH }
    })
  )
)
const id = await Effect.runPromise(program)
const compactions = await compactionCount()
serverProcess.kill()
const log = path.join(process.env.SAGE_HOME ?? path.join(os.homedir(), ".sage"), "sessions", `${id}.jsonl`)
const logMb = fs.statSync(log).size / 1024 / 1024
fs.rmSync(cwd, { recursive: true, force: true })
process.stdout.write(
  JSON.stringify({
    maxRssMb: peakRssMb(),
    heapAt100: heap[100],
    heapAt500: heap[turns],
    compactions,
    logMb
  })
)
