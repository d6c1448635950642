/**
 * Property-style tests: random and malformed inputs to every built-in tool never crash anything. Each call ends
 * in a ToolResult; failures are readable error results, never a defect ("failed unexpectedly").
 * Safety: no random shell command is ever run (a Bash input whose `command` is a string is replaced by a
 * malformed one), and WebFetch resolves every host to a refused address, so no traffic leaves the machine.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import fc from "fast-check"
import * as BackgroundShellsLive from "../../src/layers/BackgroundShellsLive.js"
import * as FileStateLive from "../../src/layers/FileStateLive.js"
import * as SandboxLive from "../../src/layers/SandboxLive.js"
import * as WorkspaceLive from "../../src/layers/WorkspaceLive.js"
import type { Tool } from "../../src/services/Tool.js"
import { makeBuiltinTools } from "../../src/tools/index.js"
import { runToolCall } from "../../src/tools/Tool.js"
import { answer, ofType, reply, runTurn } from "../agent/harness.js"
import * as WireServer from "../support/WireServer.js"
import { tempDir } from "./support.js"

/** One session's services on `cwd` (commands unconfined, background shells included). */
const session = (cwd: string) =>
  Layer.mergeAll(
    WorkspaceLive.layer({ cwd }),
    FileStateLive.layer,
    SandboxLive.layer({ mode: "off", writableRoots: [cwd], network: false, env: { PATH: process.env.PATH } }),
    BackgroundShellsLive.layer({ killGrace: "300 millis" })
  ).pipe(Layer.provideMerge(NodeServices.layer), Layer.orDie)

const segment = fc.constantFrom(
  "a",
  "b.txt",
  "..",
  ".",
  "",
  "~",
  "src",
  ".git",
  ".sage",
  "x\u0000y",
  "long".repeat(300)
)
const relativePath = fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join("/"))

/** Inputs shaped like each tool's, with random and wrong values, plus anything at all. */
const inputFor = (name: string): fc.Arbitrary<unknown> => {
  const any = fc.anything({ maxDepth: 2 })
  const maybe = <A>(a: fc.Arbitrary<A>) => fc.oneof(a, any)
  const shaped: Record<string, fc.Arbitrary<unknown>> = {
    Read: fc.record(
      { file_path: maybe(relativePath), offset: maybe(fc.integer()), limit: maybe(fc.integer()) },
      { requiredKeys: [] }
    ),
    Write: fc.record({ file_path: maybe(relativePath), content: maybe(fc.string()) }, { requiredKeys: [] }),
    Edit: fc.record(
      {
        file_path: maybe(relativePath),
        old_string: maybe(fc.string()),
        new_string: maybe(fc.string()),
        replace_all: any
      },
      { requiredKeys: [] }
    ),
    MultiEdit: fc.record(
      {
        file_path: maybe(relativePath),
        edits: maybe(fc.array(fc.record({ old_string: fc.string(), new_string: fc.string() })))
      },
      { requiredKeys: [] }
    ),
    LS: fc.record({ path: maybe(relativePath), ignore: any }, { requiredKeys: [] }),
    Glob: fc.record({ pattern: maybe(fc.string()), path: maybe(relativePath) }, { requiredKeys: [] }),
    Grep: fc.record(
      {
        pattern: maybe(fc.string()),
        path: maybe(relativePath),
        output_mode: any,
        "-C": maybe(fc.integer()),
        glob: maybe(fc.string())
      },
      { requiredKeys: [] }
    ),
    // Never a string command: random shell text is not run.
    Bash: fc.record(
      { command: fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string())), timeout_ms: any },
      { requiredKeys: [] }
    ),
    BashOutput: fc.record({ shell_id: maybe(fc.string()), filter: maybe(fc.string()) }, { requiredKeys: [] }),
    KillShell: fc.record({ shell_id: maybe(fc.string()) }, { requiredKeys: [] }),
    WebFetch: fc.record({ url: maybe(fc.webUrl()), prompt: any }, { requiredKeys: [] }),
    TodoWrite: fc.record(
      { todos: maybe(fc.array(fc.record({ content: fc.string(), status: fc.string(), activeForm: any }))) },
      { requiredKeys: [] }
    )
  }
  const safe = (input: unknown): unknown =>
    name === "Bash" &&
    typeof input === "object" &&
    input !== null &&
    typeof (input as { command?: unknown }).command === "string"
      ? { ...(input as object), command: 42 }
      : input
  return fc.oneof(shaped[name] ?? any, any).map(safe)
}

const context = (cwd: string) => ({ callId: "p", sessionId: "s", cwd, progress: () => Effect.void })

describe("property: malformed tool input", () => {
  it.live("every built-in tool answers random input with a result, never a defect", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      fs.writeFileSync(path.join(cwd, "b.txt"), "hello\nworld\n")
      const tools = yield* makeBuiltinTools({
        webFetch: { lookup: async () => [{ address: "127.0.0.1", family: 4 }] }
      }).pipe(Effect.provide(session(cwd)))
      for (const tool of tools) {
        const samples = fc.sample(inputFor(tool.name), { numRuns: 60, seed: 42 })
        for (const input of samples) {
          const result = yield* runToolCall(tool as Tool.Any, { id: "p", name: tool.name, input }, context(cwd), {
            defaultTimeout: "10 seconds"
          })
          const text = JSON.stringify(result.output)
          expect(["success", "error", "timeout"]).toContain(result.status)
          expect(text, `${tool.name} ${JSON.stringify(input)}`).not.toContain("failed unexpectedly")
        }
      }
      // Nothing escaped the workspace: its parent holds no file the tools made.
      expect(fs.existsSync(path.join(path.dirname(cwd), "a"))).toBe(false)
    })
  )

  it.live("a model turn full of malformed calls to every tool still ends normally", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const names = ["Read", "Write", "Edit", "MultiEdit", "LS", "Glob", "Grep", "Bash", "TodoWrite", "Nope"]
      const calls = names.flatMap((name, i) =>
        fc.sample(inputFor(name), { numRuns: 3, seed: i }).map((input, j) => ({
          tool: { id: `c${i}_${j}`, name, json: [JSON.stringify(input ?? null).slice(0, 2000)] }
        }))
      )
      wire.enqueue(reply({ stopReason: "tool_use", steps: calls }), answer("survived"))
      const tools = yield* makeBuiltinTools().pipe(Effect.provide(session(cwd)))
      const events = yield* runTurn({ wire, cwd, tools, mode: "bypassPermissions" }, "chaos")
      expect(ofType(events, "tool.completed")).toHaveLength(calls.length)
      expect(ofType(events, "turn.ended")[0]).toMatchObject({ stopReason: "end_turn", text: "survived" })
    })
  )
})
