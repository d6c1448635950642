/**
 * Bedrock streams leave nothing reachable (the same check as ProviderMemory.test.ts for Anthropic and OpenAI): each
 * request is a fresh object watched through a `WeakRef`; after streams that finish, are cut short by the consumer,
 * or fail with an in-stream exception, and a full GC, none may still be reachable.
 */
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Bedrock from "../../src/providers/bedrock/BedrockProvider.js"
import type { LLMRequest } from "../../src/services/LLMClient.js"
import { bedrockFrames, EVENT_STREAM, eventFrame, exceptionFrame, stream } from "../support/wire/bedrock.js"
import * as WireServer from "../support/WireServer.js"

v8.setFlagsFromString("--expose-gc")
const gc: () => void = vm.runInNewContext("gc")

const ROUNDS = 4

const freshRequest = (round: number, refs: Array<WeakRef<LLMRequest>>): LLMRequest => {
  const request: LLMRequest = {
    messages: [{ role: "user", content: [{ type: "text", text: `request ${round} ${"x".repeat(1000)}` }] }]
  }
  refs.push(new WeakRef(request))
  return request
}

const collectGarbage = Effect.promise(async () => {
  for (let i = 0; i < 6; i++) {
    gc()
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
})

describe("Bedrock streams leave nothing reachable", () => {
  it.live("finished, cut-short and failed requests are all collected", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const client = Bedrock.make({
        baseURL: wire.url,
        region: "us-east-1",
        model: "us.amazon.nova-micro-v1:0",
        credentials: { accessKeyId: "AKID", secretAccessKey: Redacted.make("secret") }
      })
      const refs: Array<WeakRef<LLMRequest>> = []
      for (let round = 0; round < ROUNDS; round++) {
        wire.enqueue(stream(bedrockFrames({ text: ["all"] })))
        yield* Stream.runDrain(client.stream(freshRequest(round, refs)))
        wire.enqueue({
          kind: "hang",
          contentType: EVENT_STREAM,
          chunks: [
            eventFrame("messageStart", { role: "assistant" }),
            eventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "a" } })
          ]
        })
        const aborted = wire.nextClientAbort()
        yield* client.stream(freshRequest(round, refs)).pipe(Stream.take(2), Stream.runDrain)
        yield* Effect.promise(() => aborted)
        wire.enqueue(
          stream([eventFrame("messageStart", { role: "assistant" }), exceptionFrame("modelStreamErrorException", "no")])
        )
        yield* Effect.flip(Stream.runDrain(client.stream(freshRequest(round, refs))))
      }
      yield* collectGarbage
      expect(refs.filter((ref) => ref.deref() !== undefined).length).toBe(0)
    })
  )
})
