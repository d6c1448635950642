// A scripted model server for the offline demo. It speaks the real Anthropic Messages streaming wire format
// (SSE: message_start, content_block_*, message_delta, message_stop), so Sage's real Anthropic provider and the
// official SDK talk to it exactly as they would to the API. It answers by looking at the conversation:
//   1st request: streams a sentence, then asks for three tools at once (two Reads and a Bash command);
//   2nd request: reads the tool results it was sent and streams an answer built from them.
import * as http from "node:http"

const sse = (name, data) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const words = (text) => text.match(/\S+\s*/g) ?? []

async function stream(res, blocks, stopReason, model) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
  const id = `msg_demo_${Math.random().toString(36).slice(2, 10)}`
  res.write(
    sse("message_start", {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        usage: { input_tokens: 420, output_tokens: 1 }
      }
    })
  )
  let index = 0
  for (const block of blocks) {
    if (block.type === "text") {
      res.write(
        sse("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } })
      )
      for (const w of words(block.text)) {
        await sleep(12)
        res.write(
          sse("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: w } })
        )
      }
    } else {
      res.write(
        sse("content_block_start", {
          type: "content_block_start",
          index,
          content_block: { type: "tool_use", id: block.id, name: block.name, input: {} }
        })
      )
      const json = JSON.stringify(block.input)
      for (let i = 0; i < json.length; i += 12) {
        res.write(
          sse("content_block_delta", {
            type: "content_block_delta",
            index,
            delta: { type: "input_json_delta", partial_json: json.slice(i, i + 12) }
          })
        )
      }
    }
    res.write(sse("content_block_stop", { type: "content_block_stop", index }))
    index++
  }
  res.write(
    sse("message_delta", { type: "message_delta", delta: { stop_reason: stopReason }, usage: { output_tokens: 96 } })
  )
  res.end(sse("message_stop", { type: "message_stop" }))
}

const toolResults = (messages) =>
  messages.flatMap((m) => (Array.isArray(m.content) ? m.content.filter((b) => b.type === "tool_result") : []))

const resultText = (result) =>
  (typeof result.content === "string"
    ? result.content
    : (result.content ?? []).map((c) => c.text ?? "").join("\n")
  ).trim()

export function createModelServer() {
  return http.createServer((req, res) => {
    let body = ""
    req.on("data", (chunk) => (body += chunk))
    req.on("end", () => {
      if (req.method !== "POST" || !req.url?.startsWith("/v1/messages")) {
        res.writeHead(404, { "content-type": "application/json" })
        res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: `no route ${req.url}` } }))
        return
      }
      const request = JSON.parse(body)
      const results = toolResults(request.messages)
      if (results.length === 0) {
        void stream(
          res,
          [
            { type: "text", text: "I'll read the README and the source, and run the tests at the same time.\n" },
            { type: "tool_use", id: "toolu_demo_readme", name: "Read", input: { file_path: "README.md" } },
            { type: "tool_use", id: "toolu_demo_source", name: "Read", input: { file_path: "src/math.js" } },
            { type: "tool_use", id: "toolu_demo_tests", name: "Bash", input: { command: "node test.js" } }
          ],
          "tool_use",
          request.model
        )
        return
      }
      const byId = new Map(results.map((r) => [r.tool_use_id, r]))
      const source = resultText(byId.get("toolu_demo_source") ?? { content: "" })
      const exported = [...source.matchAll(/export const (\w+)/g)].map((m) => m[1])
      const tests = byId.get("toolu_demo_tests")
      const testLine = tests === undefined ? "no test output" : resultText(tests).split("\n").filter(Boolean).at(-1)
      const failed = [...byId.values()].filter((r) => r.is_error)
      void stream(
        res,
        [
          {
            type: "text",
            text:
              `\`src/math.js\` exports ${exported.length} functions: ${exported.join(", ")}. ` +
              `The test run says: "${testLine}". ` +
              (failed.length === 0
                ? "All three tool calls succeeded, so the project is in good shape."
                : `${failed.length} tool call(s) failed; see above.`) +
              "\n"
          }
        ],
        "end_turn",
        request.model
      )
    })
  })
}
