/** The CLI's cost reporting and `--max-budget-usd`, in-process against the scripted Anthropic-wire server. */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { parseArgs, UsageError } from "../../src/cli/Args.js"
import { makeTextPrinter } from "../../src/cli/TextPrinter.js"
import { Usage } from "../../src/streams/Usage.js"
import * as WireServer from "../support/WireServer.js"
import { answer, anthropicEnv, callTools, runInProcess, tempDir } from "./support.js"

/** `claude-test` priced in the project's settings (HOME is the project here, so it is read once). */
const pricedProject = (cwd: string) => {
  fs.mkdirSync(path.join(cwd, ".sage"), { recursive: true })
  fs.writeFileSync(
    path.join(cwd, ".sage", "settings.json"),
    JSON.stringify({ models: { "claude-test": { pricing: { input: 100, output: 100 } } } })
  )
}

describe("sage CLI cost and budget", () => {
  it("--max-budget-usd takes an amount above 0", () => {
    const context = { cwd: "/", env: {}, isDirectory: () => true }
    const parsed = parseArgs(["-p", "hi", "--max-budget-usd", "0.25"], context)
    expect(parsed).toMatchObject({ _tag: "Run", maxBudgetUsd: 0.25 })
    expect(parseArgs(["-p", "hi", "--max-budget-usd=$2"], context)).toMatchObject({ maxBudgetUsd: 2 })
    expect(parseArgs(["-p", "hi"], context)).toMatchObject({ maxBudgetUsd: undefined })
    for (const bad of ["0", "-1", "abc", "", "Infinity"]) {
      const error = parseArgs(["-p", "hi", `--max-budget-usd=${bad}`], context)
      expect(error).toBeInstanceOf(UsageError)
      if (error instanceof UsageError) {
        expect(error.message).toBe(
          `invalid value for --max-budget-usd: ${JSON.stringify(bad)} (expected an amount of US dollars above 0, e.g. 0.50)`
        )
      }
    }
  })

  it.live("the json result carries usage and costUsd (the price from the settings' models)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      pricedProject(cwd)
      wire.enqueue(answer("hello"))
      const run = yield* runInProcess(
        ["-p", "hi", "--output-format", "json", "--cwd", cwd],
        anthropicEnv(wire.url, cwd)
      )
      expect(run.code).toBe(0)
      const result = JSON.parse(run.stdout)
      expect(result).toMatchObject({ status: "done", usage: { inputTokens: 10, outputTokens: 5 } })
      expect(result.costUsd).toBeCloseTo(0.0015, 12)
    })
  )

  it.live("--max-budget-usd stops after the step that reaches it, says so, and sends no further request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      pricedProject(cwd)
      fs.writeFileSync(path.join(cwd, "a.txt"), "x\n")
      wire.enqueue(callTools([{ id: "r1", name: "Read", input: { file_path: "a.txt" } }]), answer("never"))
      const run = yield* runInProcess(
        ["-p", "go", "--max-budget-usd", "0.001", "--output-format", "json", "--cwd", cwd],
        anthropicEnv(wire.url, cwd)
      )
      expect(run.code).toBe(0)
      expect(wire.requests).toHaveLength(1)
      expect(JSON.parse(run.stdout)).toMatchObject({ status: "done", stopReason: "max_budget", steps: 1 })
      expect(run.stderr).toContain(
        "sage: stopped after 1 steps: the turn cost $0.0015, reaching the budget of $0.001 (--max-budget-usd)"
      )
    })
  )

  it.live("a budget for a model without a price is one clear error line, before any request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const run = yield* runInProcess(["-p", "go", "--max-budget-usd", "1", "--cwd", cwd], anthropicEnv(wire.url, cwd))
      expect(run.code).toBe(1)
      expect(run.stderr).toContain("ConfigError: maxBudgetUsd needs the price of model claude-test")
      expect(wire.requests).toHaveLength(0)
    })
  )
})

describe("text mode shows compaction", () => {
  it("a compaction and a failed one are one line each on stderr, control sequences stripped", () => {
    const print = makeTextPrinter()
    const envelope = { v: 1 as const, sessionId: "s", agentId: "main", timestamp: 0 }
    const done = print({
      ...envelope,
      type: "compaction",
      turnId: "t",
      trigger: "auto",
      summary: "S",
      messagesBefore: 12,
      messagesKept: 2,
      tokensBefore: 160_000,
      tokensAfter: 9_000,
      usage: Usage.empty
    })
    expect(done).toEqual([
      {
        to: "stderr",
        text: "\nsage: compacted the conversation (10 messages summarized, about 160000 -> 9000 tokens)\n"
      }
    ])
    const failed = print({
      ...envelope,
      type: "compaction.failed",
      trigger: "auto",
      error: {
        tag: "OverloadedError",
        message: "compaction failed, the conversation is unchanged: \u001b[31mbusy\nmore"
      }
    })
    expect(failed).toEqual([{ to: "stderr", text: "\nsage: compaction failed, the conversation is unchanged: busy\n" }])
  })
})
