/**
 * Sessions through the CLI (in-process `runCli` against the scripted Anthropic-wire server): `-p` saves a session,
 * `-c` and `-r ID` continue it (the model sees the earlier messages), `--fork-session` makes a new log and leaves
 * the original alone, `--no-session-persistence` writes nothing, and `sage sessions list|show|export|delete`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import type { PassThrough } from "node:stream"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { parseArgs, UsageError } from "../../src/cli/Args.js"
import * as WireServer from "../support/WireServer.js"
import { answer, anthropicEnv, Capture, callTools, runInProcess, tempDir, waitFor } from "../cli/support.js"

const sessionsDir = (home: string) => path.join(home, ".sage", "sessions")
const logs = (home: string): ReadonlyArray<string> =>
  fs.existsSync(sessionsDir(home))
    ? fs
        .readdirSync(sessionsDir(home))
        .filter((f) => f.endsWith(".jsonl"))
        .sort()
    : []
const records = (home: string, id: string): ReadonlyArray<Record<string, unknown>> =>
  fs
    .readFileSync(path.join(sessionsDir(home), `${id}.jsonl`), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))

/** The texts of a recorded request's messages, in order (tool results as `result:...`). */
const texts = (body: unknown): ReadonlyArray<string> => {
  if (typeof body !== "object" || body === null || !("messages" in body) || !Array.isArray(body.messages)) return []
  return body.messages.flatMap((m: { content: unknown }) =>
    typeof m.content === "string"
      ? [m.content]
      : Array.isArray(m.content)
        ? m.content.map((b: Record<string, unknown>) =>
            b.type === "text"
              ? String(b.text)
              : b.type === "tool_result"
                ? `result:${JSON.stringify(b.content)}`
                : `${String(b.type)}`
          )
        : []
  )
}

const json = (stdout: string): Record<string, unknown> => JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}")

describe("sessions in the CLI", () => {
  it.live("-p saves a session; -c continues it with the earlier messages; -r ID too; the list shows it", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* WireServer.make
        const cwd = yield* tempDir
        const home = yield* tempDir
        fs.writeFileSync(path.join(cwd, "a.txt"), "alpha\n")
        const env = anthropicEnv(server.url, home)
        server.enqueue(callTools([{ id: "c1", name: "Read", input: { file_path: "a.txt" } }]), answer("It says alpha."))
        const first = yield* runInProcess(["-p", "What is in a.txt?", "--output-format", "json"], env, { cwd })
        expect(first.code).toBe(0)
        const id = String(json(first.stdout).sessionId)
        expect(logs(home)).toEqual([`${id}.jsonl`])
        const types = records(home, id).map((r) => r.type)
        expect(types[0]).toBe("session")
        expect(types[1]).toBe("session.started")
        expect(types).toContain("tool.completed")
        expect(types).toContain("turn.ended")
        expect(types.at(-1)).toBe("session.ended")

        server.enqueue(answer("You asked about a.txt."))
        const second = yield* runInProcess(["-p", "-c", "What did I ask?", "--output-format", "json"], env, { cwd })
        expect(second.code).toBe(0)
        expect(json(second.stdout).sessionId).toBe(id)
        const sent = texts(server.requests[2]?.body)
        expect(sent[0]).toBe("What is in a.txt?")
        expect(sent.some((t) => t.startsWith("result:") && t.includes("alpha"))).toBe(true)
        expect(sent).toContain("It says alpha.")
        expect(sent.at(-1)).toBe("What did I ask?")

        server.enqueue(answer("third"))
        const third = yield* runInProcess(["-p", "-r", id, "and now?", "--output-format", "json"], env, { cwd })
        expect(third.code).toBe(0)
        expect(texts(server.requests[3]?.body)).toContain("You asked about a.txt.")
        expect(logs(home)).toHaveLength(1)

        const list = yield* runInProcess(["sessions", "list"], env, { cwd })
        expect(list.code).toBe(0)
        expect(list.stdout).toContain(id)
        expect(list.stdout).toContain("3 turns")
        expect(list.stdout).toContain("What is in a.txt?")
      })
    )
  )

  it.live("--fork-session writes a new log naming its parent and leaves the original untouched", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* WireServer.make
        const cwd = yield* tempDir
        const home = yield* tempDir
        const env = anthropicEnv(server.url, home)
        server.enqueue(answer("one"))
        const first = yield* runInProcess(["-p", "first", "--output-format", "json"], env, { cwd })
        const id = String(json(first.stdout).sessionId)
        const before = fs.readFileSync(path.join(sessionsDir(home), `${id}.jsonl`), "utf8")
        server.enqueue(answer("two"))
        const forked = yield* runInProcess(
          ["-p", "-r", id, "--fork-session", "--session-id", "my-fork", "second", "--output-format", "json"],
          env,
          { cwd }
        )
        expect(forked.code).toBe(0)
        expect(json(forked.stdout).sessionId).toBe("my-fork")
        expect(fs.readFileSync(path.join(sessionsDir(home), `${id}.jsonl`), "utf8")).toBe(before)
        expect(records(home, "my-fork")[0]).toMatchObject({ type: "session", id: "my-fork", parentSessionId: id })
        expect(texts(server.requests[1]?.body)).toEqual(["first", "one", "second"])
        // --session-id of an existing session without resuming it: a clear error.
        const taken = yield* runInProcess(["-p", "--session-id", "my-fork", "x"], env, { cwd })
        expect(taken.code).toBe(1)
        expect(taken.stderr).toContain("SessionExists")
      })
    )
  )

  it.live(
    "--no-session-persistence writes nothing; -r of an unknown id is SessionNotFound; -r without id off a terminal is a clear error",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const server = yield* WireServer.make
          const cwd = yield* tempDir
          const home = yield* tempDir
          const env = anthropicEnv(server.url, home)
          server.enqueue(answer("ok"))
          const run = yield* runInProcess(["-p", "hi", "--no-session-persistence"], env, { cwd })
          expect(run.code).toBe(0)
          expect(logs(home)).toEqual([])
          const missing = yield* runInProcess(["-p", "-r", "nope", "hi"], env, { cwd })
          expect(missing.code).toBe(1)
          expect(missing.stderr).toContain("SessionNotFound")
          const noId = yield* runInProcess(["-p", "-r", "--output-format", "text", "hi there"], env, { cwd })
          expect(noId.code).toBe(1)
          expect(noId.stderr).toContain("--resume needs a session id when not on a terminal")
          expect(server.requests).toHaveLength(1)
        })
      )
  )

  it.live("sessions show, export (jsonl and markdown) and delete", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* WireServer.make
        const cwd = yield* tempDir
        const home = yield* tempDir
        const env = anthropicEnv(server.url, home)
        server.enqueue(answer("The answer."))
        const first = yield* runInProcess(["-p", "A question", "--session-id", "s-1"], env, { cwd })
        expect(first.code).toBe(0)
        const show = yield* runInProcess(["sessions", "show", "s-1"], env, { cwd })
        expect(show.stdout).toContain("title       A question")
        expect(show.stdout).toContain("turns       1")
        const jsonl = yield* runInProcess(["sessions", "export", "s-1"], env, { cwd })
        expect(jsonl.stdout).toBe(fs.readFileSync(path.join(sessionsDir(home), "s-1.jsonl"), "utf8"))
        const md = yield* runInProcess(["sessions", "export", "s-1", "--format", "markdown"], env, { cwd })
        expect(md.stdout).toContain("# A question")
        expect(md.stdout).toContain("## Assistant\n\nThe answer.")
        const del = yield* runInProcess(["sessions", "delete", "s-1"], env, { cwd })
        expect(del.code).toBe(0)
        expect(logs(home)).toEqual([])
        const again = yield* runInProcess(["sessions", "show", "s-1"], env, { cwd })
        expect(again.code).toBe(1)
        expect(again.stderr).toContain("SessionNotFound")
      })
    )
  )

  it.live("an answer 'for this session' is kept in the log and allows again on resume, without a terminal", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* WireServer.make
        const cwd = yield* tempDir
        const home = yield* tempDir
        const env = anthropicEnv(server.url, home)
        server.enqueue(callTools([{ id: "t1", name: "Bash", input: { command: "touch one" } }]), answer("made one"))
        const stderr = new Capture({ isTTY: true })
        let stdin: PassThrough | undefined
        const running = yield* Effect.forkChild(
          runInProcess(["-p", "make one", "--session-id", "g1", "--sandbox", "off"], env, {
            cwd,
            stdinTTY: true,
            stderr,
            onStdin: (s) => {
              stdin = s
            }
          })
        )
        expect(yield* waitFor(() => stderr.text.includes("Allow?"))).toBe(true)
        expect(stderr.text).toContain("[s]ession")
        stdin?.write("s\n")
        expect((yield* Fiber.join(running)).code).toBe(0)
        expect(fs.existsSync(path.join(cwd, "one"))).toBe(true)
        const resolved = records(home, "g1").find((r) => r.type === "permission.resolved")
        expect(resolved).toMatchObject({ source: "user:session", rule: expect.stringContaining("touch") })

        // Resumed without a terminal (an ask would be denied): the grant (`Bash(touch one:*)`) allows it again.
        server.enqueue(callTools([{ id: "t2", name: "Bash", input: { command: "touch one two" } }]), answer("made two"))
        const again = yield* runInProcess(["-p", "-r", "g1", "make two", "--sandbox", "off"], env, { cwd })
        expect(again.code).toBe(0)
        expect(fs.existsSync(path.join(cwd, "two"))).toBe(true)
        // A new session does not have it.
        server.enqueue(callTools([{ id: "t3", name: "Bash", input: { command: "touch one three" } }]), answer("no"))
        const fresh = yield* runInProcess(["-p", "make three", "--sandbox", "off"], env, { cwd })
        expect(fresh.code).toBe(0)
        expect(fs.existsSync(path.join(cwd, "three"))).toBe(false)
      })
    )
  )

  it.live("-r without an id on a terminal lists the sessions and resumes the one picked", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* WireServer.make
        const cwd = yield* tempDir
        const home = yield* tempDir
        const env = anthropicEnv(server.url, home)
        server.enqueue(answer("one"), answer("two"))
        yield* runInProcess(["-p", "older one", "--session-id", "pick-a"], env, { cwd })
        yield* runInProcess(["-p", "newer one", "--session-id", "pick-b"], env, { cwd })
        const stderr = new Capture({ isTTY: true })
        let stdin: PassThrough | undefined
        const running = yield* Effect.forkChild(
          runInProcess(["-p", "-r", "which one was it?", "--output-format", "json"], env, {
            cwd,
            stdinTTY: true,
            stderr,
            onStdin: (s) => {
              stdin = s
            }
          })
        )
        expect(yield* waitFor(() => stderr.text.includes("Resume which session?"))).toBe(true)
        // Newest first.
        expect(stderr.text.indexOf("pick-b")).toBeLessThan(stderr.text.indexOf("pick-a"))
        server.enqueue(answer("the older"))
        stdin?.write("2\n")
        const run = yield* Fiber.join(running)
        expect(run.code).toBe(0)
        expect(json(run.stdout).sessionId).toBe("pick-a")
        expect(texts(server.requests[2]?.body)).toEqual(["older one", "one", "which one was it?"])
      })
    )
  )

  it("parses the session flags and refuses bad combinations", () => {
    const context = { cwd: "/", env: {}, isDirectory: () => true }
    const run = (argv: ReadonlyArray<string>) => parseArgs(argv, context)
    expect(run(["-p", "-r", "ses_1", "hi"])).toMatchObject({ resume: "ses_1", prompt: "hi" })
    expect(run(["-p", "-r", "fix the bug"])).toMatchObject({ resume: true, prompt: "fix the bug" })
    expect(run(["-p", "-c", "hi"])).toMatchObject({ continue: true, persistSession: true })
    expect(run(["-p", "--no-session-persistence", "hi"])).toMatchObject({ persistSession: false })
    expect(run(["-p", "-c", "-r", "x", "hi"])).toBeInstanceOf(UsageError)
    expect(run(["-p", "--fork-session", "hi"])).toBeInstanceOf(UsageError)
    expect(run(["-p", "--session-id", "../x", "hi"])).toBeInstanceOf(UsageError)
    expect(run(["sessions", "export", "x", "--format", "pdf"])).toBeInstanceOf(UsageError)
    expect(run(["sessions", "show"])).toBeInstanceOf(UsageError)
    expect(run(["sessions", "list"])).toMatchObject({ _tag: "Sessions", action: "list" })
  })
})
