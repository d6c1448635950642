/** In-process hooks: SDK async callbacks and Effect hooks give the same answers as command hooks. */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { layerNode } from "../../src/layers/SageLive.js"
import type { HookInput } from "../../src/sdk/index.js"
import { Agent } from "../../src/services/Agent.js"
import { Hooks, type HooksConfig } from "../../src/services/Hooks.js"
import type { AgentEvent } from "../../src/streams/AgentEvent.js"
import { answer, callTools, ofType, tempDir } from "../agent/harness.js"
import { sdkFor } from "../support/sdk.js"
import * as WireServer from "../support/WireServer.js"
import { optionsFor, requestText, runAgent } from "./support.js"

const DENY = {
  hookSpecificOutput: {
    hookEventName: "PreToolUse",
    permissionDecision: "deny" as const,
    permissionDecisionReason: "callback says no"
  }
}

describe("SDK hooks (async functions)", () => {
  it.live("deny a call, add prompt context, and see the same inputs as commands", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const seen: Array<HookInput> = []
      const sdk = yield* sdkFor(wire, cwd, {
        persistSession: false,
        permissionMode: "bypassPermissions",
        hooks: {
          UserPromptSubmit: [
            {
              hooks: [
                async (input) => {
                  seen.push(input)
                  return { hookSpecificOutput: { hookEventName: "UserPromptSubmit", additionalContext: "sdk ctx 7" } }
                }
              ]
            }
          ],
          PreToolUse: [
            {
              matcher: "Bash",
              hooks: [
                async (input, context) => {
                  seen.push(input)
                  expect(context.signal.aborted).toBe(false)
                  expect(context.toolUseId).toBe("b1")
                  return DENY
                }
              ]
            }
          ],
          PostToolUse: [{ hooks: [async () => Promise.reject(new Error("never called"))] }]
        }
      })
      wire.enqueue(callTools([{ id: "b1", name: "Bash", input: { command: `touch ${cwd}/x` } }]), answer("ok"))
      const events: Array<{ readonly type: string }> = []
      yield* Effect.promise(async () => {
        for await (const event of sdk.stream("go")) events.push(event)
      })
      expect(fs.existsSync(path.join(cwd, "x"))).toBe(false)
      expect(requestText(wire, 0)).toContain("sdk ctx 7")
      expect(requestText(wire, 1)).toContain("callback says no")
      expect(seen.map((i) => i.hook_event_name)).toEqual(["UserPromptSubmit", "PreToolUse"])
      expect(seen[1]).toMatchObject({ tool_name: "Bash", tool_input: { command: `touch ${cwd}/x` }, cwd })
    })
  )

  it.live("a rejecting or slow callback is reported and never blocks", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      let aborted = false
      const sdk = yield* sdkFor(wire, cwd, {
        persistSession: false,
        hooks: {
          Stop: [
            { hooks: [async () => Promise.reject(new Error("callback broke"))] },
            {
              timeout: 0.3,
              hooks: [
                (_input, { signal }) =>
                  new Promise((resolve) => {
                    signal.addEventListener("abort", () => {
                      aborted = true
                      resolve(undefined)
                    })
                  })
              ]
            }
          ]
        }
      })
      wire.enqueue(answer("done"))
      const events: Array<AgentEvent> = []
      yield* Effect.promise(async () => {
        for await (const event of sdk.stream("go")) events.push(event as AgentEvent)
      })
      expect(ofType(events, "turn.ended")[0]?.text).toBe("done")
      expect(ofType(events, "hook").map((h) => [h.outcome, h.message])).toEqual([
        ["error", "callback broke"],
        ["timeout", "the hook did not finish within 0.3 s"]
      ])
      expect(aborted).toBe(true)
    })
  )
})

describe("Effect hooks", () => {
  it.live("SageOptions.hooks: an Effect answers like a command (deny, Stop continuation)", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      let stops = 0
      const hooks: HooksConfig = {
        PreToolUse: [
          { matcher: "Bash", hooks: [{ type: "callback", name: "deny-bash", callback: () => Effect.succeed(DENY) }] }
        ],
        Stop: [
          {
            hooks: [
              {
                type: "callback",
                callback: (input) =>
                  Effect.sync(() => {
                    stops++
                    return input.stop_hook_active === true
                      ? undefined
                      : { decision: "block" as const, reason: "one more" }
                  })
              }
            ]
          }
        ]
      }
      wire.enqueue(
        callTools([{ id: "b1", name: "Bash", input: { command: "touch y" } }]),
        answer("first"),
        answer("second")
      )
      const events = yield* runAgent(optionsFor(wire, cwd, { hooks, permissionMode: "bypassPermissions" }), "go")
      const result = ofType(events, "tool.completed")[0]?.result
      expect(result?.status).toBe("denied")
      expect(JSON.stringify(result?.output)).toContain("callback says no")
      expect(fs.existsSync(path.join(cwd, "y"))).toBe(false)
      expect(stops).toBe(2)
      expect(requestText(wire, 2)).toContain("one more")
      expect(ofType(events, "turn.ended")[0]?.text).toBe("second")
      expect(ofType(events, "hook")[0]).toMatchObject({ event: "PreToolUse", hook: "deny-bash", outcome: "blocked" })
    })
  )

  it.live("the Hooks service is replaceable with Layer.provide", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const inputs: Array<string> = []
      const mine = Layer.succeed(Hooks, {
        run: (input) =>
          Effect.sync(() => {
            inputs.push(input.hook_event_name)
            return input.hook_event_name === "UserPromptSubmit"
              ? { blocked: "my hooks say no", additionalContext: [], reports: [] }
              : { additionalContext: [], reports: [] }
          }),
        has: () => Effect.succeed(true)
      })
      wire.enqueue(answer("never"))
      const events: Array<AgentEvent> = []
      yield* Effect.gen(function* () {
        const agent = yield* Agent
        yield* Stream.runForEach(agent.run("go"), (e) => Effect.sync(() => events.push(e)))
      }).pipe(Effect.provide(layerNode(optionsFor(wire, cwd)).pipe(Layer.provide(mine))))
      expect(inputs).toEqual(["UserPromptSubmit"])
      expect(wire.requests.length).toBe(0)
      expect(ofType(events, "turn.ended")[0]?.stopReason).toBe("hook")
    })
  )
})
