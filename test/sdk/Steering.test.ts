/** SDK steering: messages from an async iterable reach the model at the next step boundary. */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { validateCallOptions } from "../../src/sdk/options.js"
import { ConfigError, type CustomTool } from "../../src/sdk/SageAgentSDK.js"
import { answer, callTools, tempDir } from "../agent/harness.js"
import { sdkFor } from "../support/sdk.js"
import * as WireServer from "../support/WireServer.js"

describe("SageAgentSDK steering", () => {
  it.live("a message sent while a tool runs is in the next request, after the tool result", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      let release: () => void = () => undefined
      let started: () => void = () => undefined
      const toolStarted = new Promise<void>((resolve) => {
        started = resolve
      })
      const wait: CustomTool = {
        name: "wait",
        description: "Waits for the test",
        inputSchema: { type: "object", properties: {} },
        readOnly: true,
        execute: () =>
          new Promise<string>((resolve) => {
            started()
            release = () => resolve("done waiting")
          })
      }
      const messages = async function* () {
        await toolStarted
        yield "and mention the weather"
        release()
      }
      wire.enqueue(callTools([{ id: "w1", name: "wait", input: {} }]), answer("Noted."))
      const sdk = yield* sdkFor(wire, cwd, { persistSession: false, tools: [wait] })
      const result = yield* Effect.promise(() => sdk.run("start", { steering: messages() }))
      expect(result.text).toBe("Noted.")
      const second = JSON.stringify(wire.requests[1]?.body)
      expect(second.indexOf("done waiting")).toBeGreaterThan(-1)
      expect(second.indexOf("and mention the weather")).toBeGreaterThan(second.indexOf("done waiting"))
    })
  )

  it("steering must be an async iterable", () => {
    const steering = (async function* () {
      yield "x"
    })()
    expect(validateCallOptions("run", { steering }).steering).toBe(steering)
    expect(() => validateCallOptions("run", { steering: "say hi" })).toThrow(ConfigError)
    expect(() => validateCallOptions("run", { steering: ["say hi"] })).toThrow(/async iterable/)
  })
})
