/**
 * The bubblewrap sandbox, with real bwrap (installed by .ci/run). Commands may write inside the workspace only,
 * get a private /tmp, have no network unless allowed, and are still killed as a process group.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as SandboxBubblewrap from "../../src/process/SandboxBubblewrap.js"
import { makeBashTool } from "../../src/tools/Bash.js"
import { findExecutable } from "../../src/tools/Grep.js"
import { runToolCall } from "../../src/tools/Tool.js"
import { realSleep, tempDir, waitUntilGone } from "../agent/harness.js"
import * as WireServer from "../support/WireServer.js"

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" }
const bwrap = await findExecutable("bwrap", env)
// On CI bubblewrap is installed by .ci/run: a missing bwrap there is a failure, not a skip.
const available = bwrap !== undefined || process.env.CI === "true"

const bashIn = (cwd: string, mode: SandboxBubblewrap.SandboxMode, network = false, bwrapPath?: string) =>
  Effect.map(
    SandboxBubblewrap.make({
      policy: { writableRoots: [cwd], network },
      mode,
      env,
      ...(bwrapPath === undefined ? {} : { bwrapPath })
    }),
    (sandbox) => ({ sandbox, bash: makeBashTool({ workspace: { roots: [cwd] }, env, sandbox }) })
  )

const run = (tool: ReturnType<typeof makeBashTool>, cwd: string, command: string) =>
  runToolCall(
    tool,
    { id: "b", name: "Bash", input: { command } },
    { callId: "b", sessionId: "s", cwd, progress: () => Effect.void },
    { defaultTimeout: "30 seconds" }
  )

const text = (result: { readonly output: ReadonlyArray<{ readonly type: string; readonly text?: string }> }) =>
  result.output.map((o) => o.text ?? "").join("")

describe.runIf(available)("bubblewrap sandbox", () => {
  it.scopedLive("writes inside the workspace only; /tmp is private; outside is read-only", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const outside = fs.mkdtempSync(path.join(os.tmpdir(), "sage-outside-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(outside, { recursive: true, force: true })))
      const { bash, sandbox } = yield* bashIn(cwd, "require")
      expect(yield* sandbox.name).toBe("bubblewrap")
      const inside = yield* run(bash, cwd, "echo ok > made.txt && cat made.txt")
      expect(inside.status).toBe("success")
      expect(fs.readFileSync(path.join(cwd, "made.txt"), "utf8")).toBe("ok\n")
      const escaped = yield* run(bash, cwd, `echo pwned > ${outside}/x.txt`)
      expect(escaped.status).toBe("error")
      expect(fs.existsSync(path.join(outside, "x.txt"))).toBe(false)
      const etc = yield* run(bash, cwd, "touch /etc/sage-sandbox-test")
      expect(text(etc)).toMatch(/Read-only file system/)
      const tmp = yield* run(bash, cwd, "echo scratch > /tmp/sage-private && cat /tmp/sage-private")
      expect(tmp.status).toBe("success")
      expect(fs.existsSync("/tmp/sage-private")).toBe(false)
    })
  )

  it.scopedLive("no network unless the policy allows it", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const port = new URL(wire.url).port
      const probe = `exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected`
      const closed = yield* bashIn(cwd, "require", false)
      const refused = yield* run(closed.bash, cwd, probe)
      expect(refused.status).toBe("error")
      expect(text(refused)).not.toContain("connected")
      const open = yield* bashIn(cwd, "require", true)
      const allowed = yield* run(open.bash, cwd, probe)
      expect(text(allowed)).toContain("connected")
    })
  )

  it.scopedLive("an interrupted sandboxed command is killed with everything it started", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const { bash } = yield* bashIn(cwd, "require")
      const pidFile = path.join(cwd, "pid")
      const fiber = yield* Effect.fork(run(bash, cwd, `sleep 300 & echo $! > ${pidFile}; wait`))
      while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, "utf8").trim() === "") yield* realSleep(20)
      const pid = Number(fs.readFileSync(pidFile, "utf8"))
      yield* Fiber.interrupt(fiber)
      expect(yield* waitUntilGone(pid)).toBe(true)
    })
  )
})

describe("sandbox modes", () => {
  it.scopedLive("require fails every command with a clear message when bwrap cannot start; auto runs unconfined", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const required = yield* bashIn(cwd, "require", false, "/nonexistent/bwrap")
      const refused = yield* run(required.bash, cwd, "echo hi")
      expect(refused.status).toBe("error")
      expect(text(refused)).toContain("sandbox is required but unavailable")
      expect(yield* required.sandbox.name).toBe("none")
      const auto = yield* bashIn(cwd, "auto", false, "/nonexistent/bwrap")
      expect(text(yield* run(auto.bash, cwd, "echo hi"))).toBe("hi")
      const off = yield* bashIn(cwd, "off")
      expect(yield* off.sandbox.name).toBe("none")
      expect(
        SandboxBubblewrap.bubblewrapArgv("bwrap", { writableRoots: ["/w"], network: true }, ["true"])
      ).not.toContain("--unshare-net")
    })
  )
})
