import * as fs from "node:fs"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { fromOptions, loadAgents, parseAgentFile } from "../../src/agents/AgentDefinitions.js"
import { narrowerMode } from "../../src/agent/SubAgents.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import { makeTaskTool } from "../../src/tools/Task.js"
import { anthropicEnv, answer, callTools, isAlive, runInProcess, tempDir, waitFor } from "../cli/support.js"
import { readLog } from "../../src/session/SessionLog.js"
import { SageAgentSDK, type AgentEvent as SdkEvent } from "../../src/sdk/index.js"
import { sdkFor } from "../support/sdk.js"
import * as WireServer from "../support/WireServer.js"
import { modelOf, router, systemText, toolNamesOf } from "./support.js"

const parse = (text: string) => Effect.flip(parseAgentFile(text, "/p/x.md", "project"))

describe("agent files", () => {
  it.effect("reads the front matter (lists, quotes, blocks) and the body", () =>
    Effect.gen(function* () {
      const a = yield* parseAgentFile(
        [
          "---",
          "name: code-reviewer",
          'description: "Reviews code. Use \\"proactively\\"."',
          "tools: Read, Grep,  Glob",
          "model: claude-x # a comment",
          "permissionMode: plan",
          "color: blue",
          "maxTurns: 7",
          "---",
          "",
          "You review code.",
          ""
        ].join("\n"),
        "/p/a.md",
        "project"
      )
      expect(a).toEqual({
        name: "code-reviewer",
        description: 'Reviews code. Use "proactively".',
        prompt: "You review code.",
        tools: ["Read", "Grep", "Glob"],
        model: "claude-x",
        permissionMode: "plan",
        maxSteps: 7,
        source: "project",
        path: "/p/a.md"
      })
      const b = yield* parseAgentFile(
        "---\nname: b\ndescription: >\n  Folded\n  text.\ntools:\n  - Read\n  - 'Grep'\ndisallowedTools: [Bash]\n---\nBody",
        "/p/b.md",
        "user"
      )
      expect(b).toMatchObject({ description: "Folded text.", tools: ["Read", "Grep"], disallowedTools: ["Bash"] })
      // No tools key (or "*"): every tool of the parent.
      const c = yield* parseAgentFile("---\nname: c\ndescription: d\ntools: '*'\n---\nBody", "/p/c.md", "user")
      expect(c.tools).toBeUndefined()
    })
  )

  it.effect("a malformed file is a ConfigError naming the file and the line", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["no front matter", "/p/x.md:1: an agent file starts with a front matter block"],
        ["---\nname: x\ndescription: d\n", '/p/x.md:1: the front matter block is not closed with a "---" line'],
        ["---\ndescription: d\n---\nbody", '/p/x.md:1: the front matter has no "name"'],
        ["---\nname: x\n---\nbody", '/p/x.md:1: the front matter has no "description"'],
        ["---\nname: x\ndescription: d\n---\n\n", "/p/x.md:4: the body (the agent's system prompt) is empty"],
        ["---\nname: x\ndescription: d\nmodle: y\n---\nbody", '/p/x.md:4: unknown key "modle"'],
        ["---\nname: x\ndescription: d\nthis is not yaml\n---\nbody", '/p/x.md:4: expected "key: value"'],
        ["---\nname: x y\ndescription: d\n---\nbody", '/p/x.md:2: the name "x y" must be'],
        ["---\nname: x\ndescription: d\npermissionMode: yolo\n---\nbody", "/p/x.md:4: permissionMode must be one of"],
        ["---\nname: x\ndescription: d\nname: y\n---\nbody", '/p/x.md:4: "name" is given twice'],
        ['---\nname: x\ndescription: "open\n---\nbody', "/p/x.md:3: a double-quoted value must end"],
        ["---\nname: x\ndescription: d\ntools: Read, Bad Name\n---\nbody", '/p/x.md:4: "Bad Name" in tools']
      ]
      for (const [text, message] of cases) {
        const error = yield* parse(text)
        expect(error._tag).toBe("ConfigError")
        expect(error.message).toContain(message)
        expect(error.source).toBe("/p/x.md")
      }
    })
  )

  it.effect("project files win over user files, options over both, and both over the built-in types", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const cwd = yield* tempDir
      const write = (dir: string, name: string, text: string) => {
        fs.mkdirSync(path.join(dir, ".sage", "agents"), { recursive: true })
        fs.writeFileSync(path.join(dir, ".sage", "agents", name), text)
      }
      write(home, "a.md", "---\nname: shared\ndescription: user version\n---\nuser")
      write(home, "b.md", "---\nname: mine\ndescription: only the user's\n---\nmine")
      write(cwd, "a.md", "---\nname: shared\ndescription: project version\n---\nproject")
      write(cwd, "e.md", "---\nname: Explore\ndescription: the project's Explore\n---\nexplore")
      write(cwd, "notes.txt", "not an agent")
      const agents = yield* loadAgents({
        cwd,
        homeDir: home,
        agents: { given: { description: "from the options", prompt: "p", tools: ["Read"] } }
      }).pipe(Effect.provide(NodeServices.layer))
      const byName = Object.fromEntries(agents.map((a) => [a.name, a]))
      expect(Object.keys(byName).sort()).toEqual(["Explore", "Plan", "general-purpose", "given", "mine", "shared"])
      expect(byName.shared?.description).toBe("project version")
      expect(byName.mine?.source).toBe("user")
      expect(byName.Explore?.source).toBe("project")
      expect(byName.given?.source).toBe("options")
      // The Task tool lists every type with its description.
      const description = makeTaskTool({ agents }).description
      for (const a of agents) expect(description).toContain(`- ${a.name}: ${a.description}`)

      write(cwd, "z.md", "---\nname: mine\ndescription: twice\n---\nx")
      write(cwd, "y.md", "---\nname: mine\ndescription: again\n---\nx")
      const twice = yield* Effect.flip(loadAgents({ cwd }).pipe(Effect.provide(NodeServices.layer)))
      expect(twice.message).toContain('two agent files define the agent "mine"')
      const bad = yield* Effect.flip(fromOptions({ "bad name": { description: "d", prompt: "p" } }))
      expect(bad.message).toContain("Invalid option agents.bad name")
    })
  )

  it("a sub-agent's mode is never wider than its parent's", () => {
    expect(narrowerMode("bypassPermissions", "plan")).toBe("plan")
    expect(narrowerMode("default", "bypassPermissions")).toBe("default")
    expect(narrowerMode("acceptEdits", "default")).toBe("default")
    expect(narrowerMode("plan", "acceptEdits")).toBe("plan")
    expect(narrowerMode("acceptEdits", undefined)).toBe("acceptEdits")
  })
})

describe("sub-agents in the CLI", () => {
  it.live(
    "a project agent file is used with its tools and model; stream-json shows its events with parentAgentId",
    () =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        fs.mkdirSync(path.join(cwd, ".sage", "agents"), { recursive: true })
        fs.writeFileSync(
          path.join(cwd, ".sage", "agents", "finder.md"),
          "---\nname: finder\ndescription: Finds things.\ntools: Read, Grep\nmodel: claude-finder\n---\nYou find things.\n"
        )
        fs.writeFileSync(path.join(cwd, "notes.txt"), "the treasure is here\n")
        wire.setHandler(
          router([
            {
              marker: "find the treasure",
              replies: [
                callTools([
                  {
                    id: "t1",
                    name: "Task",
                    input: { description: "find it", prompt: "look-in-notes", subagent_type: "finder" }
                  }
                ]),
                answer("It is in notes.txt.")
              ]
            },
            {
              marker: "look-in-notes",
              replies: [
                callTools([{ id: "r1", name: "Read", input: { file_path: path.join(cwd, "notes.txt") } }]),
                answer("notes.txt says: the treasure is here")
              ]
            }
          ])
        )
        const run = yield* runInProcess(
          ["-p", "find the treasure", "--output-format", "stream-json", "--cwd", cwd, "--no-session-persistence"],
          anthropicEnv(wire.url, cwd)
        )
        expect(run.stderr).toBe("")
        expect(run.code).toBe(0)
        const events: ReadonlyArray<AgentEvent> = run.stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line))
        const sub = events.filter((e) => e.parentAgentId === "main")
        expect(new Set(sub.map((e) => e.agentId))).toEqual(new Set(["main/task-1"]))
        expect(sub.map((e) => e.type)).toEqual(
          expect.arrayContaining(["turn.started", "tool.started", "tool.completed", "turn.ended"])
        )
        const read = sub.find((e) => e.type === "tool.completed")
        expect(read?.type === "tool.completed" && read.result.status).toBe("success")
        const request = wire.requests.find((r) => JSON.stringify(r.body).includes("look-in-notes"))
        if (request === undefined) throw new Error("no sub-agent request")
        expect(toolNamesOf(request)).toEqual(["Read", "Grep"])
        expect(modelOf(request)).toBe("claude-finder")
        expect(systemText(request)).toContain("You find things.")
        const main = events.filter((e) => e.parentAgentId === undefined && e.type === "turn.ended")
        expect(main).toHaveLength(1)
        const task = events.find((e) => e.type === "tool.completed" && e.parentAgentId === undefined)
        expect(JSON.stringify(task)).toContain("notes.txt says: the treasure is here")
      })
  )

  it.live("text output tags the sub-agent's tool lines; a malformed agent file is a clear error", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.setHandler(
        router([
          {
            marker: "explore please",
            replies: [
              callTools([
                {
                  id: "t1",
                  name: "Task",
                  input: { description: "look", prompt: "explore-it", subagent_type: "Explore" }
                }
              ]),
              answer("Done.")
            ]
          },
          {
            marker: "explore-it",
            replies: [callTools([{ id: "g1", name: "Glob", input: { pattern: "*.md" } }]), answer("nothing")]
          }
        ])
      )
      const run = yield* runInProcess(
        ["-p", "explore please", "--cwd", cwd, "--no-session-persistence"],
        anthropicEnv(wire.url, cwd)
      )
      expect(run.code).toBe(0)
      expect(run.stdout).toBe("Done.\n")
      expect(run.stderr).toMatch(/> #1 Task\(look\)/)
      expect(run.stderr).toMatch(/ {2}\[main\/task-1\] > #2 Glob\(\*\.md\)/)
      expect(run.stderr).toMatch(/\[main\/task-1\] done: 2 steps \(end_turn\)/)

      // --agents: a JSON object, its definitions checked when the agent loads.
      const notJson = yield* runInProcess(["-p", "hi", "--cwd", cwd, "--agents", "{bad"], anthropicEnv(wire.url, cwd))
      expect(notJson.code).toBe(2)
      expect(notJson.stderr).toContain('sage: invalid value for --agents: "{bad"')
      const noPrompt = yield* runInProcess(
        ["-p", "hi", "--cwd", cwd, "--agents", '{"x": {"description": "d"}}'],
        anthropicEnv(wire.url, cwd)
      )
      expect(noPrompt.code).toBe(1)
      expect(noPrompt.stderr).toContain("Invalid option agents.x: prompt must be a non-empty string")
      const max = yield* runInProcess(["-p", "hi", "--max-subagents", "0"], anthropicEnv(wire.url, cwd))
      expect(max.code).toBe(2)

      fs.mkdirSync(path.join(cwd, ".sage", "agents"), { recursive: true })
      const bad = path.join(cwd, ".sage", "agents", "broken.md")
      fs.writeFileSync(bad, "---\nname: broken\n---\nbody\n")
      const failed = yield* runInProcess(["-p", "hi", "--cwd", cwd], anthropicEnv(wire.url, cwd))
      expect(failed.code).toBe(1)
      expect(failed.stderr).toContain(`${bad}:1: the front matter has no "description"`)
    })
  )
})

describe("sub-agents and Ctrl-C in the CLI", () => {
  it.live("a signal while a sub-agent runs sleep 30 ends the run (130) and kills the sleep", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const pidFile = path.join(cwd, "pid")
      wire.setHandler(
        router([
          {
            marker: "start a sleeper",
            replies: [
              callTools([
                {
                  id: "t1",
                  name: "Task",
                  input: { description: "sleep", prompt: "sleeper-task", subagent_type: "general-purpose" }
                }
              ])
            ]
          },
          {
            marker: "sleeper-task",
            replies: [
              callTools([{ id: "b1", name: "Bash", input: { command: `sleep 30 & echo $! > ${pidFile}; wait` } }])
            ]
          }
        ])
      )
      let send: ((signal: string) => void) | undefined
      const running = yield* Effect.forkChild(
        runInProcess(
          [
            "-p",
            "start a sleeper",
            "--output-format",
            "stream-json",
            "--permission-mode",
            "bypassPermissions",
            "--sandbox",
            "off",
            "--no-session-persistence",
            "--cwd",
            cwd
          ],
          anthropicEnv(wire.url, cwd),
          {
            onSignals: (s) => {
              send = s
            }
          }
        )
      )
      const pidOf = () => (fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, "utf8").trim()) : 0)
      expect(yield* waitFor(() => pidOf() > 0)).toBe(true)
      const pid = pidOf()
      const started = Date.now()
      send?.("SIGINT")
      const run = yield* Fiber.join(running)
      const latency = Date.now() - started
      console.log(`CLI: SIGINT with a sub-agent running sleep 30: exit ${run.code} after ${latency} ms`)
      expect(run.code).toBe(130)
      expect(latency).toBeLessThan(2000)
      expect(yield* waitFor(() => !isAlive(pid), 2000)).toBe(true)
      const events: ReadonlyArray<AgentEvent> = run.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
      expect(events.filter((e) => e.type === "interrupted").map((e) => e.agentId)).toEqual(["main/task-1", "main"])
    })
  )
})

describe("sub-agents in the SDK", () => {
  it.live("the agents option adds a type; its events stream with parentAgentId; canUseTool answers its asks", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.setHandler(
        router([
          {
            marker: "sdk-parent",
            replies: [
              callTools([
                {
                  id: "t1",
                  name: "Task",
                  input: { description: "write", prompt: "sdk-child", subagent_type: "writer" }
                }
              ]),
              answer("parent done")
            ]
          },
          {
            marker: "sdk-child",
            replies: [
              callTools([{ id: "w1", name: "Write", input: { file_path: path.join(cwd, "out.txt"), content: "hi" } }]),
              answer("child done")
            ]
          }
        ])
      )
      const asked: Array<string> = []
      const sdk = yield* sdkFor(wire, cwd, {
        persistSession: false,
        sandbox: "off",
        agents: { writer: { description: "Writes files.", prompt: "You write.", tools: ["Write"] } },
        canUseTool: async (call, context) => {
          asked.push(`${call.name}: ${context.reason}`)
          return { behavior: "allow" }
        }
      })
      const events = yield* Effect.promise(async () => {
        const out: Array<SdkEvent> = []
        for await (const e of sdk.stream("sdk-parent")) out.push(e)
        return out
      })
      expect(fs.readFileSync(path.join(cwd, "out.txt"), "utf8")).toBe("hi")
      expect(asked).toHaveLength(1)
      expect(asked[0]).toMatch(/^Write: sub-agent main\/task-1 \(writer\): /)
      const sub = events.filter((e) => e.parentAgentId === "main")
      expect(sub.some((e) => e.type === "permission.requested")).toBe(true)
      expect(events.filter((e) => e.type === "turn.ended" && e.parentAgentId === undefined)).toMatchObject([
        { text: "parent done" }
      ])
      expect(() => new SageAgentSDK({ maxSubagents: 0 })).toThrow(/maxSubagents is 0; expected an integer >= 1/)
      expect(() => new SageAgentSDK({ agents: { x: { description: "d", prompt: "" } } })).toThrow(/agents\.x\.prompt/)
    })
  )
})

describe("sub-agents in session logs", () => {
  it("a sub-agent's events stay out of the conversation, but its 'for this session' grant is kept", () => {
    const envelope = { v: 1, sessionId: "s", timestamp: 1 }
    const lines = [
      { type: "session", id: "s", cwd: "/w", created: 1, provider: "anthropic", model: "m" },
      { ...envelope, agentId: "main", type: "turn.started", turnId: "t", prompt: "hi" },
      { ...envelope, agentId: "main/task-1", parentAgentId: "main", type: "turn.started", turnId: "u", prompt: "sub" },
      {
        ...envelope,
        agentId: "main/task-1",
        parentAgentId: "main",
        type: "permission.resolved",
        turnId: "u",
        callId: "c",
        decision: "allow",
        source: "user:session",
        rule: "Bash(make:*)"
      },
      {
        ...envelope,
        agentId: "main/task-1",
        parentAgentId: "main",
        type: "turn.ended",
        turnId: "u",
        stopReason: "end_turn",
        steps: 1,
        usage: {},
        text: "x"
      }
    ]
    const log = readLog(`${lines.map((l) => JSON.stringify(l)).join("\n")}\n`, "s", 2)
    expect(log.state.grants).toEqual(["Bash(make:*)"])
    expect(log.state.messages).toHaveLength(1)
    // The main turn (closed by the crash repair) counts; the sub-agent's turn.ended does not.
    expect(log.state.turns).toBe(1)
  })
})
