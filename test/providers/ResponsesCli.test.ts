/**
 * `sage -p --provider openai-responses` (and `--provider azure`) end to end in process, against the local wire server:
 * a reasoning model calls a tool, the agent runs it, and the second request sends the encrypted reasoning back.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { baseEnv, runInProcess, tempDir } from "../cli/support.js"
import { responseFrames, stream } from "../support/wire/openai-responses.js"
import * as WireServer from "../support/WireServer.js"

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null
const inputOf = (body: unknown): ReadonlyArray<unknown> =>
  isRecord(body) && Array.isArray(body.input) ? body.input : []

describe("sage -p with the Responses API", () => {
  it.live("--provider openai-responses: reasoning, a tool call, the reasoning item sent back", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      fs.writeFileSync(path.join(cwd, "a.txt"), "x\n")
      wire.enqueue(
        stream(
          responseFrames({
            model: "gpt-5-2025-08-07",
            items: [
              { reasoning: { id: "rs_cli", summary: [["Read ", "the file."]], encrypted: "gAAAA-cli==" } },
              {
                call: { id: "fc_cli", callId: "call_cli", name: "Read", args: ['{"file_path":', '"a.txt"}'] }
              }
            ]
          })
        ),
        stream(responseFrames({ items: [{ text: ["One ", "line."] }] }))
      )
      const env = {
        ...baseEnv(),
        HOME: cwd,
        OPENAI_API_KEY: "sk-cli-test",
        OPENAI_BASE_URL: `${wire.url}/v1`,
        SAGE_MODEL: "gpt-5"
      }
      const run = yield* runInProcess(["-p", "count lines", "--provider", "openai-responses", "--cwd", cwd], env)
      expect(run.stderr).toContain("Read(a.txt)")
      expect(run.code).toBe(0)
      expect(run.stdout).toBe("One line.\n")
      expect(wire.requests.map((r) => r.path)).toEqual(["/v1/responses", "/v1/responses"])
      expect(wire.requests[0]?.headers.authorization).toBe("Bearer sk-cli-test")
      expect(wire.requests[0]?.body).toMatchObject({ model: "gpt-5", stream: true, store: false })
      const second = inputOf(wire.requests[1]?.body)
      expect(second).toContainEqual({
        type: "reasoning",
        id: "rs_cli",
        summary: [{ type: "summary_text", text: "Read the file." }],
        encrypted_content: "gAAAA-cli=="
      })
      expect(second).toContainEqual({
        type: "function_call",
        call_id: "call_cli",
        name: "Read",
        arguments: '{"file_path":"a.txt"}'
      })
      const output = second.find((item) => isRecord(item) && item.type === "function_call_output")
      expect(output).toMatchObject({ call_id: "call_cli" })
      // The reasoning item comes right before the call it led to.
      const reasoningAt = second.findIndex((item) => isRecord(item) && item.type === "reasoning")
      expect(second[reasoningAt + 1]).toMatchObject({ type: "function_call" })
    })
  )

  it.live("--provider azure: the deployment from --model, the key in api-key", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(stream(responseFrames({ items: [{ text: ["hi from azure"] }] })))
      const env = {
        ...baseEnv(),
        HOME: cwd,
        AZURE_OPENAI_API_KEY: "azure-cli-key",
        AZURE_OPENAI_ENDPOINT: wire.url
      }
      const run = yield* runInProcess(["-p", "hi", "--provider", "azure", "--model", "my-dep", "--cwd", cwd], env)
      expect(run.stderr).toBe("")
      expect(run.code).toBe(0)
      expect(run.stdout).toBe("hi from azure\n")
      expect(wire.requests[0]?.path).toBe("/openai/v1/responses")
      expect(wire.requests[0]?.headers["api-key"]).toBe("azure-cli-key")
      expect(wire.requests[0]?.body).toMatchObject({ model: "my-dep" })
      const missing = yield* runInProcess(["-p", "hi", "--provider", "azure", "--model", "my-dep", "--cwd", cwd], {
        ...baseEnv(),
        HOME: cwd,
        AZURE_OPENAI_API_KEY: "azure-cli-key"
      })
      expect(missing.code).not.toBe(0)
      expect(missing.stderr).toContain("AZURE_OPENAI_ENDPOINT")
    })
  )
})
