/**
 * The `sage` CLI (in process) with `--provider bedrock` against the local server over the binary event stream, and
 * `--record DIR` then `--replay DIR` giving the same output with the model server stopped (and no key set).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { anthropicEnv, answer, baseEnv, callTools, runInProcess, tempDir } from "../cli/support.js"
import { bedrockFrames, stream } from "../support/wire/bedrock.js"
import * as WireServer from "../support/WireServer.js"

const awsEnv = (home: string) => ({
  ...baseEnv(),
  HOME: home,
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "AKIDCLITEST",
  AWS_SECRET_ACCESS_KEY: "cli-test-secret"
})

describe("sage CLI: bedrock, record and replay", () => {
  it.live("sage -p --provider bedrock --base-url: a tool call then the answer, over ConverseStream", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      fs.writeFileSync(path.join(cwd, "notes.txt"), "alpha\nbeta\n")
      wire.enqueue(
        stream(
          bedrockFrames({
            text: ["Reading."],
            toolCalls: [{ id: "tu1", name: "Read", args: ['{"file_path":', '"notes.txt"}'] }]
          })
        ),
        stream(bedrockFrames({ text: ["Two ", "lines."] }))
      )
      const run = yield* runInProcess(
        ["-p", "how many lines?", "--provider", "bedrock", "--base-url", wire.url, "--cwd", cwd],
        awsEnv(cwd)
      )
      expect(run.stderr).toContain("Read(notes.txt)")
      expect(run.code).toBe(0)
      expect(run.stdout).toContain("Two lines.")
      expect(wire.requests).toHaveLength(2)
      expect(wire.requests[0]?.path).toMatch(
        /^\/model\/us\.anthropic\.claude-sonnet-4-5-20250929-v1%3A0\/converse-stream$/
      )
      expect(String(wire.requests[0]?.headers.authorization)).toContain("Credential=AKIDCLITEST/")
      const second = JSON.stringify(wire.requests[1]?.body)
      expect(second).toContain('"toolResult"')
      expect(second).toContain("alpha")
    })
  )

  it.live("--record DIR then --replay DIR: the same output with the server stopped and no key", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      fs.writeFileSync(path.join(cwd, "notes.txt"), "alpha\nbeta\n")
      const dir = path.join(cwd, "rec")
      const recorded = yield* Effect.scoped(
        Effect.gen(function* () {
          const wire = yield* WireServer.make
          wire.enqueue(
            callTools([{ id: "r1", name: "Read", input: { file_path: "notes.txt" } }], "Let me look."),
            answer("Two lines.")
          )
          return yield* runInProcess(
            ["-p", "how many lines?", "--cwd", cwd, "--record", dir],
            anthropicEnv(wire.url, cwd)
          )
        })
      )
      expect(recorded.code).toBe(0)
      expect(recorded.stdout).toContain("Two lines.")
      expect(fs.readdirSync(dir).sort()).toEqual(["0001.jsonl", "0002.jsonl"])
      const env = { ...baseEnv(), HOME: cwd, SAGE_MODEL: "claude-test" }
      const replayed = yield* runInProcess(["-p", "how many lines?", "--cwd", cwd, "--replay", dir], env)
      expect(replayed.code).toBe(0)
      expect(replayed.stdout).toBe(recorded.stdout)
      expect(replayed.stderr).toContain("Read(notes.txt)")
      // A different prompt is refused with the difference named; exit 1.
      const other = yield* runInProcess(["-p", "something else", "--cwd", cwd, "--replay", dir], env)
      expect(other.code).toBe(1)
      expect(other.stderr + other.stdout).toContain("differs from the recording")
      const both = yield* runInProcess(["-p", "x", "--record", dir, "--replay", dir], env)
      expect(both.code).toBe(2)
      expect(both.stderr).toContain("--record and --replay cannot be used together")
    })
  )
})
