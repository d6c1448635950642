/** PreToolUse and PostToolUse hooks with real commands, through a complete agent (`layerNode`) and real Bash. */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { answer, callTools, ofType, tempDir, waitUntilGone } from "../agent/harness.js"
import * as WireServer from "../support/WireServer.js"
import { command, optionsFor, readJson, requestText, runAgent, script, writeSettings } from "./support.js"

const bash = (id: string, commandText: string) => callTools([{ id, name: "Bash", input: { command: commandText } }])

const resultOf = (events: ReadonlyArray<Parameters<typeof ofType>[0][number]>, id: string) =>
  ofType(events, "tool.completed").find((e) => e.result.toolCallId === id)?.result

const textOf = (result: { readonly output: ReadonlyArray<{ readonly type: string }> } | undefined) =>
  JSON.stringify(result?.output ?? [])

describe("PreToolUse", () => {
  it.live("exit code 2 refuses the call; stderr is the reason the model gets; stdin holds the event", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const hook = script(
        cwd,
        "deny.sh",
        `cat > "${cwd}/input.json"; echo "$SAGE_PROJECT_DIR|$CLAUDE_PROJECT_DIR|\${MY_API_KEY:-none}" > "${cwd}/env.txt"; echo "no shell today" >&2; exit 2`
      )
      writeSettings(cwd, { PreToolUse: [{ matcher: "Bash|Write", hooks: [command(hook)] }] })
      wire.enqueue(bash("b1", `echo hi > ${cwd}/out.txt`), answer("ok"))
      const events = yield* runAgent(
        optionsFor(wire, cwd, {
          permissionMode: "bypassPermissions",
          env: { PATH: process.env.PATH, MY_API_KEY: "sk-not-for-hooks" }
        }),
        "go"
      )
      const result = resultOf(events, "b1")
      expect(result?.status).toBe("denied")
      expect(textOf(result)).toContain("no shell today")
      expect(fs.existsSync(path.join(cwd, "out.txt"))).toBe(false)
      expect(requestText(wire, 1)).toContain("no shell today")
      const input = readJson(path.join(cwd, "input.json"))
      expect(input).toMatchObject({
        hook_event_name: "PreToolUse",
        tool_name: "Bash",
        tool_input: { command: `echo hi > ${cwd}/out.txt` },
        tool_use_id: "b1",
        cwd,
        permission_mode: "bypassPermissions"
      })
      expect(typeof (input as { session_id?: unknown }).session_id).toBe("string")
      // The workspace as SAGE_PROJECT_DIR and CLAUDE_PROJECT_DIR; credentials scrubbed.
      expect(fs.readFileSync(path.join(cwd, "env.txt"), "utf8").trim()).toBe(`${cwd}|${cwd}|none`)
      const hooks = ofType(events, "hook")
      expect(hooks.map((h) => [h.event, h.outcome, h.exitCode])).toEqual([["PreToolUse", "blocked", 2]])
    })
  )

  it.live("a JSON deny refuses the call; a matcher that does not match runs nothing", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const deny = script(
        cwd,
        "deny.sh",
        `echo '{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"json says no"}}'`
      )
      const other = script(cwd, "other.sh", `touch "${cwd}/other-ran"`)
      writeSettings(cwd, {
        PreToolUse: [
          { matcher: "Bash", hooks: [command(deny)] },
          { matcher: "Write|Edit", hooks: [command(other)] },
          { matcher: "Bas", hooks: [command(other)] }
        ]
      })
      wire.enqueue(bash("b1", "echo hi"), answer("ok"))
      const events = yield* runAgent(optionsFor(wire, cwd, { permissionMode: "bypassPermissions" }), "go")
      expect(resultOf(events, "b1")?.status).toBe("denied")
      expect(textOf(resultOf(events, "b1"))).toContain("json says no")
      expect(fs.existsSync(path.join(cwd, "other-ran"))).toBe(false)
      expect(ofType(events, "permission.resolved")[0]).toMatchObject({ decision: "deny", source: "hook" })
    })
  )

  it.live("updatedInput rewrites the call (the command's output shows it); its allow skips the mode's question", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const rewrite = script(
        cwd,
        "rewrite.sh",
        `echo '{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"allow","updatedInput":{"command":"touch rewritten.txt && echo rewritten-by-hook"}}}'`
      )
      writeSettings(cwd, { PreToolUse: [{ matcher: "Bash", hooks: [command(rewrite)] }] })
      wire.enqueue(bash("b1", "touch original.txt"), answer("ok"))
      // Default mode and no approver: without the hook's allow, the command would be refused.
      const events = yield* runAgent(optionsFor(wire, cwd), "go")
      const result = resultOf(events, "b1")
      expect(result?.status).toBe("success")
      expect(textOf(result)).toContain("rewritten-by-hook")
      expect(textOf(result)).not.toContain("original")
      expect(ofType(events, "tool.started")[0]?.call.input).toEqual({
        command: "touch rewritten.txt && echo rewritten-by-hook"
      })
      expect(ofType(events, "permission.resolved")[0]).toMatchObject({ decision: "allow", source: "hook" })
    })
  )

  it.live("a rewritten input that fails the tool's schema is an error result, never run", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const rewrite = script(
        cwd,
        "rewrite.sh",
        `echo '{"hookSpecificOutput":{"hookEventName":"PreToolUse","updatedInput":{"command":42}}}'`
      )
      writeSettings(cwd, { PreToolUse: [{ hooks: [command(rewrite)] }] })
      wire.enqueue(bash("b1", "echo original"), answer("ok"))
      const events = yield* runAgent(optionsFor(wire, cwd, { permissionMode: "bypassPermissions" }), "go")
      expect(resultOf(events, "b1")?.status).toBe("error")
      expect(textOf(resultOf(events, "b1"))).toContain("rewrote the input")
      expect(ofType(events, "tool.started")).toEqual([])
    })
  )

  it.live("a hook's allow never skips a deny rule or a protected path", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const allow = script(
        cwd,
        "allow.sh",
        `echo '{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"allow"}}'`
      )
      writeSettings(
        cwd,
        { PreToolUse: [{ matcher: "*", hooks: [command(allow)] }] },
        { permissions: { deny: ["Bash(rm:*)"] } }
      )
      fs.writeFileSync(path.join(cwd, "keep.txt"), "keep")
      const before = fs.readFileSync(path.join(cwd, ".sage", "settings.json"), "utf8")
      wire.enqueue(
        callTools([
          { id: "rm", name: "Bash", input: { command: "rm keep.txt" } },
          { id: "sh", name: "Bash", input: { command: `echo '{}' > .sage/settings.json` } },
          { id: "wr", name: "Write", input: { file_path: path.join(cwd, ".sage", "settings.json"), content: "{}" } }
        ]),
        answer("ok")
      )
      const events = yield* runAgent(optionsFor(wire, cwd), "go")
      expect(resultOf(events, "rm")?.status).toBe("denied")
      expect(textOf(resultOf(events, "rm"))).toContain("Bash(rm:*)")
      expect(resultOf(events, "sh")?.status).toBe("denied")
      expect(resultOf(events, "wr")?.status).toBe("denied")
      expect(fs.existsSync(path.join(cwd, "keep.txt"))).toBe(true)
      expect(fs.readFileSync(path.join(cwd, ".sage", "settings.json"), "utf8")).toBe(before)
    })
  )

  it.live("a hook's ask makes an allowed call a question (denied without an approver)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const ask = script(
        cwd,
        "ask.sh",
        `echo '{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"ask","permissionDecisionReason":"reading .env needs a human"}}'`
      )
      writeSettings(cwd, { PreToolUse: [{ matcher: "Read", hooks: [command(ask)] }] })
      fs.writeFileSync(path.join(cwd, "a.txt"), "secret")
      wire.enqueue(callTools([{ id: "r", name: "Read", input: { file_path: path.join(cwd, "a.txt") } }]), answer("ok"))
      const events = yield* runAgent(optionsFor(wire, cwd, { permissionMode: "bypassPermissions" }), "go")
      expect(resultOf(events, "r")?.status).toBe("denied")
      expect(ofType(events, "permission.requested")[0]?.reason).toBe("reading .env needs a human")
    })
  )

  it.live("a hook that times out is killed (its process group gone) and the turn goes on", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const pidFile = path.join(cwd, "pid")
      const slow = script(cwd, "slow.sh", `echo $$ > "${pidFile}"; sleep 30`)
      writeSettings(cwd, { PreToolUse: [{ hooks: [command(slow, 1)] }] })
      wire.enqueue(bash("b1", "echo still-ran"), answer("ok"))
      const started = Date.now()
      const events = yield* runAgent(optionsFor(wire, cwd, { permissionMode: "bypassPermissions" }), "go")
      const elapsed = Date.now() - started
      expect(elapsed).toBeLessThan(3_000)
      expect(resultOf(events, "b1")?.status).toBe("success")
      expect(textOf(resultOf(events, "b1"))).toContain("still-ran")
      expect(ofType(events, "hook").map((h) => h.outcome)).toEqual(["timeout"])
      const pid = Number(fs.readFileSync(pidFile, "utf8"))
      expect(yield* waitUntilGone(pid)).toBe(true)
    })
  )

  it.live("a failing hook (exit 1) is reported and does not block", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const broken = script(cwd, "broken.sh", `echo "something broke" >&2; exit 1`)
      writeSettings(cwd, { PreToolUse: [{ hooks: [command(broken)] }], PostToolUse: [{ hooks: [command(broken)] }] })
      wire.enqueue(bash("b1", "echo fine"), answer("ok"))
      const events = yield* runAgent(optionsFor(wire, cwd, { permissionMode: "bypassPermissions" }), "go")
      expect(resultOf(events, "b1")?.status).toBe("success")
      expect(textOf(resultOf(events, "b1"))).not.toContain("something broke")
      expect(ofType(events, "hook").map((h) => [h.event, h.outcome, h.exitCode, h.message])).toEqual([
        ["PreToolUse", "error", 1, "something broke"],
        ["PostToolUse", "error", 1, "something broke"]
      ])
    })
  )

  it.live("the hooks of one event run in parallel; identical commands run once", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const one = script(cwd, "one.sh", "sleep 1")
      const two = script(cwd, "two.sh", "sleep 1")
      writeSettings(cwd, {
        PreToolUse: [{ hooks: [command(one), command(two)] }, { matcher: "Bash", hooks: [command(one)] }]
      })
      wire.enqueue(bash("b1", "echo ok"), answer("ok"))
      const events = yield* runAgent(optionsFor(wire, cwd, { permissionMode: "bypassPermissions" }), "go")
      const hooks = ofType(events, "hook")
      expect(hooks.map((h) => h.hook).sort()).toEqual([one, two].sort())
      const called = ofType(events, "tool_call.completed")[0]?.timestamp ?? 0
      const started = ofType(events, "tool.started")[0]?.timestamp ?? 0
      expect(started - called).toBeGreaterThanOrEqual(950)
      expect(started - called).toBeLessThan(1_800)
    })
  )

  it.live("interrupting the turn kills a running hook", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const pidFile = path.join(cwd, "pid")
      const slow = script(cwd, "slow.sh", `echo $$ > "${pidFile}"; sleep 30`)
      writeSettings(cwd, { PreToolUse: [{ hooks: [command(slow)] }] })
      wire.enqueue(bash("b1", "echo never"), answer("ok"))
      const { Agent } = yield* Effect.promise(() => import("../../src/services/Agent.js"))
      const { layerNode } = yield* Effect.promise(() => import("../../src/layers/SageLive.js"))
      const pid = yield* Effect.scoped(
        Effect.gen(function* () {
          const agent = yield* Agent
          const execution = yield* agent.start("go")
          for (let i = 0; i < 200 && !fs.existsSync(pidFile); i++) {
            yield* Effect.promise(() => new Promise((r) => setTimeout(r, 20)))
          }
          yield* Effect.promise(() => new Promise((r) => setTimeout(r, 50)))
          const pid = Number(fs.readFileSync(pidFile, "utf8"))
          yield* execution.interrupt
          const result = yield* execution.result
          expect(result.stopReason).toBe("interrupted")
          return pid
        })
      ).pipe(Effect.provide(layerNode(optionsFor(wire, cwd, { permissionMode: "bypassPermissions" }))))
      expect(yield* waitUntilGone(pid)).toBe(true)
    })
  )
})

describe("PostToolUse", () => {
  it.live("gets the tool's response; its additionalContext and a block are added to the result", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const post = script(
        cwd,
        "post.sh",
        `cat > "${cwd}/post.json"; echo '{"decision":"block","reason":"lint failed","hookSpecificOutput":{"hookEventName":"PostToolUse","additionalContext":"post note 42"}}'`
      )
      writeSettings(cwd, { PostToolUse: [{ matcher: "Bash", hooks: [command(post)] }] })
      wire.enqueue(bash("b1", "echo tool-said-hi"), answer("ok"))
      const events = yield* runAgent(optionsFor(wire, cwd, { permissionMode: "bypassPermissions" }), "go")
      const result = resultOf(events, "b1")
      expect(result?.status).toBe("success")
      expect(textOf(result)).toContain("tool-said-hi")
      expect(textOf(result)).toContain("post note 42")
      expect(textOf(result)).toContain("lint failed")
      expect(requestText(wire, 1)).toContain("post note 42")
      expect(readJson(path.join(cwd, "post.json"))).toMatchObject({
        hook_event_name: "PostToolUse",
        tool_name: "Bash",
        tool_input: { command: "echo tool-said-hi" },
        tool_response: { status: "success" }
      })
      expect(JSON.stringify(readJson(path.join(cwd, "post.json")))).toContain("tool-said-hi")
    })
  )
})
