/** The REPL in-process (`runCli` on a pretend terminal): slash commands, custom commands, sessions, exits. */
import * as fs from "node:fs"
import * as path from "node:path"
import type { PassThrough } from "node:stream"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { helpText } from "../../../src/cli/repl/slash.js"
import * as WireServer from "../../support/WireServer.js"
import { answer, anthropicEnv, Capture, callTools, hang, reply, runInProcess, tempDir, waitFor } from "../support.js"

/** A 1x1 PNG. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

const start = (
  wire: WireServer.WireServer,
  dir: string,
  env: Record<string, string | undefined> = {},
  argv: ReadonlyArray<string> = [],
  onSignals?: (send: (signal: string) => void) => void
) =>
  Effect.gen(function* () {
    const home = path.join(dir, "home")
    const cwd = path.join(dir, "project")
    fs.mkdirSync(home, { recursive: true })
    fs.mkdirSync(cwd, { recursive: true })
    const stdout = Object.assign(new Capture({ isTTY: true }), { columns: 100, rows: 30 })
    let stdin: PassThrough | undefined
    const forced: Array<number> = []
    const fiber = yield* Effect.forkChild(
      runInProcess(
        ["--sandbox", "off", "--cwd", cwd, ...argv],
        { ...anthropicEnv(wire.url, home), TERM: "dumb", NO_COLOR: "1", ...env },
        {
          stdinTTY: true,
          stdout,
          onStdin: (s) => {
            stdin = s
          },
          ...(onSignals === undefined ? {} : { onSignals }),
          forceExit: (code) => {
            forced.push(code)
          }
        }
      )
    )
    const send = (text: string) => stdin?.write(text)
    const seen = (text: string, ms = 8_000) =>
      Effect.gen(function* () {
        const ok = yield* waitFor(() => stdout.text.includes(text), ms)
        if (!ok) throw new Error(`never saw ${JSON.stringify(text)}; output:\n${stdout.text}`)
      })
    // The banner is written once the REPL reads its input.
    yield* seen("Ctrl-D to exit")
    return { fiber, send, seen, stdout, home, cwd, forced }
  })

describe("REPL (in-process)", () => {
  it.live("slash commands answer; a custom command runs its prompt; Ctrl-D exits 0", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const dir = yield* tempDir
      fs.mkdirSync(path.join(dir, "project", ".sage", "commands"), { recursive: true })
      fs.writeFileSync(
        path.join(dir, "project", ".sage", "commands", "review.md"),
        "---\ndescription: Review a file\n---\nReview $ARGUMENTS carefully."
      )
      const repl = yield* start(wire, dir)
      yield* repl.seen("> ")
      repl.send("/help\r")
      yield* repl.seen("/review [args]")
      expect(repl.stdout.text).toContain("Review a file")
      repl.send("/model claude-other\r")
      yield* repl.seen("Model: claude-other (from the next turn on)")
      yield* repl.seen("not in the model catalog: its cost is unknown")
      repl.send("/model claude-opus-4-5\r")
      yield* repl.seen("Model: claude-opus-4-5 (from the next turn on)\n  context 200,000 tokens · $")
      repl.send("/model claude-other\r")
      yield* repl.seen("Model: claude-other (from the next turn on)\n  not in")
      repl.send("/reasoning\r")
      yield* repl.seen("Reasoning: shown")
      repl.send("/permissions nope\r")
      yield* repl.seen('unknown mode "nope"')
      repl.send("/permissions plan\r")
      yield* repl.seen("Permission mode: plan (from the next turn on)")
      repl.send("/permissions\r")
      yield* repl.seen("Permission mode: plan (change with")
      repl.send("/resume\r")
      yield* repl.seen("No saved sessions in this directory yet.")
      repl.send("/resume ses_nothing\r")
      yield* repl.seen('No session "ses_nothing"')
      repl.send("/compact\r")
      yield* repl.seen("Nothing to compact yet.")
      repl.send("/costt\r")
      yield* repl.seen("Unknown command /costt. Did you mean /compact, /cost? Type /help for the list.")

      wire.enqueue(answer("Reviewed."))
      repl.send("/review src/a.ts\r")
      yield* repl.seen("Reviewed.")
      // Typed while the turn may still be finishing: a command waits for the turn, it is not steering.
      repl.send("/cost\r")
      yield* repl.seen("Cost since Sage started: unknown (no price for this model) · 1 turn")
      const body = JSON.stringify(wire.requests[0]?.body)
      expect(body).toContain("Review src/a.ts carefully.")
      expect(body).toContain('"model":"claude-other"')
      repl.send("/status\r")
      yield* repl.seen("turns      1 in this session")
      expect(repl.stdout.text).toMatch(/session {4}ses_/)
      repl.send("/clear\r")
      yield* repl.seen("New conversation.")
      repl.send("/resume\r")
      yield* repl.seen("Review src/a.ts carefully.")
      repl.send("\u0004")
      const result = yield* Fiber.join(repl.fiber)
      expect(result.code).toBe(0)
      // Nothing but text, CR and LF on a dumb terminal.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: checking there is none
      expect(repl.stdout.text).not.toMatch(/\u001b/)
    })
  )

  it.live("-r ID resumes a session and shows where it stands; an unknown id is an error (exit 1)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const dir = yield* tempDir
      const first = yield* start(wire, dir)
      wire.enqueue(answer("First **answer**."))
      first.send("remember 42\r")
      yield* first.seen("First **answer**.")
      first.send("/exit\r")
      expect((yield* Fiber.join(first.fiber)).code).toBe(0)
      const id = /session {4}(ses_\w+)/.exec(first.stdout.text)?.[1]
      const sessions = fs.readdirSync(path.join(dir, "home", ".sage", "sessions")).filter((f) => f.endsWith(".jsonl"))
      expect(sessions).toHaveLength(1)
      const sessionId = id ?? sessions[0]?.replace(/\.jsonl$/, "") ?? ""

      const again = yield* start(wire, dir, {}, ["-r", sessionId])
      yield* again.seen(`Resumed session ${sessionId} (1 turn).`)
      yield* again.seen("> remember 42")
      again.send("\u0003")
      yield* again.seen("Press Ctrl-C again to exit")
      again.send("\u0003")
      expect((yield* Fiber.join(again.fiber)).code).toBe(0)

      const missing = yield* start(wire, dir, {}, ["-r", "ses_missing"])
      const result = yield* Fiber.join(missing.fiber)
      expect(result.code).toBe(1)
      expect(missing.stdout.text).toContain("ses_missing")
    })
  )

  it.live("turns: an approval denied with a reason, an interrupt, steering, /compact, then SIGTERM ends it (130)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const dir = yield* tempDir
      let signal: (name: string) => void = () => undefined
      const repl = yield* start(wire, dir, {}, [], (send) => {
        signal = send
      })
      // 1. An approval, answered "n" with a reason: the model sees the reason.
      wire.enqueue(
        callTools([{ id: "b1", name: "Bash", input: { command: "touch x" } }]),
        reply({ steps: [{ thinking: ["pondering"], signature: "sig" }, { text: ["Fine, I won't."] }] })
      )
      repl.send("/reasoning on\r")
      yield* repl.seen("Reasoning: shown")
      repl.send("make x\r")
      yield* repl.seen("Allow? [y]es once")
      repl.send("n use the Write tool\r")
      yield* repl.seen("Fine, I won't.")
      expect(repl.stdout.text).toContain("pondering")
      expect(repl.stdout.text).toContain("x #1 Bash(touch x) denied")
      expect(JSON.stringify(wire.requests[1]?.body)).toContain("use the Write tool")
      yield* repl.seen("Fine, I won't.\n\r> ")

      // 2. A slow answer, interrupted with Ctrl-C; the prompt comes back.
      wire.enqueue(hang({ steps: [{ text: ["Working on it\n"] }] }))
      repl.send("slow\r")
      yield* repl.seen("Working on it")
      repl.send("\u0003")
      yield* repl.seen("- interrupted")
      // 3. Steering: typed while a tool runs, sent after its result.
      wire.enqueue(callTools([{ id: "s1", name: "Bash", input: { command: "sleep 1" } }]), answer("Steered."))
      repl.send("/permissions bypassPermissions\r")
      yield* repl.seen("Permission mode: bypassPermissions")
      repl.send("wait a second\r")
      yield* repl.seen("Bash(sleep 1) running")
      repl.send("then say hi\r")
      yield* repl.seen("queued for the next step: then say hi")
      yield* repl.seen("Steered.")
      expect(JSON.stringify(wire.requests.at(-1)?.body)).toContain("then say hi")

      // 4. /compact: the summary replaces the history; a failed one leaves it.
      wire.enqueue(answer("<summary>They asked for x, slowness and a wait.</summary>"))
      yield* repl.seen("Steered.\n\r> ")
      repl.send("/compact\r")
      yield* repl.seen("Compacted: ~")
      wire.enqueue({
        kind: "error",
        status: 400,
        body: { type: "error", error: { type: "invalid_request_error", message: "nope" } }
      })
      repl.send("/compact again\r")
      yield* repl.seen("error: ")
      repl.send("/cost\r")
      yield* repl.seen("Cost since Sage started: unknown")

      // 5. SIGTERM ends the session.
      signal("SIGTERM")
      expect((yield* Fiber.join(repl.fiber)).code).toBe(130)
    })
  )

  it.live("on a color terminal: bracketed paste is switched on and off, Markdown is rendered, the input redrawn", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const dir = yield* tempDir
      const repl = yield* start(wire, dir, { TERM: "xterm-256color", NO_COLOR: undefined })
      expect(repl.stdout.text).toContain("\u001b[?2004h")
      wire.enqueue(answer("# Done\n\n- **one**\n"))
      repl.send("\u001b[200~multi\nline\u001b[201~\r")
      yield* repl.seen("\u001b[1m\u001b[4mDone")
      expect(repl.stdout.text).toContain("\u001b[1mone\u001b[22m")
      expect(JSON.stringify(wire.requests[0]?.body)).toContain("multi\\nline")
      repl.send("/statu")
      repl.send("\u001b[D\u001b[C")
      repl.send("s\r")
      yield* repl.seen("reasoning  hidden")
      repl.send("\u0004")
      expect((yield* Fiber.join(repl.fiber)).code).toBe(0)
      expect(repl.stdout.text).toContain("\u001b[?2004l")
    })
  )

  it.live(
    "images: --image goes with the first turn, @path.png with the turn that names it; a missing one is an error",
    () =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const dir = yield* tempDir
        const project = path.join(dir, "project")
        fs.mkdirSync(project, { recursive: true })
        const png = Buffer.from(PNG, "base64")
        fs.writeFileSync(path.join(project, "first.png"), png)
        fs.writeFileSync(path.join(project, "shot.png"), png)
        wire.enqueue(answer("one"), answer("two"), answer("three"))
        const repl = yield* start(wire, dir, {}, ["--image", "first.png"])
        yield* repl.seen("> ")
        repl.send("describe it\r")
        yield* repl.seen("one")
        repl.send("and @shot.png?\r")
        yield* repl.seen("two")
        repl.send("and @gone.png?\r")
        yield* repl.seen("error: ")
        repl.send("plain text\r")
        yield* repl.seen("three")
        repl.send("\u0004")
        expect((yield* Fiber.join(repl.fiber)).code).toBe(0)
        /** The image blocks of the last user message of each request. */
        const images = wire.requests.map((request) => {
          const body = request.body as { messages: ReadonlyArray<{ role: string; content: unknown }> }
          const last = body.messages.at(-1)
          return Array.isArray(last?.content)
            ? last.content.filter((b: { type: string }) => b.type === "image").length
            : 0
        })
        expect(images).toEqual([1, 1, 0])
        expect(repl.stdout.text).toContain("gone.png")
      })
  )

  it.live("Ctrl-D typed while a turn runs exits once the turn is over (the turn is not cut short)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const dir = yield* tempDir
      wire.enqueue(callTools([{ id: "s1", name: "Bash", input: { command: "sleep 1" } }]), answer("Done waiting."))
      const repl = yield* start(wire, dir, {}, ["--permission-mode", "bypassPermissions"])
      repl.send("wait a second\r")
      yield* repl.seen("Bash(sleep 1) running")
      repl.send("\u0004")
      repl.send("\u0004")
      yield* repl.seen("exits after this turn")
      yield* repl.seen("Done waiting.")
      expect((yield* Fiber.join(repl.fiber)).code).toBe(0)
      expect(wire.requests.length).toBe(2)
      expect(repl.stdout.text.split("exits after this turn").length).toBe(2)
    })
  )

  it.live("without -p and a prompt but not on a terminal, it is still the usage error", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const dir = yield* tempDir
      const result = yield* runInProcess(["--cwd", dir], anthropicEnv(wire.url, dir), { stdin: "" })
      expect(result.code).toBe(2)
      expect(result.stderr).toContain("no prompt")
    })
  )

  it("help lists built-in and custom commands and the keys", () => {
    const text = helpText([{ name: "deploy", description: undefined, body: "x", file: "/p/.sage/commands/deploy.md" }])
    expect(text).toContain("/compact [instructions]")
    expect(text).toContain("/deploy [args]")
    expect(text).toContain("custom command (/p/.sage/commands/deploy.md)")
    expect(text).toContain("Ctrl-D exit")
  })
})
