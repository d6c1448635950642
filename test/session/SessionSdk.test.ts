/**
 * Sessions through the SDK: every run is saved; `resume`, `continue` and `forkSession` continue a saved session
 * (the model is sent its history); `listSessions()` and `getSession()` read the logs; `persistSession: false`
 * writes nothing; bad combinations are `ConfigError`s and unknown ids `SessionNotFound`. Also `Conversation`
 * directly on the in-memory store: history, todos and grants come back on resume.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { ConfigError, SessionExists, SessionNotFound } from "../../src/sdk/SageAgentSDK.js"
import { answer, callTools, tempDir } from "../agent/harness.js"
import { sdkFor } from "../support/sdk.js"
import * as WireServer from "../support/WireServer.js"

const texts = (body: unknown): ReadonlyArray<string> =>
  typeof body === "object" && body !== null && "messages" in body && Array.isArray(body.messages)
    ? body.messages.flatMap((m: { content: ReadonlyArray<Record<string, unknown>> }) =>
        m.content.flatMap((b) => (b.type === "text" ? [String(b.text)] : b.type === "tool_result" ? ["<result>"] : []))
      )
    : []

describe("sessions in the SDK", () => {
  it.live(
    "run() saves a session; resume and continue send its history; fork leaves it alone; list and get read it",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const wire = yield* WireServer.make
          const cwd = yield* tempDir
          const sessionsDir = path.join(yield* tempDir, "sessions")
          fs.writeFileSync(path.join(cwd, "a.txt"), "alpha\n")
          const sdk = yield* sdkFor(wire, cwd, { sessionsDir })
          wire.enqueue(callTools([{ id: "r", name: "Read", input: { file_path: "a.txt" } }]), answer("alpha it is"))
          const first = yield* Effect.promise(() => sdk.run("read a.txt"))
          expect(fs.readdirSync(sessionsDir)).toEqual([`${first.sessionId}.jsonl`])

          wire.enqueue(answer("resumed"))
          const second = yield* Effect.promise(() => sdk.run("what did it say?", { resume: first.sessionId }))
          expect(second.sessionId).toBe(first.sessionId)
          expect(texts(wire.requests[2]?.body)).toEqual(["read a.txt", "<result>", "alpha it is", "what did it say?"])

          wire.enqueue(answer("continued"))
          const third = yield* Effect.promise(() => sdk.run("and then?", { continue: true }))
          expect(third.sessionId).toBe(first.sessionId)
          expect(texts(wire.requests[3]?.body).slice(-2)).toEqual(["resumed", "and then?"])

          const before = fs.readFileSync(path.join(sessionsDir, `${first.sessionId}.jsonl`), "utf8")
          wire.enqueue(answer("forked"))
          const fork = yield* Effect.promise(() =>
            sdk.run("fork it", { resume: first.sessionId, forkSession: true, sessionId: "the-fork" })
          )
          expect(fork.sessionId).toBe("the-fork")
          expect(fs.readFileSync(path.join(sessionsDir, `${first.sessionId}.jsonl`), "utf8")).toBe(before)
          expect(texts(wire.requests[4]?.body)).toContain("continued")

          const list = yield* Effect.promise(() => sdk.listSessions())
          expect(list.map((s) => s.id).sort()).toEqual([first.sessionId, "the-fork"].sort())
          const original = list.find((s) => s.id === first.sessionId)
          expect(original).toMatchObject({ title: "read a.txt", turns: 3, cwd, model: "claude-test" })
          const detail = yield* Effect.promise(() => sdk.getSession("the-fork"))
          expect(detail).toMatchObject({ parentSessionId: first.sessionId, turns: 4 })
          expect(detail.messages.at(-1)).toEqual({ role: "assistant", content: [{ type: "text", text: "forked" }] })

          // Streaming runs in a session too, and starts with session.started.
          wire.enqueue(answer("streamed"))
          const types = yield* Effect.promise(async () => {
            const seen: Array<string> = []
            for await (const event of sdk.stream("stream it", { resume: "the-fork" })) seen.push(event.type)
            return seen
          })
          expect(types[0]).toBe("session.started")
          expect(types).toContain("turn.ended")
          expect((yield* Effect.promise(() => sdk.getSession("the-fork"))).turns).toBe(5)
        })
      )
  )

  it.live("persistSession: false writes nothing; bad combinations and unknown ids are typed errors", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        const sessionsDir = path.join(yield* tempDir, "sessions")
        const sdk = yield* sdkFor(wire, cwd, { sessionsDir, persistSession: false })
        wire.enqueue(answer("ok"))
        const run = yield* Effect.promise(() => sdk.run("hi"))
        expect(run.sessionId).toMatch(/^ses_/)
        expect(fs.existsSync(sessionsDir)).toBe(false)
        const saved = yield* sdkFor(wire, cwd, { sessionsDir })
        const missing = yield* Effect.promise(() => saved.run("x", { resume: "nope" }).catch((e: unknown) => e))
        expect(missing).toBeInstanceOf(SessionNotFound)
        const both = yield* Effect.promise(() =>
          saved.run("x", { resume: "a", continue: true }).catch((e: unknown) => e)
        )
        expect(both).toBeInstanceOf(ConfigError)
        const lone = yield* Effect.promise(() => saved.run("x", { forkSession: true }).catch((e: unknown) => e))
        expect(lone).toBeInstanceOf(ConfigError)
        wire.enqueue(answer("one"))
        yield* Effect.promise(() => saved.run("x", { sessionId: "fixed" }))
        const taken = yield* Effect.promise(() => saved.run("x", { sessionId: "fixed" }).catch((e: unknown) => e))
        expect(taken).toBeInstanceOf(SessionExists)
        const notThere = yield* Effect.promise(() => saved.getSession("nope").catch((e: unknown) => e))
        expect(notThere).toBeInstanceOf(SessionNotFound)
        expect(wire.requests).toHaveLength(2)
      })
    )
  )
})
