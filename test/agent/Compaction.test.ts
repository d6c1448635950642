/**
 * Cost, budget and compaction in the agent loop, against the scripted Anthropic-wire server: what the server
 * received is the proof (no request after the budget; the request after a compaction starts from the summary).
 */
import * as fs from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import {
  COMPACTION_PROMPT,
  compactConversation,
  cutIndex,
  estimateMessageTokens,
  fitHead,
  rebuild,
  SUMMARY_INTRO,
  summaryMessage
} from "../../src/agent/Compaction.js"
import * as ModelCatalogLive from "../../src/layers/ModelCatalogLive.js"
import * as Anthropic from "../../src/providers/anthropic/AnthropicProvider.js"
import { Agent, type RunOptions, type RunResult } from "../../src/services/Agent.js"
import type { ModelOverrides } from "../../src/services/ModelCatalog.js"
import { type AgentEvent, agentEventToJson, decodeAgentEventJson } from "../../src/streams/AgentEvent.js"
import type { Message } from "../../src/streams/Message.js"
import { Tool } from "../../src/tools/Tool.js"
import { anthropicErrorBody } from "../support/anthropicSse.js"
import * as WireServer from "../support/WireServer.js"
import { type AgentSetup, agentLayer, ofType, reply, tempDir } from "./harness.js"

const Echo = Tool.make({
  name: "Echo",
  description: "Echo the text back",
  input: Schema.Struct({ text: Schema.String }),
  readOnly: true,
  execute: ({ text }) => Effect.succeed(`echo: ${text}`)
})

const echoCall = (id: string, inputTokens: number) =>
  reply({
    inputTokens,
    stopReason: "tool_use",
    steps: [{ tool: { id, name: "Echo", json: [JSON.stringify({ text: id })] } }]
  })

const text = (body: string, inputTokens = 10) => reply({ inputTokens, steps: [{ text: [body] }] })

/** `claude-test` (the harness's model) with a small window and a price; an override replaces a model's entry. */
const catalog = (overrides: ModelOverrides = {}) =>
  ModelCatalogLive.layer({
    "claude-test": { contextWindow: 10_000, maxOutputTokens: 2_000, pricing: { input: 1, output: 2 } },
    ...overrides
  })

/** One turn to its end: its events and its result. */
const turn = (
  setup: AgentSetup,
  prompt: string,
  options: RunOptions = {},
  models: Layer.Layer<never> | ReturnType<typeof catalog> = catalog()
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const agent = yield* Agent
      const execution = yield* agent.start(prompt, options)
      const events: Array<AgentEvent> = []
      yield* Stream.runForEach(execution.events, (e) => Effect.sync(() => events.push(e))).pipe(Effect.ignore)
      const result = yield* Effect.result(execution.result)
      return { events, result }
    })
  ).pipe(Effect.provide(agentLayer(setup).pipe(Layer.provide(models))))

const bodyOf = (request: WireServer.RecordedRequest | undefined) =>
  request?.body as {
    readonly messages: ReadonlyArray<{
      readonly role: string
      readonly content: ReadonlyArray<Record<string, unknown>>
    }>
    readonly tool_choice?: unknown
    readonly max_tokens?: number
    readonly tools?: ReadonlyArray<unknown>
  }

const succeeded = (result: { readonly _tag: string; readonly success?: RunResult }): RunResult => {
  expect(result._tag).toBe("Success")
  if (result.success === undefined) throw new Error("the turn failed")
  return result.success
}

describe("cost and budget", () => {
  it.live(
    "usage events, turn.ended and the result carry the cost; compaction is not triggered below the threshold",
    () =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        wire.enqueue(echoCall("t1", 1_000), text("done", 1_200))
        const { events, result } = yield* turn({ wire, cwd, tools: [Echo] }, "echo")
        const done = succeeded(result)
        // 2,200 input tokens at $1/M, 10 output tokens at $2/M
        expect(done.costUsd).toBeCloseTo(0.00222, 12)
        expect(ofType(events, "turn.ended")[0]?.costUsd).toBeCloseTo(0.00222, 12)
        expect(ofType(events, "usage").map((e) => e.costUsd)).toEqual([
          expect.closeTo(0.00101, 12),
          expect.closeTo(0.00222, 12)
        ])
        expect(ofType(events, "compaction")).toHaveLength(0)
        expect(wire.requests).toHaveLength(2)
      })
  )

  it.live("an unknown model's turn has no cost at all (absent, not 0)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(text("hi"))
      const { events, result } = yield* turn({ wire, cwd, tools: [] }, "hi", {}, ModelCatalogLive.layer())
      const done = succeeded(result)
      expect("costUsd" in done).toBe(false)
      expect(ofType(events, "turn.ended")[0]).not.toHaveProperty("costUsd")
      expect(ofType(events, "usage")[0]).not.toHaveProperty("costUsd")
    })
  )

  it.live("maxBudgetUsd stops after the step that reaches it: the server sees no further request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const priced = catalog({ "claude-test": { pricing: { input: 100, output: 100 } } })
      // Step 1 costs 10,000 x $100/M + 5 x $100/M = $1.0005, over the $1 budget.
      wire.enqueue(echoCall("t1", 10_000), text("never sent"))
      const { events, result } = yield* turn({ wire, cwd, tools: [Echo], agent: { maxBudgetUsd: 1 } }, "go", {}, priced)
      const done = succeeded(result)
      expect(done.stopReason).toBe("max_budget")
      expect(done.steps).toBe(1)
      expect(done.costUsd).toBeCloseTo(1.0005, 10)
      expect(wire.requests).toHaveLength(1)
      // The step ran to its end: the tool answered, the transcript is valid to continue from.
      expect(ofType(events, "tool.completed")).toHaveLength(1)
      expect(done.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"])
      expect(ofType(events, "turn.ended")[0]).toMatchObject({ stopReason: "max_budget" })

      // Under the budget (a run's budget overrides the agent's), the turn goes on.
      const wire2 = yield* WireServer.make
      wire2.enqueue(echoCall("t1", 10_000), text("done", 10))
      const second = yield* turn(
        { wire: wire2, cwd, tools: [Echo], agent: { maxBudgetUsd: 1 } },
        "go",
        { maxBudgetUsd: 5 },
        priced
      )
      expect(succeeded(second.result).stopReason).toBe("end_turn")
      expect(wire2.requests).toHaveLength(2)
    })
  )

  it.live("a budget without a known price, or a bad budget, fails the turn with ConfigError before any request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const { result } = yield* turn({ wire, cwd, tools: [] }, "hi", { maxBudgetUsd: 1 }, ModelCatalogLive.layer())
      expect(result._tag).toBe("Failure")
      if (result._tag === "Failure") {
        expect(result.failure._tag).toBe("ConfigError")
        expect(result.failure.message).toContain("maxBudgetUsd needs the price of model claude-test")
      }
      const bad = yield* turn({ wire, cwd, tools: [] }, "hi", { maxBudgetUsd: -2 })
      expect(bad.result._tag).toBe("Failure")
      if (bad.result._tag === "Failure") expect(bad.result.failure.message).toContain("must be a number of USD > 0")
      expect(wire.requests).toHaveLength(0)
    })
  )
})

describe("automatic compaction", () => {
  it.live("crossing the threshold compacts before the next request, which starts from the summary", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      // Window 10,000 x 0.5: the 6,000 input tokens the server reports for step 1 cross it.
      wire.enqueue(
        echoCall("t1", 6_000),
        text("<summary>The user wants t1 echoed; Echo was called.</summary>", 300),
        text("All done.", 400)
      )
      const history: ReadonlyArray<Message> = [
        { role: "user", content: [{ type: "text", text: "earlier question" }] },
        { role: "assistant", content: [{ type: "text", text: "earlier answer" }] }
      ]
      const { events, result } = yield* turn(
        { wire, cwd, tools: [Echo], agent: { compactThreshold: 0.5 } },
        `echo t1 ${"please ".repeat(2_000)}`,
        { history }
      )
      const done = succeeded(result)
      expect(wire.requests).toHaveLength(3)

      // The summarizing request: the older messages, then the fixed prompt; tools present but not callable.
      const summarize = bodyOf(wire.requests[1])
      const lastText = JSON.stringify(summarize.messages.at(-1)?.content)
      expect(lastText).toContain("Your task now is to write a summary of the conversation so far")
      expect(JSON.stringify(summarize.messages)).toContain("earlier question")
      expect(summarize.tool_choice).toEqual({ type: "none" })
      expect(summarize.max_tokens).toBe(2_000)

      // The next request: the summary, then the kept tail (the tool call and its result, whole).
      const next = bodyOf(wire.requests[2])
      expect(next.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"])
      const first = JSON.stringify(next.messages[0]?.content)
      expect(first).toContain(SUMMARY_INTRO)
      expect(first).toContain("The user wants t1 echoed; Echo was called.")
      expect(first).not.toContain("earlier question")
      expect(next.messages[1]?.content[0]).toMatchObject({ type: "tool_use", id: "t1" })
      expect(next.messages[2]?.content[0]).toMatchObject({ type: "tool_result", tool_use_id: "t1" })

      const [compaction] = ofType(events, "compaction")
      expect(compaction).toMatchObject({
        trigger: "auto",
        turnId: done.turnId,
        summary: "The user wants t1 echoed; Echo was called.",
        messagesBefore: 5,
        messagesKept: 2
      })
      expect(compaction?.tokensBefore).toBeGreaterThanOrEqual(5_000)
      expect(compaction?.tokensAfter).toBeLessThan(compaction?.tokensBefore ?? 0)
      expect(compaction?.usage.inputTokens).toBe(300)
      expect(compaction?.costUsd).toBeCloseTo((300 + 2 * 5) / 1e6, 12)
      // The events are protocol v1: they survive the JSON round trip (stream-json, session logs).
      for (const event of [...ofType(events, "compaction"), ...ofType(events, "turn.ended")]) {
        const decoded = yield* decodeAgentEventJson(agentEventToJson(event))
        expect(decoded).toEqual(event)
      }
      // The event comes before the step it made room for.
      const order = events.map((e) => e.type)
      expect(order.indexOf("compaction")).toBeLessThan(order.lastIndexOf("step.started"))

      // The result continues from the compacted conversation; usage and cost include the summary request.
      expect(done.messages[0]).toEqual(summaryMessage("The user wants t1 echoed; Echo was called."))
      expect(done.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"])
      expect(done.usage.inputTokens).toBe(6_700)
      expect(done.costUsd).toBeCloseTo((6_700 + 2 * 15) / 1e6, 12)
      // The log's rebuild rule gives the same conversation from the messages before and the event.
      const prompt = `echo t1 ${"please ".repeat(2_000)}`
      const before = [...history, { role: "user" as const, content: [{ type: "text" as const, text: prompt }] }]
      const beforeAll = [...before, ...done.messages.slice(1, 3)]
      expect(rebuild(beforeAll, compaction?.summary ?? "", compaction?.messagesKept ?? 0)).toEqual(
        done.messages.slice(0, 3)
      )
    })
  )

  it.live("a failed compaction request emits compaction.failed and leaves the conversation intact", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(
        echoCall("t1", 6_000),
        { kind: "error", status: 400, body: anthropicErrorBody("invalid_request_error", "bad summary request") },
        echoCall("t2", 7_000),
        text("Finished.", 7_100)
      )
      const { events, result } = yield* turn({ wire, cwd, tools: [Echo], agent: { compactThreshold: 0.5 } }, "echo")
      const done = succeeded(result)
      expect(done.stopReason).toBe("end_turn")
      const [failed] = ofType(events, "compaction.failed")
      expect(failed).toMatchObject({
        trigger: "auto",
        error: { tag: "InvalidRequestError", retryable: false }
      })
      expect(failed?.error.message).toContain("bad summary request")
      if (failed !== undefined) expect(yield* decodeAgentEventJson(agentEventToJson(failed))).toEqual(failed)
      expect(ofType(events, "compaction")).toHaveLength(0)
      // The request after the failure carries the whole conversation; no second attempt in this turn.
      expect(wire.requests).toHaveLength(4)
      const next = bodyOf(wire.requests[2])
      expect(next.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"])
      expect(JSON.stringify(next.messages[0]?.content)).toContain("echo")
      expect(JSON.stringify(next.messages)).not.toContain(SUMMARY_INTRO)
      expect(done.messages).toHaveLength(6)
    })
  )

  it.live("a compaction that uses up the budget ends the turn before the step's request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      // $100/M: step 1 costs $0.6005 (under $1), the summary $0.5005 more (over it).
      wire.enqueue(echoCall("t1", 6_000), text("<summary>S</summary>", 5_000), text("never sent"))
      const { events, result } = yield* turn(
        { wire, cwd, tools: [Echo], agent: { compactThreshold: 0.5, maxBudgetUsd: 1 } },
        "echo",
        {},
        catalog({ "claude-test": { contextWindow: 10_000, pricing: { input: 100, output: 100 } } })
      )
      const done = succeeded(result)
      expect(ofType(events, "compaction")).toHaveLength(1)
      expect(done.stopReason).toBe("max_budget")
      expect(done.costUsd).toBeCloseTo(1.101, 10)
      expect(wire.requests).toHaveLength(2)
    })
  )

  it.live("autoCompact: false never compacts", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(echoCall("t1", 9_000), text("ok", 9_500))
      const { events } = yield* turn(
        { wire, cwd, tools: [Echo], agent: { compactThreshold: 0.5, autoCompact: false } },
        "echo"
      )
      expect(ofType(events, "compaction")).toHaveLength(0)
      expect(wire.requests).toHaveLength(2)
    })
  )

  it.live("the settings' compaction key sets the threshold", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      fs.mkdirSync(`${cwd}/.sage`)
      fs.writeFileSync(`${cwd}/.sage/settings.json`, JSON.stringify({ compaction: { threshold: 0.3 } }))
      // 4,000 tokens: under the default 0.8 x 10,000, over the settings' 0.3.
      wire.enqueue(echoCall("t1", 4_000), text("<summary>S</summary>"), text("ok"))
      const { events } = yield* turn({ wire, cwd, tools: [Echo] }, "echo")
      expect(ofType(events, "compaction")).toHaveLength(1)
      expect(wire.requests).toHaveLength(3)
    })
  )
})

describe("manual compaction", () => {
  const client = (wire: WireServer.WireServer) =>
    Layer.merge(
      Anthropic.layer({
        apiKey: Redacted.make("sk-ant-test"),
        baseURL: wire.url,
        model: "claude-haiku-4-5",
        retry: { maxRetries: 0 }
      }),
      ModelCatalogLive.layer()
    )
  const conversation: ReadonlyArray<Message> = [
    { role: "user", content: [{ type: "text", text: "Add a --verbose flag to the CLI" }] },
    { role: "assistant", content: [{ type: "tool_use", id: "e1", name: "Edit", input: { file_path: "src/cli.ts" } }] },
    {
      role: "tool",
      content: [{ type: "tool_result", toolUseId: "e1", content: [{ type: "text", text: "ok" }], isError: false }]
    },
    { role: "assistant", content: [{ type: "text", text: "Added --verbose in src/cli.ts." }] }
  ]

  it.live("summarizes the whole conversation under the fixed prompt plus the user's instructions", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(
        reply({ inputTokens: 1_000, outputTokens: 100, steps: [{ text: ["<summary>Added --verbose.</summary>"] }] })
      )
      const result = yield* compactConversation(conversation, { instructions: "Focus on the CLI flags" }).pipe(
        Effect.provide(client(wire))
      )
      expect(result).toMatchObject({ summary: "Added --verbose.", messagesBefore: 4, messagesKept: 0 })
      expect(result.messages).toEqual([summaryMessage("Added --verbose.")])
      // Haiku 4.5: 1,000 x $1/M + 100 x $5/M
      expect(result.costUsd).toBeCloseTo(0.0015, 12)
      const body = bodyOf(wire.requests[0])
      const asked = JSON.stringify(body.messages.at(-1)?.content)
      expect(asked).toContain(JSON.stringify(COMPACTION_PROMPT).slice(1, 60))
      expect(asked).toContain("Additional instructions for this summary:\\nFocus on the CLI flags")
      // The tool exchange went to the model whole (tool_use with its tool_result).
      expect(JSON.stringify(body.messages)).toContain('"tool_use_id":"e1"')
    })
  )

  it.live("failures are typed and change nothing: empty, request failed, no summary", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const empty = yield* Effect.flip(compactConversation([]).pipe(Effect.provide(client(wire))))
      expect(empty).toMatchObject({ _tag: "CompactionError", reason: "empty" })
      expect(wire.requests).toHaveLength(0)

      wire.enqueue({ kind: "error", status: 529, body: anthropicErrorBody("overloaded_error", "Overloaded") })
      const failed = yield* Effect.flip(compactConversation(conversation).pipe(Effect.provide(client(wire))))
      expect(failed).toMatchObject({
        _tag: "CompactionError",
        reason: "request_failed",
        errorTag: "OverloadedError",
        retryable: true
      })
      expect(failed.message).toContain("the conversation is unchanged")

      wire.enqueue(reply({ steps: [{ text: ["  "] }] }))
      const blank = yield* Effect.flip(compactConversation(conversation).pipe(Effect.provide(client(wire))))
      expect(blank).toMatchObject({ _tag: "CompactionError", reason: "no_summary" })
    })
  )
})

describe("where a conversation is cut", () => {
  const user = (t: string): Message => ({ role: "user", content: [{ type: "text", text: t }] })
  const assistant = (t: string): Message => ({ role: "assistant", content: [{ type: "text", text: t }] })
  const call = (id: string): Message => ({
    role: "assistant",
    content: [{ type: "tool_use", id, name: "Read", input: { file_path: "x" } }]
  })
  const result = (id: string, size: number): Message => ({
    role: "tool",
    content: [
      { type: "tool_result", toolUseId: id, content: [{ type: "text", text: "x".repeat(size) }], isError: false }
    ]
  })

  it("never starts the kept tail at a tool result, and always summarizes something", () => {
    const messages = [user("a"), call("1"), result("1", 4_000), call("2"), result("2", 40), assistant("b"), user("c")]
    for (let keep = 0; keep <= 3_000; keep += 7) {
      const cut = cutIndex(messages, keep)
      expect(cut).toBeGreaterThanOrEqual(1)
      expect(messages[cut]?.role === "tool").toBe(false)
    }
    // Everything fits: only the first message is summarized.
    expect(cutIndex(messages, 1_000_000)).toBe(1)
    // Nothing fits but the trailing prompt: it is kept.
    expect(cutIndex(messages, 0)).toBe(6)
    // The big tool result does not fit in 500: the cut is after it, at the next call.
    expect(cutIndex(messages, 500)).toBe(3)
    // A conversation ending in a tool result with nothing fitting keeps nothing.
    expect(cutIndex(messages.slice(0, 3), 0)).toBe(3)
    expect(estimateMessageTokens(result("1", 4_000))).toBeGreaterThan(1_000)
  })

  it("a part to summarize that does not fit the request loses its oldest messages, never a call's result alone", () => {
    const head = [user("a".repeat(8_000)), call("1"), result("1", 8_000), assistant("b"), user("c")]
    expect(fitHead(head, 1_000_000)).toBe(head)
    const fitted = fitHead(head, 500)
    // The first user message and the call went; its result (now without its call) went too.
    expect(fitted.map((m) => m.role)).toEqual(["user", "assistant", "user"])
    expect(JSON.stringify(fitted[0])).toContain("The 3 oldest messages of this conversation did not fit")
    expect(fitted.slice(1)).toEqual(head.slice(3))
    // At least the last message stays.
    expect(fitHead(head, 0).at(-1)).toEqual(user("c"))
  })
})
