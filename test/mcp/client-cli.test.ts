/**
 * MCP through the CLI: an agent turn (scripted model) calling a server-everything tool with allow / deny / no rules,
 * and `sage mcp add|list|get|approve|remove` with a project `.mcp.json` that needs approval.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { SageAgentSDK } from "../../src/sdk/index.js"
import { answer, anthropicEnv, callTools, isAlive, runInProcess, tempDir, waitFor } from "../cli/support.js"
import * as WireServer from "../support/WireServer.js"

const root = path.resolve(import.meta.dirname, "../..")
const everything = path.join(root, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")
const rawServer = path.join(import.meta.dirname, "servers", "raw.mjs")

/** The text of the tool results the model was sent in request `index`. */
const toolResults = (body: unknown): string => JSON.stringify(body)

describe("MCP in an agent turn", () => {
  it.live(
    "the model calls mcp__everything__echo: allowed by a rule it runs, denied by a rule or by default it does not",
    () =>
      Effect.gen(function* () {
        const cwd = yield* tempDir
        const config = path.join(cwd, "mcp.json")
        fs.writeFileSync(
          config,
          JSON.stringify({ mcpServers: { everything: { command: process.execPath, args: [everything, "stdio"] } } })
        )
        const turn = (flags: ReadonlyArray<string>) =>
          Effect.gen(function* () {
            const wire = yield* WireServer.make
            wire.enqueue(
              callTools([{ id: "t1", name: "mcp__everything__echo", input: { message: "from the model" } }]),
              answer("done")
            )
            const run = yield* runInProcess(
              ["-p", "go", "--output-format", "json", "--cwd", cwd, "--mcp-config", config, ...flags],
              anthropicEnv(wire.url, cwd)
            )
            expect(run.code, run.stderr).toBe(0)
            // The tool is offered to the model with the server's schema.
            const first = JSON.stringify(wire.requests[0]?.body)
            expect(first).toContain('"name":"mcp__everything__echo"')
            return toolResults(wire.requests[1]?.body)
          }).pipe(Effect.scoped)

        const allowed = yield* turn(["--allowed-tools", "mcp__everything__echo"])
        expect(allowed).toContain("Echo: from the model")
        const wholeServer = yield* turn(["--allowed-tools", "mcp__everything"])
        expect(wholeServer).toContain("Echo: from the model")
        const denied = yield* turn([
          "--allowed-tools",
          "mcp__everything",
          "--disallowed-tools",
          "mcp__everything__echo"
        ])
        expect(denied).not.toContain("Echo: from the model")
        // No rule: MCP tools ask (the readOnlyHint is not trusted), and without a terminal an ask is a deny.
        const unasked = yield* turn([])
        expect(unasked).not.toContain("Echo: from the model")
        expect(unasked.toLowerCase()).toContain("denied")

        // A server that fails is reported (text: on stderr; stream-json: an mcp.status event), and the turn still runs.
        const wire = yield* WireServer.make
        wire.enqueue(answer("still here"))
        const broken = JSON.stringify({ mcpServers: { broken: { command: "/nonexistent/mcp-server" } } })
        const text = yield* runInProcess(
          ["-p", "go", "--cwd", cwd, "--mcp-config", broken],
          anthropicEnv(wire.url, cwd)
        )
        expect(text.code).toBe(0)
        expect(text.stdout).toContain("still here")
        expect(text.stderr).toContain("sage: MCP server broken failed: cannot start /nonexistent/mcp-server")
        wire.enqueue(answer("again"))
        const json = yield* runInProcess(
          ["-p", "go", "--cwd", cwd, "--mcp-config", broken, "--output-format", "stream-json"],
          anthropicEnv(wire.url, cwd)
        )
        const status = json.stdout
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l))
          .find((e) => e.type === "mcp.status")
        expect(status).toMatchObject({ type: "mcp.status", server: "broken", state: "failed", tools: 0 })
      })
  )
})

describe("the SDK's mcpServers option", () => {
  it.live("MCP tools run through SageAgentSDK (allowed by canUseTool), and closing the SDK stops the server", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const wire = yield* WireServer.make
      wire.enqueue(callTools([{ id: "p1", name: "mcp__raw__pid", input: {} }]), answer("ok"))
      const asked: Array<string> = []
      const sdk = new SageAgentSDK({
        provider: "anthropic",
        apiKey: "sk-ant-sdk-test",
        baseURL: wire.url,
        model: "claude-test",
        cwd,
        env: { PATH: process.env.PATH },
        persistSession: false,
        mcpServers: { raw: { command: process.execPath, args: [rawServer, "ok"] } },
        canUseTool: async (call) => {
          asked.push(call.name)
          return { behavior: "allow" }
        }
      })
      const result = yield* Effect.promise(() => sdk.run("pid?"))
      expect(asked).toEqual(["mcp__raw__pid"])
      const sent = JSON.stringify(wire.requests[1]?.body)
      const pid = Number(/"tool_result".*?"text":"(\d+)"/.exec(sent)?.[1])
      expect(result.text).toBe("ok")
      expect(pid).toBeGreaterThan(1)
      expect(isAlive(pid)).toBe(true)
      yield* Effect.promise(() => sdk.close())
      expect(yield* waitFor(() => !isAlive(pid), 5000)).toBe(true)
      const invalid = yield* Effect.sync(() => {
        try {
          new SageAgentSDK({ mcpServers: { bad: { url: "x" } } as never })
          return undefined
        } catch (error) {
          return error
        }
      })
      expect(String(invalid)).toContain("mcpServers")
    })
  )
})

describe("interrupting a turn", () => {
  it.live(
    "a turn interrupted during a slow MCP call ends promptly, and the server is sent notifications/cancelled",
    () =>
      Effect.gen(function* () {
        const cwd = yield* tempDir
        const mark = path.join(cwd, "marks")
        const wire = yield* WireServer.make
        wire.enqueue(callTools([{ id: "s1", name: "mcp__raw__slow", input: {} }]), answer("never"))
        const sdk = new SageAgentSDK({
          provider: "anthropic",
          apiKey: "sk-ant-sdk-test",
          baseURL: wire.url,
          model: "claude-test",
          cwd,
          env: { PATH: process.env.PATH },
          persistSession: false,
          allowedTools: ["mcp__raw"],
          mcpServers: { raw: { command: process.execPath, args: [rawServer, "ok"], env: { MARK_FILE: mark } } }
        })
        const controller = new AbortController()
        const pending = sdk.run("go", { signal: controller.signal }).catch((error: unknown) => error)
        const lines = () => (fs.existsSync(mark) ? fs.readFileSync(mark, "utf8") : "")
        expect(yield* waitFor(() => lines().includes("slow "), 10_000)).toBe(true)
        const started = Date.now()
        controller.abort()
        const outcome = yield* Effect.promise(() => pending)
        expect(Date.now() - started).toBeLessThan(2000)
        expect(String(outcome)).toMatch(/abort/i)
        expect(yield* waitFor(() => lines().includes("cancelled "), 5000)).toBe(true)
        yield* Effect.promise(() => sdk.close())
      })
  )
})

describe("sage mcp", () => {
  it.live("add, list, get, approve and remove, with a project .mcp.json that needs approval", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const env = { PATH: process.env.PATH, HOME: cwd }
      const sage = (...argv: ReadonlyArray<string>) => runInProcess(["mcp", ...argv], env, { cwd })

      // A repository's .mcp.json: its server needs approval and is not started.
      const mark = path.join(cwd, "marks")
      fs.writeFileSync(
        path.join(cwd, ".mcp.json"),
        JSON.stringify({
          mcpServers: { repo: { command: process.execPath, args: [rawServer, "ok"], env: { MARK_FILE: mark } } }
        })
      )
      const listed = yield* sage("list")
      expect(listed.code).toBe(0)
      expect(listed.stdout).toContain("repo: ")
      expect(listed.stdout).toContain("(stdio, project) - needs approval")
      expect(fs.existsSync(mark)).toBe(false)

      const approved = yield* sage("approve", "repo")
      expect(approved.code, approved.stderr).toBe(0)
      expect(approved.stdout).toContain("Approved repo")
      const after = yield* sage("list")
      expect(after.stdout).toContain("repo: ")
      expect(after.stdout).toContain("connected (4 tools)")

      // add (user scope: ~/.sage/settings.json), with an env var and a failing command.
      const added = yield* sage("add", "--scope", "user", "-e", "FOO=bar", "broken", "/nonexistent/server", "--flag")
      expect(added.code, added.stderr).toBe(0)
      const settings = JSON.parse(fs.readFileSync(path.join(cwd, ".sage", "settings.json"), "utf8"))
      expect(settings.mcpServers.broken).toEqual({
        command: "/nonexistent/server",
        args: ["--flag"],
        env: { FOO: "bar" }
      })
      const withBroken = yield* sage("list")
      expect(withBroken.stdout).toMatch(/broken: \/nonexistent\/server --flag \(stdio, user\) - failed: /)

      // add to the project (.mcp.json): approved for the one who adds it.
      const http = yield* sage(
        "add",
        "--transport",
        "http",
        "-H",
        "Authorization: Bearer ${TOKEN:-none}",
        "web",
        "http://127.0.0.1:9/mcp"
      )
      expect(http.code, http.stderr).toBe(0)
      const mcpJson = JSON.parse(fs.readFileSync(path.join(cwd, ".mcp.json"), "utf8"))
      expect(mcpJson.mcpServers.web).toEqual({
        type: "http",
        url: "http://127.0.0.1:9/mcp",
        headers: { Authorization: "Bearer ${TOKEN:-none}" }
      })
      expect(mcpJson.mcpServers.repo).toBeDefined()
      const duplicate = yield* sage("add", "web", "x")
      expect(duplicate.code).toBe(2)
      expect(duplicate.stderr).toContain('a server named "web" is already in')

      const got = yield* sage("get", "repo")
      expect(got.code).toBe(0)
      expect(got.stdout).toContain("Status: connected (4 tools)")
      expect(got.stdout).toContain("Protocol version: 2025-11-25")
      expect(got.stdout).toContain("Tools: mcp__repo__crash, mcp__repo__slow, mcp__repo__pid, mcp__repo__spawn")
      const missing = yield* sage("get", "nope")
      expect(missing.code).toBe(1)
      expect(missing.stderr).toContain('no MCP server named "nope"')

      const removed = yield* sage("remove", "broken")
      expect(removed.code).toBe(0)
      expect(JSON.parse(fs.readFileSync(path.join(cwd, ".sage", "settings.json"), "utf8")).mcpServers).toEqual({})
      const removedAgain = yield* sage("remove", "broken")
      expect(removedAgain.code).toBe(1)

      const bad = yield* sage("add", "--transport", "carrier-pigeon", "x", "y")
      expect(bad.code).toBe(2)
      expect(bad.stderr).toContain('invalid --transport "carrier-pigeon"')
      const unknown = yield* sage("frobnicate")
      expect(unknown.code).toBe(2)
    })
  )
})
