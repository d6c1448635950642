// The scripted Anthropic-wire model server of bench/sessions-long.mjs, in its own process (forked by it): every turn
// asks to Read big.txt, then answers; compaction requests get a short summary. Sends `{ url }` once listening and
// `{ compactions }` when asked.
import { anthropicStream, startServer, writeStream } from "./support.mjs"

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

process.send({ url: server.url })
process.on("message", () => process.send({ compactions }))
process.on("disconnect", () => server.close())
