import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { ApprovalAnswer } from "../../src/services/Permissions.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import { Tool } from "../../src/tools/Tool.js"
import * as WireServer from "../support/WireServer.js"
import { answer, callTools, ofType, runTurn, tempDir } from "./harness.js"

const Edit = Tool.make({
  name: "FakeEdit",
  description: "pretends to edit",
  input: Schema.Struct({ file_path: Schema.String }),
  kind: "edit",
  execute: () => Effect.succeed("edited")
})
const Run = Tool.make({
  name: "Run",
  description: "pretends to run a command",
  input: Schema.Struct({ command: Schema.String }),
  kind: "execute",
  execute: () => Effect.succeed("ran")
})
const Look = Tool.make({
  name: "Look",
  description: "reads",
  input: Schema.Struct({}),
  readOnly: true,
  execute: () => Effect.succeed("saw")
})

const calls = [
  { id: "l", name: "Look", input: {} },
  { id: "e", name: "FakeEdit", input: { file_path: "src/a.ts" } },
  { id: "r", name: "Run", input: { command: "make" } }
]

const statuses = (events: ReadonlyArray<AgentEvent>) =>
  Object.fromEntries(ofType(events, "tool.completed").map((e) => [e.result.toolCallId, e.result.status]))

describe("permission modes in the loop", () => {
  it.live.each([
    ["default", { l: "success", e: "denied", r: "denied" }],
    ["acceptEdits", { l: "success", e: "success", r: "denied" }],
    ["plan", { l: "success", e: "denied", r: "denied" }],
    ["bypassPermissions", { l: "success", e: "success", r: "success" }]
  ] as const)("%s mode without an approver", ([mode, expected]) =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(callTools(calls), answer("ok"))
      const events = yield* runTurn({ wire, cwd, tools: [Look, Edit, Run], mode }, "go")
      expect(statuses(events)).toEqual(expected)
      const denied = ofType(events, "tool.completed").filter((e) => e.result.status === "denied")
      for (const d of denied) {
        const text = JSON.stringify(d.result.output)
        expect(text).toContain(mode === "plan" ? "plan mode" : "--allowed-tools")
      }
    })
  )

  it.live("an approver answers asks; 'always' saves the suggested rule to the local settings file", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const answers: Array<string> = []
      const approver = {
        approve: (call: { readonly name: string }) =>
          Effect.sync((): ApprovalAnswer => {
            answers.push(call.name)
            return call.name === "Run" ? { type: "allow", always: true } : { type: "deny", reason: "no edits please" }
          })
      }
      wire.enqueue(callTools(calls), answer("ok"))
      const events = yield* runTurn({ wire, cwd, tools: [Look, Edit, Run], approver }, "go")
      expect(answers.sort()).toEqual(["FakeEdit", "Run"])
      expect(statuses(events)).toEqual({ l: "success", e: "denied", r: "success" })
      const local = path.join(cwd, ".sage", "settings.local.json")
      expect(JSON.parse(fs.readFileSync(local, "utf8")).permissions.allow.length).toBe(1)
      const resolved = ofType(events, "permission.resolved")
      expect(resolved.find((e) => e.callId === "r")).toMatchObject({ decision: "allow", source: "user:always" })
      expect(resolved.find((e) => e.callId === "e")).toMatchObject({ decision: "deny", source: "user" })
      // The saved rule now allows the same command without asking.
      answers.length = 0
      wire.enqueue(callTools([{ id: "r2", name: "Run", input: { command: "make" } }]), answer("ok"))
      const again = yield* runTurn({ wire, cwd, tools: [Look, Edit, Run], approver }, "again")
      expect(answers).toEqual([])
      expect(statuses(again)).toEqual({ r2: "success" })
    })
  )
})
