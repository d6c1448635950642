// A server on the v2 SDK (@modelcontextprotocol/server) served with `serveStdio`, which lets the opening exchange
// pick the era: a negotiating client gets 2026-07-28, a 2025 client the `initialize` handshake.
import { McpServer } from "@modelcontextprotocol/server"
import { serveStdio } from "@modelcontextprotocol/server/stdio"
import { z } from "zod"

serveStdio(() => {
  const server = new McpServer({ name: "v2-test", version: "2.0.0" })
  server.registerTool(
    "shout",
    { description: "Upper-cases a text", inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: "text", text: text.toUpperCase() }] })
  )
  server.registerPrompt(
    "greet",
    { description: "A greeting", argsSchema: z.object({ name: z.string() }) },
    ({ name }) => ({ messages: [{ role: "user", content: { type: "text", text: `Say hello to ${name}` } }] })
  )
  // Adds the tool "late" (the server then sends notifications/tools/list_changed).
  server.registerTool("unlock", { description: "Adds the tool late" }, async () => {
    if (!late) {
      late = true
      server.registerTool("late", { description: "A tool added later" }, async () => ({
        content: [{ type: "text", text: "late tool" }]
      }))
    }
    return { content: [{ type: "text", text: "unlocked" }] }
  })
  let late = false
  return server
})
