/**
 * The proof that a session never loses a turn: the real `sage` binary (dist/bin.js) runs 50 turns that stream text
 * and run a command, spread over 5 sessions, against the scripted model server, and is killed with SIGKILL at a
 * random moment in many of them. Every run after a kill resumes the session (repairing it). At the end every log
 * loads, a second load finds nothing left to repair, every turn whose process finished is in its log and in the
 * conversation, and every session resumes once more.
 *
 * Also: two real processes writing one session: the second gets `SessionLocked`, and after the first is killed its
 * stale lock is taken over.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodePlatform from "../../src/layers/NodePlatform.js"
import * as SessionStoreLive from "../../src/layers/SessionStoreLive.js"
import { SessionStore } from "../../src/services/SessionStore.js"
import { messageText } from "../../src/streams/Message.js"
import { bin, callTools, hang, realSleep, reply, runInProcess, tempDir } from "../cli/support.js"
import * as WireServer from "../support/WireServer.js"

interface Outcome {
  readonly ms: number
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderr: string
}

/** Runs the binary; SIGKILLs it after `killAfterMs` (when given and it is still running). */
const runBinary = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, cwd: string, killAfterMs?: number) =>
  Effect.callback<Outcome>((resume) => {
    const child: ChildProcess = spawn(process.execPath, [bin, ...args], {
      env,
      cwd,
      stdio: ["ignore", "ignore", "pipe"]
    })
    const t0 = performance.now()
    let stderr = ""
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString("utf8")
    })
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs)
    child.on("close", (code, signal) => {
      if (timer !== undefined) clearTimeout(timer)
      resume(Effect.succeed({ ms: performance.now() - t0, code, signal, stderr }))
    })
    return Effect.sync(() => {
      if (timer !== undefined) clearTimeout(timer)
      child.kill("SIGKILL")
    })
  })

/** The last user text of a request (the turn's prompt), and whether the request answers a tool call. */
const lastUser = (body: unknown): { readonly prompt: string; readonly afterTool: boolean } => {
  const messages: ReadonlyArray<{ role: string; content: unknown }> =
    typeof body === "object" && body !== null && "messages" in body && Array.isArray(body.messages) ? body.messages : []
  const last = messages.at(-1)
  const blocks: ReadonlyArray<Record<string, unknown>> = Array.isArray(last?.content) ? last.content : []
  const afterTool = blocks.some((b) => b.type === "tool_result")
  for (let i = messages.length - 1; i >= 0; i--) {
    const content = messages[i]?.content
    const text = Array.isArray(content)
      ? content.findLast((b: Record<string, unknown>) => b.type === "text" && String(b.text).startsWith("turn "))
      : undefined
    if (messages[i]?.role === "user" && text !== undefined) return { prompt: String(text.text), afterTool }
  }
  return { prompt: "", afterTool }
}

const slow = (chunks: ReadonlyArray<string>, delayMs: number) => chunks.map((data) => ({ data, delayMs }))

describe("crash safety (the real binary, SIGKILL)", () => {
  it.live(
    "kill -9 at random points of 50 turns: every log loads and resumes, 0 completed turns lost, 0 corrupt files",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          expect(fs.existsSync(bin), `${bin} is missing: run npm run build`).toBe(true)
          const server = yield* WireServer.make
          const cwd = yield* tempDir
          const home = yield* tempDir
          const env = {
            PATH: process.env.PATH,
            HOME: home,
            ANTHROPIC_API_KEY: "sk-ant-crash-test",
            ANTHROPIC_BASE_URL: server.url,
            SAGE_MODEL: "claude-test"
          }
          // Each turn: text and a command (streamed slowly), then the command's output is answered with text.
          server.setHandler((request) => {
            const { prompt, afterTool } = lastUser(request.body)
            const n = prompt.replace("turn ", "")
            if (afterTool) {
              const script = reply({ steps: [{ text: ["Done ", "with ", `turn ${n}`, "."] }] })
              return script.kind === "stream" ? { ...script, chunks: slow(script.chunks.map(String), 4) } : script
            }
            const script = callTools(
              [{ id: `call_${n}`, name: "Bash", input: { command: `echo out-${n}` } }],
              `Running ${n}.`
            )
            return script.kind === "stream" ? { ...script, chunks: slow(script.chunks.map(String), 4) } : script
          })
          const sessions = ["crash-0", "crash-1", "crash-2", "crash-3", "crash-4"]
          const started = new Set<string>()
          /** Turns whose process exited 0, by session. */
          const completed = new Map<string, Array<number>>()
          let seed = 20261202
          const random = () => {
            seed = (seed * 1103515245 + 12345) % 2147483648
            return seed / 2147483648
          }
          let killed = 0
          let runMs = 600
          for (let turn = 1; turn <= 50; turn++) {
            const id = sessions[turn % sessions.length] ?? "crash-0"
            const session = started.has(id) ? ["-r", id] : ["--session-id", id]
            started.add(id)
            // About 60% of the runs are killed somewhere between start-up and the end of the turn.
            // The window adapts to how long a whole run takes on this machine (start-up included).
            const kill = random() < 0.6 ? Math.floor(60 + random() * runMs * 1.1) : undefined
            const outcome = yield* runBinary(
              ["-p", ...session, `turn ${turn}`, "--allowed-tools", "Bash", "--sandbox", "off"],
              env,
              cwd,
              kill
            )
            if (outcome.signal === "SIGKILL") killed++
            else {
              runMs = outcome.ms
              expect(outcome.code, outcome.stderr).toBe(0)
              completed.set(id, [...(completed.get(id) ?? []), turn])
            }
          }
          expect(killed).toBeGreaterThan(10)

          const store = yield* Effect.provide(
            SessionStore.use(Effect.succeed),
            SessionStoreLive.layerJsonl({ dir: path.join(home, ".sage", "sessions") }).pipe(
              Layer.provide(NodePlatform.layer)
            )
          )
          let lost = 0
          let corrupt = 0
          for (const id of sessions) {
            const loaded = yield* store.load(id)
            const again = yield* store.load(id)
            if (again.repairs.length > 0) corrupt++
            const prompts = new Set(
              loaded.records.flatMap((r) =>
                r.type === "turn.ended" ? [] : r.type === "turn.started" ? [String(r.prompt)] : []
              )
            )
            const ended = new Set(loaded.records.flatMap((r) => (r.type === "turn.ended" ? [String(r.turnId)] : [])))
            const conversation = loaded.messages.map(messageText).join("\n")
            for (const n of completed.get(id) ?? []) {
              if (!prompts.has(`turn ${n}`) || !conversation.includes(`Done with turn ${n}.`)) lost++
            }
            expect(ended.size).toBeGreaterThanOrEqual((completed.get(id) ?? []).length)
            // The conversation is valid to send: every tool_use is answered by the next message.
            loaded.messages.forEach((m, i) => {
              const uses = m.content.flatMap((b) => (b.type === "tool_use" ? [b.id] : []))
              const next = loaded.messages[i + 1]
              const answered = new Set(next?.content.flatMap((b) => (b.type === "tool_result" ? [b.toolUseId] : [])))
              for (const use of uses) if (!answered.has(use)) corrupt++
            })
            // Every line of the file is readable, or was accounted for by a repair record.
            const text = fs.readFileSync(path.join(home, ".sage", "sessions", `${id}.jsonl`), "utf8")
            const bad = text
              .split("\n")
              .map((line, i) => ({ line, n: i + 1 }))
              .filter(({ line }) => {
                if (line === "") return false
                try {
                  JSON.parse(line)
                  return false
                } catch {
                  return true
                }
              })
            const covered = new Set(
              loaded.records.flatMap((r) =>
                r.type === "session.repaired" && Array.isArray(r.skipped) ? r.skipped : []
              )
            )
            for (const { n } of bad) if (!covered.has(n)) corrupt++
          }
          expect({ lost, corrupt }).toEqual({ lost: 0, corrupt: 0 })

          // Every session resumes once more, and the model is sent its whole history.
          for (const id of sessions) {
            const before = server.requests.length
            const outcome = yield* runBinary(
              ["-p", "-r", id, "turn final", "--allowed-tools", "Bash", "--sandbox", "off"],
              env,
              cwd
            )
            expect(outcome.code, outcome.stderr).toBe(0)
            const sent = JSON.stringify(server.requests[before]?.body)
            for (const n of completed.get(id) ?? []) expect(sent).toContain(`Done with turn ${n}.`)
          }
        })
      ),
    120_000
  )

  it.live("two processes, one session: the second gets SessionLocked; a killed holder's lock is taken over", () =>
    Effect.scoped(
      Effect.gen(function* () {
        expect(fs.existsSync(bin), `${bin} is missing: run npm run build`).toBe(true)
        const server = yield* WireServer.make
        const cwd = yield* tempDir
        const home = yield* tempDir
        const env = {
          PATH: process.env.PATH,
          HOME: home,
          ANTHROPIC_API_KEY: "sk-ant-lock-test",
          ANTHROPIC_BASE_URL: server.url,
          SAGE_MODEL: "claude-test"
        }
        // The first process holds the session while its model request hangs.
        server.enqueue(hang({ steps: [{ text: ["thinking..."] }] }))
        const lock = path.join(home, ".sage", "sessions", "shared.lock")
        const first = spawn(process.execPath, [bin, "-p", "--session-id", "shared", "first"], {
          env,
          cwd,
          stdio: "ignore"
        })
        yield* Effect.addFinalizer(() => Effect.sync(() => first.kill("SIGKILL")))
        for (let i = 0; i < 200 && (!fs.existsSync(lock) || server.requests.length === 0); i++) yield* realSleep(25)
        expect(JSON.parse(fs.readFileSync(lock, "utf8"))).toMatchObject({ pid: first.pid })

        const second = yield* runInProcess(["-p", "-r", "shared", "second"], env, { cwd })
        expect(second.code).toBe(1)
        expect(second.stderr).toContain(`SessionLocked: session shared is in use by process ${first.pid}`)
        expect(server.requests).toHaveLength(1)

        // The holder dies without cleaning up: its lock is stale, and the next run takes it over and repairs the log.
        const exited = new Promise((resolve) => first.once("close", resolve))
        first.kill("SIGKILL")
        yield* Effect.promise(() => exited)
        expect(fs.existsSync(lock)).toBe(true)
        server.enqueue(reply({ steps: [{ text: ["recovered"] }] }))
        const third = yield* runInProcess(["-p", "-r", "shared", "third"], env, { cwd })
        expect(third.code, third.stderr).toBe(0)
        expect(third.stdout).toContain("recovered")
        expect(fs.existsSync(lock)).toBe(false)
        const log = fs.readFileSync(path.join(home, ".sage", "sessions", "shared.jsonl"), "utf8")
        expect(log).toContain('"type":"session.repaired"')
      })
    )
  )
})
