/**
 * The interactive REPL as a person uses it: the built binary in a real terminal (tmux), against the scripted
 * model server. Keys go in with `send-keys`; what the person sees is read with `capture-pane`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as WireServer from "../support/WireServer.js"
import { answer, bin, callTools, hang, tempDir } from "./support.js"
import { hasTmux, startTmux, type Tmux } from "./tmux.js"

const sage = process.env.SAGE_TEST_BIN ?? bin
const PROMPT_AT_END = /› *$/

/** Whether the last non-empty line of the screen is the empty prompt. */
const atPrompt = (screen: string): boolean => {
  const lines = screen.split("\n").filter((l) => l.trim() !== "")
  return PROMPT_AT_END.test(lines[lines.length - 1] ?? "")
}

const userTexts = (body: unknown): ReadonlyArray<string> => {
  if (typeof body !== "object" || body === null || !("messages" in body) || !Array.isArray(body.messages)) return []
  return body.messages.flatMap((m: { role: string; content: unknown }) =>
    m.role !== "user"
      ? []
      : typeof m.content === "string"
        ? [m.content]
        : Array.isArray(m.content)
          ? m.content.flatMap((b: { type: string; text?: string }) => (b.type === "text" ? [b.text ?? ""] : [b.type]))
          : []
  )
}

const setup = Effect.gen(function* () {
  const wire = yield* WireServer.make
  const dir = yield* tempDir
  const home = path.join(dir, "home")
  const cwd = path.join(dir, "project")
  fs.mkdirSync(home)
  fs.mkdirSync(cwd)
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    TERM: "xterm-256color",
    LANG: "C.UTF-8",
    ANTHROPIC_API_KEY: "sk-ant-repl-test",
    ANTHROPIC_BASE_URL: wire.url,
    SAGE_MODEL: "claude-test"
  }
  const start = (args: ReadonlyArray<string> = [], extra: Record<string, string> = {}) =>
    startTmux([process.execPath, sage, "--sandbox", "off", "--cwd", cwd, ...args], { ...env, ...extra })
  return { wire, home, cwd, start }
})

const ready = (term: Tmux) => term.waitFor("the prompt", atPrompt)

describe.skipIf(!hasTmux())("the REPL in a terminal", () => {
  it.live(
    "two turns with a tool call approved inline, /cost, Ctrl-D; the history persists",
    () =>
      Effect.gen(function* () {
        const { wire, home, cwd, start } = yield* setup
        const term = yield* start()
        yield* ready(term)
        wire.enqueue(
          callTools([{ id: "b1", name: "Bash", input: { command: "echo made > note.txt" } }], "I'll write it."),
          answer("Wrote **note.txt**:\n\n- one\n- `two`\n")
        )
        term.type("write a note")
        term.keys("Enter")
        yield* term.waitFor("the approval question", (s) => s.includes("Allow?"))
        term.type("y")
        term.keys("Enter")
        const after = yield* term.waitFor("the answer", (s) => s.includes("Wrote") && atPrompt(s))
        expect(after).toMatch(/✓ #1 Bash\(echo made > note\.txt\) \d+ lines? · \d+ ms/)
        expect(after).toContain("• one")
        expect(after).not.toContain("**")
        expect(fs.readFileSync(path.join(cwd, "note.txt"), "utf8")).toBe("made\n")

        wire.enqueue(answer("Second answer."))
        term.type("and again")
        term.keys("Enter")
        yield* term.waitFor("the second answer", (s) => s.includes("Second answer.") && atPrompt(s))
        expect(wire.requests).toHaveLength(3)
        // The second turn carries the first one.
        expect(userTexts(wire.requests[2]?.body)).toEqual(["write a note", "tool_result", "and again"])

        term.type("/cost")
        term.keys("Enter")
        yield* term.waitFor("the cost", (s) => /Cost since Sage started: .*2 turns/.test(s))

        wire.enqueue(answer("<summary>A note was written; the user said again.</summary>"))
        term.type("/compact keep it short")
        term.keys("Enter")
        yield* term.waitFor("the compaction", (s) => /Compacted: .*summary/.test(s) && atPrompt(s))
        expect(JSON.stringify(wire.requests[3]?.body)).toContain("keep it short")

        term.type("/nope")
        term.keys("Enter")
        yield* term.waitFor("the unknown command message", (s) => s.includes("Unknown command /nope"))

        term.keys("C-d")
        yield* term.waitFor("the exit", (s) => s.includes("[exit 0]"))
        const history = fs.readFileSync(path.join(home, ".sage", "history"), "utf8")
        expect(
          history
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l))
        ).toEqual(["write a note", "and again", "/cost", "/compact keep it short", "/nope"])

        // `sage -c` continues the conversation: it shows where it stands, and the next request carries it.
        const again = yield* start(["-c"])
        yield* again.waitFor(
          "the resumed session",
          (s) => s.includes("Resumed session") && s.includes("(2 turns)") && atPrompt(s)
        )
        wire.enqueue(answer("Third answer."))
        again.type("one more")
        again.keys("Enter")
        yield* again.waitFor("the third answer", (s) => s.includes("Third answer.") && atPrompt(s))
        const sent = userTexts(wire.requests[4]?.body)
        expect(sent[0]).toContain("A note was written; the user said again.")
        expect(sent[sent.length - 1]).toBe("one more")
        again.keys("C-d")
        yield* again.waitFor("the exit", (s) => s.includes("[exit 0]"))
      }),
    30_000
  )

  it.live(
    "Ctrl-C interrupts a slow answer and the prompt comes back; Up recalls the input; Ctrl-C twice exits",
    () =>
      Effect.gen(function* () {
        const { wire, start } = yield* setup
        const term = yield* start()
        yield* ready(term)
        wire.enqueue(hang({ steps: [{ text: ["Thinking about it line one\n", "still going"] }] }))
        term.type("slow question")
        term.keys("Enter")
        yield* term.waitFor("the streamed text", (s) => s.includes("Thinking about it line one"))
        const aborted = Effect.promise(() => wire.nextClientAbort())
        term.keys("C-c")
        yield* aborted
        const screen = yield* term.waitFor(
          "the prompt after the interrupt",
          (s) => s.includes("interrupted") && atPrompt(s)
        )
        expect(screen).toContain("still going")
        term.keys("Up")
        yield* term.waitFor("the recalled input", (s) => /› slow question\s*$/.test(s))
        term.keys("C-c")
        yield* term.waitFor("the cleared line", atPrompt)
        term.keys("C-c")
        yield* term.waitFor("the hint", (s) => s.includes("Ctrl-C again to exit"))
        term.keys("C-c")
        yield* term.waitFor("the exit", (s) => s.includes("[exit 0]"))
      }),
    30_000
  )

  it.live(
    "text typed while a turn runs reaches the model at its next step",
    () =>
      Effect.gen(function* () {
        const { wire, cwd, start } = yield* setup
        const term = yield* start(["--permission-mode", "bypassPermissions"])
        yield* ready(term)
        wire.enqueue(
          callTools([{ id: "s1", name: "Bash", input: { command: "sleep 1.5; echo slept" } }]),
          answer("Took your note.")
        )
        term.type("sleep a bit")
        term.keys("Enter")
        yield* term.waitFor("the running tool", (s) => s.includes("running…"))
        term.type("also say hello")
        term.keys("Enter")
        yield* term.waitFor("the queued line", (s) => s.includes("queued for the next step: also say hello"))
        yield* term.waitFor("the answer", (s) => s.includes("Took your note.") && atPrompt(s))
        expect(userTexts(wire.requests[1]?.body)).toEqual(["sleep a bit", "tool_result", "also say hello"])
        expect(cwd).toBeTruthy()
      }),
    30_000
  )
})
