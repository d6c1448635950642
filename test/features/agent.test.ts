/**
 * Issue #11 through the whole agent (SDK and Effect API) against the scripted model server: structured output
 * (native, tool fallback, one repair, typed error, Effect Schema), images in prompts (SDK blocks, workspace and
 * permission checks, a model without vision), the cache key and the reasoning options on every request, and the
 * thinking block sent back exactly on the second step of a tool use.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as StructuredOutput from "../../src/agent/StructuredOutput.js"
import { layerNode } from "../../src/layers/SageLive.js"
import * as Anthropic from "../../src/providers/anthropic/AnthropicProvider.js"
import { InputError, SageAgentSDK, StructuredOutputError } from "../../src/sdk/SageAgentSDK.js"
import { Agent } from "../../src/services/Agent.js"
import { LLMClient } from "../../src/services/LLMClient.js"
import { answer, callTools, reply, tempDir } from "../agent/harness.js"
import { openaiSse } from "../support/openaiSse.js"
import { sdkFor } from "../support/sdk.js"
import * as WireServer from "../support/WireServer.js"

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

const schema = {
  type: "object",
  properties: { name: { type: "string" }, count: { type: "integer" } },
  required: ["name", "count"],
  additionalProperties: false
}

type Body = Readonly<Record<string, unknown>>
const bodyOf = (wire: WireServer.WireServer, i: number): Body => {
  const body = wire.requests[i]?.body
  if (typeof body !== "object" || body === null) throw new Error(`no request ${i}`)
  return { ...body }
}
const messagesOf = (wire: WireServer.WireServer, i: number): ReadonlyArray<Body> => {
  const messages = bodyOf(wire, i).messages
  return Array.isArray(messages) ? messages : []
}

const openaiAnswer = (text: string, usage?: Record<string, unknown>) => ({
  kind: "stream" as const,
  chunks: openaiSse([{ text }, { finish: "stop" }, ...(usage === undefined ? [] : [{ usage }])])
})

const openaiSdk = (
  wire: WireServer.WireServer,
  cwd: string,
  extra: ConstructorParameters<typeof SageAgentSDK>[0] = {}
) =>
  Effect.acquireRelease(
    Effect.sync(
      () =>
        new SageAgentSDK({
          provider: "openai",
          apiKey: "sk-openai-test",
          baseURL: wire.url,
          model: "gpt-4o",
          cwd,
          env: { PATH: process.env.PATH },
          persistSession: false,
          ...extra
        })
    ),
    (sdk) => Effect.promise(() => sdk.close())
  )

const rejectionOf = (promise: () => Promise<unknown>) =>
  Effect.promise(() =>
    promise().then(
      () => undefined,
      (error: unknown) => error
    )
  )

describe("structured output", () => {
  it.live("native (OpenAI chat): response_format on every request, the answer validated and returned as data", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(openaiAnswer('{"name":"sage","count":3}'))
      const sdk = yield* openaiSdk(wire, cwd)
      const result = yield* Effect.promise(() => sdk.run("count", { outputSchema: schema }))
      expect(result.structuredOutput).toEqual({ name: "sage", count: 3 })
      expect(bodyOf(wire, 0).response_format).toEqual({
        type: "json_schema",
        json_schema: { name: "output", schema, strict: true }
      })
      // no fallback tool in native mode
      expect(JSON.stringify(bodyOf(wire, 0).tools)).not.toContain("StructuredOutput")
    })
  )

  it.live("an invalid answer gets one repair request saying what was wrong, then the valid answer is returned", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(openaiAnswer('{"name":"sage"}'), openaiAnswer('```json\n{"name":"sage","count":2}\n```'))
      const sdk = yield* openaiSdk(wire, cwd)
      const result = yield* Effect.promise(() => sdk.run("count", { outputSchema: schema }))
      expect(result.structuredOutput).toEqual({ name: "sage", count: 2 })
      expect(wire.requests).toHaveLength(2)
      const repair = messagesOf(wire, 1).at(-1)
      expect(repair?.role).toBe("user")
      expect(String(repair?.content)).toContain("count")
      expect(String(repair?.content)).toContain("does not match the required JSON Schema")
    })
  )

  it.live("invalid twice: StructuredOutputError (catchable by class and tag), no third request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(openaiAnswer("not json"), openaiAnswer('{"name":1,"count":"x"}'))
      const sdk = yield* openaiSdk(wire, cwd)
      const error = yield* rejectionOf(() => sdk.run("count", { outputSchema: schema }))
      expect(error).toBeInstanceOf(StructuredOutputError)
      expect(error).toMatchObject({ _tag: "StructuredOutputError", answer: '{"name":1,"count":"x"}' })
      expect(wire.requests).toHaveLength(2)
    })
  )

  it.live(
    "fallback (Claude 3, no native mode): the StructuredOutput tool; a bad call is repaired, a good one ends the turn",
    () =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        wire.enqueue(
          callTools([{ id: "so1", name: "StructuredOutput", input: { name: "sage" } }]),
          callTools([{ id: "so2", name: "StructuredOutput", input: { name: "sage", count: 7 } }])
        )
        const sdk = yield* sdkFor(wire, cwd, { model: "claude-3-5-haiku", outputSchema: schema, persistSession: false })
        const result = yield* Effect.promise(() => sdk.run("count"))
        expect(result.structuredOutput).toEqual({ name: "sage", count: 7 })
        expect(result.stopReason).toBe("end_turn")
        expect(wire.requests).toHaveLength(2)
        const first = bodyOf(wire, 0)
        expect(first.output_config).toBeUndefined()
        const tools = first.tools as ReadonlyArray<Body>
        expect(tools.find((t) => t.name === "StructuredOutput")?.input_schema).toEqual(schema)
        expect(JSON.stringify(first.system)).toContain("call the StructuredOutput tool")
        // the rejected call's error result told the model what was wrong
        const repair = JSON.stringify(messagesOf(wire, 1).at(-1))
        expect(repair).toContain('"is_error":true')
        expect(repair).toContain("count")
      })
  )

  it.live("Effect API: StructuredOutput.run(schema) returns typed, decoded data", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(answer('{"city":"Paris","year":1889}'))
      const Landmark = Schema.Struct({ city: Schema.String, year: Schema.Int })
      const { value, result } = yield* StructuredOutput.run(Landmark)("Where and when?").pipe(
        Effect.scoped,
        Effect.provide(
          layerNode({
            provider: "anthropic",
            apiKey: "sk-ant",
            baseURL: wire.url,
            model: "claude-test",
            cwd,
            env: { PATH: process.env.PATH }
          })
        )
      )
      const year: number = value.year
      expect(year).toBe(1889)
      expect(value.city).toBe("Paris")
      expect(result.structuredOutput).toEqual({ city: "Paris", year: 1889 })
      // claude-test: native mode, with the JSON Schema derived from the Effect Schema
      const format = bodyOf(wire, 0).output_config as { format: { schema: Body } }
      expect(format.format.schema).toMatchObject({ type: "object", required: ["city", "year"] })
    })
  )

  it.live("SageOptions.outputSchema applies to every turn of the main agent", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(answer('{"ok":true}'))
      const result = yield* Effect.gen(function* () {
        const agent = yield* Agent
        const execution = yield* agent.start("ok?")
        return yield* execution.result
      }).pipe(
        Effect.scoped,
        Effect.provide(
          layerNode({
            provider: "anthropic",
            apiKey: "sk-ant",
            baseURL: wire.url,
            model: "claude-test",
            cwd,
            outputSchema: StructuredOutput.fromSchema(Schema.Struct({ ok: Schema.Boolean }))
          })
        )
      )
      expect(result.structuredOutput).toEqual({ ok: true })
    })
  )

  it.live("a schema that is not an object is a ConfigError before any request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const sdk = yield* openaiSdk(wire, cwd)
      const error = yield* rejectionOf(() => sdk.run("x", { outputSchema: { type: 12 } }))
      expect(error).toMatchObject({ _tag: "ConfigError", source: "outputSchema" })
      expect(wire.requests).toHaveLength(0)
    })
  )
})

describe("images in prompts", () => {
  const withImage = (cwd: string, name = "pic.png") =>
    fs.writeFileSync(path.join(cwd, name), Buffer.from(PNG, "base64"))

  it.live("SDK blocks (a file path and a base64 image) reach Anthropic and OpenAI in their formats", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      withImage(cwd)
      wire.enqueue(answer("a pixel"))
      const anthropic = yield* sdkFor(wire, cwd, { persistSession: false })
      yield* Effect.promise(() =>
        anthropic.run([
          { type: "text", text: "what is this?" },
          { type: "image", path: "pic.png" }
        ])
      )
      expect(messagesOf(wire, 0)[0]?.content).toEqual([
        { type: "text", text: "what is this?" },
        {
          type: "image",
          source: { type: "base64", media_type: "image/png", data: PNG },
          cache_control: { type: "ephemeral" }
        }
      ])

      wire.enqueue(openaiAnswer("a pixel"))
      const openai = yield* openaiSdk(wire, cwd)
      yield* Effect.promise(() =>
        openai.run([
          { type: "text", text: "and this?" },
          { type: "image", source: { type: "base64", mediaType: "image/png", data: PNG } }
        ])
      )
      expect(messagesOf(wire, 1).at(-1)).toEqual({
        role: "user",
        content: [
          { type: "text", text: "and this?" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } }
        ]
      })
    })
  )

  it.live("a file outside the workspace, a Read-denied file, a missing file and a non-image are refused", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const outside = yield* tempDir
      withImage(outside)
      withImage(cwd, "secret.png")
      fs.writeFileSync(path.join(cwd, "notes.png"), "not an image")
      const sdk = yield* sdkFor(wire, cwd, { persistSession: false, disallowedTools: ["Read(secret.png)"] })
      const attempt = (file: string) => rejectionOf(() => sdk.run([{ type: "image", path: file }]))
      expect(yield* attempt(path.join(outside, "pic.png"))).toMatchObject({
        _tag: "InputError",
        reason: "image_denied"
      })
      expect(yield* attempt("secret.png")).toMatchObject({ _tag: "InputError", reason: "image_denied" })
      expect(yield* attempt("missing.png")).toMatchObject({ _tag: "InputError", reason: "image_not_found" })
      expect(yield* attempt("notes.png")).toMatchObject({ _tag: "InputError", reason: "image_unsupported" })
      expect(wire.requests).toHaveLength(0)
    })
  )

  it.live("a model without vision (catalog override) fails with InputError before any request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const sdk = yield* sdkFor(wire, cwd, {
        persistSession: false,
        models: { "claude-test": { capabilities: { vision: false } } }
      })
      const error = yield* rejectionOf(() =>
        sdk.run([{ type: "image", source: { type: "base64", mediaType: "image/png", data: PNG } }])
      )
      expect(error).toBeInstanceOf(InputError)
      expect(error).toMatchObject({ reason: "vision_unsupported", model: "claude-test" })
      expect(wire.requests).toHaveLength(0)
    })
  )

  it.live("a client that says it has no vision is believed for a model the catalog does not know", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const client = Anthropic.make({ apiKey: Redacted.make("k"), baseURL: wire.url, model: "claude-test" })
      const blind = Layer.succeed(LLMClient, { ...client, capabilities: { ...client.capabilities, vision: false } })
      const base = layerNode({ provider: "anthropic", apiKey: "k", baseURL: wire.url, model: "claude-test", cwd })
      const exit = yield* Effect.exit(
        StructuredOutput.run(Schema.String)([
          { type: "image", source: { type: "url", url: "https://example.invalid/a.png" } }
        ]).pipe(Effect.scoped, Effect.provide(base.pipe(Layer.provide(blind))))
      )
      expect(JSON.stringify(exit)).toContain("vision_unsupported")
      expect(wire.requests).toHaveLength(0)
    })
  )
})

describe("caching and reasoning on every request", () => {
  it.live("OpenAI: prompt_cache_key is the session id; reasoningEffort on each step; cached tokens priced", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(
        {
          kind: "stream",
          chunks: openaiSse([
            { toolCall: { index: 0, id: "c1", name: "LS", args: '{"path":"."}' } },
            { finish: "tool_calls" }
          ])
        },
        openaiAnswer("done", {
          prompt_tokens: 1000,
          completion_tokens: 10,
          prompt_tokens_details: { cached_tokens: 600 }
        })
      )
      const sdk = yield* openaiSdk(wire, cwd, { reasoningEffort: "low" })
      const result = yield* Effect.promise(() => sdk.run("list"))
      expect(wire.requests).toHaveLength(2)
      for (const i of [0, 1]) {
        expect(bodyOf(wire, i).prompt_cache_key).toBe(result.sessionId)
        expect(bodyOf(wire, i).reasoning_effort).toBe("low")
      }
      expect(result.usage.cacheReadTokens).toBe(600)
      // gpt-4o: 400 uncached x $2.50 + 600 cached x $1.25 + 10 x $10, per million
      expect(result.costUsd).toBeCloseTo((1000 + 750 + 100) / 1e6, 12)
    })
  )

  it.live(
    "Anthropic two-step tool use with thinking: the second request carries the thinking block and signature exactly",
    () =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        fs.writeFileSync(path.join(cwd, "a.txt"), "hello\n")
        const signature = "EqQBCkYIBRgCIkBz+/sig=="
        wire.enqueue(
          reply({
            stopReason: "tool_use",
            steps: [
              { thinking: ["I should ", "read a.txt."], signature },
              { tool: { id: "toolu_1", name: "Read", json: ['{"file_path":', '"a.txt"}'] } }
            ]
          }),
          answer("It says hello.")
        )
        const sdk = yield* sdkFor(wire, cwd, { thinkingBudget: 4096, persistSession: false })
        const events = yield* Effect.promise(async () => {
          const seen: Array<{ readonly type: string; readonly text?: string }> = []
          for await (const event of sdk.stream("what is in a.txt?")) seen.push(event)
          return seen
        })
        expect(events.filter((e) => e.type === "reasoning.delta").map((e) => e.text)).toEqual([
          "I should ",
          "read a.txt."
        ])
        expect(events.find((e) => e.type === "turn.ended")).toMatchObject({ text: "It says hello." })
        expect(wire.requests).toHaveLength(2)
        for (const i of [0, 1]) {
          expect(bodyOf(wire, i).thinking).toEqual({ type: "enabled", budget_tokens: 4096 })
          expect(bodyOf(wire, i).temperature).toBeUndefined()
        }
        const assistant = messagesOf(wire, 1)[1]
        expect(assistant).toEqual({
          role: "assistant",
          content: [
            { type: "thinking", thinking: "I should read a.txt.", signature },
            { type: "tool_use", id: "toolu_1", name: "Read", input: { file_path: "a.txt" } }
          ]
        })
        // the latest message (the tool result) carries the cache breakpoint
        expect(JSON.stringify(messagesOf(wire, 1)[2])).toContain('"cache_control":{"type":"ephemeral"}')
      })
  )

  it.live("model shorthand in the SDK: model openai/gpt-4o without provider picks OpenAI", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(openaiAnswer("hi"))
      const sdk = new SageAgentSDK({
        model: "openai/gpt-4o",
        apiKey: "sk-test",
        baseURL: wire.url,
        cwd,
        env: {},
        persistSession: false
      })
      yield* Effect.addFinalizer(() => Effect.promise(() => sdk.close()))
      yield* Effect.promise(() => sdk.run("hi"))
      expect(wire.requests[0]?.path).toBe("/chat/completions")
      expect(bodyOf(wire, 0).model).toBe("gpt-4o")
    })
  )
})
