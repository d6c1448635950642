/** The test wire server itself: fixtures fail fast, unscripted requests get a 500, the scope closes everything. */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as WireServer from "../support/WireServer.js"

const post = (url: string, body: unknown, signal?: AbortSignal) =>
  Effect.tryPromise((own) =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: signal ?? own
    })
  )

describe("WireServer", () => {
  it("a missing fixture throws at once, naming its path", () => {
    expect(() => WireServer.fixture("anthropic/no-such-recording.sse")).toThrow(
      /missing recorded fixture: .*test\/fixtures\/providers\/anthropic\/no-such-recording\.sse$/
    )
    expect(() => WireServer.readFixture("nope.sse")).toThrow(/missing recorded fixture/)
    expect(WireServer.readFixture("anthropic/text-basic.sse")).toContain("message_start")
  })

  it("splitEvery keeps surrogate pairs whole", () => {
    expect(WireServer.splitEvery("a😀bc", 2)).toEqual(["a😀", "bc"])
  })

  it.live("records requests, serves scripted replies in order, then 500 when nothing is scripted", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "stream", chunks: ["data: one\n\n", { data: "data: two\n\n", delayMs: 5 }] })
      const first = yield* post(`${wire.url}/v1/x`, { n: 1 })
      expect(first.status).toBe(200)
      expect(yield* Effect.promise(() => first.text())).toBe("data: one\n\ndata: two\n\n")
      const second = yield* post(`${wire.url}/v1/y`, { n: 2 })
      expect(second.status).toBe(500)
      expect(yield* Effect.promise(() => second.json())).toMatchObject({ error: { type: "api_error" } })
      wire.setHandler((request, index) => ({ kind: "error", status: 418, body: { index, path: request.path } }))
      const third = yield* post(`${wire.url}/v1/z`, { n: 3 })
      expect(yield* Effect.promise(() => third.json())).toEqual({ index: 2, path: "/v1/z" })
      expect(wire.requests.map((r) => [r.method, r.path, r.body])).toEqual([
        ["POST", "/v1/x", { n: 1 }],
        ["POST", "/v1/y", { n: 2 }],
        ["POST", "/v1/z", { n: 3 }]
      ])
    })
  )

  it.live("counts a client that goes away mid-body as an abort", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      wire.enqueue({ kind: "hang", chunks: ["data: first\n\n"] })
      const controller = new AbortController()
      const aborted = wire.nextClientAbort()
      const response = yield* post(wire.url, {}, controller.signal)
      const reader = response.body?.getReader()
      expect(reader).toBeDefined()
      yield* Effect.promise(() => reader?.read() ?? Promise.resolve(undefined))
      controller.abort()
      yield* Effect.promise(() => aborted)
      expect(wire.clientAborts()).toBe(1)
    })
  )

  it.live("closing the scope closes open connections and stops listening", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const wire = yield* Scope.provide(WireServer.make, scope)
      wire.enqueue({ kind: "hang", chunks: ["data: first\n\n"] })
      const response = yield* post(wire.url, {})
      const reader = response.body?.getReader()
      yield* Effect.promise(() => reader?.read() ?? Promise.resolve(undefined))
      yield* Scope.close(scope, Exit.void)
      // the hanging body fails (cut off) instead of waiting forever, and new connections are refused
      const rest = yield* Effect.promise(() =>
        (reader?.read() ?? Promise.resolve(undefined)).then(
          () => "ended",
          () => "failed"
        )
      )
      expect(rest).toBe("failed")
      const refused = yield* Effect.flip(post(wire.url, {}))
      expect(refused).toBeDefined()
    })
  )
})
