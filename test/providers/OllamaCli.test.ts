/** `sage -p --provider ollama` end to end (in process) against the local wire server speaking `/api/chat` NDJSON. */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { baseEnv, runInProcess, tempDir } from "../cli/support.js"
import { NDJSON, ndjson, scriptChunks } from "../support/wire/ollama.js"
import * as WireServer from "../support/WireServer.js"

describe("sage -p --provider ollama", () => {
  it.live("answers from the host in OLLAMA_HOST, with no API key", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue({
        kind: "stream",
        contentType: NDJSON,
        chunks: ndjson(scriptChunks({ text: ["Hello ", "from ollama."], usage: { inputTokens: 9, outputTokens: 4 } }))
      })
      const run = yield* runInProcess(["-p", "hi", "--provider", "ollama", "--model", "qwen3", "--cwd", cwd], {
        ...baseEnv(),
        HOME: cwd,
        OLLAMA_HOST: wire.url
      })
      expect(run.stderr).toBe("")
      expect(run.code).toBe(0)
      expect(run.stdout).toContain("Hello from ollama.")
      expect(wire.requests).toHaveLength(1)
      expect(wire.requests[0]!.path).toBe("/api/chat")
      expect(wire.requests[0]!.body).toMatchObject({ model: "qwen3", stream: true })
    })
  )

  it.live("an unreachable server fails with a line asking whether ollama is running", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const run = yield* runInProcess(["-p", "hi", "--provider", "ollama", "--cwd", cwd], {
        ...baseEnv(),
        HOME: cwd,
        OLLAMA_HOST: "http://127.0.0.1:9"
      })
      expect(run.code).toBe(1)
      expect(run.stdout).toBe("")
      expect(run.stderr.trim().split("\n").at(-1)).toContain("is ollama running?")
    })
  )
})
