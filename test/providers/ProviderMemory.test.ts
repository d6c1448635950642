/**
 * A finished model stream must leave nothing behind: a long session runs hundreds of requests in one process. Each
 * request here is a fresh object watched through a `WeakRef`; after the streams end (normally, cut short by the
 * consumer, or failing) and a full GC, none may still be reachable. (The Anthropic SDK keeps a per-request entry in
 * a global FinalizationRegistry until its request controller is released; a per-request abort reason with its stack
 * trace kept the calling fiber, and so the request, alive through it.)
 */
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Anthropic from "../../src/providers/anthropic/AnthropicProvider.js"
import * as OpenAI from "../../src/providers/openai/OpenAIProvider.js"
import type { LLMClient, LLMRequest } from "../../src/services/LLMClient.js"
import { anthropicErrorBody, anthropicEvents } from "../support/anthropicSse.js"
import { openaiSse } from "../support/openaiSse.js"
import * as WireServer from "../support/WireServer.js"

v8.setFlagsFromString("--expose-gc")
const gc: () => void = vm.runInNewContext("gc")

const ROUNDS = 4

/** A request of its own (fresh objects), watched by a `WeakRef`. */
const freshRequest = (round: number, refs: Array<WeakRef<LLMRequest>>): LLMRequest => {
  const request: LLMRequest = {
    messages: [{ role: "user", content: [{ type: "text", text: `request ${round} ${"x".repeat(1000)}` }] }]
  }
  refs.push(new WeakRef(request))
  return request
}

/** Full GCs, with turns of the event loop between them (FinalizationRegistry callbacks, timers). */
const collectGarbage = Effect.promise(async () => {
  for (let i = 0; i < 6; i++) {
    gc()
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
})

/** Runs every way a stream ends (`ROUNDS` times), then counts the requests still reachable. */
const survivors = (
  client: LLMClient.Service,
  enqueue: { readonly whole: () => void; readonly hang: () => void; readonly fail: () => void },
  wire: WireServer.WireServer
) =>
  Effect.gen(function* () {
    const refs: Array<WeakRef<LLMRequest>> = []
    for (let round = 0; round < ROUNDS; round++) {
      enqueue.whole()
      yield* Stream.runDrain(client.stream(freshRequest(round, refs)))
      enqueue.hang()
      const aborted = wire.nextClientAbort()
      yield* client.stream(freshRequest(round, refs)).pipe(Stream.take(1), Stream.runDrain)
      yield* Effect.promise(() => aborted)
      enqueue.fail()
      yield* Effect.flip(Stream.runDrain(client.stream(freshRequest(round, refs))))
    }
    yield* collectGarbage
    return refs.filter((ref) => ref.deref() !== undefined).length
  })

describe("model streams leave nothing reachable", () => {
  it.live("Anthropic: finished, cut-short and failed requests are all collected", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const client = Anthropic.make({ apiKey: Redacted.make("sk-ant-test"), baseURL: wire.url, model: "claude-test" })
      const left = yield* survivors(
        client,
        {
          whole: () => wire.enqueue({ kind: "stream", chunks: anthropicEvents({ steps: [{ text: ["all"] }] }) }),
          hang: () =>
            wire.enqueue({ kind: "hang", chunks: anthropicEvents({ steps: [{ text: ["a", "b"] }], noEnd: true }) }),
          fail: () =>
            wire.enqueue({
              kind: "stream",
              chunks: anthropicEvents({
                steps: [{ text: ["x"] }, { error: { type: "invalid_request_error", message: "no" } }],
                noEnd: true
              })
            })
        },
        wire
      )
      expect(left).toBe(0)
      // The HTTP failure path too (the SDK releases it itself).
      wire.enqueue({ kind: "error", status: 400, body: anthropicErrorBody("invalid_request_error", "bad") })
      expect((yield* Effect.flip(Stream.runDrain(client.stream(freshRequest(0, [])))))._tag).toBe("InvalidRequestError")
    })
  )

  it.live("OpenAI: finished, cut-short and failed requests are all collected", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const client = OpenAI.make({ apiKey: Redacted.make("sk-test"), baseURL: wire.url, model: "gpt-4o" })
      const left = yield* survivors(
        client,
        {
          whole: () => wire.enqueue({ kind: "stream", chunks: openaiSse([{ text: "all" }, { finish: "stop" }]) }),
          hang: () =>
            wire.enqueue({ kind: "hang", chunks: openaiSse([{ text: "a" }, { text: "b" }], { done: false }) }),
          fail: () =>
            wire.enqueue({
              kind: "stream",
              chunks: openaiSse([{ text: "x" }, { error: { message: "no", type: "invalid_request_error" } }])
            })
        },
        wire
      )
      expect(left).toBe(0)
    })
  )
})
