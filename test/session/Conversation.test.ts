/**
 * `Conversation` on the Effect API: `layerNode` with the in-memory `SessionStore` given by `Layer.provide` (the
 * default JSONL store is then never built). Turns are recorded; a second conversation that resumes the session is
 * sent its history; a `compaction` event recorded by hand rebuilds the history the way the log's fold does; the
 * session is locked while a conversation has it open.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { compactionEventBody } from "../../src/agent/Compaction.js"
import { layerNode } from "../../src/layers/SageLive.js"
import * as SessionStoreLive from "../../src/layers/SessionStoreLive.js"
import { SessionStore } from "../../src/services/SessionStore.js"
import * as Conversation from "../../src/session/Conversation.js"
import { PROTOCOL_VERSION } from "../../src/streams/AgentEvent.js"
import { messageText } from "../../src/streams/Message.js"
import { Usage } from "../../src/streams/Usage.js"
import { answer, tempDir } from "../agent/harness.js"
import * as WireServer from "../support/WireServer.js"

const turn = (conversation: Conversation.Conversation, prompt: string) =>
  Effect.scoped(Effect.flatMap(conversation.start(prompt), (execution) => execution.result))

describe("Conversation (Effect API)", () => {
  it.live("records turns, resumes with the history, rebuilds after a compaction, and locks the session", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        const layer = layerNode({
          provider: "anthropic",
          apiKey: "sk-ant-test",
          baseURL: wire.url,
          model: "claude-test",
          cwd,
          env: { PATH: process.env.PATH }
        }).pipe(Layer.provide(SessionStoreLive.layerMemory))
        yield* Effect.gen(function* () {
          wire.enqueue(answer("one"), answer("two"))
          const id = yield* Effect.scoped(
            Effect.gen(function* () {
              const conversation = yield* Conversation.open({ cwd })
              yield* turn(conversation, "first")
              yield* turn(conversation, "second")
              expect((yield* conversation.messages).map(messageText)).toEqual(["first", "one", "second", "two"])
              // Locked while open.
              const locked = yield* Effect.flip(
                Effect.scoped(Conversation.open({ cwd, resume: conversation.sessionId }))
              )
              expect(locked._tag).toBe("SessionLocked")
              return conversation.sessionId
            })
          )
          const store = yield* SessionStore
          const saved = yield* store.load(id)
          expect(saved.summary).toMatchObject({ turns: 2, title: "first", provider: "anthropic", model: "claude-test" })
          expect(saved.records.map((r) => r.type).filter((t) => t.startsWith("session"))).toEqual([
            "session",
            "session.started",
            "session.ended"
          ])

          wire.enqueue(answer("three"))
          yield* Effect.scoped(
            Effect.gen(function* () {
              const conversation = yield* Conversation.open({ cwd, continue: true })
              expect(conversation.sessionId).toBe(id)
              yield* turn(conversation, "third")
              expect(JSON.stringify(wire.requests[2]?.body)).toContain('"two"')
              // A manual compaction between turns: the summary replaces all but the last 2 messages.
              const body = compactionEventBody(
                {
                  summary: "we said one and two",
                  messages: [],
                  messagesBefore: 6,
                  messagesKept: 2,
                  tokensBefore: 100,
                  tokensAfter: 10,
                  usage: Usage.empty
                },
                "manual"
              )
              yield* conversation.record({ ...body, v: PROTOCOL_VERSION, sessionId: id, agentId: "main", timestamp: 1 })
              const after = yield* conversation.messages
              expect(after).toHaveLength(3)
              expect(messageText(after[0] ?? { role: "user", content: [] })).toContain("we said one and two")
              expect(after.slice(1).map(messageText)).toEqual(["third", "three"])
            })
          )
          // The log's fold gives the same history.
          const reloaded = yield* store.load(id)
          expect(reloaded.messages.slice(1).map(messageText)).toEqual(["third", "three"])
          expect(reloaded.summary.turns).toBe(3)
        }).pipe(Effect.provide(layer))
      })
    )
  )
})
