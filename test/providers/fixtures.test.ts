/**
 * Every recorded provider stream in test/fixtures/providers/** replayed through its provider (the client layer of the
 * provider's wire module in test/support/wire/, pointed at the local WireServer), whole and in small pieces, with at
 * least the expected part kinds asserted: text, tool names, reasoning, the finish reason or the typed error.
 * A fixture file without an entry in FIXTURES fails the suite, so new recordings cannot be skipped silently.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import type { LLMError } from "../../src/errors/LLMError.js"
import { LLMClient, type LLMRequest } from "../../src/services/LLMClient.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"
import type { StopReason } from "../../src/streams/Usage.js"
import { EVENT_STREAM, framesFromNdjson, splitBytes } from "../support/wire/bedrock.js"
import type { ProviderWire } from "../support/wire/types.js"
import * as WireServer from "../support/WireServer.js"

interface Expectation {
  /** The provider whose wire module replays it. */
  readonly provider: string
  /** How the body is served (default: the file as it is, as `text/event-stream`). */
  readonly serve?: "binary" | "ndjson-frames" | "http-400"
  readonly contentType?: string
  /** Text must stream (and contain this, when a string). */
  readonly text?: boolean | string
  /** The names of the completed tool calls, in order. */
  readonly tools?: ReadonlyArray<string>
  readonly reasoning?: boolean
  readonly redacted?: boolean
  readonly finish?: StopReason
  /** The stream fails with this error (after any parts). */
  readonly error?: LLMError["_tag"]
}

/** A derived text form of another fixture (replayed as frames: it must give the same parts). */
interface Derived {
  readonly derivedFrom: string
}

const SSE = "text/event-stream"
const NDJSON = "application/x-ndjson"

const FIXTURES: Readonly<Record<string, Expectation | Derived>> = {
  "anthropic/docs-tool-use-example.sse": {
    provider: "anthropic",
    text: true,
    tools: ["get_weather"],
    finish: "tool_use"
  },
  "anthropic/error-overloaded-docs-example.sse": { provider: "anthropic", error: "OverloadedError" },
  "anthropic/parallel-tool-use-with-text.sse": {
    provider: "anthropic",
    text: true,
    tools: ["pelican_name_generator", "pelican_name_generator"],
    finish: "tool_use"
  },
  "anthropic/redacted-thinking-raw.sse": { provider: "anthropic", redacted: true, text: true, finish: "end_turn" },
  "anthropic/refusal-stop-reason.sse": { provider: "anthropic", text: false, finish: "refusal" },
  "anthropic/text-basic.sse": { provider: "anthropic", text: "How are you doing today?", finish: "end_turn" },
  "anthropic/text-padded-raw.sse": { provider: "anthropic", text: true, finish: "end_turn" },
  "anthropic/thinking-signature.sse": { provider: "anthropic", reasoning: true, text: true, finish: "end_turn" },
  "anthropic/tool-use-many-pings.sse": { provider: "anthropic", tools: ["weather"], finish: "tool_use" },
  "anthropic/tool-use-with-text.sse": { provider: "anthropic", text: true, tools: ["get_weather"], finish: "tool_use" },

  "bedrock/http-400-invalid-model.json": { provider: "bedrock", serve: "http-400", error: "InvalidRequestError" },
  "bedrock/redacted-reasoning-claude.eventstream": {
    provider: "bedrock",
    serve: "binary",
    redacted: true,
    text: true,
    finish: "end_turn"
  },
  "bedrock/redacted-reasoning-claude.decoded.ndjson": { derivedFrom: "bedrock/redacted-reasoning-claude.eventstream" },
  "bedrock/text-nova.eventstream": { provider: "bedrock", serve: "binary", text: true, finish: "end_turn" },
  "bedrock/text-nova.decoded.ndjson": { derivedFrom: "bedrock/text-nova.eventstream" },
  "bedrock/text.ndjson": { provider: "bedrock", serve: "ndjson-frames", text: true, finish: "end_turn" },
  "bedrock/tool-use-nova.eventstream": {
    provider: "bedrock",
    serve: "binary",
    text: true,
    tools: ["get_temperature"],
    finish: "tool_use"
  },
  "bedrock/tool-use-nova.decoded.ndjson": { derivedFrom: "bedrock/tool-use-nova.eventstream" },

  "gemini/error-overloaded-midstream.txt": { provider: "gemini", text: true, error: "OverloadedError" },
  "gemini/function-call.sse": { provider: "gemini", tools: ["get_capital"] },
  "gemini/json-array-stream-function-call.json": {
    provider: "gemini",
    contentType: "application/json",
    reasoning: true,
    tools: ["pelican_name_generator"],
    finish: "tool_use"
  },
  "gemini/multiple-function-calls-streamed-args.sse": {
    provider: "gemini",
    reasoning: true,
    tools: ["read_theme", "read_screen", "read_screen", "read_screen"]
  },
  "gemini/text.sse": { provider: "gemini", text: true, finish: "end_turn" },
  "gemini/thinking.sse": { provider: "gemini", reasoning: true, text: true, finish: "end_turn" },

  "ollama/chat-nonstream-tool-call.json": { provider: "ollama", contentType: NDJSON, tools: ["get_current_weather"] },
  // An excerpt: the blog elides the final `done` chunk, so the stream is (correctly) a cut-short connection.
  "ollama/chat-stream-tool-call-excerpt.ndjson": {
    provider: "ollama",
    contentType: NDJSON,
    text: true,
    tools: ["get_current_weather"],
    error: "ConnectionError"
  },

  "openai-chat/content-logprobs.sse": { provider: "openai", text: true, finish: "end_turn" },
  "openai-chat/multiple-choices-n3.sse": { provider: "openai", text: true, finish: "end_turn" },
  "openai-chat/parallel-tool-calls.sse": {
    provider: "openai",
    tools: ["GetWeatherArgs", "get_stock_price"],
    finish: "tool_use"
  },
  "openai-chat/reasoning-model-gpt5.sse": { provider: "openai", text: true, finish: "end_turn" },
  "openai-chat/refusal.sse": { provider: "openai", text: true, finish: "refusal" },
  "openai-chat/text.sse": { provider: "openai", text: true, finish: "end_turn" },
  "openai-chat/tool-call-gpt4o-mini.sse": { provider: "openai", tools: ["get_capital"], finish: "tool_use" },
  "openai-chat/tool-call-single.sse": { provider: "openai", tools: ["get_weather"], finish: "tool_use" },

  "openai-compatible/deepseek-reasoning-content.sse": {
    provider: "openai",
    reasoning: true,
    text: true,
    finish: "end_turn"
  },
  "openai-compatible/openrouter-midstream-error.sse": {
    provider: "openai",
    reasoning: true,
    error: "InvalidRequestError"
  },

  "openai-responses/error-insufficient-quota.sse": { provider: "openai-responses", error: "ProviderPermissionError" },
  "openai-responses/function-call.sse": { provider: "openai-responses", tools: ["get_capital"], finish: "tool_use" },
  "openai-responses/reasoning-summary.sse": {
    provider: "openai-responses",
    reasoning: true,
    text: true,
    finish: "end_turn"
  },
  // The reasoning item carries no summary text (nothing to stream as reasoning).
  "openai-responses/reasoning-text-then-function-call.sse": {
    provider: "openai-responses",
    text: true,
    tools: ["get_capital"],
    finish: "tool_use"
  },
  "openai-responses/text.sse": { provider: "openai-responses", text: true, finish: "end_turn" }
}

const root = new URL("../fixtures/providers/", import.meta.url)

/** Every fixture file (relative to test/fixtures/providers/), SOURCES.md excepted. */
const fixtureFiles = (dir: string = root.pathname, prefix = ""): ReadonlyArray<string> =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? fixtureFiles(path.join(dir, entry.name), `${prefix}${entry.name}/`)
        : entry.name === "SOURCES.md"
          ? []
          : [`${prefix}${entry.name}`]
    )
    .sort()

const isWire = (value: unknown): value is ProviderWire =>
  typeof value === "object" && value !== null && "id" in value && "layer" in value && typeof value.layer === "function"

const wireDir = new URL("../support/wire/", import.meta.url)
const wires = new Map<string, ProviderWire>()
for (const file of fs.readdirSync(wireDir).filter((name) => name.endsWith(".ts") && name !== "types.ts")) {
  const module: Record<string, unknown> = await import(new URL(file, wireDir).href)
  const wire = [module.wire, module.default].find(isWire)
  if (wire !== undefined) wires.set(wire.id, wire)
}

const hello: LLMRequest = { messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] }

type Served = ReadonlyArray<import("../support/WireServer.js").Reply>

/** The reply for a fixture, whole and in small pieces. */
const replies = (file: string, e: Expectation): Served => {
  const full = WireServer.fixture(file)
  switch (e.serve) {
    case "binary": {
      const body = fs.readFileSync(full)
      return [
        { kind: "stream", contentType: EVENT_STREAM, chunks: [body] },
        { kind: "stream", contentType: EVENT_STREAM, chunks: splitBytes(body, 7) }
      ]
    }
    case "ndjson-frames": {
      const frames = framesFromNdjson(fs.readFileSync(full, "utf8"))
      return [
        { kind: "stream", contentType: EVENT_STREAM, chunks: frames },
        { kind: "stream", contentType: EVENT_STREAM, chunks: splitBytes(Buffer.concat(frames), 5) }
      ]
    }
    case "http-400":
      return [{ kind: "error", status: 400, body: fs.readFileSync(full, "utf8") }]
    default: {
      const contentType = e.contentType ?? SSE
      return [
        { kind: "file", path: full, contentType },
        { kind: "file", path: full, contentType, chunkSize: 7 }
      ]
    }
  }
}

interface Outcome {
  readonly parts: ReadonlyArray<StreamPart>
  readonly error?: LLMError
}

const replayOnce = (wire: ProviderWire, reply: Served[number]) =>
  Effect.gen(function* () {
    const server = yield* WireServer.make
    server.enqueue(reply)
    const parts: Array<StreamPart> = []
    const exit = yield* Effect.flatMap(LLMClient, (client) =>
      Stream.runForEach(client.stream(hello), (part) => Effect.sync(() => parts.push(part)))
    ).pipe(Effect.provide(Layer.orDie(wire.layer(server.url))), Effect.exit)
    if (Exit.isSuccess(exit)) return { parts } satisfies Outcome
    const error = yield* Effect.flip(exit)
    return { parts, error } satisfies Outcome
  }).pipe(Effect.scoped)

const summary = (outcome: Outcome) => ({
  text: outcome.parts.flatMap((p) => (p.type === "text-delta" ? [p.text] : [])).join(""),
  tools: outcome.parts.flatMap((p) => (p.type === "tool-call-complete" ? [p.name] : [])),
  reasoning: outcome.parts.some((p) => p.type === "reasoning-delta"),
  redacted: outcome.parts.some((p) => p.type === "reasoning-redacted"),
  finish: outcome.parts.flatMap((p) => (p.type === "finish" ? [p.stopReason] : [])).at(-1),
  error: outcome.error?._tag
})

const check = (file: string, e: Expectation, outcome: Outcome): void => {
  const s = summary(outcome)
  const where = `${file}: ${JSON.stringify({ ...s, text: s.text.slice(0, 80) })}`
  if (e.text === true) expect(s.text, where).not.toBe("")
  if (e.text === false) expect(s.text, where).toBe("")
  if (typeof e.text === "string") expect(s.text, where).toContain(e.text)
  if (e.tools !== undefined) expect(s.tools, where).toEqual(e.tools)
  if (e.reasoning === true) expect(s.reasoning, where).toBe(true)
  if (e.redacted === true) expect(s.redacted, where).toBe(true)
  if (e.finish !== undefined) expect(s.finish, where).toBe(e.finish)
  expect(s.error, where).toBe(e.error)
}

/** Fixture files without an entry in FIXTURES. */
const unmapped = (files: ReadonlyArray<string>): ReadonlyArray<string> =>
  files.filter((file) => !Object.hasOwn(FIXTURES, file))

describe("recorded provider fixtures", () => {
  const files = fixtureFiles()

  it("every fixture file has a provider mapping (and every mapping a file)", () => {
    expect(files.length).toBeGreaterThan(0)
    expect(unmapped(files)).toEqual([])
    expect(Object.keys(FIXTURES).filter((file) => !files.includes(file))).toEqual([])
  })

  it("a new fixture file without a mapping is reported (checked on a copy of the layout)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sage-fixtures-"))
    try {
      fs.mkdirSync(path.join(dir, "anthropic"))
      fs.writeFileSync(path.join(dir, "anthropic", "text-basic.sse"), "")
      fs.writeFileSync(path.join(dir, "anthropic", "brand-new.sse"), "")
      fs.writeFileSync(path.join(dir, "SOURCES.md"), "")
      expect(unmapped(fixtureFiles(dir))).toEqual(["anthropic/brand-new.sse"])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it(`every mapped provider has a wire module (have: ${[...wires.keys()].sort().join(", ")})`, () => {
    const needed = new Set(Object.values(FIXTURES).flatMap((e) => ("provider" in e ? [e.provider] : [])))
    expect([...needed].filter((id) => !wires.has(id))).toEqual([])
  })

  for (const file of files) {
    const e = FIXTURES[file]
    if (e === undefined) continue
    if ("derivedFrom" in e) {
      it.effect(`${file}: its frames give the same parts as ${e.derivedFrom}`, () =>
        Effect.gen(function* () {
          const source = FIXTURES[e.derivedFrom]
          if (source === undefined || "derivedFrom" in source) throw new Error(`no fixture ${e.derivedFrom}`)
          const wire = wires.get(source.provider)
          if (wire === undefined) throw new Error(`no wire module for ${source.provider}`)
          const frames = framesFromNdjson(fs.readFileSync(WireServer.fixture(file), "utf8"))
          const derived = yield* replayOnce(wire, { kind: "stream", contentType: EVENT_STREAM, chunks: frames })
          const [original] = replies(e.derivedFrom, source)
          if (original === undefined) throw new Error("no reply")
          const recorded = yield* replayOnce(wire, original)
          expect(derived).toEqual(recorded)
          check(file, source, derived)
        })
      )
      continue
    }
    it.effect(`${file} through ${e.provider}`, () =>
      Effect.gen(function* () {
        const wire = wires.get(e.provider)
        if (wire === undefined) throw new Error(`no wire module for provider ${e.provider}`)
        const outcomes: Array<Outcome> = []
        for (const reply of replies(file, e)) outcomes.push(yield* replayOnce(wire, reply))
        for (const outcome of outcomes) check(file, e, outcome)
        const [first, ...rest] = outcomes
        for (const other of rest) expect(summary(other)).toEqual(summary(first ?? { parts: [] }))
      })
    )
  }
})
