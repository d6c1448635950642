/**
 * The MCP client against real servers: server-everything (stdio, Streamable HTTP, SSE), server-filesystem,
 * server-memory, a server on the v2 SDK (2026-07-28), and raw test servers that hang, crash and stall.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { layerNode } from "../../src/layers/SageLive.js"
import { ToolRegistry } from "../../src/services/ToolRegistry.js"
import * as McpLive from "../../src/layers/McpLive.js"
import { McpServers } from "../../src/services/McpServers.js"
import { boundOutput, mcpTools } from "../../src/mcp/McpTools.js"
import { expandMcpPrompt } from "../../src/cli/repl/mcpPrompts.js"
import { approveServer, loadMcpEntries } from "../../src/mcp/McpConfigFiles.js"
import { expandVars, mcpToolName } from "../../src/mcp/Config.js"
import { ProcessGroupStdioTransport } from "../../src/mcp/StdioTransport.js"
import { killAllGroupsNow } from "../../src/process/ProcessGroup.js"
import { parseSettings } from "../../src/permissions/Settings.js"
import * as Result from "effect/Result"
import type { ToolOutput } from "../../src/streams/ToolCall.js"

const root = path.resolve(import.meta.dirname, "../..")
const modules = path.join(root, "node_modules", "@modelcontextprotocol")
const everything = path.join(modules, "server-everything", "dist", "index.js")
const servers = path.join(import.meta.dirname, "servers")
const node = process.execPath

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix))
const text = (output: ReadonlyArray<ToolOutput>) =>
  output
    .map((o) => (o.type === "text" ? o.text : o.type === "json" ? JSON.stringify(o.value) : `[${o.type}]`))
    .join("\n")
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
const waitFor = (check: () => boolean, ms = 5000) =>
  Effect.gen(function* () {
    const until = Date.now() + ms
    while (!check()) {
      if (Date.now() > until) return false
      yield* Effect.sleep("25 millis")
    }
    return true
  })

/** A temp dir removed when the scope closes. */
const scopedDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => tmp(prefix)),
    (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )

const project = tmp("sage-mcp-project-")
const home = tmp("sage-mcp-home-")
const files = tmp("sage-mcp-files-")
fs.writeFileSync(path.join(files, "hello.txt"), "hello from the filesystem server\n")
const secretEnv = {
  ...process.env,
  ANTHROPIC_API_KEY: "sk-ant-api03-fake-key-for-the-test",
  AWS_SECRET_ACCESS_KEY: "fake-aws-secret-for-the-test",
  SAGE_TEST_VISIBLE: "visible-value"
}

const shared = McpLive.layer({
  cwd: project,
  homeDir: home,
  env: secretEnv,
  logDir: path.join(home, "logs"),
  servers: {
    everything: { command: node, args: [everything, "stdio"], env: { NAMED_VAR: "${SAGE_TEST_VISIBLE}" } },
    files: { command: node, args: [path.join(modules, "server-filesystem", "dist", "index.js"), files] },
    memory: {
      command: node,
      args: [path.join(modules, "server-memory", "dist", "index.js")],
      env: { MEMORY_FILE_PATH: path.join(home, "memory.jsonl") }
    },
    "v2.server": { command: node, args: [path.join(servers, "v2.mjs")] }
  }
})

layer(shared, { timeout: 30_000 })("real servers over stdio", (it) => {
  it.effect("connects every server and records the negotiated protocol version", () =>
    Effect.gen(function* () {
      const mcp = yield* McpServers
      const statuses = yield* mcp.statuses
      const by = new Map(statuses.map((s) => [s.name, s]))
      for (const name of ["everything", "files", "memory", "v2.server"]) {
        assert.strictEqual(by.get(name)?.state, "connected", `${name}: ${by.get(name)?.reason}`)
      }
      // server-everything, filesystem and memory are on SDK 1.x (2025 protocol); the v2 server negotiates 2026-07-28.
      assert.match(by.get("everything")?.protocolVersion ?? "", /^2025-/)
      assert.match(by.get("files")?.protocolVersion ?? "", /^2025-/)
      assert.match(by.get("memory")?.protocolVersion ?? "", /^2025-/)
      assert.strictEqual(by.get("v2.server")?.protocolVersion, "2026-07-28")
      assert.isAbove(by.get("everything")?.tools ?? 0, 5)
      assert.isAbove(by.get("everything")?.resources ?? 0, 0)
      console.log(
        "negotiated:",
        statuses.map((s) => `${s.name}=${s.protocolVersion} (${s.serverName} ${s.serverVersion})`).join(", ")
      )
    })
  )

  it.effect("a stdio server gets the scrubbed environment plus only the variables its config names", () =>
    Effect.gen(function* () {
      const mcp = yield* McpServers
      const result = yield* mcp.callTool("everything", "get-env", {})
      const env = JSON.parse(text(result.output))
      assert.strictEqual(env.NAMED_VAR, "visible-value")
      assert.isUndefined(env.ANTHROPIC_API_KEY)
      assert.isUndefined(env.AWS_SECRET_ACCESS_KEY)
      assert.strictEqual(env.SAGE_TEST_VISIBLE, "visible-value", "not a secret: the scrubbed environment keeps it")
      assert.isDefined(env.PATH)
    })
  )

  it.effect(
    "tools become mcp__server__tool with the server's schema; results map text, images, structured content, isError",
    () =>
      Effect.gen(function* () {
        const mcp = yield* McpServers
        const tools = yield* mcpTools(mcp)
        const names = tools.map((t) => t.name)
        assert.include(names, "mcp__everything__echo")
        assert.include(names, "mcp__v2_server__shout", "dots are sanitized")
        assert.include(names, "ListMcpResources")
        assert.include(names, "ReadMcpResource")
        const echo = tools.find((t) => t.name === "mcp__everything__echo")
        assert.isDefined(echo)
        if (echo === undefined) return
        assert.deepStrictEqual(Object.keys((echo.jsonSchema.properties ?? {}) as object), ["message"])
        assert.strictEqual(echo.kind, "other")
        assert.strictEqual(echo.readOnly, false, "readOnlyHint never skips a permission check")
        const ctx = { callId: "c", sessionId: "s", cwd: project, progress: () => Effect.void }
        assert.strictEqual(text((yield* echo.execute({ message: "hi" }, ctx)) as ReadonlyArray<ToolOutput>), "Echo: hi")

        const image = yield* mcp.callTool("everything", "get-tiny-image", {})
        const picture = image.output.find((o) => o.type === "image")
        assert.strictEqual(picture?.type === "image" ? picture.mediaType : undefined, "image/png")

        const structured = yield* mcp.callTool("everything", "get-structured-content", { location: "Chicago" })
        const weather = JSON.parse(text(structured.output))
        assert.isNumber(weather.temperature)

        const bad = yield* mcp.callTool("everything", "get-sum", { a: "x", b: 1 }).pipe(Effect.result)
        // A tool-level failure is isError (or a protocol error): either way, no success.
        assert.isTrue(bad._tag === "Failure" || bad.success.isError)
      })
  )

  it.effect("resources: list and read; prompts: list and get", () =>
    Effect.gen(function* () {
      const mcp = yield* McpServers
      const resources = yield* mcp.listResources("everything")
      assert.isAbove(resources.length, 0)
      const first = resources[0]
      if (first === undefined) return
      const contents = yield* mcp.readResource("everything", first.uri)
      assert.isAbove(contents.length, 0)
      const prompts = yield* mcp.prompts
      assert.isTrue(prompts.some((p) => p.server === "everything" && p.name === "simple-prompt"))
      assert.isTrue(prompts.some((p) => p.server === "v2.server" && p.name === "greet"))
      const greet = yield* mcp.getPrompt("v2.server", "greet", { name: "Ada" })
      assert.deepStrictEqual(greet, [{ role: "user", text: "Say hello to Ada" }])
      // As REPL slash commands: /mcp__<server>__<prompt> [args] expands to the prompt's messages.
      assert.deepStrictEqual(yield* expandMcpPrompt(mcp, "mcp__v2_server__greet", "Grace Hopper"), {
        prompt: "Say hello to Grace Hopper"
      })
      assert.deepStrictEqual(yield* expandMcpPrompt(mcp, "mcp__v2_server__greet", "name=Ada"), {
        prompt: "Say hello to Ada"
      })
      const needs = yield* expandMcpPrompt(mcp, "mcp__v2_server__greet", "")
      assert.match("problem" in needs ? needs.problem : "", /needs name/)
      const unknownPrompt = yield* expandMcpPrompt(mcp, "mcp__nope__x", "")
      assert.match("problem" in unknownPrompt ? unknownPrompt.problem : "", /No MCP prompt \/mcp__nope__x/)
      const simple = yield* expandMcpPrompt(mcp, "mcp__everything__simple-prompt", "")
      assert.isTrue("prompt" in simple && simple.prompt.length > 0)
      const missing = yield* mcp.readResource("nope", "x://y").pipe(Effect.flip)
      assert.strictEqual(missing._tag, "McpError")
      assert.match(missing.message, /no MCP server named "nope"/)
    })
  )

  it.effect("filesystem and memory servers work", () =>
    Effect.gen(function* () {
      const mcp = yield* McpServers
      const read = yield* mcp.callTool("files", "read_text_file", { path: path.join(files, "hello.txt") })
      assert.include(text(read.output), "hello from the filesystem server")
      const outside = yield* mcp.callTool("files", "read_text_file", { path: "/etc/hostname" })
      assert.isTrue(outside.isError)
      yield* mcp.callTool("memory", "create_entities", {
        entities: [{ name: "Sage", entityType: "agent", observations: ["speaks MCP"] }]
      })
      const graph = yield* mcp.callTool("memory", "read_graph", {})
      assert.include(text(graph.output), "speaks MCP")
    })
  )
})

const raw = (mode: string, extra: Record<string, unknown> = {}) => ({
  command: node,
  args: [path.join(servers, "raw.mjs"), mode],
  ...extra
})

const marks = (file: string): ReadonlyArray<string> =>
  fs.existsSync(file)
    ? fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "")
    : []

describe("configuration", () => {
  it("settings files may hold mcpServers; a mistake is reported at its line", () => {
    const bases = { projectRoot: "/p", homeDir: "/h" }
    const good = parseSettings("s.json", JSON.stringify({ mcpServers: { a: { command: "x" } } }), bases)
    assert.isTrue(Result.isSuccess(good))
    const bad = parseSettings("s.json", '{\n  "mcpServers": {\n    "a": { "url": 3 }\n  }\n}', bases)
    assert.isTrue(Result.isFailure(bad))
    if (Result.isFailure(bad)) {
      assert.match(bad.failure.message, /^s\.json:2:17: invalid settings at mcpServers\.a\.url: expected a URL/)
    }
  })

  it("a result's text is bounded before it reaches the model (head and tail kept, the cut said)", () => {
    const long = `${"a".repeat(80)}${"b".repeat(40)}`
    const [first, image, rest] = boundOutput(
      [
        { type: "text", text: long },
        { type: "image", mediaType: "image/png", data: "x" },
        { type: "text", text: "more" }
      ],
      100
    )
    assert.deepStrictEqual(image, { type: "image", mediaType: "image/png", data: "x" })
    const text0 = first?.type === "text" ? first.text : ""
    assert.isTrue(text0.startsWith("a".repeat(70)))
    assert.isTrue(text0.endsWith("b".repeat(30)))
    assert.include(text0, "[... 20 characters cut: the output was too long ...]")
    assert.deepStrictEqual(rest, { type: "text", text: "[4 more characters of output cut]" })
    const short = [{ type: "text" as const, text: "ok" }]
    assert.deepStrictEqual(boundOutput(short, 100), short)
  })

  it("names, variables and the sources' order", () =>
    Effect.gen(function* () {
      assert.strictEqual(mcpToolName("my.server", "get thing"), "mcp__my_server__get_thing")
      const long = mcpToolName("s".repeat(40), "t".repeat(40))
      assert.strictEqual(long.length, 64)
      assert.notStrictEqual(long, mcpToolName("s".repeat(40), `${"t".repeat(39)}u`))
      assert.strictEqual(expandVars("${A}-${B:-b}-${C:-}", { A: "a" }, []), "a-b-")
      const missing: Array<string> = []
      expandVars("${NOPE}", {}, missing)
      assert.deepStrictEqual(missing, ["NOPE"])

      const dir = yield* scopedDir("sage-mcp-sources-")
      fs.mkdirSync(path.join(dir, ".sage"))
      fs.writeFileSync(
        path.join(dir, ".sage", "settings.json"),
        JSON.stringify({ mcpServers: { s: { command: "project-settings" } } })
      )
      fs.writeFileSync(
        path.join(dir, ".mcp.json"),
        JSON.stringify({ mcpServers: { s: { command: "mcp-json" }, t: { command: "t" } } })
      )
      fs.writeFileSync(
        path.join(dir, ".sage", "settings.local.json"),
        JSON.stringify({ mcpServers: { t: { command: "local" } } })
      )
      const entries = yield* loadMcpEntries({
        cwd: dir,
        homeDir: path.join(dir, "home"),
        configFiles: ['{"mcpServers": {"u": {"type": "sse", "url": "http://127.0.0.1:1/sse"}}}'],
        servers: { v: { command: "v" } }
      })
      assert.deepStrictEqual(
        entries.map((e) => [e.name, e.scope, e.config.type === "stdio" ? e.config.command : e.config.url]),
        [
          ["s", "project", "mcp-json"],
          ["t", "local", "local"],
          ["u", "flag", "http://127.0.0.1:1/sse"],
          ["v", "options", "v"]
        ]
      )
      const bad = yield* loadMcpEntries({ cwd: dir, homeDir: dir, configFiles: ["missing.json"] }).pipe(Effect.flip)
      assert.match(bad.message, /--mcp-config missing\.json: no such file/)
    }).pipe(Effect.scoped, Effect.runPromise))
})

describe("failures", () => {
  it.live("a hanging server fails after its startup timeout, is killed, and does not stall the others", () =>
    Effect.gen(function* () {
      const dir = yield* scopedDir("sage-mcp-hang-")
      const mark = path.join(dir, "marks")
      const started = Date.now()
      const mcp = yield* McpLive.make({
        cwd: dir,
        homeDir: dir,
        env: process.env,
        logDir: dir,
        servers: { hang: raw("hang", { startupTimeoutMs: 1200, env: { MARK_FILE: mark } }), ok: raw("ok") }
      })
      const elapsed = Date.now() - started
      const statuses = yield* mcp.statuses
      const hang = statuses.find((s) => s.name === "hang")
      assert.strictEqual(hang?.state, "failed")
      assert.match(hang?.reason ?? "", /did not start within 1\.2 s/)
      assert.strictEqual(statuses.find((s) => s.name === "ok")?.state, "connected")
      assert.isBelow(elapsed, 4000)
      // Every process the hanging server's connection started is gone.
      const pids = marks(mark).map((l) => Number(l.split(" ")[1]))
      assert.isAbove(pids.length, 0)
      assert.isTrue(yield* waitFor(() => pids.every((pid) => !alive(pid)), 4000), `still alive: ${pids}`)
      // stderr goes to the log file, not the terminal.
      assert.include(fs.readFileSync(path.join(dir, "mcp-ok.log"), "utf8"), "raw server starting in mode ok")
    }).pipe(Effect.scoped)
  )

  it.live("a server's new tools (notifications/tools/list_changed) replace its list (a 2026-07-28 connection)", () =>
    Effect.gen(function* () {
      const dir = yield* scopedDir("sage-mcp-changed-")
      const mcp = yield* McpLive.make({
        cwd: dir,
        homeDir: dir,
        env: process.env,
        logDir: dir,
        servers: { v2: { command: node, args: [path.join(servers, "v2.mjs")] } }
      })
      const names = () => Effect.map(mcp.tools, (tools) => tools.map((t) => t.registryName))
      assert.notInclude(yield* names(), "mcp__v2__late")
      yield* mcp.callTool("v2", "unlock", {})
      let found = false
      for (let i = 0; i < 100 && !found; i++) {
        found = (yield* names()).includes("mcp__v2__late")
        if (!found) yield* Effect.sleep("25 millis")
      }
      assert.isTrue(found, `tools: ${yield* names()}`)
      assert.strictEqual(text((yield* mcp.callTool("v2", "late", {})).output), "late tool")
    }).pipe(Effect.scoped)
  )

  it.live("a 2025 server that exits on the 2026-07-28 probe is started again with the 2025 handshake", () =>
    Effect.gen(function* () {
      const dir = yield* scopedDir("sage-mcp-strict-")
      const mark = path.join(dir, "marks")
      const mcp = yield* McpLive.make({
        cwd: dir,
        homeDir: dir,
        env: process.env,
        logDir: dir,
        servers: { strict: raw("strict", { env: { MARK_FILE: mark } }) }
      })
      const [status] = yield* mcp.statuses
      assert.strictEqual(status?.state, "connected", status?.reason)
      assert.strictEqual(status?.protocolVersion, "2025-11-25")
      assert.strictEqual(marks(mark).filter((l) => l.startsWith("start")).length, 2)
      assert.match(text((yield* mcp.callTool("strict", "pid", {})).output), /^\d+$/)
    }).pipe(Effect.scoped)
  )

  it.live(
    "a call that takes too long is cancelled (the server sees notifications/cancelled), and so is an interrupted one",
    () =>
      Effect.gen(function* () {
        const dir = yield* scopedDir("sage-mcp-slow-")
        const mark = path.join(dir, "marks")
        const mcp = yield* McpLive.make({
          cwd: dir,
          homeDir: dir,
          env: { ...process.env, MARK_FILE: mark },
          logDir: dir,
          servers: { slow: raw("ok", { toolTimeoutMs: 800 }) }
        })
        const started = Date.now()
        const error = yield* mcp.callTool("slow", "slow", {}).pipe(Effect.flip)
        assert.match(error.message, /did not answer within 0\.8 s and was cancelled/)
        assert.isBelow(Date.now() - started, 2500)
        assert.isTrue(yield* waitFor(() => marks(mark).some((l) => l.startsWith("cancelled"))))

        // Interrupting the calling fiber (a turn being interrupted) cancels the request at once.
        const fiber = yield* Effect.forkChild(mcp.callTool("slow", "slow", {}))
        assert.isTrue(yield* waitFor(() => marks(mark).filter((l) => l.startsWith("slow")).length === 2))
        const before = Date.now()
        yield* Fiber.interrupt(fiber)
        assert.isBelow(Date.now() - before, 1000)
        assert.isTrue(yield* waitFor(() => marks(mark).filter((l) => l.startsWith("cancelled")).length === 2))
        // The server is still usable afterwards.
        const pid = yield* mcp.callTool("slow", "pid", {})
        assert.match(text(pid.output), /^\d+$/)
      }).pipe(Effect.scoped)
  )

  it.live("a server that crashes is marked failed, then reconnected with backoff", () =>
    Effect.gen(function* () {
      const dir = yield* scopedDir("sage-mcp-crash-")
      const mcp = yield* McpLive.make({
        cwd: dir,
        homeDir: dir,
        env: process.env,
        logDir: dir,
        reconnectDelayMs: 200,
        servers: { crashy: raw("ok") }
      })
      const changes: Array<string> = []
      yield* mcp.changes.pipe(
        Stream.runForEach((s) =>
          Effect.sync(() => changes.push(`${s.state}${s.reason === undefined ? "" : `: ${s.reason}`}`))
        ),
        Effect.forkScoped
      )
      yield* Effect.sleep("50 millis")
      const first = text((yield* mcp.callTool("crashy", "pid", {})).output)
      const crash = yield* mcp.callTool("crashy", "crash", {}).pipe(Effect.flip)
      assert.strictEqual(crash._tag, "McpError")
      assert.isTrue(yield* waitFor(() => changes.some((c) => c.startsWith("failed"))))
      const whileDown = yield* mcp.callTool("crashy", "pid", {}).pipe(Effect.flip, Effect.option)
      if (whileDown._tag === "Some") assert.match(whileDown.value.message, /not connected|failed/)
      assert.isTrue(yield* waitFor(() => changes.at(-1) === "connected"))
      const second = text((yield* mcp.callTool("crashy", "pid", {})).output)
      assert.notStrictEqual(first, second)
      assert.isFalse(alive(Number(first)))
    }).pipe(Effect.scoped)
  )

  it.live("a server that fails to start is failed at once, then started again in the background", () =>
    Effect.gen(function* () {
      const dir = yield* scopedDir("sage-mcp-late-")
      const late = path.join(dir, "late")
      const mcp = yield* McpLive.make({
        cwd: dir,
        homeDir: dir,
        env: process.env,
        logDir: dir,
        reconnectDelayMs: 200,
        servers: { late: raw("late", { env: { LATE_FILE: late } }) }
      })
      // The layer is built without waiting for the retry: the server is failed, and says it is retrying.
      const first = (yield* mcp.statuses).find((s) => s.name === "late")
      assert.strictEqual(first?.state, "failed")
      assert.match(first?.reason ?? "", /retrying/)
      assert.isTrue(fs.existsSync(late))
      let state = first?.state
      for (let i = 0; i < 100 && state !== "connected"; i++) {
        yield* Effect.sleep("100 millis")
        state = (yield* mcp.statuses).find((s) => s.name === "late")?.state
      }
      assert.strictEqual(state, "connected")
      assert.match(text((yield* mcp.callTool("late", "pid", {})).output), /^\d+$/)
    }).pipe(Effect.scoped)
  )

  it.live("a stdio server's group is killed with the commands' groups if Sage exits without closing it", () =>
    Effect.gen(function* () {
      const dir = yield* scopedDir("sage-mcp-exit-")
      const transport = new ProcessGroupStdioTransport({
        command: node,
        args: [path.join(servers, "raw.mjs"), "ok"],
        env: { PATH: process.env.PATH ?? "" },
        cwd: dir,
        stderrFile: undefined
      })
      yield* Effect.promise(() => transport.start())
      const pid = transport.pid ?? 0
      assert.isTrue(alive(pid))
      // What runs when Node exits (e.g. the second Ctrl-C's process.exit during a kill grace period).
      killAllGroupsNow()
      assert.isTrue(yield* waitFor(() => !alive(pid)))
      yield* Effect.promise(() => transport.close())
    })
  )

  it.live("closing the layer kills each stdio server's whole process group", () =>
    Effect.gen(function* () {
      const dir = yield* scopedDir("sage-mcp-group-")
      const pids = yield* Effect.scoped(
        Effect.gen(function* () {
          const mcp = yield* McpLive.make({
            cwd: dir,
            homeDir: dir,
            env: process.env,
            logDir: dir,
            servers: { group: raw("ok") }
          })
          const server = Number(text((yield* mcp.callTool("group", "pid", {})).output))
          const child = Number(text((yield* mcp.callTool("group", "spawn", {})).output))
          assert.isTrue(alive(server) && alive(child))
          return [server, child]
        })
      )
      assert.isTrue(yield* waitFor(() => pids.every((pid) => !alive(pid)), 4000), `still alive: ${pids}`)
    }).pipe(Effect.scoped)
  )

  it.live("project servers (.mcp.json) start only once approved, and a changed one needs a new approval", () =>
    Effect.gen(function* () {
      const dir = yield* scopedDir("sage-mcp-approve-")
      const mark = path.join(dir, "marks")
      const write = (mode: string) =>
        fs.writeFileSync(path.join(dir, ".mcp.json"), JSON.stringify({ mcpServers: { proj: raw(mode) } }))
      write("ok")
      const options = { cwd: dir, homeDir: dir, env: { ...process.env, MARK_FILE: mark }, logDir: dir }
      const before = yield* Effect.scoped(Effect.flatMap(McpLive.make(options), (m) => m.statuses))
      assert.strictEqual(before[0]?.state, "needs-approval")
      assert.strictEqual(before[0]?.scope, "project")
      assert.deepStrictEqual(marks(mark), [], "an unapproved server is never started")

      const entries = yield* loadMcpEntries(options)
      const entry = entries[0]
      if (entry === undefined) return assert.fail("no entry")
      yield* approveServer(dir, dir, entry)
      const after = yield* Effect.scoped(Effect.flatMap(McpLive.make(options), (m) => m.statuses))
      assert.strictEqual(after[0]?.state, "connected")

      write("hang")
      const changed = yield* Effect.scoped(Effect.flatMap(McpLive.make(options), (m) => m.statuses))
      assert.strictEqual(changed[0]?.state, "needs-approval")
    }).pipe(Effect.scoped)
  )

  it.live("bad configuration is a typed error; a missing ${VAR} fails that server only", () =>
    Effect.gen(function* () {
      const dir = yield* scopedDir("sage-mcp-config-")
      fs.writeFileSync(path.join(dir, ".mcp.json"), JSON.stringify({ mcpServers: { bad: { command: 3 } } }))
      const error = yield* McpLive.make({ cwd: dir, homeDir: dir, env: {} }).pipe(Effect.flip)
      assert.strictEqual(error._tag, "McpConfigError")
      assert.match(error.message, /\.mcp\.json: mcpServers\.bad\.command: expected the program to run/)
      fs.rmSync(path.join(dir, ".mcp.json"))
      const mcp = yield* McpLive.make({
        cwd: dir,
        homeDir: dir,
        env: {},
        logDir: dir,
        servers: {
          needsVar: { type: "http", url: "http://127.0.0.1:1/${MISSING_VAR}" },
          defaulted: { type: "http", url: "http://127.0.0.1:1/${MISSING_VAR:-x}", startupTimeoutMs: 1500 }
        }
      })
      const statuses = yield* mcp.statuses
      assert.match(statuses[0]?.reason ?? "", /environment variable MISSING_VAR not set/)
      assert.strictEqual(statuses[1]?.state, "failed")
      assert.notMatch(statuses[1]?.reason ?? "", /MISSING_VAR/)
    }).pipe(Effect.scoped)
  )
})

/** server-everything over HTTP on 127.0.0.1 (a random port), killed with the scope. */
const everythingHttp = (mode: "http" | "sse") =>
  Effect.acquireRelease(
    Effect.callback<{ readonly child: ChildProcess; readonly port: number; readonly address: string }>((resume) => {
      const child = spawn(node, [path.join(servers, "everything-http.mjs"), mode === "sse" ? "sse" : "http"], {
        stdio: ["ignore", "pipe", "ignore"]
      })
      let out = ""
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString()
        const line = out.split("\n").find((l) => l.startsWith("{"))
        if (line !== undefined) {
          const address = JSON.parse(line)
          resume(Effect.succeed({ child, port: address.port, address: address.address }))
        }
      })
    }),
    ({ child }) => Effect.sync(() => child.kill("SIGKILL"))
  )

describe("remote transports", () => {
  it.live("Streamable HTTP and legacy SSE (server-everything bound to 127.0.0.1)", () =>
    Effect.gen(function* () {
      const dir = yield* scopedDir("sage-mcp-http-")
      const http = yield* everythingHttp("http")
      const sse = yield* everythingHttp("sse")
      assert.strictEqual(http.address, "127.0.0.1")
      assert.strictEqual(sse.address, "127.0.0.1")
      const mcp = yield* McpLive.make({
        cwd: dir,
        homeDir: dir,
        env: { PORT_HTTP: String(http.port) },
        servers: {
          web: { type: "http", url: "http://127.0.0.1:${PORT_HTTP}/mcp", headers: { "X-Test": "1" } },
          old: { type: "sse", url: `http://127.0.0.1:${sse.port}/sse` }
        }
      })
      const statuses = yield* mcp.statuses
      for (const s of statuses) assert.strictEqual(s.state, "connected", `${s.name}: ${s.reason}`)
      console.log("negotiated:", statuses.map((s) => `${s.name}(${s.transport})=${s.protocolVersion}`).join(", "))
      const echo = yield* mcp.callTool("web", "echo", { message: "over http" })
      assert.strictEqual(text(echo.output), "Echo: over http")
      const echoSse = yield* mcp.callTool("old", "echo", { message: "over sse" })
      assert.strictEqual(text(echoSse.output), "Echo: over sse")
    }).pipe(Effect.scoped)
  )
})

describe("layerNode", () => {
  it.live("MCP tools are in the ToolRegistry; a server that comes back after a crash adds its new tools", () =>
    Effect.gen(function* () {
      const dir = yield* scopedDir("sage-mcp-layer-")
      const extra = path.join(dir, "extra")
      const context = yield* Layer.build(
        layerNode({
          provider: "anthropic",
          apiKey: "sk-ant-test",
          baseURL: "http://127.0.0.1:9",
          cwd: dir,
          homeDir: dir,
          sandbox: "off",
          env: { PATH: process.env.PATH },
          mcpServers: { raw: raw("ok", { env: { EXTRA_TOOL_FILE: extra } }) }
        })
      )
      const registry = Context.get(context, ToolRegistry)
      const names = () => Effect.map(registry.list, (tools) => tools.map((t) => t.name))
      assert.includeMembers(yield* names(), ["Read", "mcp__raw__pid", "mcp__raw__crash"])
      assert.notInclude(yield* names(), "mcp__raw__extra")
      fs.writeFileSync(extra, "")
      const crash = yield* registry.get("mcp__raw__crash")
      const ctx = { callId: "c", sessionId: "s", cwd: dir, progress: () => Effect.void }
      yield* Effect.flip(crash.execute({}, ctx))
      let found = false
      for (let i = 0; i < 200 && !found; i++) {
        found = (yield* names()).includes("mcp__raw__extra")
        if (!found) yield* Effect.sleep("25 millis")
      }
      assert.isTrue(found, "the reconnected server's new tool is registered")
    }).pipe(Effect.scoped)
  )
})

const sageBin = path.join(root, "dist", "bin.js")

describe("our own server", () => {
  it.live.skipIf(!fs.existsSync(sageBin))(
    "the client negotiates 2026-07-28 with `sage mcp serve` (built dist/bin.js)",
    () =>
      Effect.gen(function* () {
        const dir = yield* scopedDir("sage-mcp-self-")
        const mcp = yield* McpLive.make({
          cwd: dir,
          homeDir: dir,
          env: { PATH: process.env.PATH, HOME: dir },
          logDir: dir,
          servers: {
            sage: {
              command: node,
              args: [sageBin, "mcp", "serve", "--cwd", dir],
              env: { ANTHROPIC_API_KEY: "sk-ant-test-not-used", ANTHROPIC_BASE_URL: "http://127.0.0.1:9" }
            }
          }
        })
        const [status] = yield* mcp.statuses
        assert.strictEqual(status?.state, "connected", status?.reason)
        assert.strictEqual(status?.protocolVersion, "2026-07-28")
        console.log("negotiated: sage mcp serve =", status?.protocolVersion, status?.serverName, status?.serverVersion)
        assert.isAbove(status?.tools ?? 0, 0)
      }).pipe(Effect.scoped)
  )
})
