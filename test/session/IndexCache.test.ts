/**
 * The summary cache of the JSONL store (`<dir>/index.json`): `list` reads only the logs whose stat changed, and the
 * cache is only ever a copy of what the logs say (a corrupt, foreign, stale or deleted one is rebuilt, and the list
 * is the same as one that reads every log). Real files in a temp directory; reads are counted through a wrapped
 * backend. `it.live`: the cache compares file times with the real clock.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as WireServer from "../support/WireServer.js"
import { answer, anthropicEnv, runInProcess, tempDir as cliTempDir } from "../cli/support.js"
import * as NodePlatform from "../../src/layers/NodePlatform.js"
import type { SessionStore } from "../../src/services/SessionStore.js"
import * as JsonlLogBackend from "../../src/session/JsonlLogBackend.js"
import { INDEX_FORMAT, type LogBackend, make } from "../../src/session/SessionLogStore.js"
import { headerLine, jsonLines, tempDir, turnEvents } from "./support.js"

interface Fixture {
  readonly dir: string
  /** The store through the cache. */
  readonly store: SessionStore.Service
  /** The same logs read in full every time (no cache): the truth to compare with. */
  readonly truth: SessionStore.Service
  /** Log ids read in full / by their first line since the last `reset`. */
  readonly reads: Array<string>
  readonly heads: Array<string>
  readonly reset: () => void
  readonly file: (id: string) => string
  readonly index: () => { format: number; entries: Record<string, { summary?: { turns: number } }> } | undefined
  /** Writes a log of `turns` turns and dates it `ageMs` ago (old enough for the cache to trust it). */
  readonly log: (id: string, cwd: string, turns: number, ageMs?: number) => void
  readonly age: (id: string, ageMs?: number) => void
}

const fixture: Effect.Effect<Fixture, never, Scope.Scope> = Effect.gen(function* () {
  const dir = yield* tempDir("sage-index-")
  const backend = yield* Effect.provide(JsonlLogBackend.make(dir), NodePlatform.layer)
  const reads: Array<string> = []
  const heads: Array<string> = []
  const head = backend.head
  const counted: LogBackend = {
    ...backend,
    read: (id) =>
      Effect.andThen(
        Effect.sync(() => reads.push(id)),
        backend.read(id)
      ),
    ...(head === undefined
      ? {}
      : {
          head: (id: string) =>
            Effect.andThen(
              Effect.sync(() => heads.push(id)),
              head(id)
            )
        })
  }
  const { stat: _stat, index: _index, ...plain } = backend
  const file = (id: string) => path.join(dir, `${id}.jsonl`)
  const age = (id: string, ageMs = 60_000) => {
    const when = new Date(Date.now() - ageMs)
    fs.utimesSync(file(id), when, when)
  }
  return {
    dir,
    store: make(counted),
    truth: make(plain),
    reads,
    heads,
    reset: () => {
      reads.length = 0
      heads.length = 0
    },
    file,
    index: () => {
      const p = path.join(dir, "index.json")
      return fs.existsSync(p) ? JSON.parse(fs.readFileSync(p, "utf8")) : undefined
    },
    log: (id, cwd, turns, ageMs) => {
      const events = Array.from({ length: turns }, (_, n) =>
        turnEvents(id, `${id}_t${n}`, `prompt ${id} ${n}`, "ok", { costUsd: 0.5 })
      ).flat()
      fs.writeFileSync(file(id), headerLine(id, cwd) + jsonLines(events))
      age(id, ageMs)
    },
    age
  }
})

/** The list through the cache equals the list of the logs read in full. */
const sameAsTruth = (f: Fixture, filter?: { readonly cwd?: string }) =>
  Effect.gen(function* () {
    const listed = yield* f.store.list(filter)
    assert.deepStrictEqual(listed, yield* f.truth.list(filter))
    return listed
  })

describe("SessionStore list: the summary cache (JSONL)", () => {
  it.live("the first list creates the cache; a second list reads no unchanged log", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const f = yield* fixture
        f.log("a", "/p", 2)
        f.log("b", "/q", 1)
        f.log("c", "/p", 3)
        const first = yield* f.store.list()
        assert.deepStrictEqual(
          first.map((s) => [s.id, s.turns, s.costUsd]),
          [
            ["c", 3, 1.5],
            ["b", 1, 0.5],
            ["a", 2, 1]
          ]
        )
        assert.deepStrictEqual([...f.reads].sort(), ["a", "b", "c"])
        const index = f.index()
        assert.strictEqual(index?.format, INDEX_FORMAT)
        assert.deepStrictEqual(Object.keys(index?.entries ?? {}).sort(), ["a", "b", "c"])
        f.reset()
        // A rewrite is a rename of a new file: a new inode.
        const ino = fs.statSync(path.join(f.dir, "index.json")).ino
        assert.deepStrictEqual(yield* f.store.list(), first)
        assert.deepStrictEqual(f.reads, [])
        assert.deepStrictEqual(f.heads, [])
        // Nothing changed: the cache is not rewritten.
        assert.strictEqual(fs.statSync(path.join(f.dir, "index.json")).ino, ino)
        yield* sameAsTruth(f)
      })
    )
  )

  it.live("a log appended to by a live session is read again; so is a log changed within the racy window", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const f = yield* fixture
        f.log("a", "/p", 1)
        f.log("b", "/p", 1)
        yield* f.store.list()
        f.reset()
        yield* Effect.scoped(
          Effect.gen(function* () {
            const writer = yield* f.store.open("a")
            f.reset()
            for (const e of turnEvents("a", "a_live", "live prompt", "ok", { costUsd: 0.25 })) yield* writer.append(e)
            // While the session is live (its lock held, the log growing), the list follows it.
            const live = yield* sameAsTruth(f)
            assert.strictEqual(live.find((s) => s.id === "a")?.turns, 2)
            assert.deepStrictEqual(f.reads, ["a"])
            f.reset()
            yield* writer.append({
              type: "turn.started",
              v: 1,
              sessionId: "a",
              agentId: "main",
              timestamp: 9e12,
              turnId: "x",
              prompt: "more"
            })
            const again = yield* sameAsTruth(f)
            assert.strictEqual(again[0]?.id, "a")
            assert.strictEqual(again[0]?.lastUsed, 9e12)
          })
        )
        // Modified less than RACY_MS before it was read (here: dated in the future, so always): not trusted even with
        // the same stat, since file times are coarse.
        f.age("a", -10_000)
        f.reset()
        yield* f.store.list()
        yield* f.store.list()
        assert.deepStrictEqual(f.reads, ["a", "a"])
        // Once it is old enough at the time it is read, it is trusted.
        f.age("a")
        f.reset()
        yield* f.store.list()
        yield* f.store.list()
        assert.deepStrictEqual(f.reads, ["a"])
      })
    )
  )

  it.live("a deleted log disappears from the list and the cache; a fork appears with its parent", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const f = yield* fixture
        f.log("a", "/p", 1)
        f.log("b", "/p", 2)
        yield* f.store.list()
        yield* f.store.delete("a")
        f.reset()
        assert.deepStrictEqual(
          (yield* sameAsTruth(f)).map((s) => s.id),
          ["b"]
        )
        assert.deepStrictEqual(f.reads, [])
        assert.deepStrictEqual(Object.keys(f.index()?.entries ?? {}), ["b"])
        // Deleted behind the store's back: the same.
        fs.rmSync(f.file("b"))
        assert.deepStrictEqual(yield* sameAsTruth(f), [])
        assert.deepStrictEqual(f.index()?.entries, {})
        f.log("c", "/p", 2)
        yield* Effect.scoped(f.store.fork("c", { newId: "c2", cwd: "/r" }))
        f.reset()
        const listed = yield* sameAsTruth(f)
        assert.deepStrictEqual(
          listed.map((s) => [s.id, s.turns, s.parentSessionId, s.cwd]),
          [
            ["c2", 2, "c", "/r"],
            ["c", 2, undefined, "/p"]
          ]
        )
        assert.deepStrictEqual([...f.reads].sort(), ["c", "c2"])
      })
    )
  )

  it.live("a log repaired on load is read again, and its summary stays right", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const f = yield* fixture
        const events = turnEvents("t", "t1", "first", "ok")
        // A turn cut off by a crash, and a torn last line.
        fs.writeFileSync(f.file("t"), `${headerLine("t")}${jsonLines(events.slice(0, 4))}{"type":"text.del`)
        f.age("t")
        const before = yield* sameAsTruth(f)
        assert.strictEqual(before[0]?.turns, 1)
        const loaded = yield* f.store.load("t")
        assert.isAbove(loaded.repairs.length, 0)
        f.reset()
        const after = yield* sameAsTruth(f)
        assert.deepStrictEqual(f.reads, ["t"])
        assert.strictEqual(after[0]?.turns, 1)
        assert.deepStrictEqual(after[0], loaded.summary)
      })
    )
  )

  it.live("a corrupt, truncated, foreign-version or deleted cache is rebuilt, and the list is the same", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const f = yield* fixture
        f.log("a", "/p", 1)
        f.log("b", "/q", 2)
        const first = yield* f.store.list()
        const indexFile = path.join(f.dir, "index.json")
        const good = fs.readFileSync(indexFile, "utf8")
        const broken = [
          good.slice(0, Math.floor(good.length / 2)),
          "",
          "not json",
          "[]",
          JSON.stringify({ format: INDEX_FORMAT + 1, entries: JSON.parse(good).entries }),
          JSON.stringify({ format: INDEX_FORMAT, entries: { a: { size: "x" }, "../b": {} } })
        ]
        for (const text of broken) {
          fs.writeFileSync(indexFile, text)
          f.reset()
          assert.deepStrictEqual(yield* sameAsTruth(f), first)
          assert.deepStrictEqual([...new Set(f.reads)].sort(), ["a", "b"])
          assert.strictEqual(f.index()?.format, INDEX_FORMAT)
          assert.deepStrictEqual(Object.keys(f.index()?.entries ?? {}).sort(), ["a", "b"])
        }
        // One bad entry costs a read of its log only.
        const entries = JSON.parse(good).entries
        fs.writeFileSync(indexFile, JSON.stringify({ format: INDEX_FORMAT, entries: { ...entries, a: { bad: 1 } } }))
        f.reset()
        assert.deepStrictEqual(yield* f.store.list(), first)
        assert.deepStrictEqual(f.reads, ["a"])
        // A stale entry (its log changed since) is not believed.
        f.log("a", "/p", 3)
        fs.writeFileSync(indexFile, good)
        f.reset()
        const stale = yield* sameAsTruth(f)
        assert.strictEqual(stale.find((s) => s.id === "a")?.turns, 3)
        assert.deepStrictEqual(f.reads, ["a"])
        fs.rmSync(indexFile)
        assert.deepStrictEqual(yield* sameAsTruth(f), stale)
        assert.isTrue(fs.existsSync(indexFile))
      })
    )
  )

  it.live("a list for one directory reads only the first line of the other directories' logs", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const f = yield* fixture
        f.log("a", "/p", 1)
        f.log("b", "/q", 2)
        f.log("c", "/q", 1)
        f.log("d", "/p", 2)
        const here = yield* sameAsTruth(f, { cwd: "/p" })
        f.reset()
        assert.deepStrictEqual(yield* f.store.list({ cwd: "/p" }), here)
        assert.deepStrictEqual(
          here.map((s) => s.id),
          ["d", "a"]
        )
        assert.deepStrictEqual([f.reads, f.heads], [[], []])
        // The other directories' logs were only looked at: an unfiltered list reads them, once.
        f.reset()
        yield* sameAsTruth(f)
        f.reset()
        yield* f.store.list()
        yield* f.store.list({ cwd: "/q" })
        assert.deepStrictEqual([f.reads, f.heads], [[], []])
      })
    )
  )

  it.live("a cold list for one directory folds only that directory's logs", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const f = yield* fixture
        f.log("a", "/p", 1)
        f.log("b", "/q", 2)
        // A log whose first line is no header is read in full (its directory is unknown).
        fs.writeFileSync(f.file("x"), `garbage\n${headerLine("x", "/q")}`)
        f.age("x")
        const here = yield* f.store.list({ cwd: "/p" })
        assert.deepStrictEqual(
          here.map((s) => s.id),
          ["a"]
        )
        assert.deepStrictEqual([...f.reads].sort(), ["a", "x"])
        assert.deepStrictEqual([...f.heads].sort(), ["a", "b", "x"])
      })
    )
  )

  it.live("lists of two stores at once, while a session grows, leave a whole cache and right answers", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const f = yield* fixture
        for (let i = 0; i < 20; i++) f.log(`s${i}`, i % 2 === 0 ? "/p" : "/q", 1)
        const other = make(yield* Effect.provide(JsonlLogBackend.make(f.dir), NodePlatform.layer))
        const grow = Effect.scoped(
          Effect.gen(function* () {
            const writer = yield* other.open("s0")
            for (let t = 0; t < 10; t++) {
              for (const e of turnEvents("s0", `g${t}`, "grow", "ok")) yield* writer.append(e)
              yield* Effect.yieldNow
            }
          })
        )
        const lists = Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? f.store : other).list(i % 3 === 0 ? { cwd: "/p" } : undefined)
        )
        yield* Effect.all([grow, ...lists], { concurrency: "unbounded" })
        const index = f.index()
        assert.strictEqual(index?.format, INDEX_FORMAT)
        assert.deepStrictEqual(
          fs.readdirSync(f.dir).filter((n) => n.startsWith(".index")),
          []
        )
        const listed = yield* sameAsTruth(f)
        assert.strictEqual(listed.find((s) => s.id === "s0")?.turns, 11)
        assert.strictEqual(listed.length, 20)
      })
    )
  )

  it.live("a save removes the temporary files a killed save left, once they are stale, and no other file", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const f = yield* fixture
        f.log("a", "/p", 1)
        const stale = path.join(f.dir, ".index.json.4242.deadbeef")
        const fresh = path.join(f.dir, ".index.json.4242.cafebabe")
        const other = path.join(f.dir, ".notes")
        for (const file of [stale, fresh, other]) fs.writeFileSync(file, "{")
        const old = new Date(Date.now() - JsonlLogBackend.STALE_INDEX_TEMP_MS - 60_000)
        fs.utimesSync(stale, old, old)
        fs.utimesSync(other, old, old)
        yield* sameAsTruth(f)
        assert.deepStrictEqual(
          fs
            .readdirSync(f.dir)
            .filter((n) => n.startsWith("."))
            .sort(),
          [".index.json.4242.cafebabe", ".notes"]
        )
        assert.deepStrictEqual(Object.keys(f.index()?.entries ?? {}), ["a"])
      })
    )
  )

  it.live("a cache that cannot be written is no error", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const f = yield* fixture
        f.log("a", "/p", 1)
        // A directory where the cache goes: the rename fails.
        fs.mkdirSync(path.join(f.dir, "index.json"))
        fs.writeFileSync(path.join(f.dir, "index.json", "x"), "")
        assert.deepStrictEqual(
          (yield* sameAsTruth(f)).map((s) => s.id),
          ["a"]
        )
        assert.deepStrictEqual(
          fs.readdirSync(f.dir).filter((n) => n.startsWith(".index")),
          []
        )
      })
    )
  )

  it.live(
    "the CLI: sessions list writes the cache; -c picks the right session through it; delete and a lost cache",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const server = yield* WireServer.make
          const a = yield* cliTempDir
          const b = yield* cliTempDir
          const home = yield* cliTempDir
          const env = anthropicEnv(server.url, home)
          const dir = path.join(home, ".sage", "sessions")
          const indexFile = path.join(dir, "index.json")
          const run = (cwd: string, ...argv: ReadonlyArray<string>) =>
            Effect.map(runInProcess(argv, env, { cwd }), (r) => {
              assert.strictEqual(r.code, 0, r.stderr)
              return r.stdout
            })
          const sessionOf = (stdout: string) => String(JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}").sessionId)
          const ask = (cwd: string, ...argv: ReadonlyArray<string>) => {
            server.enqueue(answer("ok"))
            return Effect.map(run(cwd, "-p", ...argv, "--output-format", "json"), sessionOf)
          }
          const age = () => {
            const when = new Date(Date.now() - 60_000)
            for (const f of fs.readdirSync(dir)) if (f.endsWith(".jsonl")) fs.utimesSync(path.join(dir, f), when, when)
          }
          /** The rows of `sage sessions list`: id and turns, in order. */
          const rows = (stdout: string) =>
            stdout
              .trim()
              .split("\n")
              .slice(1)
              .map((l) => l.split(/\s{2,}/))
              .map((cells) => `${cells[0]} ${cells.find((c) => c.endsWith("turn") || c.endsWith("turns"))}`)
          const a1 = yield* ask(a, "first in a")
          const b1 = yield* ask(b, "first in b")
          const a2 = yield* ask(a, "second in a")
          age()
          assert.deepStrictEqual(rows(yield* run(a, "sessions", "list")), [
            `${a2} 1 turn`,
            `${b1} 1 turn`,
            `${a1} 1 turn`
          ])
          const cached = JSON.parse(fs.readFileSync(indexFile, "utf8"))
          assert.deepStrictEqual(Object.keys(cached.entries).sort(), [a1, a2, b1].sort())
          // -c in b continues b's session (the latest overall is a2); its log grows, and the list follows.
          assert.strictEqual(yield* ask(b, "-c", "more in b"), b1)
          assert.strictEqual(yield* ask(a, "-c", "more in a"), a2)
          const after = rows(yield* run(a, "sessions", "list"))
          assert.deepStrictEqual(after, [`${a2} 2 turns`, `${b1} 2 turns`, `${a1} 1 turn`])
          assert.deepStrictEqual(rows(yield* run(b, "sessions", "list", "--cwd", b)), [`${b1} 2 turns`])
          // A lost cache: the same list, and the cache is back.
          fs.rmSync(indexFile)
          assert.deepStrictEqual(rows(yield* run(a, "sessions", "list")), after)
          assert.isTrue(fs.existsSync(indexFile))
          yield* run(a, "sessions", "delete", a1)
          assert.deepStrictEqual(rows(yield* run(a, "sessions", "list")), [`${a2} 2 turns`, `${b1} 2 turns`])
          assert.deepStrictEqual(
            Object.keys(JSON.parse(fs.readFileSync(indexFile, "utf8")).entries).sort(),
            [a2, b1].sort()
          )
        })
      )
  )
})
