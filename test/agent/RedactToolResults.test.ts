/**
 * Tool results are redacted before events and the model see them: text pieces and the JSON pieces of custom
 * tools alike (typed `output` schemas and raw `json` pieces), checked on the events and on the next request the
 * scripted model server receives.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { Tool } from "../../src/tools/Tool.js"
import * as WireServer from "../support/WireServer.js"
import { answer, callTools, ofType, runTurn, tempDir } from "./harness.js"

const GITHUB = "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB"
const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
const STRIPE = "sk_live_51HxYzAbCdEfGhIjKlMnOpQrStUv"

const Typed = Tool.make({
  name: "Deploy",
  description: "Returns deployment credentials (as a typed result)",
  input: Schema.Struct({}),
  output: Schema.Struct({
    region: Schema.String,
    credentials: Schema.Struct({ AccessKeyId: Schema.String, SecretAccessKey: Schema.String }),
    notes: Schema.Array(Schema.String)
  }),
  readOnly: true,
  execute: () =>
    Effect.succeed({
      region: "eu-west-1",
      credentials: { AccessKeyId: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: AWS_SECRET },
      notes: [`push with ${GITHUB}`, "commit 9fceb02d0ae598e95dc970b74767f19372d61af8"]
    })
})

const Raw = Tool.make({
  name: "Billing",
  description: "Returns raw JSON pieces",
  input: Schema.Struct({}),
  readOnly: true,
  execute: () =>
    Effect.succeed([
      { type: "json" as const, value: { stripe: { key: STRIPE, mode: "live" }, count: 2 } },
      { type: "text" as const, text: `also ${STRIPE}` }
    ])
})

describe("tool results are redacted", () => {
  it.live("JSON pieces of custom tools, in events and in what the model is sent next", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      wire.enqueue(
        callTools([
          { id: "t1", name: "Deploy", input: {} },
          { id: "t2", name: "Billing", input: {} }
        ]),
        answer("done")
      )
      const events = yield* runTurn({ wire, cwd, tools: [Typed, Raw] }, "deploy")
      const completed = ofType(events, "tool.completed")
      expect(completed).toHaveLength(2)
      const shown = JSON.stringify(completed.map((e) => e.result.output))
      const sent = JSON.stringify(wire.requests[1]?.body)
      for (const text of [shown, sent]) {
        for (const secret of [GITHUB, AWS_SECRET, STRIPE, "AKIAIOSFODNN7EXAMPLE"]) expect(text).not.toContain(secret)
        expect(text).toContain("REDACTED:github-token")
        expect(text).toContain("REDACTED:stripe-key")
        // What is not a secret stays.
        expect(text).toContain("eu-west-1")
        expect(text).toContain("9fceb02d0ae598e95dc970b74767f19372d61af8")
      }
      const deploy = completed.find((e) => e.result.toolName === "Deploy")?.result.output[0]
      expect(deploy?.type).toBe("json")
    })
  )
})
