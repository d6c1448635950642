/**
 * The `SessionStore` contract, run against every store: the JSONL files (the default) and the in-memory one.
 * Includes the crash repairs: torn last line, half-written JSON, an unpaired tool call, an empty file, a header
 * alone.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { CRASHED_TOOL_MESSAGE } from "../../src/session/SessionLog.js"
import { headerLine, jsonLines, jsonlFixture, memoryFixture, type StoreFixture, turnEvents } from "./support.js"

const fixtures: ReadonlyArray<readonly [string, Effect.Effect<StoreFixture, never, Scope.Scope>]> = [
  ["jsonl", jsonlFixture],
  ["memory", memoryFixture]
]

const newSession = { cwd: "/work/x", provider: "anthropic", model: "claude-test" }

const lines = (text: string | undefined) =>
  (text ?? "")
    .split("\n")
    .filter((l) => l !== "")
    .map((l): { type: string } & Record<string, unknown> => JSON.parse(l))

for (const [name, fixture] of fixtures) {
  describe(`SessionStore contract (${name})`, () => {
    it.effect("create, append, load: the conversation, todos, grants and summary come from the log", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { store, raw } = yield* fixture
          const id = yield* Effect.scoped(
            Effect.gen(function* () {
              const writer = yield* store.create({ ...newSession, id: "s1" })
              for (const e of turnEvents("s1", "t1", "read  a.txt\nplease", "done 1", { costUsd: 0.25 }))
                yield* writer.append(e)
              yield* writer.append({
                type: "todos.updated",
                v: 1,
                sessionId: "s1",
                agentId: "main",
                timestamp: 5,
                todos: [{ content: "x", status: "pending" }]
              })
              yield* writer.append({ type: "permission.granted", timestamp: 6, rule: "Bash(npm test:*)" })
              for (const e of turnEvents("s1", "t2", "again", "done 2", { costUsd: 0.5 })) yield* writer.append(e)
              yield* writer.flush
              return writer.sessionId
            })
          )
          assert.strictEqual(id, "s1")
          const loaded = yield* store.load("s1")
          assert.strictEqual(loaded.header.cwd, "/work/x")
          assert.deepStrictEqual(
            loaded.messages.map((m) => m.role),
            ["user", "assistant", "tool", "assistant", "user", "assistant", "tool", "assistant"]
          )
          assert.deepStrictEqual(loaded.todos, [{ content: "x", status: "pending" }])
          assert.deepStrictEqual(loaded.grants, ["Bash(npm test:*)"])
          assert.deepStrictEqual(loaded.repairs, [])
          assert.strictEqual(loaded.summary.turns, 2)
          assert.strictEqual(loaded.summary.title, "read a.txt please")
          assert.strictEqual(loaded.summary.costUsd, 0.75)
          const [header] = lines(yield* raw("s1"))
          assert.strictEqual(header?.type, "session")
          assert.strictEqual(header?.id, "s1")
          assert.strictEqual(yield* store.read("s1"), yield* raw("s1"))
        })
      )
    )

    it.effect("a new session gets a fresh id; an existing id is SessionExists; bad and unknown ids are typed", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { store } = yield* fixture
          const a = yield* Effect.scoped(Effect.map(store.create(newSession), (w) => w.sessionId))
          const b = yield* Effect.scoped(Effect.map(store.create(newSession), (w) => w.sessionId))
          assert.match(a, /^ses_[0-9a-f]{20}$/)
          assert.notStrictEqual(a, b)
          const exists = yield* Effect.flip(Effect.scoped(store.create({ ...newSession, id: a })))
          assert.strictEqual(exists._tag, "SessionExists")
          const missing = yield* Effect.flip(store.load("nope"))
          assert.strictEqual(missing._tag, "SessionNotFound")
          const opened = yield* Effect.flip(Effect.scoped(store.open("nope")))
          assert.strictEqual(opened._tag, "SessionNotFound")
          for (const bad of ["../etc/passwd", "", "a/b", "x".repeat(129)]) {
            const error = yield* Effect.flip(store.load(bad))
            assert.strictEqual(error._tag, "InvalidSessionId")
          }
        })
      )
    )

    it.effect("one writer at a time: a second open is SessionLocked until the first scope closes", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { store } = yield* fixture
          yield* Effect.scoped(store.create({ ...newSession, id: "lk" }))
          yield* Effect.scoped(
            Effect.gen(function* () {
              yield* store.open("lk")
              const locked = yield* Effect.flip(Effect.scoped(store.open("lk")))
              assert.strictEqual(locked._tag, "SessionLocked")
              const deleted = yield* Effect.flip(store.delete("lk"))
              assert.strictEqual(deleted._tag, "SessionLocked")
              // Reading is always allowed.
              yield* store.load("lk")
            })
          )
          yield* Effect.scoped(store.open("lk"))
        })
      )
    )

    it.effect("fork: a new session with the parent's history and parentSessionId; the parent is unchanged", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { store, raw } = yield* fixture
          yield* Effect.scoped(
            Effect.gen(function* () {
              const w = yield* store.create({ ...newSession, id: "p1" })
              for (const e of turnEvents("p1", "t1", "first", "one")) yield* w.append(e)
            })
          )
          const before = yield* raw("p1")
          const forked = yield* Effect.scoped(
            Effect.gen(function* () {
              const w = yield* store.fork("p1", { newId: "f1" })
              for (const e of turnEvents("f1", "t2", "second", "two")) yield* w.append(e)
              return w.session
            })
          )
          assert.strictEqual(forked.header.parentSessionId, "p1")
          assert.strictEqual(forked.messages.length, 4)
          assert.strictEqual(yield* raw("p1"), before)
          const loaded = yield* store.load("f1")
          assert.strictEqual(loaded.messages.length, 8)
          assert.strictEqual(loaded.summary.parentSessionId, "p1")
          assert.strictEqual((yield* store.load("p1")).messages.length, 4)
          const exists = yield* Effect.flip(Effect.scoped(store.fork("p1", { newId: "f1" })))
          assert.strictEqual(exists._tag, "SessionExists")
        })
      )
    )

    it.effect("list: derived from the logs, newest first, filtered by cwd; delete removes only on request", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { store, raw } = yield* fixture
          for (const [id, cwd] of [
            ["l1", "/a"],
            ["l2", "/b"],
            ["l3", "/a"]
          ] as const) {
            yield* Effect.scoped(
              Effect.gen(function* () {
                const w = yield* store.create({ ...newSession, id, cwd })
                for (const e of turnEvents(id, `t_${id}`, `prompt ${id}`, "ok")) yield* w.append(e)
              })
            )
          }
          const all = yield* store.list()
          assert.deepStrictEqual(
            all.map((s) => s.id),
            ["l3", "l2", "l1"]
          )
          assert.deepStrictEqual(
            (yield* store.list({ cwd: "/a" })).map((s) => [s.id, s.title, s.turns]),
            [
              ["l3", "prompt l3", 1],
              ["l1", "prompt l1", 1]
            ]
          )
          yield* store.delete("l2")
          assert.strictEqual(yield* raw("l2"), undefined)
          assert.deepStrictEqual(
            (yield* store.list()).map((s) => s.id),
            ["l3", "l1"]
          )
          assert.strictEqual((yield* Effect.flip(store.delete("l2")))._tag, "SessionNotFound")
        })
      )
    )

    describe("repair", () => {
      const complete = (id: string) => headerLine(id) + jsonLines(turnEvents(id, "t1", "first", "one"))

      /** Loads a planted log: it must load, and a second load must find nothing more to repair. */
      const loadTwice = (f: StoreFixture, id: string, text: string) =>
        Effect.gen(function* () {
          yield* f.plant(id, text)
          const loaded = yield* f.store.load(id)
          const after = yield* f.raw(id)
          const again = yield* f.store.load(id)
          assert.deepStrictEqual(again.repairs, [])
          assert.strictEqual(yield* f.raw(id), after)
          assert.deepStrictEqual(again.messages, loaded.messages)
          // The log still starts with what was there: repairs are appended, nothing is rewritten.
          assert.isTrue(after?.startsWith(text))
          return { loaded, appended: lines(after?.slice(text.length)) }
        })

      it.effect("a torn last line is skipped; the repair is appended and visible; the completed turn stays", () =>
        Effect.scoped(
          Effect.gen(function* () {
            const f = yield* fixture
            const text = `${complete("r1")}{"type":"turn.started","v":1,"sessionId":"r1","agentId":"main","timest`
            const { loaded, appended } = yield* loadTwice(f, "r1", text)
            assert.strictEqual(loaded.summary.turns, 1)
            assert.strictEqual(loaded.messages.length, 4)
            assert.match(loaded.repairs.join(), /torn last line/)
            assert.deepStrictEqual(
              appended.map((r) => r.type),
              ["session.repaired"]
            )
          })
        )
      )

      it.effect("a half-written event in a turn that never ended: the turn is closed with an interrupted event", () =>
        Effect.scoped(
          Effect.gen(function* () {
            const f = yield* fixture
            const started = turnEvents("r2", "t2", "second", "two").slice(0, 2)
            const text = `${complete("r2")}${jsonLines(started)}{"type":"text.delta","v":1,"sessionId":"r2","agentId":"main","timestamp":9,"turnId":"t2","text":"par`
            const { loaded, appended } = yield* loadTwice(f, "r2", text)
            assert.strictEqual(loaded.summary.turns, 2)
            // The first turn, then the second turn's prompt (nothing of its answer had completed).
            assert.deepStrictEqual(
              loaded.messages.map((m) => m.role),
              ["user", "assistant", "tool", "assistant", "user"]
            )
            assert.deepStrictEqual(
              appended.map((r) => r.type),
              ["interrupted", "session.repaired"]
            )
          })
        )
      )

      it.effect("an unpaired tool call: finished results are kept, the unfinished one is marked interrupted", () =>
        Effect.scoped(
          Effect.gen(function* () {
            const f = yield* fixture
            const e = { v: 1, sessionId: "r3", agentId: "main", timestamp: 10, turnId: "t2" }
            const calls = [
              { id: "c1", name: "Bash", input: { command: "echo 1" } },
              { id: "c2", name: "Bash", input: { command: "sleep 100" } }
            ]
            const events = [
              { ...e, type: "turn.started", prompt: "run both" },
              { ...e, type: "step.started", step: 1 },
              { ...e, type: "text.delta", text: "Running." },
              ...calls.map((call) => ({ ...e, type: "tool_call.completed", call })),
              {
                ...e,
                type: "tool.completed",
                result: {
                  toolCallId: "c1",
                  toolName: "Bash",
                  status: "success",
                  output: [{ type: "text", text: "1" }],
                  durationMs: 3
                }
              }
            ]
            const { loaded, appended } = yield* loadTwice(f, "r3", complete("r3") + jsonLines(events))
            assert.deepStrictEqual(
              appended.map((r) => r.type),
              ["message", "tool.completed", "message", "interrupted", "session.repaired"]
            )
            const [assistant, results] = loaded.messages.slice(-2)
            assert.deepStrictEqual(assistant, {
              role: "assistant",
              content: [
                { type: "text", text: "Running." },
                { type: "tool_use", id: "c1", name: "Bash", input: { command: "echo 1" } },
                { type: "tool_use", id: "c2", name: "Bash", input: { command: "sleep 100" } }
              ]
            })
            assert.deepStrictEqual(results, {
              role: "tool",
              content: [
                { type: "tool_result", toolUseId: "c1", content: [{ type: "text", text: "1" }], isError: false },
                {
                  type: "tool_result",
                  toolUseId: "c2",
                  content: [{ type: "text", text: CRASHED_TOOL_MESSAGE }],
                  isError: true
                }
              ]
            })
          })
        )
      )

      it.effect("an assistant message whose tools never answered gets results from the log's tool.completed", () =>
        Effect.scoped(
          Effect.gen(function* () {
            const f = yield* fixture
            // The first turn's events up to (and including) the tool's completion, not its results message.
            const cut = turnEvents("r4", "t1", "first", "one").slice(0, 5)
            const { loaded } = yield* loadTwice(f, "r4", headerLine("r4") + jsonLines(cut))
            const last = loaded.messages.at(-1)
            assert.deepStrictEqual(last, {
              role: "tool",
              content: [
                { type: "tool_result", toolUseId: "t1_c1", content: [{ type: "text", text: "hello" }], isError: false }
              ]
            })
            assert.strictEqual(loaded.summary.turns, 1)
          })
        )
      )

      it.effect("an empty file gets a header; a header alone is a clean, empty session", () =>
        Effect.scoped(
          Effect.gen(function* () {
            const f = yield* fixture
            const { loaded, appended } = yield* loadTwice(f, "r5", "")
            assert.strictEqual(loaded.header.id, "r5")
            assert.deepStrictEqual(loaded.messages, [])
            assert.deepStrictEqual(
              appended.map((r) => r.type),
              ["session", "session.repaired"]
            )
            const { loaded: bare, appended: none } = yield* loadTwice(f, "r6", headerLine("r6"))
            assert.deepStrictEqual(bare.repairs, [])
            assert.deepStrictEqual(none, [])
            assert.strictEqual(bare.summary.turns, 0)
            // A header cut in half: skipped, and a new one written.
            const { loaded: torn } = yield* loadTwice(f, "r7", headerLine("r7").slice(0, 20))
            assert.strictEqual(torn.header.id, "r7")
          })
        )
      )

      it.effect("open repairs before it appends: the writer's first record follows the repair", () =>
        Effect.scoped(
          Effect.gen(function* () {
            const f = yield* fixture
            yield* f.plant("r8", `${complete("r8")}{"type":"tu`)
            yield* Effect.scoped(
              Effect.gen(function* () {
                const w = yield* f.store.open("r8")
                assert.strictEqual(w.session.repairs.length, 1)
                for (const e of turnEvents("r8", "t2", "second", "two")) yield* w.append(e)
              })
            )
            const loaded = yield* f.store.load("r8")
            assert.deepStrictEqual(loaded.repairs, [])
            assert.strictEqual(loaded.summary.turns, 2)
            assert.strictEqual(loaded.messages.length, 8)
          })
        )
      )
    })
  })
}
