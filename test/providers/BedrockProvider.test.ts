/**
 * The Bedrock provider through the real AWS SDK against the local WireServer, over the real binary event-stream
 * wire format: recorded ConverseStream bodies, scripted frames, HTTP errors as Bedrock sends them (status,
 * `x-amzn-errortype`, JSON `message`), in-stream exception frames, the request body the SDK sends, and abort.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Bedrock from "../../src/providers/bedrock/BedrockProvider.js"
import { lookupModel } from "../../src/providers/ModelCatalog.js"
import { anthropicId, isClaude, supportsCaching, toConverseInput } from "../../src/providers/bedrock/BedrockWire.js"
import { LLMClient, type LLMRequest } from "../../src/services/LLMClient.js"
import type { Message } from "../../src/streams/Message.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"
import { Usage } from "../../src/streams/Usage.js"
import {
  bedrockFrames,
  EVENT_STREAM,
  eventFrame,
  exceptionFrame,
  framesFromNdjson,
  httpFailure,
  splitBytes,
  stream
} from "../support/wire/bedrock.js"
import { textOf } from "../support/providers.js"
import * as WireServer from "../support/WireServer.js"

const CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
const hello: LLMRequest = { messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] }

const clientFor = (wire: WireServer.WireServer, model = "us.amazon.nova-micro-v1:0") =>
  Bedrock.make({
    baseURL: wire.url,
    region: "us-east-1",
    model,
    credentials: {
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: Redacted.make("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    }
  })

const collect = (client: LLMClient.Service, request: LLMRequest = hello) => Stream.runCollect(client.stream(request))
const failure = (client: LLMClient.Service, request: LLMRequest = hello) => Effect.flip(collect(client, request))

/** What the decoded (text) form of a fixture says the parts must hold. */
const expectedFrom = (ndjson: string) => {
  const events = ndjson
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l): Record<string, Record<string, unknown>> => JSON.parse(l))
  let text = ""
  const tools: Array<string> = []
  const redacted: Array<string> = []
  let stop: string | undefined
  let usage: Record<string, unknown> | undefined
  for (const event of events) {
    const delta = event.contentBlockDelta?.delta as Record<string, Record<string, unknown> | string> | undefined
    if (typeof delta?.text === "string") text += delta.text
    const reasoning = delta?.reasoningContent
    if (typeof reasoning === "object" && typeof reasoning.redactedContent === "string")
      redacted.push(reasoning.redactedContent)
    const start = event.contentBlockStart?.start as Record<string, Record<string, unknown>> | undefined
    if (typeof start?.toolUse?.name === "string") tools.push(start.toolUse.name)
    if (typeof event.messageStop?.stopReason === "string") stop = event.messageStop.stopReason
    if (event.metadata?.usage !== undefined) usage = event.metadata.usage as Record<string, unknown>
  }
  return { text, tools, redacted, stop, usage }
}

const bytes = (name: string): Buffer => readFileSync(WireServer.fixture(`bedrock/${name}`))

describe("BedrockProvider fixtures (real SDK, binary event stream)", () => {
  for (const name of ["text-nova", "tool-use-nova", "redacted-reasoning-claude"]) {
    it.effect(`${name}.eventstream: parts match the decoded frames, whole and in 7-byte chunks`, () =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const client = clientFor(wire)
        const body = bytes(`${name}.eventstream`)
        wire.enqueue(stream([body]))
        const whole = yield* collect(client)
        wire.enqueue(stream(splitBytes(body, 7)))
        const pieces = yield* collect(client)
        expect(pieces).toEqual(whole)
        const expected = expectedFrom(WireServer.readFixture(`bedrock/${name}.decoded.ndjson`))
        expect(textOf(whole)).toBe(expected.text)
        expect(whole.flatMap((p) => (p.type === "tool-call-complete" ? [p.name] : []))).toEqual(expected.tools)
        expect(whole.flatMap((p) => (p.type === "reasoning-redacted" ? [p.data] : []))).toEqual(expected.redacted)
        const finish = whole.at(-1)
        expect(finish).toEqual({ type: "finish", stopReason: expected.stop, raw: expected.stop })
        const usage = whole.flatMap((p) => (p.type === "usage" ? [p.usage] : [])).at(-1)
        expect(usage?.inputTokens).toBe(expected.usage?.inputTokens)
        expect(usage?.outputTokens).toBe(expected.usage?.outputTokens)
        expect(whole[0]).toMatchObject({ type: "metadata", model: "us.amazon.nova-micro-v1:0" })
      })
    )
  }

  it.effect("tool-use-nova: the tool call's input is parsed from the streamed JSON", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(stream([bytes("tool-use-nova.eventstream")]))
      const response = yield* clientFor(wire).generate(hello)
      expect(response.toolCalls).toHaveLength(1)
      expect(response.toolCalls[0]?.name).toBe("get_temperature")
      expect(response.toolCalls[0]?.input).toEqual({ city: "Paris" })
      expect(response.stopReason).toBe("tool_use")
    })
  )

  it.effect("text.ndjson (decoded form) encoded as frames replays too", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const ndjson = WireServer.readFixture("bedrock/text.ndjson")
      wire.enqueue(stream(framesFromNdjson(ndjson)))
      const parts = yield* collect(clientFor(wire))
      expect(textOf(parts)).toBe(expectedFrom(ndjson).text)
      expect(parts.at(-1)).toMatchObject({ type: "finish", stopReason: "end_turn" })
    })
  )
})

describe("BedrockProvider request", () => {
  it.effect("SigV4-signed POST to /model/<id>/converse-stream with the Converse body", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(stream(bedrockFrames({ text: ["ok"] })))
      const request: LLMRequest = {
        system: "be brief",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "look" },
              { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } }
            ]
          }
        ],
        tools: [
          { name: "Read", description: "read a file", inputSchema: { properties: { path: { type: "string" } } } }
        ],
        toolChoice: { type: "required" },
        maxTokens: 100,
        temperature: 0.5,
        stopSequences: ["END"]
      }
      yield* collect(clientFor(wire), request)
      const sent = wire.requests[0]
      expect(sent?.method).toBe("POST")
      expect(sent?.path).toBe("/model/us.amazon.nova-micro-v1%3A0/converse-stream")
      expect(String(sent?.headers.authorization)).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=.*, Signature=[0-9a-f]{64}$/
      )
      expect(sent?.body).toEqual({
        messages: [
          { role: "user", content: [{ text: "look" }, { image: { format: "png", source: { bytes: "iVBORw0KGgo=" } } }] }
        ],
        system: [{ text: "be brief" }],
        inferenceConfig: { maxTokens: 100, temperature: 0.5, stopSequences: ["END"] },
        toolConfig: {
          tools: [
            {
              toolSpec: {
                name: "Read",
                description: "read a file",
                inputSchema: { json: { properties: { path: { type: "string" } }, type: "object" } }
              }
            }
          ],
          toolChoice: { any: {} }
        }
      })
    })
  )

  it.effect("Claude: thinking in additionalModelRequestFields, cachePoint after the system prompt and the tools", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(stream(bedrockFrames({ text: ["ok"] })))
      yield* collect(clientFor(wire, CLAUDE), {
        system: "sys",
        messages: hello.messages,
        tools: [{ name: "Bash", description: "run", inputSchema: {} }],
        thinking: { budgetTokens: 2048 },
        maxTokens: 1000,
        temperature: 1
      })
      const body = wire.requests[0]?.body
      expect(wire.requests[0]?.path).toBe(`/model/${encodeURIComponent(CLAUDE)}/converse-stream`)
      expect(body).toMatchObject({
        system: [{ text: "sys" }, { cachePoint: { type: "default" } }],
        toolConfig: { tools: [{ toolSpec: { name: "Bash" } }, { cachePoint: { type: "default" } }] },
        additionalModelRequestFields: { thinking: { type: "enabled", budget_tokens: 2048 } },
        inferenceConfig: { maxTokens: 3048 }
      })
      expect(body).not.toHaveProperty("inferenceConfig.temperature")
    })
  )

  it("model ids: Claude detection, catalog lookup for caching", () => {
    expect(isClaude(CLAUDE)).toBe(true)
    expect(isClaude("anthropic.claude-3-7-sonnet-20250219-v1:0")).toBe(true)
    expect(isClaude("us.amazon.nova-micro-v1:0")).toBe(false)
    expect(anthropicId(CLAUDE)).toBe("claude-sonnet-4-5-20250929")
    expect(supportsCaching(CLAUDE)).toBe(true)
    // The catalog knows Bedrock's spelling of Claude ids (prices, context window for cost and compaction).
    expect(lookupModel(CLAUDE)).toMatchObject({ known: true, provider: "anthropic", contextWindow: 200_000 })
    expect(lookupModel("anthropic.claude-3-7-sonnet-20250219-v1:0").known).toBe(true)
    expect(lookupModel("us.amazon.nova-micro-v1:0").known).toBe(false)
    expect(supportsCaching("anthropic.claude-3-haiku-20240307-v1:0")).toBe(false)
    expect(supportsCaching("us.amazon.nova-micro-v1:0")).toBe(false)
    // Non-Claude models get no thinking fields and no cache points.
    const input = toConverseInput(
      { system: "s", messages: hello.messages, thinking: { budgetTokens: 4000 } },
      { model: "us.amazon.nova-micro-v1:0", maxTokens: 10 }
    )
    expect(input.additionalModelRequestFields).toBeUndefined()
    expect(input.system).toEqual([{ text: "s" }])
    // A request without tools (Bedrock refuses tool blocks then) carries earlier tool calls and results as text.
    const history: ReadonlyArray<Message> = [
      ...hello.messages,
      { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "Read", input: { file_path: "a" } }] },
      {
        role: "tool",
        content: [{ type: "tool_result", toolUseId: "t1", content: [{ type: "text", text: "A" }], isError: true }]
      }
    ]
    expect(toConverseInput({ messages: history }, { model: "m", maxTokens: 10 }).messages).toEqual([
      { role: "user", content: [{ text: "hi" }] },
      { role: "assistant", content: [{ text: '[tool call t1: Read({"file_path":"a"})]' }] },
      { role: "user", content: [{ text: "[tool result t1 (error)]\nA" }] }
    ])
  })

  it.effect("two-step tool use: the second request carries reasoning text+signature and redacted content exactly", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const client = clientFor(wire, CLAUDE)
      const redactedBytes = Buffer.from([0, 1, 2, 250, 251, 252, 10, 13])
      wire.enqueue(
        stream([
          eventFrame("messageStart", { role: "assistant" }),
          eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { reasoningContent: { text: "Let me " } } }),
          eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { reasoningContent: { text: "list." } } }),
          eventFrame("contentBlockDelta", {
            contentBlockIndex: 0,
            delta: { reasoningContent: { signature: "EqoBCkgIARABGAIiQL+sig==" } }
          }),
          eventFrame("contentBlockStop", { contentBlockIndex: 0 }),
          eventFrame("contentBlockDelta", {
            contentBlockIndex: 1,
            delta: { reasoningContent: { redactedContent: redactedBytes.toString("base64") } }
          }),
          eventFrame("contentBlockStop", { contentBlockIndex: 1 }),
          eventFrame("contentBlockStart", {
            contentBlockIndex: 2,
            start: { toolUse: { toolUseId: "tooluse_1", name: "Bash" } }
          }),
          eventFrame("contentBlockDelta", { contentBlockIndex: 2, delta: { toolUse: { input: '{"comm' } } }),
          eventFrame("contentBlockDelta", { contentBlockIndex: 2, delta: { toolUse: { input: 'and":"ls"}' } } }),
          eventFrame("contentBlockStop", { contentBlockIndex: 2 }),
          eventFrame("messageStop", { stopReason: "tool_use" }),
          eventFrame("metadata", {
            usage: {
              inputTokens: 20,
              outputTokens: 9,
              totalTokens: 39,
              cacheReadInputTokens: 7,
              cacheWriteInputTokens: 3
            },
            metrics: { latencyMs: 1 }
          })
        ])
      )
      const tools = [{ name: "Bash", description: "run a command", inputSchema: {} }]
      const first = yield* client.generate({ ...hello, tools, thinking: { budgetTokens: 1024 } })
      expect(first.usage).toEqual(
        new Usage({ inputTokens: 20, outputTokens: 9, cacheReadTokens: 7, cacheWriteTokens: 3 })
      )
      expect(first.stopReason).toBe("tool_use")
      expect(first.message.content).toEqual([
        { type: "thinking", thinking: "Let me list.", signature: "EqoBCkgIARABGAIiQL+sig==" },
        { type: "redacted_thinking", data: redactedBytes.toString("base64") },
        { type: "tool_use", id: "tooluse_1", name: "Bash", input: { command: "ls" } }
      ])
      wire.enqueue(stream(bedrockFrames({ text: ["done"] })))
      const messages: ReadonlyArray<Message> = [
        ...hello.messages,
        first.message,
        {
          role: "tool",
          content: [
            { type: "tool_result", toolUseId: "tooluse_1", content: [{ type: "text", text: "a.txt" }], isError: false }
          ]
        }
      ]
      const second = yield* client.generate({ messages, tools, thinking: { budgetTokens: 1024 } })
      expect(second.message.content).toEqual([{ type: "text", text: "done" }])
      const body = wire.requests[1]?.body
      expect(body).toMatchObject({
        messages: [
          { role: "user", content: [{ text: "hi" }] },
          {
            role: "assistant",
            content: [
              { reasoningContent: { reasoningText: { text: "Let me list.", signature: "EqoBCkgIARABGAIiQL+sig==" } } },
              { reasoningContent: { redactedContent: redactedBytes.toString("base64") } },
              { toolUse: { toolUseId: "tooluse_1", name: "Bash", input: { command: "ls" } } }
            ]
          },
          {
            role: "user",
            content: [{ toolResult: { toolUseId: "tooluse_1", content: [{ text: "a.txt" }], status: "success" } }]
          }
        ]
      })
    })
  )

  it.effect("the recorded redacted reasoning goes back byte for byte", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const client = clientFor(wire, CLAUDE)
      wire.enqueue(stream([bytes("redacted-reasoning-claude.eventstream")]))
      const first = yield* client.generate(hello)
      wire.enqueue(stream(bedrockFrames({ text: ["again"] })))
      yield* client.generate({
        messages: [...hello.messages, first.message, { role: "user", content: [{ type: "text", text: "more" }] }]
      })
      const expected = expectedFrom(WireServer.readFixture("bedrock/redacted-reasoning-claude.decoded.ndjson")).redacted
      const body = wire.requests[1]?.body as { messages: Array<{ content: Array<Record<string, unknown>> }> }
      const sentBack = (body.messages[1]?.content ?? []).flatMap((block) => {
        const reasoning = block.reasoningContent as { redactedContent?: string } | undefined
        return reasoning?.redactedContent === undefined ? [] : [reasoning.redactedContent]
      })
      expect(sentBack).toEqual(expected)
      expect(sentBack).toHaveLength(2)
    })
  )
})

describe("BedrockProvider errors", () => {
  const cases = [
    {
      status: 429,
      type: "ThrottlingException",
      message: "Too many requests",
      tag: "RateLimitedError",
      retryable: true
    },
    {
      status: 400,
      type: "ServiceQuotaExceededException",
      message: "quota",
      tag: "ProviderPermissionError",
      retryable: false
    },
    { status: 503, type: "ServiceUnavailableException", message: "busy", tag: "OverloadedError", retryable: true },
    { status: 429, type: "ModelNotReadyException", message: "warming up", tag: "OverloadedError", retryable: true },
    {
      status: 400,
      type: "ValidationException",
      message: "messages: bad field",
      tag: "InvalidRequestError",
      retryable: false
    },
    {
      status: 400,
      type: "ValidationException",
      message: "Input is too long for requested model.",
      tag: "ContextLengthExceededError",
      retryable: false
    },
    {
      status: 403,
      type: "AccessDeniedException",
      message: "no access",
      tag: "ProviderPermissionError",
      retryable: false
    },
    {
      status: 404,
      type: "ResourceNotFoundException",
      message: "no such model",
      tag: "ModelNotFoundError",
      retryable: false
    },
    {
      status: 403,
      type: "UnrecognizedClientException",
      message: "bad token",
      tag: "AuthenticationError",
      retryable: false
    },
    { status: 500, type: "InternalServerException", message: "oops", tag: "ServerError", retryable: true }
  ] as const
  for (const c of cases) {
    it.effect(`HTTP ${c.status} ${c.type} -> ${c.tag}`, () =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        wire.enqueue(
          httpFailure(c.status, c.type, c.message, c.type === "ThrottlingException" ? { "retry-after": "3" } : {})
        )
        const error = yield* failure(clientFor(wire))
        expect(error._tag).toBe(c.tag)
        expect(error.retryable).toBe(c.retryable)
        expect(error.status).toBe(c.status)
        expect(error.message).toContain(c.message)
        expect(error.requestId).toBe("req-bedrock-test")
        if (c.type === "ThrottlingException") expect(error).toMatchObject({ retryAfterMs: 3000 })
      })
    )
  }

  it.effect("the recorded 400 for an unknown model id (no x-amzn-errortype) is an InvalidRequestError", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "error", status: 400, body: WireServer.readFixture("bedrock/http-400-invalid-model.json") })
      const error = yield* failure(clientFor(wire))
      expect(error._tag).toBe("InvalidRequestError")
      expect(error.message).toContain("The provided model identifier is invalid.")
    })
  )

  const inStream = [
    { type: "modelStreamErrorException", tag: "ServerError" },
    { type: "internalServerException", tag: "ServerError" },
    { type: "throttlingException", tag: "RateLimitedError" },
    { type: "serviceUnavailableException", tag: "OverloadedError" },
    { type: "validationException", tag: "InvalidRequestError" }
  ] as const
  for (const c of inStream) {
    it.effect(`in-stream ${c.type} after some text -> ${c.tag}`, () =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        wire.enqueue(
          stream([
            eventFrame("messageStart", { role: "assistant" }),
            eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "partial" } }),
            exceptionFrame(c.type, "went wrong mid-stream")
          ])
        )
        const parts: Array<StreamPart> = []
        const error = yield* Effect.flip(
          clientFor(wire)
            .stream(hello)
            .pipe(Stream.runForEach((part) => Effect.sync(() => parts.push(part))))
        )
        expect(textOf(parts)).toBe("partial")
        expect(error._tag).toBe(c.tag)
        expect(error.message).toContain("went wrong mid-stream")
      })
    )
  }

  it.effect("a body cut before messageStop is a ConnectionError", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({
        kind: "cut",
        contentType: EVENT_STREAM,
        chunks: [
          eventFrame("messageStart", { role: "assistant" }),
          eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "x" } })
        ]
      })
      const error = yield* failure(clientFor(wire))
      expect(error._tag).toBe("ConnectionError")
    })
  )

  it.effect("a body that ends cleanly without messageStop is a ConnectionError (ended early)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(stream([eventFrame("messageStart", { role: "assistant" })]))
      const error = yield* failure(clientFor(wire))
      expect(error._tag).toBe("ConnectionError")
      expect(error.message).toContain("ended before the message was complete")
    })
  )

  it.effect("no server listening: ConnectionError naming the endpoint", () =>
    Effect.gen(function* () {
      const client = Bedrock.make({
        baseURL: "http://127.0.0.1:9",
        region: "us-east-1",
        credentials: { accessKeyId: "AKID", secretAccessKey: Redacted.make("s") }
      })
      const error = yield* failure(client)
      expect(error._tag).toBe("ConnectionError")
      expect(error.message).toContain("http://127.0.0.1:9")
    })
  )
})

describe("BedrockProvider abort and layers", () => {
  it.live("interrupting the stream aborts the HTTP request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({
        kind: "hang",
        contentType: EVENT_STREAM,
        chunks: [
          eventFrame("messageStart", { role: "assistant" }),
          eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "a" } })
        ]
      })
      const firstText = yield* Deferred.make<void>()
      const fiber = yield* clientFor(wire)
        .stream(hello)
        .pipe(
          Stream.runForEach((part) =>
            part.type === "text-delta" ? Deferred.succeed(firstText, undefined) : Effect.void
          ),
          Effect.forkChild
        )
      yield* Deferred.await(firstText)
      const aborted = wire.nextClientAbort()
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => aborted)
      expect(wire.clientAborts()).toBe(1)
    })
  )

  it.live("layerConfig reads AWS_REGION / AWS keys from Config; retries a throttled request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(httpFailure(429, "ThrottlingException", "slow down", { "retry-after": "0" }))
      wire.enqueue(stream(bedrockFrames({ text: ["from config"] })))
      const response = yield* Effect.flatMap(LLMClient, (client) => client.generate(hello)).pipe(
        Effect.provide(
          Bedrock.layerConfig({ baseURL: wire.url, retry: { baseDelay: "1 millis", jitter: false } }).pipe(
            Layer.provide(
              ConfigProvider.layer(
                ConfigProvider.fromEnvRecord({
                  AWS_DEFAULT_REGION: "eu-west-3",
                  AWS_ACCESS_KEY_ID: "AKIDFROMCONFIG",
                  AWS_SECRET_ACCESS_KEY: "secret-from-config"
                })
              )
            )
          )
        )
      )
      expect(response.message.content).toEqual([{ type: "text", text: "from config" }])
      expect(wire.requests).toHaveLength(2)
      expect(String(wire.requests[1]?.headers.authorization)).toContain("Credential=AKIDFROMCONFIG/")
      expect(String(wire.requests[1]?.headers.authorization)).toContain("/eu-west-3/bedrock/aws4_request")
    })
  )

  it.effect("a Bedrock API key (AWS_BEARER_TOKEN_BEDROCK) is sent as a bearer token", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue(stream(bedrockFrames({ text: ["ok"] })))
      yield* Effect.flatMap(LLMClient, (client) => client.generate(hello)).pipe(
        Effect.provide(
          Bedrock.layerConfig({ baseURL: wire.url }).pipe(
            Layer.provide(
              ConfigProvider.layer(
                ConfigProvider.fromEnvRecord({
                  AWS_REGION: "us-west-2",
                  AWS_BEARER_TOKEN_BEDROCK: "bedrock-api-key-test"
                })
              )
            )
          )
        )
      )
      expect(wire.requests[0]?.headers.authorization).toBe("Bearer bedrock-api-key-test")
    })
  )
})
