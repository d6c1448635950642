import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as EventBusLive from "../../src/layers/EventBusLive.js"
import { layerNode, type SageOptions } from "../../src/layers/SageLive.js"
import { Agent } from "../../src/services/Agent.js"
import { EventBus } from "../../src/services/EventBus.js"
import { Sandbox } from "../../src/services/Sandbox.js"
import { ToolRegistry } from "../../src/services/ToolRegistry.js"
import { Workspace } from "../../src/services/Workspace.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import * as WireServer from "../support/WireServer.js"
import { answer, callTools, ofType, systemOf, tempDir } from "./harness.js"

// .ci/run installs bubblewrap: on CI its absence is a failure, not a skip.
const bwrapAvailable =
  process.env.CI === "true" || (process.env.PATH ?? "").split(":").some((dir) => fs.existsSync(path.join(dir, "bwrap")))

const run = (options: SageOptions, prompt: string) =>
  Effect.gen(function* () {
    const agent = yield* Agent
    const events: Array<AgentEvent> = []
    yield* Stream.runForEach(agent.run(prompt), (e) => Effect.sync(() => events.push(e)))
    return events
  }).pipe(Effect.provide(layerNode(options)))

const optionsFor = (wire: WireServer.WireServer, cwd: string, extra: Partial<SageOptions> = {}): SageOptions => ({
  provider: "anthropic",
  apiKey: "sk-ant-test",
  baseURL: wire.url,
  model: "claude-test",
  cwd,
  homeDir: cwd,
  env: { PATH: process.env.PATH },
  ...extra
})

const results = (events: ReadonlyArray<AgentEvent>) =>
  Object.fromEntries(ofType(events, "tool.completed").map((e) => [e.result.toolCallId, e.result]))

describe("layerNode", () => {
  it.effect("registers every built-in tool plus the caller's, in order", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const names = yield* Effect.flatMap(ToolRegistry, (r) => r.list).pipe(
        Effect.map((tools) => tools.map((t) => t.name)),
        Effect.provide(layerNode({ provider: "anthropic", apiKey: "k", cwd, homeDir: cwd }))
      )
      expect(names).toEqual([
        "Read",
        "Write",
        "Edit",
        "MultiEdit",
        "LS",
        "Glob",
        "Bash",
        "BashOutput",
        "KillShell",
        "Grep",
        "WebFetch",
        "TodoWrite",
        "Task"
      ])
    })
  )

  it.live("uses the settings' defaultMode and additionalDirectories", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const other = yield* tempDir
      fs.writeFileSync(path.join(other, "shared.txt"), "from the other root\n")
      fs.mkdirSync(path.join(cwd, ".sage"))
      fs.writeFileSync(
        path.join(cwd, ".sage", "settings.json"),
        JSON.stringify({ permissions: { defaultMode: "acceptEdits", additionalDirectories: [other] } })
      )
      wire.enqueue(
        callTools([
          { id: "w", name: "Write", input: { file_path: "new.txt", content: "hello\n" } },
          { id: "r", name: "Read", input: { file_path: path.join(other, "shared.txt") } }
        ]),
        answer("ok")
      )
      const events = yield* run(optionsFor(wire, cwd), "write and read")
      const byId = results(events)
      expect(byId.w?.status).toBe("success")
      expect(fs.readFileSync(path.join(cwd, "new.txt"), "utf8")).toBe("hello\n")
      expect(byId.r?.status).toBe("success")
      expect(JSON.stringify(byId.r?.output)).toContain("from the other root")
    })
  )

  it.live("protected paths need an explicit allow rule, even in bypassPermissions", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      fs.mkdirSync(path.join(cwd, ".git"))
      wire.enqueue(
        callTools([{ id: "g", name: "Write", input: { file_path: ".git/config", content: "[core]\n" } }]),
        answer("ok")
      )
      const refused = yield* run(optionsFor(wire, cwd, { permissionMode: "bypassPermissions" }), "edit git config")
      // Refused before the tool runs: the permission check denies protected paths whatever the mode.
      expect(results(refused).g?.status).toBe("denied")
      expect(JSON.stringify(results(refused).g?.output)).toContain(".git")
      expect(fs.existsSync(path.join(cwd, ".git", "config"))).toBe(false)
      wire.enqueue(
        callTools([{ id: "g2", name: "Write", input: { file_path: ".git/config", content: "[core]\n" } }]),
        answer("ok")
      )
      const allowed = yield* run(
        optionsFor(wire, cwd, { permissionMode: "bypassPermissions", allowedTools: ["Write(.git/config)"] }),
        "edit git config"
      )
      expect(results(allowed).g2?.status).toBe("success")
      expect(fs.readFileSync(path.join(cwd, ".git", "config"), "utf8")).toBe("[core]\n")
    })
  )

  it.live.runIf(bwrapAvailable)(
    "runs commands in the bubblewrap sandbox by default (writes outside the workspace fail)",
    () =>
      Effect.gen(function* () {
        const wire = yield* WireServer.make
        const cwd = yield* tempDir
        const outside = yield* tempDir
        wire.enqueue(
          callTools([
            { id: "in", name: "Bash", input: { command: "echo inside > in.txt" } },
            // The checker cannot see what a script writes (bypassPermissions lets it run): the sandbox must stop it.
            {
              id: "out",
              name: "Bash",
              input: { command: `node -e 'require("fs").writeFileSync(process.argv[1], "x")' ${outside}/out.txt` }
            }
          ]),
          answer("ok")
        )
        const events = yield* run(optionsFor(wire, cwd, { permissionMode: "bypassPermissions" }), "write twice")
        expect(results(events).in?.status).toBe("success")
        expect(fs.existsSync(path.join(cwd, "in.txt"))).toBe(true)
        expect(results(events).out?.status).toBe("error")
        expect(JSON.stringify(results(events).out)).toMatch(
          /EROFS|read-only|EACCES|ENOENT: no such file or directory, open/
        )
        expect(fs.existsSync(path.join(outside, "out.txt"))).toBe(false)
      })
  )

  it.effect("fails to build with a PermissionError naming a malformed settings file", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      fs.mkdirSync(path.join(cwd, ".sage"))
      fs.writeFileSync(path.join(cwd, ".sage", "settings.json"), '{\n  "permissions": { "allow": [1] }\n}\n')
      const error = yield* Effect.flip(
        Effect.provide(Agent, layerNode({ provider: "anthropic", apiKey: "k", cwd, homeDir: cwd }))
      )
      expect(error._tag).toBe("PermissionError")
      expect(error.message).toContain("settings.json:2")
    })
  )

  it.live("a Sandbox given with Layer.provide replaces the default one (Bash runs through it)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const wrapped: Array<ReadonlyArray<string>> = []
      const recording = Layer.succeed(
        Sandbox,
        Sandbox.of({
          name: Effect.succeed("recording"),
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
          wrap: (argv) =>
            Effect.sync(() => {
              wrapped.push(argv)
              return ["bash", "-c", "echo from-the-test-sandbox"]
            })
        })
      )
      wire.enqueue(callTools([{ id: "b", name: "Bash", input: { command: "echo hi" } }]), answer("ok"))
      const events = yield* Effect.gen(function* () {
        const agent = yield* Agent
        expect(yield* (yield* Sandbox).name).toBe("recording")
        return yield* Stream.runCollect(agent.run("run it"))
      }).pipe(
        Effect.provide(
          layerNode(optionsFor(wire, cwd, { permissionMode: "bypassPermissions", sandbox: "require" })).pipe(
            Layer.provide(recording)
          )
        )
      )
      expect(wrapped.length).toBe(1)
      expect(JSON.stringify(wrapped[0])).toContain("echo hi")
      expect(JSON.stringify(results(events).b?.output)).toContain("from-the-test-sandbox")
    })
  )

  it.live("an EventBus given with Layer.provide receives every event of the turn", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(answer("hello"))
      const bus = yield* EventBusLive.make(64)
      const subscription = yield* bus.subscribe
      const events = yield* Effect.flatMap(Agent, (agent) => Stream.runCollect(agent.run("hi"))).pipe(
        Effect.provide(layerNode(optionsFor(wire, cwd)).pipe(Layer.provide(Layer.succeed(EventBus, bus))))
      )
      const seen = yield* Stream.runCollect(Stream.take(subscription, events.length))
      expect(seen).toEqual(events)
      expect(ofType(seen, "turn.ended")[0]?.text).toBe("hello")
    })
  )

  it.live("tells the model its working directory and the project's AGENTS.md", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      fs.writeFileSync(path.join(cwd, "AGENTS.md"), "Use tabs.\n")
      wire.enqueue(answer("ok"))
      yield* run(optionsFor(wire, cwd, { appendSystemPrompt: "APPENDED" }), "hi")
      const system = systemOf(wire.requests[0])
      expect(system).toContain(`Working directory: ${cwd}`)
      expect(system).toContain("Use tabs.")
      expect(system).toContain("APPENDED")
      const workspace = yield* Effect.provide(Workspace, layerNode(optionsFor(wire, cwd)))
      expect(workspace.cwd).toBe(cwd)
    })
  )

  it.effect.each([
    [{ provider: "nope" as never }, "provider"],
    [{ permissionMode: "yolo" as never }, "permissionMode"],
    [{ maxSteps: 0 }, "maxSteps"],
    [{ maxSteps: -1 }, "maxSteps"],
    [{ maxConcurrency: 2.5 }, "maxConcurrency"],
    [{ sandbox: "maybe" as never }, "sandbox"]
  ] as const)("invalid options fail with a ConfigError, never a silent default: %o", ([extra, name]) =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const error = yield* Effect.flip(
        Effect.provide(Agent, layerNode({ provider: "anthropic", apiKey: "k", cwd, homeDir: cwd, ...extra }))
      )
      expect(error._tag).toBe("ConfigError")
      expect(error.message).toContain(name)
    })
  )
})
