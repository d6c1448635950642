/**
 * The request fields of issue #11 on the wire, through the real vendor SDKs against the scripted model server:
 * structured output (native), images, prompt caching (Anthropic breakpoints, OpenAI prompt_cache_key) and
 * reasoning options (budget / effort).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Anthropic from "../../src/providers/anthropic/AnthropicProvider.js"
import { toRequestParams } from "../../src/providers/anthropic/AnthropicWire.js"
import * as OpenAI from "../../src/providers/openai/OpenAIProvider.js"
import { isStrictSchema, toChatRequest } from "../../src/providers/openai/OpenAIWire.js"
import type { LLMRequest } from "../../src/services/LLMClient.js"
import { anthropicEvents } from "../support/anthropicSse.js"
import { openaiSse } from "../support/openaiSse.js"
import * as WireServer from "../support/WireServer.js"

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

const schema = {
  type: "object",
  properties: { name: { type: "string" }, count: { type: "integer" } },
  required: ["name", "count"],
  additionalProperties: false
}

const request: LLMRequest = {
  system: "You are Sage.",
  tools: [
    { name: "Read", description: "Read a file", inputSchema: { type: "object", properties: {} } },
    { name: "LS", description: "List", inputSchema: { type: "object", properties: {} } }
  ],
  messages: [
    {
      role: "user",
      content: [
        { type: "text", text: "what is in this picture?" },
        { type: "image", source: { type: "base64", mediaType: "image/png", data: PNG } }
      ]
    }
  ],
  responseFormat: { name: "answer", schema },
  reasoningEffort: "medium",
  cacheKey: "ses_123"
}

interface Body {
  readonly [key: string]: unknown
}
const bodyOf = (wire: WireServer.WireServer, i = 0): Body => {
  const body = wire.requests[i]?.body
  if (typeof body !== "object" || body === null) throw new Error(`no request ${i}`)
  return { ...body }
}

describe("Anthropic request (issue #11 fields)", () => {
  it.effect("structured output, image block, cache breakpoints, effort as a thinking budget", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "stream", chunks: anthropicEvents({ steps: [{ text: ['{"name":"x","count":1}'] }] }) })
      const client = Anthropic.make({ apiKey: Redacted.make("k"), baseURL: wire.url, model: "claude-sonnet-4-6" })
      expect(client.capabilities.structuredOutput).toBe(true)
      yield* client.generate(request)
      const body = bodyOf(wire)
      expect(body.output_config).toEqual({ format: { type: "json_schema", schema } })
      // effort medium -> 8192 tokens (providers/Reasoning.ts); max_tokens raised above the budget
      expect(body.thinking).toEqual({ type: "enabled", budget_tokens: 8192 })
      expect(body.system).toEqual([{ type: "text", text: "You are Sage.", cache_control: { type: "ephemeral" } }])
      const tools = body.tools as ReadonlyArray<Body>
      expect(tools[0]?.cache_control).toBeUndefined()
      expect(tools[1]?.cache_control).toEqual({ type: "ephemeral" })
      expect(body.messages).toEqual([
        {
          role: "user",
          content: [
            { type: "text", text: "what is in this picture?" },
            {
              type: "image",
              source: { type: "base64", media_type: "image/png", data: PNG },
              cache_control: { type: "ephemeral" }
            }
          ]
        }
      ])
      // Anthropic has no prompt_cache_key
      expect(body.prompt_cache_key).toBeUndefined()
    })
  )

  it("at most 4 breakpoints, never on a thinking block; promptCaching: false sends none", () => {
    const params = toRequestParams(
      {
        ...request,
        messages: [
          ...request.messages,
          {
            role: "assistant",
            content: [
              { type: "text", text: "looking" },
              { type: "thinking", thinking: "hmm", signature: "sig" }
            ]
          }
        ]
      },
      { model: "m", maxTokens: 100 }
    )
    const text = JSON.stringify(params)
    expect(text.split('"cache_control"').length - 1).toBe(3)
    const last = params.messages[params.messages.length - 1]
    expect(last?.content).toEqual([
      { type: "text", text: "looking", cache_control: { type: "ephemeral" } },
      { type: "thinking", thinking: "hmm", signature: "sig" }
    ])
    const off = toRequestParams(request, { model: "m", maxTokens: 100, promptCaching: false })
    expect(JSON.stringify(off)).not.toContain("cache_control")
    expect(off.system).toBe("You are Sage.")
  })

  it("Claude 3 models have no native structured output (the agent uses the tool fallback)", () => {
    expect(Anthropic.capabilitiesFor("claude-3-5-haiku-20241022").structuredOutput).toBe(false)
    expect(Anthropic.capabilitiesFor("claude-opus-4-5").structuredOutput).toBe(true)
  })
})

describe("OpenAI chat request (issue #11 fields)", () => {
  it.effect("response_format json_schema (strict), image_url data URL, prompt_cache_key, reasoning_effort", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "stream", chunks: openaiSse([{ text: "{}" }, { finish: "stop" }]) })
      const client = OpenAI.make({ apiKey: Redacted.make("k"), baseURL: wire.url })
      expect(client.capabilities.structuredOutput).toBe(true)
      yield* client.generate(request)
      const body = bodyOf(wire)
      expect(body.response_format).toEqual({
        type: "json_schema",
        json_schema: { name: "answer", schema, strict: true }
      })
      expect(body.prompt_cache_key).toBe("ses_123")
      expect(body.reasoning_effort).toBe("medium")
      expect(body.messages).toEqual([
        { role: "system", content: "You are Sage." },
        {
          role: "user",
          content: [
            { type: "text", text: "what is in this picture?" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } }
          ]
        }
      ])
    })
  )

  it("a thinking budget alone maps to an effort; strict only for schemas strict mode accepts", () => {
    const body = toChatRequest({ messages: [], thinking: { budgetTokens: 20_000 } }, { model: "gpt-5" })
    expect(body.reasoning_effort).toBe("high")
    expect(body.prompt_cache_key).toBeUndefined()
    expect(body.response_format).toBeUndefined()
    expect(isStrictSchema(schema)).toBe(true)
    expect(isStrictSchema({ type: "object", properties: { a: { type: "string" } } })).toBe(false)
    expect(
      isStrictSchema({
        type: "object",
        properties: { a: { type: "array", items: { type: "object", properties: { b: {} } } } },
        required: ["a"],
        additionalProperties: false
      })
    ).toBe(false)
    const loose = toChatRequest(
      { messages: [], responseFormat: { name: "x", schema: { type: "object", properties: { a: {} } } } },
      { model: "gpt-4o" }
    )
    expect(loose.response_format).toMatchObject({ json_schema: { strict: false } })
  })
})
