/** Helpers of the provider tests: a one-line request, collecting a stream's parts, waiting in real time. */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { LLMClient, LLMRequest } from "../../src/services/LLMClient.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"

export const hi: LLMRequest = { messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] }

export const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))

/** Poll `condition` with real-time sleeps (the HTTP I/O runs in real time even under TestClock). */
export const waitUntil = (condition: Effect.Effect<boolean>, what: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1000; i++) {
      if (yield* condition) return
      yield* realSleep(10)
    }
    throw new Error(`timed out waiting until ${what}`)
  })

/** Every part of the stream, as an array. */
export const collectParts = (client: LLMClient.Service, request: LLMRequest = hi) =>
  Effect.map(Stream.runCollect(client.stream(request)), (parts) => Array.from(parts))

/** The parts emitted before the stream failed, and the failure. */
export const collectUntilFailure = (client: LLMClient.Service, request: LLMRequest = hi) =>
  Effect.gen(function* () {
    const parts: Array<StreamPart> = []
    const error = yield* Effect.flip(Stream.runForEach(client.stream(request), (p) => Effect.sync(() => parts.push(p))))
    return { parts, error }
  })

/** The text of the text deltas among `parts`. */
export const textOf = (parts: ReadonlyArray<StreamPart>) =>
  parts.flatMap((p) => (p.type === "text-delta" ? [p.text] : [])).join("")
