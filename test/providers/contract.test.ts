/**
 * The cross-provider `LLMClient` contract: the same cases against EVERY provider, each over its real wire format,
 * served by the local WireServer. The providers are the modules in test/support/wire/ (every file but types.ts),
 * found by listing the directory, so a new wire module joins the suite by existing. The first test's name lists the
 * providers covered.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import type { LLMError } from "../../src/errors/LLMError.js"
import { PROVIDERS } from "../../src/providers/registry.js"
import { layerNode } from "../../src/layers/SageLive.js"
import { Agent } from "../../src/services/Agent.js"
import { LLMClient, type LLMRequest } from "../../src/services/LLMClient.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import type { StreamPart } from "../../src/streams/StreamPart.js"
import type { ProviderWire, ScriptedFailure } from "../support/wire/types.js"
import { textOf } from "../support/providers.js"
import * as WireServer from "../support/WireServer.js"

const wireDir = new URL("../support/wire/", import.meta.url)

const isWire = (value: unknown): value is ProviderWire =>
  typeof value === "object" &&
  value !== null &&
  "id" in value &&
  typeof value.id === "string" &&
  "reply" in value &&
  typeof value.reply === "function" &&
  "failure" in value &&
  typeof value.failure === "function" &&
  "layer" in value &&
  typeof value.layer === "function" &&
  "sentText" in value &&
  typeof value.sentText === "function"

/** Every wire module's `ProviderWire` (its `wire` or default export), by file name order. */
const loadWires = async (): Promise<ReadonlyArray<{ readonly file: string; readonly wire: ProviderWire }>> => {
  const files = fs
    .readdirSync(wireDir)
    .filter((name) => name.endsWith(".ts") && name !== "types.ts")
    .sort()
  const out: Array<{ file: string; wire: ProviderWire }> = []
  for (const file of files) {
    const module: Record<string, unknown> = await import(new URL(file, wireDir).href)
    const wire = [module.wire, module.default].find(isWire)
    if (wire === undefined)
      throw new Error(`test/support/wire/${file} exports no ProviderWire (as \`wire\` or default)`)
    out.push({ file, wire })
  }
  return out
}

const wires = await loadWires()

const hello: LLMRequest = { messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] }

const withClient = <A, E>(wire: ProviderWire, url: string, f: (client: LLMClient.Service) => Effect.Effect<A, E>) =>
  Effect.flatMap(LLMClient, f).pipe(Effect.provide(Layer.orDie(wire.layer(url))))

const collect = (wire: ProviderWire, url: string, request: LLMRequest = hello) =>
  withClient(wire, url, (client) => Stream.runCollect(client.stream(request)))

const of = <T extends StreamPart["type"]>(parts: ReadonlyArray<StreamPart>, type: T) =>
  parts.filter((p): p is Extract<StreamPart, { type: T }> => p.type === type)

/** The tag, retryability and (for HTTP failures) status each failure must map to. */
const FAILURES: ReadonlyArray<{
  readonly failure: ScriptedFailure
  readonly tag: LLMError["_tag"]
  readonly retryable: boolean
}> = [
  { failure: { kind: "rate_limit", retryAfterSeconds: 2 }, tag: "RateLimitedError", retryable: true },
  { failure: { kind: "quota" }, tag: "ProviderPermissionError", retryable: false },
  { failure: { kind: "overloaded" }, tag: "OverloadedError", retryable: true },
  { failure: { kind: "auth" }, tag: "AuthenticationError", retryable: false },
  {
    failure: { kind: "invalid_request", message: "tools.0.name: bad name" },
    tag: "InvalidRequestError",
    retryable: false
  },
  { failure: { kind: "context_length" }, tag: "ContextLengthExceededError", retryable: false },
  { failure: { kind: "server" }, tag: "ServerError", retryable: true }
]

/**
 * Contract gaps a provider's owner has not closed yet, by provider id and case: each is reported in the case's title
 * (the case is skipped, or for `retry-after` only that check is), so none is silent. Remove an entry once fixed.
 */
const KNOWN_GAPS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  ollama: {
    "failure quota": "Ollama's API has no quota error type: a 429 is always a RateLimitedError"
  }
}

const gap = (provider: string, name: string): string | undefined => KNOWN_GAPS[provider]?.[name]

describe("LLMClient contract", () => {
  it(`covers the providers with a wire module: ${wires.map((w) => w.wire.id).join(", ")}`, () => {
    const ids = wires.map((w) => w.wire.id)
    // Every provider a user can choose has a wire module (a new provider cannot skip the contract).
    for (const required of PROVIDERS) expect(ids).toContain(required)
    expect(new Set(ids).size).toBe(ids.length)
  })
})

for (const { file, wire } of wires) {
  describe(`LLMClient contract: ${wire.id} (test/support/wire/${file})`, () => {
    it.effect("text deltas, then finish end_turn", () =>
      Effect.gen(function* () {
        const server = yield* WireServer.make
        server.enqueue(wire.reply({ text: ["Hel", "lo", " there"] }))
        const parts = yield* collect(wire, server.url)
        expect(textOf(parts)).toBe("Hello there")
        expect(of(parts, "finish").at(-1)?.stopReason).toBe("end_turn")
        expect(parts.at(-1)?.type).toBe("finish")
      })
    )

    it.effect("a tool call whose arguments arrive in fragments", () =>
      Effect.gen(function* () {
        const server = yield* WireServer.make
        server.enqueue(
          wire.reply({
            toolCalls: [{ id: "call_read_1", name: "Read", args: ['{"file', '_path": "src/', 'a.ts", "limit": 5}'] }]
          })
        )
        const parts = yield* collect(wire, server.url)
        const starts = of(parts, "tool-call-start")
        const completes = of(parts, "tool-call-complete")
        expect(starts.map((s) => [s.name, s.index])).toEqual([["Read", 0]])
        expect(completes).toHaveLength(1)
        expect(completes[0]).toMatchObject({ name: "Read", input: { file_path: "src/a.ts", limit: 5 } })
        expect(completes[0]?.id).toBe(starts[0]?.id)
        expect(completes[0]?.parseError).toBeUndefined()
        expect(of(parts, "finish").at(-1)?.stopReason).toBe("tool_use")
      })
    )

    it.effect("two parallel tool calls, in order, with their own arguments", () =>
      Effect.gen(function* () {
        const server = yield* WireServer.make
        server.enqueue(
          wire.reply({
            text: ["Checking both."],
            toolCalls: [
              { id: "call_a", name: "Read", args: ['{"file_path":', '"a.txt"}'] },
              { id: "call_b", name: "Bash", args: ['{"command":', '"ls -la"}'] }
            ]
          })
        )
        const response = yield* withClient(wire, server.url, (client) => client.generate(hello))
        expect(response.toolCalls.map((c) => [c.name, c.input])).toEqual([
          ["Read", { file_path: "a.txt" }],
          ["Bash", { command: "ls -la" }]
        ])
        expect(new Set(response.toolCalls.map((c) => c.id)).size).toBe(2)
        expect(response.stopReason).toBe("tool_use")
        expect(response.message.content[0]).toEqual({ type: "text", text: "Checking both." })
      })
    )

    it.effect("reasoning deltas (and the signature, where the wire has one) come before the text", () =>
      Effect.gen(function* () {
        const server = yield* WireServer.make
        server.enqueue(
          wire.reply({ reasoning: { text: ["Think", "ing..."], signature: "sig_contract_1" }, text: ["Done."] })
        )
        const { parts, thinking } = yield* withClient(wire, server.url, (client) =>
          Effect.map(Stream.runCollect(client.stream(hello)), (parts) => ({
            parts,
            thinking: client.capabilities.thinking
          }))
        )
        const reasoning = of(parts, "reasoning-delta")
          .map((p) => p.text)
          .join("")
        const signatures = of(parts, "reasoning-signature").map((p) => p.signature)
        const redacted = of(parts, "reasoning-redacted")
        // A provider whose client reports no thinking and streamed no reasoning has none to test.
        if (!thinking && reasoning === "" && signatures.length === 0 && redacted.length === 0) return
        expect(reasoning).toBe("Thinking...")
        for (const signature of signatures) expect(signature).toBe("sig_contract_1")
        const firstReasoning = parts.findIndex((p) => p.type === "reasoning-delta")
        const firstText = parts.findIndex((p) => p.type === "text-delta")
        expect(firstReasoning).toBeLessThan(firstText)
        expect(textOf(parts)).toBe("Done.")
      })
    )

    it.effect("usage: input (with cache reads/writes) and output tokens as scripted", () =>
      Effect.gen(function* () {
        const server = yield* WireServer.make
        server.enqueue(wire.reply({ text: ["ok"], usage: { inputTokens: 1234, outputTokens: 56 } }))
        const response = yield* withClient(wire, server.url, (client) => client.generate(hello))
        const usage = response.usage
        expect(usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens).toBe(1234)
        expect(usage.outputTokens).toBe(56)
      })
    )

    for (const stop of ["end_turn", "max_tokens", "tool_use"] as const) {
      it.effect(`stop reason ${stop}`, () =>
        Effect.gen(function* () {
          const server = yield* WireServer.make
          server.enqueue(
            wire.reply(
              stop === "tool_use"
                ? { toolCalls: [{ id: "call_s", name: "Glob", args: ['{"pattern":"*"}'] }], stop }
                : { text: ["cut"], stop }
            )
          )
          const response = yield* withClient(wire, server.url, (client) => client.generate(hello))
          expect(response.stopReason).toBe(stop)
        })
      )
    }

    for (const { failure, tag, retryable } of FAILURES) {
      const known = gap(wire.id, `failure ${failure.kind}`)
      if (known !== undefined) {
        it.skip(`failure ${failure.kind} -> ${tag}: KNOWN GAP (${known})`, () => {})
        continue
      }
      const noRetryAfter = failure.kind === "rate_limit" ? gap(wire.id, "retry-after") : undefined
      const title = `failure ${failure.kind} -> ${tag} (retryable ${retryable})`
      it.effect(
        noRetryAfter === undefined ? title : `${title}; retry-after not checked: KNOWN GAP (${noRetryAfter})`,
        () =>
          Effect.gen(function* () {
            const server = yield* WireServer.make
            const reply = wire.failure(failure)
            server.enqueue(reply)
            const error = yield* Effect.flip(collect(wire, server.url))
            expect(error._tag).toBe(tag)
            expect(error.retryable).toBe(retryable)
            if (reply.kind === "error") expect(error.status).toBe(reply.status)
            if (failure.kind === "rate_limit" && noRetryAfter === undefined)
              expect(error).toMatchObject({ retryAfterMs: 2000 })
            if (failure.kind === "invalid_request") expect(error.message).toContain("tools.0.name: bad name")
            expect(server.requests).toHaveLength(1)
          })
      )
    }

    it.live("interrupting the stream aborts the HTTP request", () =>
      Effect.gen(function* () {
        const server = yield* WireServer.make
        const reply = wire.reply({ text: ["first", "second", "third"] })
        if (reply.kind !== "stream") throw new Error(`${wire.id}: reply is not a stream`)
        // The first chunks at once, the rest slowly, and the body is never ended by the server.
        const chunks = reply.chunks.map((chunk, i) =>
          i < 3 ? chunk : { data: typeof chunk === "object" && "data" in chunk ? chunk.data : chunk, delayMs: 100 }
        )
        server.enqueue({
          kind: "hang",
          chunks,
          ...(reply.contentType === undefined ? {} : { contentType: reply.contentType })
        })
        const firstText = yield* Deferred.make<void>()
        const fiber = yield* withClient(wire, server.url, (client) =>
          client
            .stream(hello)
            .pipe(
              Stream.runForEach((part) =>
                part.type === "text-delta" ? Deferred.succeed(firstText, undefined) : Effect.void
              )
            )
        ).pipe(Effect.forkChild)
        yield* Deferred.await(firstText)
        const aborted = server.nextClientAbort()
        yield* Fiber.interrupt(fiber)
        yield* Effect.promise(() => aborted)
        expect(server.clientAborts()).toBe(1)
      })
    )

    it.live("a full agent turn through the loop: tool call -> tool result -> answer", () =>
      Effect.gen(function* () {
        const server = yield* WireServer.make
        const cwd = yield* Effect.acquireRelease(
          Effect.sync(() => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-contract-")))),
          (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
        )
        fs.writeFileSync(path.join(cwd, "notes.txt"), "alpha-contract-line\n")
        server.enqueue(
          wire.reply({ toolCalls: [{ id: "call_turn_1", name: "Read", args: ['{"file_path":"notes.txt"}'] }] }),
          wire.reply({ text: ["The note says alpha."] })
        )
        const events: Array<AgentEvent> = []
        yield* Effect.gen(function* () {
          const agent = yield* Agent
          yield* Stream.runForEach(agent.run("what does notes.txt say?"), (e) => Effect.sync(() => events.push(e)))
        }).pipe(
          Effect.provide(
            layerNode({
              provider: "anthropic",
              model: wire.model,
              cwd,
              homeDir: cwd,
              sandbox: "off",
              sessionsDir: path.join(cwd, ".sessions"),
              env: {}
            }).pipe(Layer.provide(wire.layer(server.url)))
          )
        )
        const completed = events.flatMap((e) => (e.type === "tool.completed" ? [e.result] : []))
        expect(completed.map((r) => [r.toolName, r.status])).toEqual([["Read", "success"]])
        expect(events.find((e) => e.type === "turn.ended")).toMatchObject({
          stopReason: "end_turn",
          text: "The note says alpha."
        })
        expect(server.requests).toHaveLength(2)
        const second = server.requests[1]
        if (second === undefined) throw new Error("no second request")
        const sent = wire.sentText(second)
        expect(sent.some((t) => t.includes("what does notes.txt say?"))).toBe(true)
        expect(sent.some((t) => t.includes("alpha-contract-line"))).toBe(true)
      })
    )
  })
}
