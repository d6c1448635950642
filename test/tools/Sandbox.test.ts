/**
 * The bubblewrap sandbox, with real bwrap (installed by .ci/run). Commands may write inside the workspace only,
 * get a private /tmp, have no network unless allowed, and are still killed as a process group.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as SandboxLive from "../../src/layers/SandboxLive.js"
import { findExecutable } from "../../src/process/Executable.js"
import { hardenGitEnv } from "../../src/process/GitEnvironment.js"
import * as SandboxBubblewrap from "../../src/process/SandboxBubblewrap.js"
import { Sandbox } from "../../src/services/Sandbox.js"
import { Workspace } from "../../src/services/Workspace.js"
import { makeBashTool } from "../../src/tools/Bash.js"
import { call, isAlive, tempDir, text, workspaceOf } from "./support.js"

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" }
const bwrap = await Effect.runPromise(findExecutable("bwrap", env.PATH))
// On CI bubblewrap is installed by .ci/run: a missing bwrap there is a failure, not a skip.
const available = bwrap !== undefined || process.env.CI === "true"

const bashIn = (cwd: string, mode: SandboxBubblewrap.SandboxMode, network = false, bwrapPath?: string) =>
  Effect.gen(function* () {
    const sandbox = yield* SandboxBubblewrap.make({
      writableRoots: [cwd],
      network,
      mode,
      env,
      ...(bwrapPath === undefined ? {} : { bwrapPath })
    })
    const bash = yield* makeBashTool().pipe(
      Effect.provideService(Sandbox, sandbox),
      Effect.provideServiceEffect(Workspace, workspaceOf([cwd]))
    )
    return { sandbox, bash }
  })

/** The host pid of the live process whose argv[0] is `argv0`, if any. */
const pidWithArgv0 = (argv0: string): number | undefined => {
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")[0] === argv0) return Number(entry)
    } catch {
      // gone meanwhile
    }
  }
  return undefined
}

const realSleep = (ms: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, ms)))

/** A TCP server on 127.0.0.1 that accepts and closes connections; closed with the scope. */
const loopbackServer = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<net.Server>((resolve) => {
        const server = net.createServer((socket) => socket.end())
        server.listen(0, "127.0.0.1", () => resolve(server))
      })
  ),
  (server) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
)

describe.runIf(available)("bubblewrap sandbox", () => {
  it.live("writes inside the workspace only; /tmp is private; outside is read-only", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const outside = fs.mkdtempSync(path.join(os.tmpdir(), "sage-outside-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(outside, { recursive: true, force: true })))
      const { bash, sandbox } = yield* bashIn(cwd, "require")
      expect(yield* sandbox.name).toBe("bubblewrap")
      const inside = yield* call(bash, { command: "echo ok > made.txt && cat made.txt" }, cwd)
      expect(inside.status).toBe("success")
      expect(fs.readFileSync(path.join(cwd, "made.txt"), "utf8")).toBe("ok\n")
      const escaped = yield* call(bash, { command: `echo pwned > ${outside}/x.txt` }, cwd)
      expect(escaped.status).toBe("error")
      expect(fs.existsSync(path.join(outside, "x.txt"))).toBe(false)
      const etc = yield* call(bash, { command: "touch /etc/sage-sandbox-test" }, cwd)
      expect(text(etc)).toMatch(/Read-only file system/)
      const tmp = yield* call(bash, { command: "echo scratch > /tmp/sage-private && cat /tmp/sage-private" }, cwd)
      expect(tmp.status).toBe("success")
      expect(fs.existsSync("/tmp/sage-private")).toBe(false)
    })
  )

  it.live("no network unless the policy allows it", () =>
    Effect.gen(function* () {
      const server = yield* loopbackServer
      const cwd = yield* tempDir
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const probe = `exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected`
      const closed = yield* bashIn(cwd, "require", false)
      const refused = yield* call(closed.bash, { command: probe }, cwd)
      expect(refused.status).toBe("error")
      expect(text(refused)).not.toContain("connected")
      const open = yield* bashIn(cwd, "require", true)
      const allowed = yield* call(open.bash, { command: probe }, cwd)
      expect(text(allowed)).toContain("connected")
    })
  )

  it.live("an interrupted sandboxed command is killed with everything it started", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const { bash } = yield* bashIn(cwd, "require")
      const pidFile = path.join(cwd, "pid")
      // Pids inside the sandbox's PID namespace mean nothing outside: the child is found by a unique argv[0].
      const marker = `sage-sandbox-child-${process.pid}-${Date.now()}`
      const fiber = yield* Effect.forkChild(
        call(bash, { command: `(exec -a ${marker} sleep 300) & echo started > ${pidFile}; wait` }, cwd)
      )
      while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, "utf8").trim() === "") yield* realSleep(20)
      let pid: number | undefined
      for (let i = 0; i < 250 && pid === undefined; i++) {
        pid = pidWithArgv0(marker)
        if (pid === undefined) yield* realSleep(20)
      }
      expect(pid).toBeDefined()
      if (pid === undefined) return
      yield* Fiber.interrupt(fiber)
      for (let i = 0; i < 250 && isAlive(pid); i++) yield* realSleep(20)
      expect(isAlive(pid)).toBe(false)
    })
  )

  it.live("an interrupt that arrives while bubblewrap is still setting up ends at once, not after the kill grace", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const { bash } = yield* bashIn(cwd, "require")
      // bubblewrap blocks SIGTERM while it builds the sandbox: interrupts at 0-40 ms after the start land there.
      for (const delay of [0, 2, 5, 10, 20, 40]) {
        const fiber = yield* Effect.forkChild(call(bash, { command: "sleep 30" }, cwd))
        yield* realSleep(delay)
        const started = performance.now()
        yield* Fiber.interrupt(fiber)
        expect(performance.now() - started).toBeLessThan(1500)
      }
    })
  )
})

describe("sandbox modes", () => {
  it.live("require fails every command with a clear message when bwrap cannot start; auto runs unconfined", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const required = yield* bashIn(cwd, "require", false, "/nonexistent/bwrap")
      const refused = yield* call(required.bash, { command: "echo hi" }, cwd)
      expect(refused.status).toBe("error")
      expect(text(refused)).toContain("sandbox is required but unavailable")
      expect(yield* required.sandbox.name).toBe("none")
      const auto = yield* bashIn(cwd, "auto", false, "/nonexistent/bwrap")
      expect(text(yield* call(auto.bash, { command: "echo hi" }, cwd))).toBe("hi")
      const off = yield* bashIn(cwd, "off")
      expect(yield* off.sandbox.name).toBe("none")
      expect(
        SandboxBubblewrap.bubblewrapArgv("bwrap", { writableRoots: ["/w"], network: true }, ["true"])
      ).not.toContain("--unshare-net")
    })
  )

  it.live("the layer scrubs credentials from the command environment and defaults to the configured PATH", () =>
    Effect.gen(function* () {
      const scrubbed = yield* Effect.gen(function* () {
        return yield* Sandbox
      }).pipe(
        Effect.provide(
          SandboxLive.layer({
            mode: "off",
            writableRoots: ["/"],
            network: false,
            env: { PATH: "/bin", ANTHROPIC_API_KEY: "sk-ant", HOME: "/home/x" }
          })
        )
      )
      expect(scrubbed.env).toEqual(hardenGitEnv({ PATH: "/bin", HOME: "/home/x" }))
      const fallback = yield* Effect.gen(function* () {
        return yield* Sandbox
      }).pipe(Effect.provide(SandboxLive.layer({ mode: "off", writableRoots: ["/"], network: false })))
      expect(fallback.env).toEqual(hardenGitEnv(process.env.PATH === undefined ? {} : { PATH: process.env.PATH }))
    })
  )

  it.live("findExecutable searches only absolute directories of the path it is given", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      fs.writeFileSync(path.join(dir, "tool"), "#!/bin/sh\n", { mode: 0o755 })
      fs.writeFileSync(path.join(dir, "plain"), "", { mode: 0o644 })
      expect(yield* findExecutable("tool", `relative:${dir}`)).toBe(path.join(dir, "tool"))
      expect(yield* findExecutable("plain", dir)).toBeUndefined()
      expect(yield* findExecutable("tool", "relative")).toBeUndefined()
    })
  )
})
