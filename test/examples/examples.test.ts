/**
 * The examples in `examples/`, run as a user runs them (`node examples/x.ts`, a child process importing the package
 * by its name, i.e. the built `dist/`) against the scripted local model server. Asserts what the user sees: the
 * answer, the tool calls, the cancel, and what the model was sent.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { anthropicErrorBody, anthropicEvents, type Script } from "../support/anthropicSse.js"
import * as WireServer from "../support/WireServer.js"

const root = path.resolve(import.meta.dirname, "../..")
const example = (name: string) => path.join(root, "examples", name)

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** `node examples/<file> ...args` in `cwd` with exactly `env`; killed (and failed) after `timeoutMs`. */
const runExample = (
  file: string,
  args: ReadonlyArray<string>,
  options: {
    readonly cwd: string
    readonly env: NodeJS.ProcessEnv
    readonly timeoutMs?: number
    /** Called once the process started (to signal it). */
    readonly started?: (child: ChildProcess) => void
  }
): Effect.Effect<Run> =>
  Effect.promise(
    () =>
      new Promise<Run>((resolve, reject) => {
        if (!fs.existsSync(path.join(root, "dist/index.js")) || !fs.existsSync(path.join(root, "dist/sdk/index.js"))) {
          reject(new Error("dist/ is missing: the examples import the built package; run `npm run build` first"))
          return
        }
        const child = spawn(process.execPath, [example(file), ...args], {
          cwd: options.cwd,
          env: options.env,
          stdio: ["ignore", "pipe", "pipe"]
        })
        options.started?.(child)
        let stdout = ""
        let stderr = ""
        child.stdout.on("data", (b: Buffer) => {
          stdout += b.toString("utf8")
        })
        child.stderr.on("data", (b: Buffer) => {
          stderr += b.toString("utf8")
        })
        const timer = setTimeout(() => {
          child.kill("SIGKILL")
          reject(new Error(`${file} did not finish in time\nstdout:\n${stdout}\nstderr:\n${stderr}`))
        }, options.timeoutMs ?? 25_000)
        child.on("error", reject)
        child.on("close", (code) => {
          clearTimeout(timer)
          resolve({ code, stdout, stderr })
        })
      })
  )

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-examples-")))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** What a user's shell would give the example: the key and the endpoint, and a home of its own. */
const envFor = (home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: home,
  ...extra
})

const reply = (script: Script): WireServer.Reply => ({ kind: "stream", chunks: anthropicEvents(script) })
const answer = (text: string): WireServer.Reply => reply({ steps: [{ text: [text] }] })
const callTools = (
  calls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly input: unknown }>,
  text?: string
): WireServer.Reply =>
  reply({
    stopReason: "tool_use",
    steps: [
      ...(text === undefined ? [] : [{ text: [text] }]),
      // Arguments in two fragments, as the API streams them.
      ...calls.map((c) => {
        const json = JSON.stringify(c.input)
        return { tool: { id: c.id, name: c.name, json: [json.slice(0, 5), json.slice(5)] } }
      })
    ]
  })

interface WireMessage {
  readonly role: string
  readonly content:
    | string
    | ReadonlyArray<{ readonly type: string; readonly text?: string; readonly content?: unknown }>
}

const messagesOf = (request: WireServer.RecordedRequest | undefined): ReadonlyArray<WireMessage> =>
  (request?.body as { readonly messages?: ReadonlyArray<WireMessage> } | undefined)?.messages ?? []

const textOf = (message: WireMessage): string =>
  typeof message.content === "string" ? message.content : message.content.map((b) => b.text ?? "").join("")

describe("examples", () => {
  it.live("effect-app.ts: the custom tool answers from the app's service, the event-bus logger logs the turn", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const home = yield* tempDir
      const cwd = yield* tempDir
      wire.enqueue(
        callTools([{ id: "toolu_1", name: "check_stock", input: { sku: "SKU-1001" } }], "Let me check. "),
        answer("We have 42 units of SKU-1001.")
      )
      const run = yield* runExample("effect-app.ts", ["How many SKU-1001 do we have?"], {
        cwd,
        env: envFor(home, { ANTHROPIC_API_KEY: "sk-ant-example-test", ANTHROPIC_BASE_URL: wire.url })
      })
      expect(run.stderr).not.toMatch(/error/i)
      expect(run.code).toBe(0)
      expect(run.stdout).toBe("Let me check. We have 42 units of SKU-1001.\n")
      // The replaced EventBus logged the tool call and the end of the turn.
      expect(run.stderr).toContain('[tool] check_stock {"sku":"SKU-1001"}')
      expect(run.stderr).toMatch(/\[tool\] check_stock: success in \d+ ms/)
      expect(run.stderr).toContain("[turn] end_turn after 2 step(s), 20 tokens in, 10 out")
      expect(wire.requests).toHaveLength(2)
      // The model was offered the tool with the JSON Schema made from its Schema input, and the app's prompt.
      const first = wire.requests[0]!.body as {
        tools: ReadonlyArray<{ name: string; input_schema: { properties: Record<string, unknown> } }>
        system: unknown
      }
      const tool = first.tools.find((t) => t.name === "check_stock")
      expect(Object.keys(tool?.input_schema.properties ?? {})).toEqual(["sku"])
      expect(JSON.stringify(first.system)).toContain("stock assistant")
      expect(messagesOf(wire.requests[0])[0]).toMatchObject({ role: "user" })
      expect(textOf(messagesOf(wire.requests[0])[0]!)).toBe("How many SKU-1001 do we have?")
      // The tool's result (from the Inventory service) went back to the model.
      expect(JSON.stringify(messagesOf(wire.requests[1]))).toContain("SKU-1001: 42 units in stock.")
    })
  )

  it.live("effect-app.ts: without a key it fails with a message naming the variable (exit 1)", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const run = yield* runExample("effect-app.ts", [], { cwd: home, env: envFor(home) })
      expect(run.code).toBe(1)
      expect(run.stderr).toBe(
        "ConfigError: no Anthropic API key: set ANTHROPIC_API_KEY to your key from console.anthropic.com\n"
      )
      expect(run.stdout).toBe("")
    })
  )

  it.live("effect-app.ts: Ctrl-C interrupts the turn, aborts the model request and exits with 130", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const home = yield* tempDir
      wire.enqueue({ kind: "hang", chunks: anthropicEvents({ steps: [{ text: ["Counting"] }], noEnd: true }) })
      const aborted = wire.nextClientAbort()
      const run = yield* runExample("effect-app.ts", [], {
        cwd: home,
        env: envFor(home, { ANTHROPIC_API_KEY: "sk-ant-example-test", ANTHROPIC_BASE_URL: wire.url }),
        started: (child) => {
          const poll = setInterval(() => {
            if (wire.requests.length === 1) {
              clearInterval(poll)
              // Once the answer began to stream.
              setTimeout(() => child.kill("SIGINT"), 200)
            }
          }, 20)
          child.on("close", () => clearInterval(poll))
        }
      })
      yield* Effect.promise(() => aborted)
      expect(run.code).toBe(130)
      expect(run.stdout).toBe("Counting")
      expect(wire.clientAborts()).toBe(1)
    })
  )

  it.live(
    "sdk-script.ts: streams a turn with the custom tool and canUseTool, continues a conversation, cancels",
    () =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const home = yield* tempDir
        const cwd = yield* tempDir
        const notes = path.join(yield* tempDir, "notes")
        wire.enqueue(
          // 1. The streamed turn: the model saves the note and also tries a command, which canUseTool refuses.
          callTools(
            [
              {
                id: "toolu_note",
                name: "save_note",
                input: { title: "Deploy window", text: "Friday 14:00-16:00 UTC." }
              },
              { id: "toolu_bash", name: "Bash", input: { command: "touch deployed.txt" } }
            ],
            "Saving it."
          ),
          answer("Saved the note."),
          // 2. The conversation.
          answer("Falcon"),
          answer("Announcing Falcon: faster builds for everyone."),
          // 3. A long answer that never ends: the script aborts it.
          { kind: "hang", chunks: anthropicEvents({ steps: [{ text: ["Once upon", " a time"] }], noEnd: true }) }
        )
        const started = Date.now()
        const run = yield* runExample("sdk-script.ts", [], {
          cwd,
          env: envFor(home, {
            ANTHROPIC_API_KEY: "sk-ant-example-test",
            ANTHROPIC_BASE_URL: wire.url,
            NOTES_DIR: notes
          })
        })
        expect(run.code, run.stderr).toBe(0)

        // 1. Streamed text, the tool calls and the permission answers.
        expect(run.stdout).toContain(
          "## 1. Streaming, with a custom tool\nSaving it.Saved the note.\n(end_turn, 2 step(s)"
        )
        expect(run.stderr).toContain("[permission] save_note: allow")
        expect(run.stderr).toContain("[permission] Bash: deny")
        expect(run.stderr).toContain('[tool] save_note {"title":"Deploy window","text":"Friday 14:00-16:00 UTC."}')
        expect(run.stderr).toContain("[tool] save_note: success")
        expect(run.stderr).toContain("[tool] Bash: denied")
        expect(fs.readFileSync(path.join(notes, "deploy-window.md"), "utf8")).toBe(
          "# Deploy window\n\nFriday 14:00-16:00 UTC.\n"
        )
        expect(fs.existsSync(path.join(cwd, "deployed.txt"))).toBe(false)
        const results = JSON.stringify(messagesOf(wire.requests[1]))
        expect(results).toContain(`Saved to ${path.join(notes, "deploy-window.md")}`)
        expect(results).toContain("This script only lets the model save notes with save_note.")

        // 2. The follow-up request carried the first turn.
        expect(run.stdout).toContain("first: Falcon\nnext: Announcing Falcon: faster builds for everyone.\n")
        expect(messagesOf(wire.requests[2]).map(textOf)).toEqual([
          "Pick a codename for our next release: one word, nothing else."
        ])
        const followUp = messagesOf(wire.requests[3])
        expect(followUp.map((m) => m.role)).toEqual(["user", "assistant", "user"])
        expect(followUp.map(textOf)).toEqual([
          "Pick a codename for our next release: one word, nothing else.",
          "Falcon",
          "Now use it in a one-line release announcement."
        ])

        // 3. The long answer streamed, then the abort stopped it and its request.
        expect(run.stdout).toContain("## 3. Cancelling\nOnce upon a time\n(cancelled: the model request was aborted)\n")
        expect(run.stdout).not.toContain("finished before the timeout")
        expect(wire.requests).toHaveLength(5)
        expect(wire.clientAborts()).toBe(1)
        expect(Date.now() - started).toBeGreaterThanOrEqual(3_000)
      }),
    40_000
  )

  it.live("sdk-script.ts: a rejected key is reported by its error class (exit 1)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const home = yield* tempDir
      wire.setHandler(() => ({
        kind: "error",
        status: 401,
        body: anthropicErrorBody("authentication_error", "invalid x-api-key")
      }))
      const run = yield* runExample("sdk-script.ts", [], {
        cwd: home,
        env: envFor(home, {
          ANTHROPIC_API_KEY: "sk-ant-wrong",
          ANTHROPIC_BASE_URL: wire.url,
          NOTES_DIR: path.join(home, "notes")
        })
      })
      expect(run.code).toBe(1)
      expect(run.stderr).toContain("AuthenticationError: anthropic rejected the API key; set ANTHROPIC_API_KEY")
      expect(run.stderr).not.toContain("sk-ant-wrong")
      expect(wire.requests).toHaveLength(1)
    })
  )

  it.live("custom-llm-client.ts: the agent runs on the custom model, which calls Glob and answers from it", () =>
    Effect.gen(function* () {
      // A vendor endpoint the example must not use: the custom LLMClient replaces the provider.
      const wire = yield* WireServer.make
      const home = yield* tempDir
      const cwd = yield* tempDir
      for (const file of ["a.ts", "b.ts", "c.json"]) fs.writeFileSync(path.join(cwd, file), "")
      const run = yield* runExample("custom-llm-client.ts", ["*.ts"], {
        cwd,
        env: envFor(home, { ANTHROPIC_BASE_URL: wire.url })
      })
      expect(run.code, run.stderr).toBe(0)
      expect(run.stderr).toContain("[model] glob-echo/glob-echo-1")
      expect(run.stderr).toContain('[tool] Glob {"pattern":"*.ts"}')
      expect(run.stderr).toContain("[tool] Glob: success")
      expect(run.stderr).toContain("[turn] end_turn after 2 step(s)")
      expect(run.stdout).toContain("Looking for *.ts.\n2 file(s) match:\n")
      expect(run.stdout).toContain(`- ${path.join(cwd, "a.ts")}`)
      expect(run.stdout).toContain(`- ${path.join(cwd, "b.ts")}`)
      expect(run.stdout).not.toContain("c.json")
      expect(wire.requests).toHaveLength(0)
    })
  )
})
