// A 500-turn session in one process (the way the REPL lives in one), each turn reading a 20 KB file, through the
// Effect API (`Conversation` on `layerNode`, the JSONL session store under $SAGE_HOME). The conversation is compacted
// when it nears the model's context window, so memory must stay flat: the heap after GC is measured at turns 100
// and 500, and the peak RSS at the end. Prints JSON for bench/sessions.mjs. Run with --expose-gc. Needs dist/.
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { Conversation, layerNode } from "../dist/index.js"
import { anthropicStream, startServer, writeStream } from "./support.mjs"

const turns = 500
const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-long-")))
fs.writeFileSync(path.join(cwd, "big.txt"), `${"y".repeat(79)}\n`.repeat(256)) // 20 KB
const heapAfterGc = () => {
  globalThis.gc?.()
  return process.memoryUsage().heapUsed / 1024 / 1024
}
let request = 0
let compactions = 0
const server = await startServer((req, res) => {
  request++
  const body = JSON.stringify(req.json ?? {})
  const messages = req.json?.messages ?? []
  const last = messages.at(-1)
  const answersTool = Array.isArray(last?.content) && last.content.some((b) => b.type === "tool_result")
  if (body.includes("write a summary of the conversation")) {
    compactions++
    writeStream(
      res,
      anthropicStream({ text: ["<summary>", "The user asked to read big.txt many times.", "</summary>"] })
    )
  } else if (answersTool) writeStream(res, anthropicStream({ text: ["Read ", "it."] }))
  else
    writeStream(
      res,
      anthropicStream({
        text: ["Reading."],
        tools: [{ id: `r${request}`, name: "Read", input: { file_path: "big.txt" } }]
      })
    )
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
await server.close()
const log = path.join(process.env.SAGE_HOME ?? path.join(os.homedir(), ".sage"), "sessions", `${id}.jsonl`)
const logMb = fs.statSync(log).size / 1024 / 1024
fs.rmSync(cwd, { recursive: true, force: true })
process.stdout.write(
  JSON.stringify({
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    heapAt100: heap[100],
    heapAt500: heap[turns],
    compactions,
    logMb
  })
)
