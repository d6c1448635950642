import * as fs from "node:fs"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { TestClock } from "effect/testing"
import * as SystemPrompt from "../../src/agent/SystemPrompt.js"
import * as WireServer from "../support/WireServer.js"
import { answer, runTurn, systemOf, tempDir } from "./harness.js"

const DAY = Date.UTC(2026, 11, 2, 15, 30)

const base = (cwd: string): SystemPrompt.SystemPromptOptions => ({
  cwd,
  roots: [cwd, "/srv/shared"],
  platform: "linux",
  permissionMode: "default",
  tools: ["Read", "Edit", "Bash", "Grep"]
})

const build = (options: SystemPrompt.SystemPromptOptions) =>
  SystemPrompt.build(options).pipe(Effect.provide(NodeServices.layer))

describe("system prompt", () => {
  it.effect("tells the model its environment: cwd, roots, platform, today's date (Clock), not a git repo", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      yield* TestClock.setTime(DAY)
      const prompt = yield* build(base(cwd))
      expect(prompt).toContain(`Working directory: ${cwd}`)
      expect(prompt).toContain(`Workspace roots: ${cwd}, /srv/shared`)
      expect(prompt).toContain("Platform: linux")
      expect(prompt).toContain("Today's date: 2026-12-02")
      expect(prompt).toContain("Git repository: no")
      expect(prompt).not.toContain("# Project instructions")
    })
  )

  it.effect("sees a git repository from a subdirectory (a .git directory or file in a parent)", () =>
    Effect.gen(function* () {
      const repo = yield* tempDir
      fs.mkdirSync(path.join(repo, ".git"))
      fs.mkdirSync(path.join(repo, "pkg", "a"), { recursive: true })
      expect(yield* build(base(path.join(repo, "pkg", "a")))).toContain("Git repository: yes")
      const worktree = yield* tempDir
      fs.writeFileSync(path.join(worktree, ".git"), "gitdir: /elsewhere\n")
      expect(yield* build(base(worktree))).toContain("Git repository: yes")
    })
  )

  it.effect("gives tool guidance for the tools it has, and the permission mode", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const prompt = yield* build(base(cwd))
      expect(prompt).toContain("in one response: they run in parallel")
      expect(prompt).toContain("Read a file before you edit")
      expect(prompt).toContain("run_in_background")
      expect(prompt).toContain("Permission mode: default")
      expect(prompt).not.toContain("TodoWrite")
      const readOnly = yield* build({ ...base(cwd), tools: ["Read"], permissionMode: "plan" })
      expect(readOnly).not.toContain("Read a file before you edit")
      expect(readOnly).not.toContain("run_in_background")
      expect(readOnly).toContain("Permission mode: plan (read-only)")
    })
  )

  it.effect("reads ~/.sage/AGENTS.md, then AGENTS.md and CLAUDE.md from the outermost parent to the root", () =>
    Effect.gen(function* () {
      const top = yield* tempDir
      const home = yield* tempDir
      const root = path.join(top, "project")
      fs.mkdirSync(path.join(home, ".sage"), { recursive: true })
      fs.mkdirSync(root)
      fs.writeFileSync(path.join(home, ".sage", "AGENTS.md"), "USER: answer in English\n")
      fs.writeFileSync(path.join(top, "CLAUDE.md"), "PARENT: monorepo rules\n")
      fs.writeFileSync(path.join(root, "AGENTS.md"), "ROOT: run npm test before you finish\n")
      fs.writeFileSync(path.join(root, "CLAUDE.md"), "ROOT-CLAUDE: legacy notes\n")
      fs.symlinkSync(path.join(root, "AGENTS.md"), path.join(top, "AGENTS.md"))
      const prompt = yield* build({ ...base(root), homeDir: home })
      const order = ["USER:", "PARENT:", "ROOT:", "ROOT-CLAUDE:"].map((mark) => prompt.indexOf(mark))
      expect(order.every((i) => i > 0)).toBe(true)
      expect([...order].sort((a, b) => a - b)).toEqual(order)
      // The symlinked copy of the root's AGENTS.md is included once.
      expect(prompt.split("ROOT: run npm test").length).toBe(2)
      expect(prompt).toContain(`## ${path.join(root, "AGENTS.md")}`)
    })
  )

  it.effect("cuts a huge instruction file and skips an empty one or a directory of that name", () =>
    Effect.gen(function* () {
      const root = yield* tempDir
      fs.writeFileSync(path.join(root, "AGENTS.md"), `HEAD${"x".repeat(SystemPrompt.MAX_INSTRUCTION_CHARS + 500)}`)
      fs.mkdirSync(path.join(root, "CLAUDE.md"))
      const files = yield* SystemPrompt.instructionFiles(root).pipe(Effect.provide(NodeServices.layer))
      const mine = files.filter((f) => f.path.startsWith(root))
      expect(mine.map((f) => path.basename(f.path))).toEqual(["AGENTS.md"])
      expect(mine[0]?.content).toContain("[cut: the file is longer than")
      expect(mine[0]?.content.length).toBeLessThan(SystemPrompt.MAX_INSTRUCTION_CHARS + 200)
      fs.writeFileSync(path.join(root, "AGENTS.md"), "  \n")
      const none = yield* SystemPrompt.instructionFiles(root).pipe(Effect.provide(NodeServices.layer))
      expect(none.filter((f) => f.path.startsWith(root))).toEqual([])
    })
  )

  it.effect("systemPrompt replaces it all; appendSystemPrompt adds to either", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      fs.writeFileSync(path.join(cwd, "AGENTS.md"), "PROJECT RULES\n")
      expect(yield* build({ ...base(cwd), systemPrompt: "You are a pirate." })).toBe("You are a pirate.")
      expect(yield* build({ ...base(cwd), systemPrompt: "You are a pirate.", appendSystemPrompt: "Arr." })).toBe(
        "You are a pirate.\n\nArr."
      )
      const appended = yield* build({ ...base(cwd), appendSystemPrompt: "Be brief." })
      expect(appended).toContain("PROJECT RULES")
      expect(appended.endsWith("\n\nBe brief.")).toBe(true)
    })
  )

  it.live("the agent sends it with every request; run options replace or append per turn", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      fs.writeFileSync(path.join(cwd, "AGENTS.md"), "Always cite file paths.\n")
      wire.enqueue(answer("ok"))
      yield* runTurn({ wire, cwd, tools: [], mode: "acceptEdits", agent: { appendSystemPrompt: "AGENT-APPEND" } }, "hi")
      const system = systemOf(wire.requests[0])
      expect(system).toContain(`Working directory: ${cwd}`)
      expect(system).toContain("Always cite file paths.")
      expect(system).toContain("Permission mode: acceptEdits")
      expect(system).toContain("AGENT-APPEND")
      wire.enqueue(answer("ok"))
      yield* runTurn({ wire, cwd, tools: [], agent: { systemPrompt: "REPLACED" } }, "hi")
      const replaced = systemOf(wire.requests[1])
      expect(replaced).toContain("REPLACED")
      expect(replaced).not.toContain("Working directory")
    })
  )
})
