/** End-to-end: spawn the built `sage` binary against a local Anthropic-wire server and read what it prints. */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { VERSION } from "../../src/cli/version.js"
import { AgentEvent } from "../../src/streams/AgentEvent.js"
import { answer, callTools, hang, realSleep, tempDir } from "../agent/harness.js"
import { openaiSse } from "../support/openaiSse.js"
import * as WireServer from "../support/WireServer.js"

const bin = path.resolve(import.meta.dirname, "../../dist/bin.js")

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const baseEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME }
  return env
}

const sage = (
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  options: { stdin?: string; onSpawn?: (child: ChildProcess) => void } = {}
) =>
  Effect.async<Run>((resume) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => {
      stdout += d
    })
    child.stderr.on("data", (d) => {
      stderr += d
    })
    child.on("exit", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    if (options.stdin !== undefined) child.stdin.end(options.stdin)
    else child.stdin.end()
    options.onSpawn?.(child)
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const anthropicEnv = (url: string, home: string): NodeJS.ProcessEnv => ({
  ...baseEnv(),
  HOME: home,
  ANTHROPIC_API_KEY: "sk-ant-cli-test",
  ANTHROPIC_BASE_URL: url,
  SAGE_MODEL: "claude-test"
})

/** The absolute path of an executable on this machine's PATH. */
const execPathOf = (name: string): string => {
  const dir = (process.env.PATH ?? "").split(":").find((d) => fs.existsSync(path.join(d, name)))
  if (dir === undefined) throw new Error(`${name} is not on PATH`)
  return path.join(dir, name)
}

const decodeEvent = Schema.decodeUnknownSync(AgentEvent)

describe("sage CLI", () => {
  it.effect("prints its version and help", () =>
    Effect.gen(function* () {
      const version = yield* sage(["--version"], baseEnv())
      expect(version.code).toBe(0)
      expect(version.stdout.trim()).toBe(VERSION)
      const pkg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "../../package.json"), "utf8"))
      expect(VERSION).toBe(pkg.version)
      const help = yield* sage(["--help"], baseEnv())
      expect(help.code).toBe(0)
      for (const flag of [
        "--print",
        "--provider",
        "--model",
        "--output-format",
        "--max-steps",
        "--permission-mode",
        "--allowed-tools",
        "--cwd"
      ])
        expect(help.stdout).toContain(flag)
    })
  )

  it.scopedLive("replays a recorded parallel-tool-call stream, answers both calls and finishes (stream-json)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(
        { kind: "file", path: WireServer.fixture("anthropic/parallel-tool-use-with-text.sse") },
        answer("Named.")
      )
      const run = yield* sage(
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
      const second = wire.requests[1]!.body as { messages: ReadonlyArray<{ content: unknown }> }
      expect(JSON.stringify(second.messages)).toContain("tool_result")
    })
  )

  it.scopedLive("runs real tools in text mode: answer on stdout, tool calls on stderr; prompt from stdin", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      fs.writeFileSync(path.join(cwd, "notes.txt"), "alpha\nbeta\n")
      wire.enqueue(
        callTools([{ id: "r1", name: "Read", input: { file_path: "notes.txt" } }]),
        answer("Two lines.\u001b[31m")
      )
      const run = yield* sage(["-p", "--cwd", cwd], anthropicEnv(wire.url, cwd), { stdin: "how many lines?" })
      expect(run.code).toBe(0)
      expect(run.stdout).toBe("Two lines.\n")
      expect(run.stderr).toContain("Read(notes.txt)")
      const first = wire.requests[0]!.body as { messages: ReadonlyArray<{ content: unknown }> }
      expect(JSON.stringify(first.messages)).toContain("how many lines?")
    })
  )

  it.scopedLive("SAGE_PROVIDER=openai talks Chat Completions to OPENAI_BASE_URL and runs a tool", () =>
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
      const run = yield* sage(["-p", "count", "--cwd", cwd], env)
      expect(run.stderr).toContain("Read(a.txt)")
      expect(run.code).toBe(0)
      expect(run.stdout).toBe("One line.\n")
      expect(wire.requests[0]!.path).toBe("/v1/chat/completions")
      expect(wire.requests[0]!.body).toMatchObject({ model: "gpt-test", stream: true })
    })
  )

  it.scopedLive("without bubblewrap, --sandbox auto runs the command and warns in one plain line", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const bin = yield* tempDir
      for (const tool of ["bash", "sh"]) fs.symlinkSync(execPathOf(tool), path.join(bin, tool))
      wire.enqueue(callTools([{ id: "b", name: "Bash", input: { command: "echo hi > out.txt" } }]), answer("done"))
      const env = { ...anthropicEnv(wire.url, cwd), PATH: bin }
      const run = yield* sage(["-p", "go", "--permission-mode", "bypassPermissions", "--cwd", cwd], env)
      expect(run.code).toBe(0)
      expect(fs.readFileSync(path.join(cwd, "out.txt"), "utf8")).toBe("hi\n")
      expect(run.stderr).toContain(
        "sage: warn: commands run without an OS sandbox: bwrap (bubblewrap) is not on PATH\n"
      )
      wire.enqueue(callTools([{ id: "b2", name: "Bash", input: { command: "echo again" } }]), answer("done"))
      const required = yield* sage(
        ["-p", "go", "--permission-mode", "bypassPermissions", "--sandbox", "require", "--cwd", cwd],
        env
      )
      expect(required.code).toBe(0)
      expect(required.stderr).toContain("error: The OS sandbox is required but unavailable")
    })
  )

  it.scopedLive("json output prints one result object", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(answer("hello"))
      const run = yield* sage(["-p", "hi", "--output-format", "json", "--cwd", cwd], anthropicEnv(wire.url, cwd))
      expect(run.code).toBe(0)
      expect(JSON.parse(run.stdout)).toMatchObject({ type: "result", text: "hello", stopReason: "end_turn", steps: 1 })
    })
  )

  it.scopedLive("headless: a command that needs approval is denied with the flag that would allow it", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(callTools([{ id: "b1", name: "Bash", input: { command: "touch made-it" } }]), answer("ok"))
      const run = yield* sage(
        ["-p", "touch", "--output-format", "stream-json", "--cwd", cwd],
        anthropicEnv(wire.url, cwd)
      )
      expect(run.code).toBe(0)
      expect(fs.existsSync(path.join(cwd, "made-it"))).toBe(false)
      const events = run.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
      const result = events.find((e) => e.type === "tool.completed").result
      expect(result.status).toBe("denied")
      expect(JSON.stringify(result.output)).toContain("--allowed-tools")
    })
  )

  it.effect("a missing key or an unreachable provider is one clear line and exit 1", () =>
    Effect.gen(function* () {
      const noKey = yield* sage(["-p", "hi"], { ...baseEnv(), ANTHROPIC_BASE_URL: "http://127.0.0.1:9" })
      expect(noKey.code).toBe(1)
      expect(noKey.stderr).toContain("ANTHROPIC_API_KEY")
      expect(noKey.stderr.trim().split("\n")).toHaveLength(1)
      const unreachable = yield* sage(["-p", "hi", "--provider", "openai"], {
        ...baseEnv(),
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

  it.scopedLive("a provider failure in stream-json mode ends with the failed event, one stderr line and exit 1", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue({
        kind: "error",
        status: 404,
        body: { type: "error", error: { type: "not_found_error", message: "model: claude-test" } }
      })
      const run = yield* sage(["-p", "hi", "--output-format", "stream-json", "--cwd", cwd], anthropicEnv(wire.url, cwd))
      expect(run.code).toBe(1)
      const events = run.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
      expect(events.at(-1)).toMatchObject({ type: "failed", error: { tag: "ModelNotFoundError" } })
      expect(run.stderr.trim().split("\n")).toHaveLength(1)
      expect(run.stderr).toContain("model claude-test not found")
    })
  )

  it.scopedLive("Ctrl-C interrupts the turn: the request is aborted and the exit code is 130", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(hang({ steps: [{ text: ["thinking about it"] }], noEnd: true }))
      const aborted = wire.nextClientAbort()
      let child: ChildProcess | undefined
      const running = yield* Effect.fork(
        sage(["-p", "long task", "--output-format", "stream-json", "--cwd", cwd], anthropicEnv(wire.url, cwd), {
          onSpawn: (c) => {
            child = c
          }
        })
      )
      while (wire.requests.length === 0) yield* realSleep(20)
      yield* realSleep(200)
      child!.kill("SIGINT")
      yield* Effect.promise(() => aborted)
      const run = yield* running.await.pipe(Effect.flatten)
      expect(run.code).toBe(130)
      const events = run.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
      expect(events.at(-1).type).toBe("interrupted")
    })
  )

  it.scopedLive("permissions check prints the decision first, then the rule and its file", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      fs.mkdirSync(path.join(cwd, ".sage"))
      fs.writeFileSync(
        path.join(cwd, ".sage", "settings.json"),
        JSON.stringify({ permissions: { allow: ["Bash(npm test:*)"], deny: ["Bash(rm:*)"] } })
      )
      const env = { ...baseEnv(), HOME: cwd }
      const allow = yield* sage(
        ["permissions", "check", "Bash", '{"command":"npm test -- --watch"}', "--cwd", cwd],
        env
      )
      expect(allow.code).toBe(0)
      expect(allow.stdout.split(" ")[0]).toBe("allow")
      expect(allow.stdout).toContain("settings.json")
      const deny = yield* sage(
        ["permissions", "check", "Bash", '{"command":"npm test && rm -rf /"}', "--cwd", cwd],
        env
      )
      expect(deny.stdout.split(" ")[0]).toBe("deny")
      const ask = yield* sage(["permissions", "check", "Bash", '{"command":"curl example.com"}', "--cwd", cwd], env)
      expect(ask.stdout.split(" ")[0]).toBe("ask")
      expect(ask.code).toBe(0)
    })
  )
})
