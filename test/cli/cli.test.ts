/** The `sage` CLI in-process (`runCli`) against a local Anthropic-wire (or OpenAI-wire) server. */
import * as fs from "node:fs"
import * as path from "node:path"
import type { PassThrough } from "node:stream"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import { composePrompt, describeError, makeOutput } from "../../src/cli/main.js"
import { AgentEvent } from "../../src/streams/AgentEvent.js"
import { openaiSse } from "../support/openaiSse.js"
import * as WireServer from "../support/WireServer.js"
import {
  answer,
  anthropicEnv,
  baseEnv,
  Capture,
  callTools,
  hang,
  isAlive,
  realSleep,
  runInProcess,
  tempDir,
  waitFor
} from "./support.js"

/** The absolute path of an executable on this machine's PATH. */
const execPathOf = (name: string): string => {
  const dir = (process.env.PATH ?? "").split(":").find((d) => fs.existsSync(path.join(d, name)))
  if (dir === undefined) throw new Error(`${name} is not on PATH`)
  return path.join(dir, name)
}

const decodeEvent = Schema.decodeUnknownSync(AgentEvent)
const jsonLines = (text: string): ReadonlyArray<Record<string, unknown>> =>
  text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line))

describe("sage CLI (in-process)", () => {
  it.live("prints its version and help; help has no ANSI codes when piped or with NO_COLOR", () =>
    Effect.gen(function* () {
      const version = yield* runInProcess(["--version"], baseEnv())
      expect(version.code).toBe(0)
      expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
      const help = yield* runInProcess(["--help"], baseEnv())
      expect(help.code).toBe(0)
      for (const flag of [
        "--print",
        "--provider",
        "--model",
        "--output-format",
        "--max-steps",
        "--permission-mode",
        "--allowed-tools",
        "--disallowed-tools",
        "--cwd",
        "--add-dir",
        "--sandbox",
        "--system-prompt",
        "--append-system-prompt",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "SAGE_PROVIDER",
        "SAGE_MODEL",
        "NO_COLOR",
        "Examples",
        "appended to the prompt as context"
      ])
        expect(help.stdout).toContain(flag)
      expect(help.stdout).not.toContain("\u001b")
      expect(help.stdout).not.toContain("--wizard")
      expect(help.stdout).not.toContain("--completions")
      const terminal = yield* runInProcess(["--help"], baseEnv(), { stdout: new Capture({ isTTY: true }) })
      expect(terminal.stdout).toContain("\u001b[1mUsage")
      const noColor = yield* runInProcess(
        ["-h"],
        { ...baseEnv(), NO_COLOR: "1" },
        { stdout: new Capture({ isTTY: true }) }
      )
      expect(noColor.stdout).not.toContain("\u001b")
      const permissions = yield* runInProcess(["permissions", "--help"], baseEnv())
      expect(permissions.stdout).toContain("sage permissions check TOOL")
    })
  )

  it.live("flag errors are one line naming the flag, the value and the accepted values; exit 2", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [
          ["-p", "hi", "--output-format", "yaml"],
          'sage: invalid value for --output-format: "yaml" (expected text, json or stream-json)\n'
        ],
        [
          ["-p", "hi", "--max-steps", "0"],
          'sage: invalid value for --max-steps: "0" (expected a whole number of at least 1)\n'
        ],
        [
          ["-p", "hi", "--max-steps", "-1"],
          'sage: invalid value for --max-steps: "-1" (expected a whole number of at least 1)\n'
        ],
        [["-p", "hi", "--x"], "sage: unknown option --x (see sage --help)\n"],
        [
          ["-p", "hi", "--cwd", "/definitely/not/here"],
          'sage: invalid value for --cwd: "/definitely/not/here" (expected an existing directory)\n'
        ]
      ]
      for (const [argv, message] of cases) {
        const run = yield* runInProcess(argv, baseEnv())
        expect(run.code).toBe(2)
        expect(run.stderr).toBe(message)
        expect(run.stdout).toBe("")
      }
      const env = yield* runInProcess(["-p", "hi"], { ...baseEnv(), SAGE_PROVIDER: "nope" })
      expect(env.code).toBe(2)
      expect(env.stderr).toMatch(
        /^sage: invalid value for SAGE_PROVIDER: "nope" \(expected anthropic, openai, .* or \w+\)\n$/
      )
    })
  )

  it.live("no prompt is a usage error", () =>
    Effect.gen(function* () {
      const run = yield* runInProcess(["-p"], baseEnv(), { stdin: "  \n" })
      expect(run.code).toBe(2)
      expect(run.stderr).toContain("no prompt")
      const tty = yield* runInProcess([], baseEnv(), { stdinTTY: true })
      expect(tty.code).toBe(2)
    })
  )

  it.live("replays a recorded parallel-tool-call stream, answers both calls and finishes (stream-json)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(
        { kind: "file", path: WireServer.fixture("anthropic/parallel-tool-use-with-text.sse") },
        answer("Named.")
      )
      const run = yield* runInProcess(
        ["-p", "name two pelicans", "--output-format", "stream-json", "--cwd", cwd],
        anthropicEnv(wire.url, cwd)
      )
      expect(run.code).toBe(0)
      const events = run.stdout
        .trim()
        .split("\n")
        .map((line) => decodeEvent(JSON.parse(line)))
      const completed = events.flatMap((e) => (e.type === "tool.completed" ? [e.result] : []))
      expect(completed).toHaveLength(2)
      // The recorded tools do not exist in Sage: each call is answered with an error the model can read.
      for (const r of completed) {
        expect(r.toolName).toBe("pelican_name_generator")
        expect(r.status).toBe("error")
      }
      const ended = events.find((e) => e.type === "turn.ended")
      expect(ended).toMatchObject({ stopReason: "end_turn", steps: 2, text: "Named." })
      const second = wire.requests[1]?.body as { messages: ReadonlyArray<{ content: unknown }> }
      expect(JSON.stringify(second.messages)).toContain("tool_result")
    })
  )

  it.live("runs real tools in text mode: answer on stdout, tool calls on stderr; prompt from stdin", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      fs.writeFileSync(path.join(cwd, "notes.txt"), "alpha\nbeta\n")
      wire.enqueue(
        callTools([{ id: "r1", name: "Read", input: { file_path: "notes.txt" } }]),
        answer("Two lines.\u001b[31m")
      )
      const run = yield* runInProcess(["-p", "--cwd", cwd], anthropicEnv(wire.url, cwd), { stdin: "how many lines?" })
      expect(run.code).toBe(0)
      expect(run.stdout).toBe("Two lines.\n")
      expect(run.stderr).toContain("Read(notes.txt)")
      expect(run.stderr).toContain("#1 Read")
      const first = wire.requests[0]?.body as { messages: ReadonlyArray<{ content: unknown }> }
      expect(JSON.stringify(first.messages)).toContain("how many lines?")
    })
  )

  it.live("a prompt argument plus piped stdin: stdin is appended to the prompt as context", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(answer("Looks fine."))
      const run = yield* runInProcess(["-p", "review this diff", "--cwd", cwd], anthropicEnv(wire.url, cwd), {
        stdin: "--- a/x\n+++ b/x\n"
      })
      expect(run.code).toBe(0)
      const sent = JSON.stringify(wire.requests[0]?.body)
      expect(sent).toContain("review this diff")
      expect(sent).toContain("+++ b/x")
      expect(composePrompt("review", "diff\n\n")).toBe("review\n\n<stdin>\ndiff\n</stdin>")
      expect(composePrompt(undefined, "just stdin\n")).toBe("just stdin")
      expect(composePrompt("just arg", " \n")).toBe("just arg")
    })
  )

  it.live("SAGE_PROVIDER=openai talks Chat Completions to OPENAI_BASE_URL and runs a tool", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      fs.writeFileSync(path.join(cwd, "a.txt"), "x\n")
      wire.enqueue(
        {
          kind: "stream",
          chunks: openaiSse([
            { toolCall: { index: 0, id: "call_1", name: "Read", args: '{"file_path":"a.txt"}' } },
            { finish: "tool_calls" }
          ])
        },
        { kind: "stream", chunks: openaiSse([{ text: "One line." }, { finish: "stop" }]) }
      )
      const env = {
        ...baseEnv(),
        HOME: cwd,
        SAGE_PROVIDER: "openai",
        SAGE_MODEL: "gpt-test",
        OPENAI_API_KEY: "sk-test",
        OPENAI_BASE_URL: `${wire.url}/v1`
      }
      const run = yield* runInProcess(["-p", "count", "--cwd", cwd], env)
      expect(run.stderr).toContain("Read(a.txt)")
      expect(run.code).toBe(0)
      expect(run.stdout).toBe("One line.\n")
      expect(wire.requests[0]?.path).toBe("/v1/chat/completions")
      expect(wire.requests[0]?.body).toMatchObject({ model: "gpt-test", stream: true })
    })
  )

  it.live("without bubblewrap, --sandbox auto runs the command and warns in one plain line", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const bin = yield* tempDir
      for (const tool of ["bash", "sh"]) fs.symlinkSync(execPathOf(tool), path.join(bin, tool))
      wire.enqueue(callTools([{ id: "b", name: "Bash", input: { command: "echo hi > out.txt" } }]), answer("done"))
      const env = { ...anthropicEnv(wire.url, cwd), PATH: bin }
      const run = yield* runInProcess(["-p", "go", "--permission-mode", "bypassPermissions", "--cwd", cwd], env)
      expect(run.code).toBe(0)
      expect(fs.readFileSync(path.join(cwd, "out.txt"), "utf8")).toBe("hi\n")
      expect(run.stderr).toContain(
        "sage: warn: commands run without an OS sandbox: bwrap (bubblewrap) is not on PATH\n"
      )
      wire.enqueue(callTools([{ id: "b2", name: "Bash", input: { command: "echo again" } }]), answer("done"))
      const required = yield* runInProcess(
        ["-p", "go", "--permission-mode", "bypassPermissions", "--sandbox", "require", "--cwd", cwd],
        env
      )
      expect(required.code).toBe(0)
      // The error is shown whole, with its hint (it used to be cut at 160 characters).
      expect(required.stderr).toContain("#1 Bash error")
      expect(required.stderr).toContain("The OS sandbox is required but unavailable")
      expect(required.stderr).toContain("or run with --sandbox off.")
    })
  )

  it.live("json output prints one result object with v", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(answer("hello"))
      const run = yield* runInProcess(
        ["-p", "hi", "--output-format", "json", "--cwd", cwd],
        anthropicEnv(wire.url, cwd)
      )
      expect(run.code).toBe(0)
      expect(JSON.parse(run.stdout)).toMatchObject({
        type: "result",
        v: 1,
        status: "done",
        text: "hello",
        stopReason: "end_turn",
        steps: 1
      })
    })
  )

  it.live("json output on a failed run still prints the result object, with the error and v; exit 1", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue({
        kind: "error",
        status: 404,
        body: { type: "error", error: { type: "not_found_error", message: "model: claude-test" } }
      })
      const run = yield* runInProcess(
        ["-p", "hi", "--output-format", "json", "--cwd", cwd],
        anthropicEnv(wire.url, cwd)
      )
      expect(run.code).toBe(1)
      const result = JSON.parse(run.stdout)
      expect(result).toMatchObject({ type: "result", v: 1, status: "failed", error: { tag: "ModelNotFoundError" } })
      expect(typeof result.sessionId).toBe("string")
      expect(run.stderr.trim().split("\n")).toHaveLength(1)
      // A failure before any session (no key) is a result object too.
      const noKey = yield* runInProcess(["-p", "hi", "--output-format", "json", "--cwd", cwd], {
        ...baseEnv(),
        HOME: cwd,
        ANTHROPIC_BASE_URL: "http://127.0.0.1:9"
      })
      expect(noKey.code).toBe(1)
      expect(JSON.parse(noKey.stdout)).toMatchObject({ type: "result", v: 1, status: "failed", stopReason: "error" })
    })
  )

  it.live("--max-steps stops the turn and says so; system prompt flags reach the model request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      fs.writeFileSync(path.join(cwd, "a.txt"), "x\n")
      wire.enqueue(callTools([{ id: "r1", name: "Read", input: { file_path: "a.txt" } }]))
      const run = yield* runInProcess(
        [
          "-p",
          "go",
          "--max-steps",
          "1",
          "--cwd",
          cwd,
          "--system-prompt",
          "You are a pelican.",
          "--append-system-prompt",
          "Always answer in haiku."
        ],
        anthropicEnv(wire.url, cwd)
      )
      expect(run.code).toBe(0)
      expect(run.stderr).toContain("sage: stopped after 1 steps (--max-steps)")
      expect(wire.requests).toHaveLength(1)
      const system = JSON.stringify((wire.requests[0]?.body as { system?: unknown } | undefined)?.system)
      expect(system).toContain("You are a pelican.")
      expect(system).toContain("Always answer in haiku.")
    })
  )

  it.live("headless: a command that needs approval is denied with the flag that would allow it", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(callTools([{ id: "b1", name: "Bash", input: { command: "touch made-it" } }]), answer("ok"))
      const run = yield* runInProcess(
        ["-p", "touch", "--output-format", "stream-json", "--cwd", cwd],
        anthropicEnv(wire.url, cwd)
      )
      expect(run.code).toBe(0)
      expect(fs.existsSync(path.join(cwd, "made-it"))).toBe(false)
      const events = jsonLines(run.stdout)
      const result = events.find((e) => e.type === "tool.completed")?.result as { status: string; output: unknown }
      expect(result.status).toBe("denied")
      expect(JSON.stringify(result.output)).toContain("--allowed-tools")
    })
  )

  it.live("on a terminal, a call that needs approval is asked inline and the answer is used", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(callTools([{ id: "b1", name: "Bash", input: { command: "touch made-it" } }]), answer("ok"))
      const stderr = new Capture({ isTTY: true })
      let stdin: PassThrough | undefined
      const running = yield* Effect.forkChild(
        runInProcess(["-p", "touch", "--sandbox", "off", "--cwd", cwd], anthropicEnv(wire.url, cwd), {
          stdinTTY: true,
          stderr,
          onStdin: (s) => {
            stdin = s
          }
        })
      )
      expect(yield* waitFor(() => stderr.text.includes("Allow?"))).toBe(true)
      stdin?.write("y\n")
      const run = yield* Fiber.join(running)
      expect(run.code).toBe(0)
      expect(fs.existsSync(path.join(cwd, "made-it"))).toBe(true)
      expect(run.stderr).toContain("Bash")
    })
  )

  it.live("text mode shows the whole denial with its hint, numbered per call", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(
        callTools([
          { id: "b1", name: "Bash", input: { command: "touch one" } },
          { id: "b2", name: "Bash", input: { command: "touch two" } }
        ]),
        answer("ok")
      )
      const run = yield* runInProcess(["-p", "touch", "--cwd", cwd], anthropicEnv(wire.url, cwd))
      expect(run.code).toBe(0)
      expect(run.stderr).toContain("> #1 Bash(touch one)")
      expect(run.stderr).toContain("> #2 Bash(touch two)")
      expect(run.stderr).toMatch(/#1 Bash denied/)
      expect(run.stderr).toMatch(/#2 Bash denied/)
      expect(run.stderr).toContain("--allowed-tools")
    })
  )

  it.live("a missing key or an unreachable provider is one clear line and exit 1", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const noKey = yield* runInProcess(["-p", "hi", "--cwd", home], {
        ...baseEnv(),
        HOME: home,
        ANTHROPIC_BASE_URL: "http://127.0.0.1:9"
      })
      expect(noKey.code).toBe(1)
      expect(noKey.stderr).toContain("ANTHROPIC_API_KEY")
      expect(noKey.stderr.trim().split("\n")).toHaveLength(1)
      const unreachable = yield* runInProcess(["-p", "hi", "--provider", "openai", "--cwd", home], {
        ...baseEnv(),
        HOME: home,
        OPENAI_API_KEY: "sk-test",
        OPENAI_BASE_URL: "http://127.0.0.1:9/v1"
      })
      expect(unreachable.code).toBe(1)
      expect(unreachable.stdout).toBe("")
      // Connection failures are retried (each wait announced on its own line), then one line says what failed.
      const lines = unreachable.stderr.trim().split("\n")
      expect(lines.at(-1)).toContain("could not reach")
      expect(lines.slice(0, -1).every((l) => l.includes("retrying in"))).toBe(true)
      expect(unreachable.stderr).not.toContain("    at ")
    })
  )

  it.live("a provider failure in stream-json mode ends with the failed event, one stderr line and exit 1", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue({
        kind: "error",
        status: 404,
        body: { type: "error", error: { type: "not_found_error", message: "model: claude-test" } }
      })
      const run = yield* runInProcess(
        ["-p", "hi", "--output-format", "stream-json", "--cwd", cwd],
        anthropicEnv(wire.url, cwd)
      )
      expect(run.code).toBe(1)
      const events = jsonLines(run.stdout)
      expect(events.at(-1)).toMatchObject({ type: "failed", error: { tag: "ModelNotFoundError" } })
      expect(run.stderr.trim().split("\n")).toHaveLength(1)
      expect(run.stderr).toContain("model claude-test not found")
    })
  )

  it.live("a signal interrupts the turn (request aborted, exit 130); a second one forces the exit", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(hang({ steps: [{ text: ["thinking about it"] }], noEnd: true }))
      const aborted = wire.nextClientAbort()
      let send: ((signal: string) => void) | undefined
      const running = yield* Effect.forkChild(
        runInProcess(["-p", "long task", "--output-format", "json", "--cwd", cwd], anthropicEnv(wire.url, cwd), {
          onSignals: (s) => {
            send = s
          }
        })
      )
      expect(yield* waitFor(() => wire.requests.length > 0)).toBe(true)
      yield* realSleep(100)
      send?.("SIGTERM")
      yield* Effect.promise(() => aborted)
      const run = yield* Fiber.join(running)
      expect(run.code).toBe(130)
      expect(JSON.parse(run.stdout)).toMatchObject({ type: "result", v: 1, status: "interrupted" })
      send?.("SIGINT")
      expect(run.forced).toEqual([])
    })
  )

  it.live("a signal while stdin is still open stops the run (130)", () =>
    Effect.gen(function* () {
      let send: ((signal: string) => void) | undefined
      const running = yield* Effect.forkChild(
        runInProcess(["-p"], baseEnv(), {
          keepStdinOpen: true,
          onSignals: (s) => {
            send = s
          }
        })
      )
      expect(yield* waitFor(() => send !== undefined)).toBe(true)
      send?.("SIGHUP")
      const run = yield* Fiber.join(running)
      expect(run.code).toBe(130)
      expect(run.forced).toEqual([])
    })
  )

  it.live("a second signal during the kill grace forces the exit; the first still runs every finalizer", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const pidFile = path.join(cwd, "pids")
      wire.enqueue(
        callTools([
          { id: "b1", name: "Bash", input: { command: `trap '' TERM; sleep 120 & echo "$$ $!" > ${pidFile}; wait` } }
        ]),
        answer("never")
      )
      let send: ((signal: string) => void) | undefined
      const forced: Array<number> = []
      const running = yield* Effect.forkChild(
        runInProcess(
          ["-p", "go", "--permission-mode", "bypassPermissions", "--sandbox", "off", "--cwd", cwd],
          anthropicEnv(wire.url, cwd),
          {
            onSignals: (s) => {
              send = s
            },
            forceExit: (code) => forced.push(code)
          }
        )
      )
      const pids = () =>
        fs.existsSync(pidFile) ? fs.readFileSync(pidFile, "utf8").trim().split(/\s+/).filter(Boolean).map(Number) : []
      expect(yield* waitFor(() => pids().length === 2)).toBe(true)
      const started = pids()
      send?.("SIGINT")
      yield* realSleep(100)
      send?.("SIGINT")
      expect(forced).toEqual([130])
      // In-process the forced exit is only recorded: the first interrupt goes on and kills the group after the grace.
      const run = yield* Fiber.join(running)
      expect(run.code).toBe(130)
      expect(run.stderr).toContain("sage: interrupted")
      for (const pid of started) expect(yield* waitFor(() => !isAlive(pid), 3000)).toBe(true)
    })
  )

  it.live("a closed stdout (EPIPE) ends the run quietly with exit 0", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(hang({ steps: [{ text: ["a long answer ", "that keeps ", "coming"] }], noEnd: true }))
      const stdout = new Capture()
      stdout.closeAfter = 3
      const aborted = wire.nextClientAbort()
      const run = yield* runInProcess(["-p", "hi", "--cwd", cwd], anthropicEnv(wire.url, cwd), { stdout })
      yield* Effect.promise(() => aborted)
      expect(run.code).toBe(0)
      expect(run.stderr).toBe("")
    })
  )

  it.live("permissions check prints the decision first, then the rule and its file", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      fs.mkdirSync(path.join(cwd, ".sage"))
      fs.writeFileSync(
        path.join(cwd, ".sage", "settings.json"),
        JSON.stringify({ permissions: { allow: ["Bash(npm test:*)"], deny: ["Bash(rm:*)"] } })
      )
      const env = { ...baseEnv(), HOME: cwd }
      const allow = yield* runInProcess(
        ["permissions", "check", "Bash", '{"command":"npm test -- --watch"}', "--cwd", cwd],
        env
      )
      expect(allow.code).toBe(0)
      expect(allow.stdout.split(" ")[0]).toBe("allow")
      expect(allow.stdout).toContain("settings.json")
      const deny = yield* runInProcess(
        ["permissions", "check", "Bash", '{"command":"npm test && rm -rf /"}', "--cwd", cwd],
        env
      )
      expect(deny.stdout.split(" ")[0]).toBe("deny")
      const ask = yield* runInProcess(
        ["permissions", "check", "Bash", '{"command":"curl example.com"}', "--cwd", cwd],
        env
      )
      expect(ask.stdout.split(" ")[0]).toBe("ask")
      expect(ask.code).toBe(0)
      const read = yield* runInProcess(["permissions", "check", "Read", '{"file_path":"x"}', "--cwd", cwd], env)
      expect(read.stdout.split(" ")[0]).toBe("allow")
      const badJson = yield* runInProcess(["permissions", "check", "Bash", "{nope", "--cwd", cwd], env)
      expect(badJson.code).toBe(2)
      expect(badJson.stderr).toContain("not valid JSON")
      fs.writeFileSync(path.join(cwd, ".sage", "settings.json"), '{ "permissions": { "allow": [1] } }')
      const broken = yield* runInProcess(["permissions", "check", "Bash", "{}", "--cwd", cwd], env)
      expect(broken.code).toBe(1)
      expect(broken.stderr).toContain("settings.json")
      expect(broken.stderr.trim().split("\n")).toHaveLength(1)
    })
  )

  it.live("errors are described in one line; output waits for drain and drops writes after a failure", () =>
    Effect.gen(function* () {
      expect(describeError(new Error("first\nsecond"))).toBe("first")
      expect(describeError({ _tag: "ConfigError", message: "no key" })).toBe("ConfigError: no key")
      expect(describeError("plain")).toBe("plain")
      const slow = new Capture()
      slow.cork()
      const out = makeOutput(slow)
      const writing = yield* Effect.forkChild(out.write("x".repeat(100_000)))
      yield* realSleep(10)
      slow.uncork()
      yield* Fiber.join(writing)
      expect(slow.text).toHaveLength(100_000)
      const broken = new Capture()
      broken.closeAfter = 0
      const sink = makeOutput(broken)
      let closed = 0
      sink.onClosed(() => closed++)
      yield* sink.write("a")
      yield* realSleep(10)
      yield* sink.write("b")
      sink.writeNow("c")
      expect(sink.closed()).toBe(true)
      expect(closed).toBe(1)
    })
  )
})
