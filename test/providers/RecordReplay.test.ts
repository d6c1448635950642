/**
 * `record` wraps a real provider client (Anthropic, against the local WireServer) and writes each response to a
 * directory; `replay` serves the files back with the server gone: the same parts, the same typed errors, and clear
 * errors when the recordings run out, differ from the request, or are missing or malformed.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { providerLayer } from "../../src/layers/SageLive.js"
import * as Anthropic from "../../src/providers/anthropic/AnthropicProvider.js"
import { layerRecord, layerReplay, makeReplay, withRecording } from "../../src/providers/record/RecordProvider.js"
import { contentKey, mismatch, parseRecording, summarize } from "../../src/providers/record/Recording.js"
import { SageAgentSDK } from "../../src/sdk/index.js"
import { LLMClient, type LLMRequest } from "../../src/services/LLMClient.js"
import type { Message } from "../../src/streams/Message.js"
import { anthropicErrorBody, anthropicEvents } from "../support/anthropicSse.js"
import { sdkFor } from "../support/sdk.js"
import * as WireServer from "../support/WireServer.js"

const hello: LLMRequest = { messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] }

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "sage-record-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

const anthropicLayer = (url: string) =>
  Anthropic.layer({
    apiKey: Redacted.make("sk-ant-test"),
    baseURL: url,
    model: "claude-test",
    retry: { maxRetries: 0 }
  })

const withClient = <A, E>(
  layer: Layer.Layer<LLMClient, E>,
  f: (client: LLMClient.Service) => Effect.Effect<A, unknown>
) => Effect.flatMap(LLMClient, f).pipe(Effect.provide(layer))

const toolTurn: ReadonlyArray<Message> = [
  ...hello.messages,
  { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "Read", input: { file_path: "a" } }] },
  {
    role: "tool",
    content: [{ type: "tool_result", toolUseId: "t1", content: [{ type: "text", text: "A" }], isError: false }]
  }
]

describe("record and replay", () => {
  it.live("records two responses of a real provider, then replays the same parts with the server gone", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const recorded = yield* Effect.scoped(
        Effect.gen(function* () {
          const wire = yield* WireServer.make
          wire.enqueue(
            {
              kind: "stream",
              chunks: anthropicEvents({
                stopReason: "tool_use",
                steps: [
                  { thinking: ["hm"], signature: "sig" },
                  { tool: { id: "t1", name: "Read", json: ['{"file_', 'path":"a"}'] } }
                ]
              })
            },
            { kind: "stream", chunks: anthropicEvents({ steps: [{ text: ["It ", "says A."] }] }) }
          )
          return yield* withClient(layerRecord(anthropicLayer(wire.url), dir), (client) =>
            Effect.all([
              Stream.runCollect(client.stream(hello)),
              Stream.runCollect(client.stream({ messages: toolTurn }))
            ])
          )
        })
      )
      expect(fs.readdirSync(dir).sort()).toEqual(["0001.jsonl", "0002.jsonl"])
      const first = parseRecording(fs.readFileSync(path.join(dir, "0001.jsonl"), "utf8"))
      expect(first._tag).toBe("ok")
      if (first._tag === "ok") {
        expect(first.lines[0]).toMatchObject({
          kind: "request",
          provider: "anthropic",
          model: "claude-test",
          request: { messages: 1, lastRole: "user", last: "hi" }
        })
        expect(first.lines.at(-1)).toEqual({ kind: "end" })
      }
      const replayed = yield* withClient(layerReplay({ dir }), (client) =>
        Effect.all([Stream.runCollect(client.stream(hello)), Stream.runCollect(client.stream({ messages: toolTurn }))])
      )
      expect(replayed).toEqual(recorded)
      const response = yield* withClient(layerReplay({ dir }), (client) =>
        Effect.andThen(client.generate(hello), client.generate({ messages: toolTurn }))
      )
      expect(response.message.content).toEqual([{ type: "text", text: "It says A." }])
    })
  )

  it.live("a recorded error is replayed as the same typed error; running out is a clear InvalidRequestError", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.scoped(
        Effect.gen(function* () {
          const wire = yield* WireServer.make
          wire.enqueue({
            kind: "error",
            status: 429,
            headers: { "retry-after": "7" },
            body: anthropicErrorBody("rate_limit_error", "slow down")
          })
          const error = yield* withClient(layerRecord(anthropicLayer(wire.url), dir), (client) =>
            Effect.flip(Stream.runCollect(client.stream(hello)))
          )
          expect(error).toMatchObject({ _tag: "RateLimitedError", retryAfterMs: 7000 })
        })
      )
      const [replayedError, ranOut] = yield* withClient(layerReplay({ dir }), (client) =>
        Effect.all([
          Effect.flip(Stream.runCollect(client.stream(hello))),
          Effect.flip(Stream.runCollect(client.stream(hello)))
        ])
      )
      expect(replayedError._tag).toBe("RateLimitedError")
      expect(replayedError.retryable).toBe(true)
      expect(replayedError).toMatchObject({ retryAfterMs: 7000, status: 429, provider: "anthropic" })
      expect(ranOut._tag).toBe("InvalidRequestError")
      expect(ranOut.provider).toBe("replay")
      expect(ranOut.message).toContain("ran out: request 2 has none (1 recorded)")
    })
  )

  it.live("a request that differs from its recording fails, naming the file and the difference", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.scoped(
        Effect.gen(function* () {
          const wire = yield* WireServer.make
          wire.setHandler(() => ({ kind: "stream", chunks: anthropicEvents({ steps: [{ text: ["ok"] }] }) }))
          yield* withClient(layerRecord(anthropicLayer(wire.url), dir), (client) => client.generate(hello))
        })
      )
      const other = yield* withClient(layerReplay({ dir }), (client) =>
        Effect.flip(client.generate({ messages: [{ role: "user", content: [{ type: "text", text: "bye" }] }] }))
      )
      expect(other.message).toContain(`differs from the recording ${path.join(dir, "0001.jsonl")}: last message`)
      const model = yield* withClient(layerReplay({ dir }), (client) =>
        Effect.flip(client.generate({ ...hello, model: "claude-other" }))
      )
      expect(model.message).toContain("model: recorded claude-test, requested claude-other")
      // The replay client's default model is the recorded one, so a request without a model matches.
      const ok = yield* withClient(layerReplay({ dir }), (client) => client.generate(hello))
      expect(ok.message.content).toEqual([{ type: "text", text: "ok" }])
    })
  )

  it.live("a reader that stops early is recorded as interrupted; replay serves the parts and then waits", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const taken = yield* Effect.scoped(
        Effect.gen(function* () {
          const wire = yield* WireServer.make
          wire.enqueue({ kind: "hang", chunks: anthropicEvents({ steps: [{ text: ["a", "b"] }], noEnd: true }) })
          return yield* withClient(layerRecord(anthropicLayer(wire.url), dir), (client) =>
            Stream.runCollect(client.stream(hello).pipe(Stream.take(3)))
          )
        })
      )
      const file = fs.readFileSync(path.join(dir, "0001.jsonl"), "utf8").trim().split("\n")
      expect(JSON.parse(file.at(-1) ?? "")).toEqual({ kind: "interrupted" })
      const replayed = yield* withClient(layerReplay({ dir }), (client) =>
        Stream.runCollect(client.stream(hello).pipe(Stream.take(3)))
      )
      expect(replayed).toEqual(taken)
      const waited = yield* withClient(layerReplay({ dir }), (client) =>
        Stream.runCollect(client.stream(hello)).pipe(Effect.timeoutOption("100 millis"))
      )
      expect(waited._tag).toBe("None")
    })
  )

  it.effect("missing, empty and malformed recording directories are ConfigErrors; record replaces old recordings", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const missing = yield* Effect.flip(makeReplay({ dir: path.join(dir, "nope") }))
      expect(missing._tag).toBe("ConfigError")
      expect(missing.message).toContain("record first with --record")
      const empty = yield* Effect.flip(makeReplay({ dir }))
      expect(empty.message).toContain(`no recordings in ${dir}`)
      fs.writeFileSync(path.join(dir, "0001.jsonl"), '{"kind":"part","part":{"type":"text-delta","text":"x"}}\n')
      const noRequest = yield* Effect.flip(makeReplay({ dir }))
      expect(noRequest.message).toContain("0001.jsonl is not valid: the first line is not the request line")
      fs.writeFileSync(path.join(dir, "0001.jsonl"), "not json\n")
      const bad = yield* Effect.flip(makeReplay({ dir }))
      expect(bad.message).toContain("line 1 is not JSON")
      fs.writeFileSync(path.join(dir, "0007.jsonl"), "old\n")
      fs.writeFileSync(path.join(dir, "keep.txt"), "mine\n")
      // Recording into the directory removes the old numbered files and nothing else.
      const source = yield* tempDir
      fs.writeFileSync(path.join(source, "0001.jsonl"), ONE_RECORDING)
      const inner = yield* makeReplay({ dir: source })
      const client = yield* withRecording(inner, dir)
      expect(client.provider).toBe("replay")
      expect(fs.readdirSync(dir).sort()).toEqual(["keep.txt"])
      const answer = yield* client.generate(hello)
      expect(answer.message.content).toEqual([{ type: "text", text: "recorded" }])
      expect(fs.readdirSync(dir).sort()).toEqual(["0001.jsonl", "keep.txt"])
    })
  )

  it.live("SDK options record / replay: the same result offline, without key or base URL", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const dir = path.join(cwd, "rec")
      const recorded = yield* Effect.scoped(
        Effect.gen(function* () {
          const wire = yield* WireServer.make
          wire.enqueue({ kind: "stream", chunks: anthropicEvents({ steps: [{ text: ["Recorded ", "answer."] }] }) })
          const sdk = yield* sdkFor(wire, cwd, { record: dir })
          return yield* Effect.promise(() => sdk.run("hello there"))
        })
      )
      expect(recorded.text).toBe("Recorded answer.")
      const replayed = yield* Effect.acquireRelease(
        Effect.sync(
          () => new SageAgentSDK({ model: "claude-test", cwd, env: { PATH: process.env.PATH }, replay: dir })
        ),
        (sdk) => Effect.promise(() => sdk.close())
      ).pipe(Effect.flatMap((sdk) => Effect.promise(() => sdk.run("hello there"))))
      expect(replayed.text).toBe(recorded.text)
      expect(() => new SageAgentSDK({ replay: "" })).toThrow(/replay/)
    })
  )

  it.effect("providerLayer: record and replay together is a ConfigError", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Layer.build(providerLayer({ provider: "anthropic", record: "/tmp/a", replay: "/tmp/b" })).pipe(Effect.scoped)
      )
      expect(error).toMatchObject({ _tag: "ConfigError", message: "record and replay cannot be used together" })
    })
  )

  it("what replay compares: model, message count, last message text and tool ids (not tool output)", () => {
    const withOutput = (text: string): LLMRequest => ({
      messages: [
        ...toolTurn.slice(0, 2),
        {
          role: "tool",
          content: [{ type: "tool_result", toolUseId: "t1", content: [{ type: "text", text }], isError: false }]
        }
      ]
    })
    expect(mismatch(summarize(withOutput("12:00"), "m"), summarize(withOutput("12:01"), "m"))).toBeUndefined()
    expect(contentKey(toolTurn[2])).toBe("[tool_result t1]")
    expect(mismatch(summarize(hello, "m"), summarize({ messages: toolTurn }, "m"))).toContain("message count")
    expect(mismatch(summarize(hello, "m"), summarize(hello, "n"))).toContain("model")
  })
})

/** A recording of one request ("hi") answered "recorded". */
const ONE_RECORDING = `${[
  {
    kind: "request",
    version: 1,
    provider: "x",
    model: "m",
    capabilities: { streaming: true, tools: true, vision: false, thinking: false, contextWindow: 1000 },
    request: { model: "m", messages: 1, lastRole: "user", last: "hi", tools: [] }
  },
  { kind: "part", part: { type: "text-delta", text: "recorded" } },
  { kind: "end" }
]
  .map((line) => JSON.stringify(line))
  .join("\n")}\n`
