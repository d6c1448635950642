import { PassThrough } from "node:stream"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { makeTerminalApprover, parseAnswer } from "../../src/cli/approver.js"

const call = { id: "c", name: "Bash", input: { command: "npm publish\u001b[2J" } }

describe("terminal approver", () => {
  it("parses answers; anything unclear denies", () => {
    expect(parseAnswer("y", true)).toEqual({ type: "allow" })
    expect(parseAnswer("YES", false)).toEqual({ type: "allow" })
    expect(parseAnswer("a", true)).toEqual({ type: "allow", always: true })
    expect(parseAnswer("a", false).type).toBe("deny")
    expect(parseAnswer("n use npm test", true)).toEqual({ type: "deny", reason: "use npm test" })
    expect(parseAnswer("", true)).toEqual({ type: "deny", reason: "the user said no" })
    expect(parseAnswer("maybe later", true)).toEqual({ type: "deny", reason: "maybe later" })
  })

  it.live("asks on the output stream and answers from the input line; control sequences are not echoed", () =>
    Effect.gen(function* () {
      const input = new PassThrough()
      const output = new PassThrough()
      let shown = ""
      output.on("data", (d) => {
        shown += d
      })
      const approver = makeTerminalApprover(input, output)
      const fiber = yield* Effect.forkChild(
        approver.approve(call, { reason: "commands need approval", suggestion: "Bash(npm publish:*)" })
      )
      yield* Effect.sleep("20 millis")
      input.write("a\n")
      expect(yield* Fiber.join(fiber)).toEqual({ type: "allow", always: true })
      expect(shown).toContain("Bash")
      expect(shown).toContain("[a]lways allow Bash(npm publish:*)")
      expect(shown).not.toContain("\u001b")
    })
  )

  it.live("a closed input denies, and interrupting the question stops waiting", () =>
    Effect.gen(function* () {
      const input = new PassThrough()
      const approver = makeTerminalApprover(input, new PassThrough())
      const fiber = yield* Effect.forkChild(approver.approve(call, { reason: "r" }))
      yield* Effect.sleep("20 millis")
      input.end()
      expect(yield* Fiber.join(fiber)).toMatchObject({ type: "deny" })
      const pending = yield* Effect.forkChild(
        makeTerminalApprover(new PassThrough(), new PassThrough()).approve(call, { reason: "r" })
      )
      yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(pending)
    })
  )
})
