/** Running the `sage` CLI in tests: in-process (`runCli` on in-memory streams) or as the built binary. */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { PassThrough, Writable } from "node:stream"
import * as Effect from "effect/Effect"
import { type CliIO, runCli } from "../../src/cli/main.js"
import { anthropicEvents, type Script } from "../support/anthropicSse.js"
import type { Reply } from "../support/WireServer.js"

export const bin = path.resolve(import.meta.dirname, "../../dist/bin.js")

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-cli-")))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

export const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((r) => setTimeout(r, ms)))

export const reply = (script: Script): Reply => ({ kind: "stream", chunks: anthropicEvents(script) })
export const hang = (script: Script): Reply => ({ kind: "hang", chunks: anthropicEvents(script) })
export const answer = (text: string): Reply => reply({ steps: [{ text: [text] }] })
export const callTools = (
  calls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly input: unknown }>,
  text?: string
): Reply =>
  reply({
    stopReason: "tool_use",
    steps: [
      ...(text === undefined ? [] : [{ text: [text] }]),
      ...calls.map((c) => ({ tool: { id: c.id, name: c.name, json: [JSON.stringify(c.input)] } }))
    ]
  })

export const baseEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME })

export const anthropicEnv = (url: string, home: string): NodeJS.ProcessEnv => ({
  ...baseEnv(),
  HOME: home,
  ANTHROPIC_API_KEY: "sk-ant-cli-test",
  ANTHROPIC_BASE_URL: url,
  SAGE_MODEL: "claude-test"
})

/** A writable that records what it is given; `failWith` makes every later write fail like a closed pipe. */
export class Capture extends Writable {
  text = ""
  isTTY: boolean | undefined
  failWith: string | undefined
  /** Fail with `failWith` once this many bytes were written. */
  closeAfter: number | undefined
  constructor(options: { readonly isTTY?: boolean } = {}) {
    super()
    this.isTTY = options.isTTY
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.closeAfter !== undefined && this.text.length >= this.closeAfter) {
      const error: NodeJS.ErrnoException = new Error("write EPIPE")
      error.code = "EPIPE"
      callback(error)
      return
    }
    this.text += chunk.toString("utf8")
    callback()
  }
}

export interface InProcessOptions {
  readonly stdin?: string
  readonly stdinTTY?: boolean
  /** A pipe nobody closes (nor writes to). */
  readonly keepStdinOpen?: boolean
  readonly stdout?: Capture
  readonly stderr?: Capture
  readonly cwd?: string
  /** Receives the function that delivers a signal, once the CLI subscribed. */
  readonly onSignals?: (send: (signal: string) => void) => void
  readonly forceExit?: (code: number) => void
  /** Receives the stdin stream (to type answers on a "terminal"). */
  readonly onStdin?: (stdin: PassThrough) => void
  /** The binary's heap switch. */
  readonly compactHeap?: () => void
}

/** `runCli` in this process, on in-memory streams. */
export const runInProcess = (
  argv: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  options: InProcessOptions = {}
): Effect.Effect<Run & { readonly forced: ReadonlyArray<number> }> =>
  Effect.gen(function* () {
    const stdin = Object.assign(new PassThrough(), { isTTY: options.stdinTTY })
    if (options.stdin !== undefined) stdin.end(options.stdin)
    else if (options.stdinTTY !== true && options.keepStdinOpen !== true) stdin.end()
    options.onStdin?.(stdin)
    const stdout = options.stdout ?? new Capture()
    const stderr = options.stderr ?? new Capture()
    const forced: Array<number> = []
    const io: CliIO = {
      argv,
      stdin,
      stdout,
      stderr,
      env,
      cwd: options.cwd ?? process.cwd(),
      onSignal: (handler) => {
        let subscribed = true
        options.onSignals?.((signal) => {
          if (subscribed) handler(signal)
        })
        return () => {
          subscribed = false
        }
      },
      forceExit: (code) => {
        forced.push(code)
        options.forceExit?.(code)
      },
      ...(options.compactHeap === undefined ? {} : { compactHeap: options.compactHeap })
    }
    const code = yield* runCli(io)
    return { code, stdout: stdout.text, stderr: stderr.text, forced }
  })

/** The built binary as a child process. */
export const spawnSage = (
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  options: { stdin?: string; onSpawn?: (child: ChildProcess) => void; detached?: boolean } = {}
) =>
  Effect.callback<Run>((resume) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: options.detached ?? false
    })
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

/** Whether process `pid` exists and is not a zombie. */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z"
  } catch {
    return true
  }
}

/** Wait (real time, up to `ms`) until `check` holds. */
export const waitFor = (check: () => boolean, ms = 10_000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + ms
    while (!check() && Date.now() < deadline) yield* realSleep(20)
    return check()
  })
