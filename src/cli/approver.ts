/**
 * The terminal approver: when the CLI runs on a terminal, a permission `ask` becomes an inline question.
 * Answers: `y` allow once, `s` allow for this session (the suggested rule, kept in the session log and applied again
 * when the session is resumed), `a` allow always (saves the suggested rule to .sage/settings.local.json), `n` deny
 * (optionally followed by a reason the model sees, e.g. `n use the test script instead`).
 */
import * as readline from "node:readline"
import * as Effect from "effect/Effect"
import type { ApprovalAnswer, Approver } from "../services/Permissions.js"
import { sanitizeForTerminal } from "../streams/Sanitize.js"
import type { ToolCall } from "../streams/ToolCall.js"

/** Parse one typed answer. Anything unrecognised is a deny (never an accidental allow). */
export const parseAnswer = (line: string, canAlways: boolean): ApprovalAnswer => {
  const trimmed = line.trim()
  const [word = "", ...rest] = trimmed.split(/\s+/)
  const choice = word.toLowerCase()
  if (choice === "y" || choice === "yes") return { type: "allow" }
  if ((choice === "a" || choice === "always") && canAlways) return { type: "allow", always: true }
  if ((choice === "s" || choice === "session") && canAlways) return { type: "allow", session: true }
  const reason = choice === "n" || choice === "no" ? rest.join(" ") : trimmed
  return { type: "deny", reason: reason === "" ? "the user said no" : reason }
}

const describeInput = (input: unknown): string => {
  const json = JSON.stringify(input) ?? ""
  return sanitizeForTerminal(json.length > 300 ? `${json.slice(0, 297)}...` : json)
}

export const makeTerminalApprover = (
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream
): Approver.Service => ({
  approve: (call: ToolCall, request: { readonly reason: string; readonly suggestion?: string }) =>
    Effect.callback<ApprovalAnswer>((resume) => {
      const rl = readline.createInterface({ input, output, terminal: false })
      const always =
        request.suggestion === undefined
          ? ""
          : `, [s]ession or [a]lways allow ${sanitizeForTerminal(request.suggestion)}`
      output.write(
        `\nsage: ${call.name} ${describeInput(call.input)}\n  ${sanitizeForTerminal(request.reason)}\n  Allow? [y]es once${always}, [n]o (add a reason after n): `
      )
      let answered = false
      rl.once("line", (line) => {
        answered = true
        rl.close()
        resume(Effect.succeed(parseAnswer(line, request.suggestion !== undefined)))
      })
      rl.once("close", () => {
        if (!answered) resume(Effect.succeed({ type: "deny", reason: "no answer (input closed)" }))
      })
      return Effect.sync(() => {
        answered = true
        rl.close()
      })
    })
})
