/** Steering: user messages queued while a turn runs reach the model at the next step boundary. */
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Agent } from "../../src/services/Agent.js"
import { Tool } from "../../src/tools/Tool.js"
import * as WireServer from "../support/WireServer.js"
import { agentLayer, answer, callTools, ofType, tempDir } from "./harness.js"

/** The user content of the messages of a recorded Anthropic request, flattened to text. */
const userTexts = (body: unknown): ReadonlyArray<string> => {
  const messages = (body as { messages: ReadonlyArray<{ role: string; content: unknown }> }).messages
  return messages
    .filter((m) => m.role === "user")
    .flatMap((m) =>
      typeof m.content === "string"
        ? [m.content]
        : (m.content as ReadonlyArray<{ type: string; text?: string }>).flatMap((b) =>
            b.type === "text" && b.text !== undefined ? [b.text] : [b.type]
          )
    )
}

describe("steering", () => {
  it.live("text queued while a tool runs is sent after the tool result, in the next request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const started = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const Wait = Tool.make({
        name: "Wait",
        description: "Waits",
        input: Schema.Struct({}),
        readOnly: true,
        execute: () => Effect.andThen(Deferred.succeed(started, undefined), Effect.as(Deferred.await(release), "ok"))
      })
      wire.enqueue(callTools([{ id: "w1", name: "Wait", input: {} }]), answer("noted"))
      const steering = yield* Queue.unbounded<string>()
      const agent = yield* Effect.provide(Agent, agentLayer({ wire, cwd, tools: [Wait] }))
      const execution = yield* agent.start("start", { steering })
      const collected = yield* Effect.forkChild(Stream.runCollect(execution.events))
      yield* Deferred.await(started)
      yield* Queue.offer(steering, "also check the README")
      yield* Queue.offer(steering, "  ")
      yield* Deferred.succeed(release, undefined)
      const result = yield* execution.result
      expect(result.text).toBe("noted")
      expect(wire.requests).toHaveLength(2)
      expect(userTexts(wire.requests[0]?.body)).toEqual(["start"])
      // Anthropic merges the tool result and the steered text into one user message: the result first.
      expect(userTexts(wire.requests[1]?.body)).toEqual(["start", "tool_result", "also check the README"])
      const announced = ofType(yield* Fiber.join(collected), "message").filter((e) => e.message.role === "user")
      expect(announced.map((e) => e.message.content)).toEqual([[{ type: "text", text: "also check the README" }]])
      const steered = result.messages.filter((m) => m.role === "user")
      expect(steered.at(-1)?.content).toEqual([{ type: "text", text: "also check the README" }])
    })
  )

  it.live("text queued after the last step stays in the queue for the caller", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(answer("done"))
      const steering = yield* Queue.unbounded<string>()
      const agent = yield* Effect.provide(Agent, agentLayer({ wire, cwd, tools: [] }))
      const events = yield* Stream.runCollect(agent.run("hi", { steering }))
      yield* Queue.offer(steering, "late")
      expect(ofType(events, "turn.ended")).toHaveLength(1)
      expect(yield* Queue.clear(steering)).toEqual(["late"])
      expect(wire.requests).toHaveLength(1)
    })
  )
})
