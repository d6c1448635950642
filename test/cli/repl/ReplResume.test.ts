/**
 * The REPL in-process: `/resume ID` and `/clear` switch the whole session state, not only the messages. The resumed
 * session's "for this session" grants hold (and its TodoWrite list is the tool's starting point); the grants of the
 * session that was left (whether it was started in the REPL or given with `-r`) no longer hold.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { PassThrough } from "node:stream"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as WireServer from "../../support/WireServer.js"
import { answer, anthropicEnv, Capture, callTools, runInProcess, tempDir, waitFor } from "../support.js"

/** Ends the input of every REPL started (the REPL then exits): a failed test must not leave one waiting. */
const inputs = new Set<PassThrough>()
const endInputs = Effect.sync(() => {
  for (const input of inputs) input.end()
  inputs.clear()
})

const start = (wire: WireServer.WireServer, dir: string, argv: ReadonlyArray<string> = []) =>
  Effect.gen(function* () {
    const home = path.join(dir, "home")
    const cwd = path.join(dir, "project")
    fs.mkdirSync(home, { recursive: true })
    fs.mkdirSync(cwd, { recursive: true })
    const stdout = Object.assign(new Capture({ isTTY: true }), { columns: 200, rows: 30 })
    let stdin: PassThrough | undefined
    const fiber = yield* Effect.forkChild(
      runInProcess(
        ["--sandbox", "off", "--cwd", cwd, ...argv],
        { ...anthropicEnv(wire.url, home), TERM: "dumb", NO_COLOR: "1" },
        {
          stdinTTY: true,
          stdout,
          onStdin: (s) => {
            stdin = s
            inputs.add(s)
          }
        }
      )
    )
    const send = (text: string) => stdin?.write(text)
    const count = (text: string) => stdout.text.split(text).length - 1
    /** Waits until `text` was printed `times` times in all. */
    const seen = (text: string, times = 1) =>
      Effect.gen(function* () {
        const ok = yield* waitFor(() => count(text) >= times, 20_000)
        if (!ok) throw new Error(`never saw ${JSON.stringify(text)} x${times}; output:\n${stdout.text}`)
      })
    yield* seen("Ctrl-D to exit")
    /** The id of the current session (from /status). */
    const sessionId = Effect.gen(function* () {
      const before = count("turns      ")
      send("/status\r")
      yield* seen("turns      ", before + 1)
      return [...stdout.text.matchAll(/session {4}(ses_\w+)/g)].at(-1)?.[1] ?? ""
    })
    return { fiber, send, seen, count, stdout, cwd, sessionId }
  })

const todo = (content: string, status: "pending" | "in_progress" | "completed") => ({ content, status })

/** The text of the last tool result the model was sent. */
const lastToolResult = (wire: WireServer.WireServer): string => {
  const body = wire.requests.at(-1)?.body
  const messages =
    typeof body === "object" && body !== null && "messages" in body && Array.isArray(body.messages) ? body.messages : []
  const blocks = messages.flatMap((m: { content: ReadonlyArray<Record<string, unknown>> }) => m.content)
  return JSON.stringify(blocks.filter((b: Record<string, unknown>) => b.type === "tool_result").at(-1)?.content ?? "")
}

describe("REPL /resume and /clear (in-process)", () => {
  it.live(
    "the resumed session's grants and todo list hold; those of the session left behind do not",
    () =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const dir = yield* tempDir
        const touch = (id: string, file: string) =>
          callTools([{ id, name: "Bash", input: { command: `touch one ${file}` } }])
        const exists = (file: string) => fs.existsSync(path.join(dir, "project", file))

        const repl = yield* start(wire, dir)
        // Session a: "for this session" allows touch one, and a todo list.
        wire.enqueue(
          touch("a1", "a1"),
          callTools([
            {
              id: "t1",
              name: "TodoWrite",
              input: { todos: [todo("Fix the bug", "in_progress"), todo("Write docs", "pending")] }
            }
          ]),
          answer("A done.")
        )
        repl.send("work on a\r")
        yield* repl.seen("[s]ession or [a]lways allow Bash(touch one:*)")
        repl.send("s\r")
        yield* repl.seen("A done.")
        expect(exists("a1")).toBe(true)
        const a = yield* repl.sessionId

        // /clear: a new session, where the grant of a does not hold (asked again, denied).
        repl.send("/clear\r")
        yield* repl.seen("New conversation.")
        wire.enqueue(touch("b1", "b1"), answer("B done."))
        repl.send("work on b\r")
        yield* repl.seen("Allow?", 2)
        repl.send("n\r")
        yield* repl.seen("B done.")
        expect(exists("b1")).toBe(false)
        const b = yield* repl.sessionId
        expect(b).not.toBe(a)

        // /resume a: its grant holds again (no question), and TodoWrite starts from its list.
        repl.send(`/resume ${a}\r`)
        yield* repl.seen(`Resumed session ${a}`)
        wire.enqueue(
          touch("a2", "a2"),
          callTools([{ id: "t2", name: "TodoWrite", input: { todos: [todo("Fix the bug", "completed")] } }]),
          answer("A again.")
        )
        repl.send("more on a\r")
        yield* repl.seen("A again.")
        expect(exists("a2")).toBe(true)
        expect(repl.count("Allow?")).toBe(2)
        expect(lastToolResult(wire)).toContain(
          "Completed since the last update: Fix the bug. Removed before being completed: Write docs"
        )
        repl.send("/permissions\r")
        yield* repl.seen("allow Bash(touch one:*)  this session")
        repl.send("\u0004")
        expect((yield* Fiber.join(repl.fiber)).code).toBe(0)

        // Started with -r a (its grant holds), then /resume b: a's grant is left behind with a; so after /clear.
        const again = yield* start(wire, dir, ["-r", a])
        yield* again.seen(`Resumed session ${a}`)
        wire.enqueue(touch("a3", "a3"), answer("A third."))
        again.send("third on a\r")
        yield* again.seen("A third.")
        expect(exists("a3")).toBe(true)
        expect(again.count("Allow?")).toBe(0)
        again.send(`/resume ${b}\r`)
        yield* again.seen(`Resumed session ${b}`)
        wire.enqueue(touch("b2", "b2"), answer("B again."))
        again.send("more on b\r")
        yield* again.seen("Allow?")
        again.send("n\r")
        yield* again.seen("B again.")
        expect(exists("b2")).toBe(false)
        again.send("/clear\r")
        yield* again.seen("New conversation.")
        wire.enqueue(touch("c1", "c1"), answer("C done."))
        again.send("work on c\r")
        yield* again.seen("Allow?", 2)
        again.send("n\r")
        yield* again.seen("C done.")
        expect(exists("c1")).toBe(false)
        again.send("\u0004")
        expect((yield* Fiber.join(again.fiber)).code).toBe(0)
      }).pipe(Effect.ensuring(endInputs)),
    // Loading the agent the first time may be slow on a busy machine.
    60_000
  )
})
