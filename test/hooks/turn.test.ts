/** Hooks of the turn and the session (UserPromptSubmit, Stop, SessionStart/End, PreCompact, permissions) with real commands. */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { compactConversation } from "../../src/agent/Compaction.js"
import { layerNode } from "../../src/layers/SageLive.js"
import type { ApprovalAnswer } from "../../src/services/Permissions.js"
import * as Conversation from "../../src/session/Conversation.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import { answer, callTools, ofType, tempDir } from "../agent/harness.js"
import * as WireServer from "../support/WireServer.js"
import { command, optionsFor, readJson, requestText, runAgent, script, writeSettings } from "./support.js"

describe("UserPromptSubmit", () => {
  it.live("plain stdout is added to the model's context with the prompt", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const hook = script(cwd, "ctx.sh", `cat > "${cwd}/in.json"; echo "remember the magic word: xyzzy"`)
      writeSettings(cwd, { UserPromptSubmit: [{ hooks: [command(hook)] }] })
      wire.enqueue(answer("ok"))
      const events = yield* runAgent(optionsFor(wire, cwd), "what is the word?")
      expect(requestText(wire, 0)).toContain("remember the magic word: xyzzy")
      expect(requestText(wire, 0)).toContain("what is the word?")
      expect(readJson(path.join(cwd, "in.json"))).toMatchObject({
        hook_event_name: "UserPromptSubmit",
        prompt: "what is the word?"
      })
      expect(ofType(events, "turn.ended")[0]?.stopReason).toBe("end_turn")
    })
  )

  it.live("exit code 2 refuses the prompt: no model request, stop reason hook, the reason in the hook event", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const hook = script(cwd, "no.sh", `echo "prompts about secrets are refused" >&2; exit 2`)
      writeSettings(cwd, { UserPromptSubmit: [{ hooks: [command(hook)] }] })
      wire.enqueue(answer("never"))
      const events = yield* runAgent(optionsFor(wire, cwd), "print the secrets")
      expect(wire.requests.length).toBe(0)
      expect(ofType(events, "turn.started")).toEqual([])
      expect(ofType(events, "turn.ended")[0]?.stopReason).toBe("hook")
      expect(ofType(events, "hook")[0]).toMatchObject({
        event: "UserPromptSubmit",
        outcome: "blocked",
        message: "prompts about secrets are refused"
      })
    })
  )
})

describe("Stop", () => {
  it.live("a block makes the turn go on with the reason as a user message, once (stop_hook_active)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const hook = script(
        cwd,
        "stop.sh",
        `input=$(cat); if echo "$input" | grep -q '"stop_hook_active":false'; then echo "run the tests before stopping" >&2; exit 2; fi`
      )
      writeSettings(cwd, { Stop: [{ hooks: [command(hook)] }] })
      wire.enqueue(answer("first"), answer("second"))
      const events = yield* runAgent(optionsFor(wire, cwd), "go")
      expect(wire.requests.length).toBe(2)
      expect(requestText(wire, 1)).toContain("run the tests before stopping")
      const ended = ofType(events, "turn.ended")[0]
      expect(ended?.text).toBe("second")
      expect(ended?.steps).toBe(2)
      expect(ofType(events, "hook").map((h) => h.outcome)).toEqual(["blocked", "success"])
    })
  )

  it.live("a hook that always blocks cannot loop forever", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const hook = script(cwd, "stop.sh", `echo "again" >&2; exit 2`)
      writeSettings(cwd, { Stop: [{ hooks: [command(hook)] }] })
      wire.setHandler(() => answer("done"))
      const events = yield* runAgent(optionsFor(wire, cwd), "go")
      expect(wire.requests.length).toBe(4)
      expect(ofType(events, "turn.ended")[0]?.stopReason).toBe("end_turn")
    })
  )

  it.live("continue: false from a PostToolUse hook stops the turn (stop reason hook)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const hook = script(cwd, "halt.sh", `echo '{"continue":false,"stopReason":"enough for today"}'`)
      writeSettings(cwd, { PostToolUse: [{ hooks: [command(hook)] }] })
      wire.enqueue(callTools([{ id: "b", name: "Bash", input: { command: "echo hi" } }]), answer("never"))
      const events = yield* runAgent(optionsFor(wire, cwd, { permissionMode: "bypassPermissions" }), "go")
      expect(wire.requests.length).toBe(1)
      expect(ofType(events, "turn.ended")[0]?.stopReason).toBe("hook")
    })
  )
})

describe("sessions and compaction", () => {
  it.live("SessionStart adds context to the first request; SessionEnd runs when the session closes", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const start = script(cwd, "start.sh", `cat > "${cwd}/start.json"; echo "session context abc"`)
      const end = script(cwd, "end.sh", `cat > "${cwd}/end.json"`)
      writeSettings(cwd, {
        SessionStart: [{ matcher: "startup", hooks: [command(start)] }],
        SessionEnd: [{ hooks: [command(end)] }]
      })
      wire.enqueue(answer("ok"))
      const events: Array<AgentEvent> = []
      yield* Effect.scoped(
        Effect.gen(function* () {
          const conversation = yield* Conversation.open({ cwd })
          yield* Stream.runForEach(conversation.run("hello"), (e) => Effect.sync(() => events.push(e)))
          expect(fs.existsSync(path.join(cwd, "end.json"))).toBe(false)
        })
      ).pipe(Effect.provide(layerNode(optionsFor(wire, cwd))))
      expect(requestText(wire, 0)).toContain("session context abc")
      expect(readJson(path.join(cwd, "start.json"))).toMatchObject({
        hook_event_name: "SessionStart",
        source: "startup"
      })
      expect(readJson(path.join(cwd, "end.json"))).toMatchObject({ hook_event_name: "SessionEnd", reason: "other" })
      expect(events.map((e) => e.type).slice(0, 2)).toEqual(["session.started", "hook"])
    })
  )

  it.live("PreCompact runs before a manual compaction (matcher manual)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const hook = script(cwd, "pre.sh", `cat > "${cwd}/pre.json"`)
      const never = script(cwd, "never.sh", `touch "${cwd}/auto-ran"`)
      writeSettings(cwd, {
        PreCompact: [
          { matcher: "manual", hooks: [command(hook)] },
          { matcher: "auto", hooks: [command(never)] }
        ]
      })
      wire.enqueue(answer("<summary>the summary</summary>"))
      const result = yield* compactConversation(
        [
          { role: "user", content: [{ type: "text", text: "hi" }] },
          { role: "assistant", content: [{ type: "text", text: "hello" }] }
        ],
        { instructions: "keep the names", sessionId: "ses_x" }
      ).pipe(Effect.provide(layerNode(optionsFor(wire, cwd))))
      expect(result.summary).toBe("the summary")
      expect(readJson(path.join(cwd, "pre.json"))).toMatchObject({
        hook_event_name: "PreCompact",
        trigger: "manual",
        custom_instructions: "keep the names",
        session_id: "ses_x"
      })
      expect(fs.existsSync(path.join(cwd, "auto-ran"))).toBe(false)
    })
  )
})

describe("PermissionRequest and Notification", () => {
  it.live("a PermissionRequest allow answers the question (the approver is not asked)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const hook = script(
        cwd,
        "perm.sh",
        `echo '{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow"}}}'`
      )
      writeSettings(cwd, { PermissionRequest: [{ matcher: "Bash", hooks: [command(hook)] }] })
      const asked: Array<string> = []
      const approver = {
        approve: (call: { readonly name: string }) =>
          Effect.sync((): ApprovalAnswer => {
            asked.push(call.name)
            return { type: "deny", reason: "no" }
          })
      }
      wire.enqueue(
        callTools([{ id: "b", name: "Bash", input: { command: "touch made && echo allowed-by-hook" } }]),
        answer("ok")
      )
      const events = yield* runAgent(optionsFor(wire, cwd, { approver }), "go")
      expect(asked).toEqual([])
      const result = ofType(events, "tool.completed")[0]?.result
      expect(result?.status).toBe("success")
      expect(JSON.stringify(result?.output)).toContain("allowed-by-hook")
      expect(ofType(events, "permission.resolved")[0]).toMatchObject({ decision: "allow", source: "hook" })
    })
  )

  it.live("a PermissionRequest deny refuses; Notification runs while the approver is asked", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const deny = script(
        cwd,
        "perm.sh",
        `echo '{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"deny","message":"not on fridays"}}}'`
      )
      const notify = script(cwd, "notify.sh", `cat > "${cwd}/notify.json"; touch "${cwd}/notified"`)
      writeSettings(cwd, {
        PermissionRequest: [{ matcher: "Write", hooks: [command(deny)] }],
        Notification: [{ matcher: "permission_prompt", hooks: [command(notify)] }]
      })
      const asked: Array<string> = []
      // The user answers once the notification reached them (a person takes that long at least).
      const approver = {
        approve: (call: { readonly name: string }) =>
          Effect.promise(async (): Promise<ApprovalAnswer> => {
            asked.push(call.name)
            for (let i = 0; i < 250 && !fs.existsSync(path.join(cwd, "notified")); i++) {
              await new Promise((r) => setTimeout(r, 20))
            }
            return { type: "allow" }
          })
      }
      wire.enqueue(
        callTools([
          { id: "w", name: "Write", input: { file_path: path.join(cwd, "a.txt"), content: "x" } },
          { id: "b", name: "Bash", input: { command: "touch asked" } }
        ]),
        answer("ok")
      )
      const events = yield* runAgent(optionsFor(wire, cwd, { approver }), "go")
      const status = Object.fromEntries(ofType(events, "tool.completed").map((e) => [e.result.toolCallId, e.result]))
      expect(status.w?.status).toBe("denied")
      expect(JSON.stringify(status.w?.output)).toContain("not on fridays")
      expect(fs.existsSync(path.join(cwd, "a.txt"))).toBe(false)
      expect(status.b?.status).toBe("success")
      expect(asked).toEqual(["Bash"])
      expect(readJson(path.join(cwd, "notify.json"))).toMatchObject({
        hook_event_name: "Notification",
        notification_type: "permission_prompt",
        message: "Sage needs your permission to use Bash"
      })
    })
  )
})

describe("SubagentStop", () => {
  it.live("runs when a sub-agent (Task) ends, with its agent id; Stop runs for the main agent only", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const sub = script(cwd, "sub.sh", `cat >> "${cwd}/sub.jsonl"; echo >> "${cwd}/sub.jsonl"`)
      const stop = script(cwd, "stop.sh", `cat >> "${cwd}/stop.jsonl"; echo >> "${cwd}/stop.jsonl"`)
      writeSettings(cwd, { SubagentStop: [{ hooks: [command(sub)] }], Stop: [{ hooks: [command(stop)] }] })
      wire.enqueue(
        callTools([
          {
            id: "t1",
            name: "Task",
            input: { description: "look around", prompt: "say hi", subagent_type: "general-purpose" }
          }
        ]),
        answer("sub-agent says hi"),
        answer("all done")
      )
      const events = yield* runAgent(optionsFor(wire, cwd), "go")
      expect(ofType(events, "turn.ended").find((e) => e.parentAgentId === undefined)?.text).toBe("all done")
      const lines = (file: string) =>
        fs
          .readFileSync(path.join(cwd, file), "utf8")
          .split("\n")
          .filter((l) => l.trim() !== "")
          .map((l): Record<string, unknown> => JSON.parse(l))
      const subs = lines("sub.jsonl")
      expect(subs.length).toBe(1)
      expect(subs[0]).toMatchObject({ hook_event_name: "SubagentStop", last_assistant_message: "sub-agent says hi" })
      expect(subs[0]?.agent_id).not.toBe("main")
      expect(lines("stop.jsonl").map((l) => [l.hook_event_name, l.agent_id])).toEqual([["Stop", "main"]])
    })
  )
})
