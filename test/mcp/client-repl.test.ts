/** MCP in the REPL (in-process, on a fake terminal): status lines, and server prompts as slash commands. */
import * as fs from "node:fs"
import * as path from "node:path"
import type { PassThrough } from "node:stream"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { answer, anthropicEnv, Capture, runInProcess, tempDir, waitFor } from "../cli/support.js"
import * as WireServer from "../support/WireServer.js"

const v2Server = path.join(import.meta.dirname, "servers", "v2.mjs")

describe("MCP in the REPL", () => {
  it.live("a failed server is shown; /mcp__server__prompt args runs the server's prompt", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const dir = yield* tempDir
      const config = JSON.stringify({
        mcpServers: {
          v2: { command: process.execPath, args: [v2Server] },
          broken: { command: "/nonexistent/mcp-server" }
        }
      })
      const stdout = Object.assign(new Capture({ isTTY: true }), { columns: 100, rows: 30 })
      let stdin: PassThrough | undefined
      const fiber = yield* Effect.forkChild(
        runInProcess(
          ["--sandbox", "off", "--cwd", dir, "--mcp-config", config],
          { ...anthropicEnv(wire.url, dir), TERM: "dumb", NO_COLOR: "1" },
          {
            stdinTTY: true,
            stdout,
            onStdin: (s) => {
              stdin = s
            }
          }
        )
      )
      const seen = (text: string) =>
        Effect.gen(function* () {
          if (!(yield* waitFor(() => stdout.text.includes(text), 10_000))) {
            throw new Error(`never saw ${JSON.stringify(text)}; output:\n${stdout.text}`)
          }
        })
      yield* seen("Ctrl-D to exit")
      yield* seen("MCP server broken failed: cannot start /nonexistent/mcp-server")
      stdin?.write("/help\r")
      yield* seen("MCP server prompts:")
      yield* seen("/mcp__v2__greet name")
      wire.enqueue(answer("Hello, Ada!"))
      stdin?.write("/mcp__v2__greet Ada\r")
      yield* seen("Hello, Ada!")
      expect(JSON.stringify(wire.requests[0]?.body)).toContain("Say hello to Ada")
      stdin?.write("/mcp__v2__greet\r")
      yield* seen("/mcp__v2__greet needs name")
      expect(wire.requests).toHaveLength(1)
      stdin?.write("\u0004")
      const result = yield* Fiber.join(fiber)
      expect(result.code).toBe(0)
      expect(fs.existsSync(dir)).toBe(true)
    })
  )
})
