/**
 * `sage -p --provider gemini` end to end (in process) against the local wire server: a tool-using turn where the
 * second request carries the thought signatures of the first response on the parts they came with.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { baseEnv, runInProcess, tempDir } from "../cli/support.js"
import { geminiSse } from "../support/wire/gemini.js"
import * as WireServer from "../support/WireServer.js"

const chunk = (parts: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}) => ({
  candidates: [{ content: { role: "model", parts }, index: 0, ...extra }],
  usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5 },
  modelVersion: "gemini-2.5-flash",
  responseId: "cli-resp"
})

const modelTurn = (body: unknown): unknown =>
  typeof body === "object" && body !== null && "contents" in body && Array.isArray(body.contents)
    ? body.contents.find((c: unknown) => typeof c === "object" && c !== null && "role" in c && c.role === "model")
    : undefined

describe("sage -p --provider gemini", () => {
  it.live("answers through the Gemini wire, sending thought signatures back on the next step", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      fs.writeFileSync(path.join(cwd, "note.txt"), "the secret word is tangerine\n")
      wire.enqueue(
        {
          kind: "stream",
          chunks: geminiSse([
            chunk([{ text: "I should read the note.", thought: true, thoughtSignature: "sig-thought" }]),
            chunk([{ functionCall: { name: "Read", args: { file_path: "note.txt" } }, thoughtSignature: "sig-call" }], {
              finishReason: "STOP"
            })
          ])
        },
        {
          kind: "stream",
          chunks: geminiSse([chunk([{ text: "The word is tangerine." }], { finishReason: "STOP" })])
        }
      )
      const run = yield* runInProcess(["-p", "What does note.txt say?", "--provider", "gemini", "--cwd", cwd], {
        ...baseEnv(),
        HOME: cwd,
        GEMINI_API_KEY: "gemini-cli-key",
        GOOGLE_GEMINI_BASE_URL: wire.url,
        SAGE_MODEL: "gemini-2.5-flash"
      })
      expect(run.stderr).toContain("Read(note.txt)")
      expect(run.code).toBe(0)
      expect(run.stdout).toContain("The word is tangerine.")
      expect(wire.requests).toHaveLength(2)
      expect(wire.requests[0]!.path).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
      expect(wire.requests[0]!.headers["x-goog-api-key"]).toBe("gemini-cli-key")
      expect(modelTurn(wire.requests[1]!.body)).toEqual({
        role: "model",
        parts: [
          { text: "I should read the note.", thought: true, thoughtSignature: "sig-thought" },
          { functionCall: { name: "Read", args: { file_path: "note.txt" } }, thoughtSignature: "sig-call" }
        ]
      })
      expect(JSON.stringify(wire.requests[1]!.body)).toContain("tangerine")
    })
  )

  it.live("without a key, exits 1 with one line naming GEMINI_API_KEY", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const run = yield* runInProcess(["-p", "hi", "--provider", "gemini", "--cwd", cwd], { ...baseEnv(), HOME: cwd })
      expect(run.code).not.toBe(0)
      expect(run.stderr).toContain("GEMINI_API_KEY")
      expect(run.stdout).toBe("")
    })
  )
})
