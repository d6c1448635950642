import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import * as Latch from "effect/Latch"
import { TestClock } from "effect/testing"
import { ToolExecutionError } from "../../src/errors/ToolError.js"
import { inputJsonSchema, runToolCall, Tool, ToolInputError, toolDefinition } from "../../src/tools/Tool.js"
import { call, context, text } from "./support.js"

const Input = Schema.Struct({
  path: Schema.String.annotate({ description: "Where to look" }),
  count: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({ description: "How many" }))
})

const echo = Tool.make({
  name: "echo",
  description: "Echoes its input",
  input: Input,
  execute: (input) => Effect.succeed(`${input.path}:${input.count ?? 0}`)
})

describe("Tool.make", () => {
  it("generates the model-facing JSON schema with descriptions and an object type", () => {
    expect(echo.jsonSchema).not.toHaveProperty("$schema")
    expect(echo.jsonSchema).toMatchObject({
      type: "object",
      required: ["path"],
      properties: {
        path: { type: "string", description: "Where to look" },
        count: { description: "How many", minimum: 1 }
      }
    })
    expect(toolDefinition(echo)).toEqual({
      name: "echo",
      description: "Echoes its input",
      inputSchema: echo.jsonSchema
    })
  })

  it("gives an empty struct an object schema and inlines a top-level class reference", () => {
    expect(inputJsonSchema(Schema.Struct({}))).toEqual({ type: "object", properties: {} })
    class Point extends Schema.Class<Point>("Point")({ x: Schema.Finite.annotate({ description: "X" }) }) {}
    const schema = inputJsonSchema(Point)
    expect(schema).toMatchObject({ type: "object", required: ["x"], properties: { x: { description: "X" } } })
    expect(schema).not.toHaveProperty("$ref")
    expect(schema).not.toHaveProperty("$defs")
    // Recursive schemas keep their references (and the definitions they point to).
    interface Tree {
      readonly children: ReadonlyArray<Tree>
    }
    const Tree = Schema.Struct({
      children: Schema.Array(Schema.suspend((): Schema.Codec<Tree> => Tree))
    }).annotate({ identifier: "Tree" })
    const recursive = inputJsonSchema(Schema.Struct({ root: Tree }))
    expect(recursive).toHaveProperty("$defs.Tree")
    expect(recursive).toMatchObject({ properties: { root: { type: "object" } } })
  })

  it("applies defaults from readOnly, and explicit settings win", () => {
    expect(echo).toMatchObject({ readOnly: false, kind: "other", concurrency: { type: "sequential" } })
    expect(echo.timeout).toBeUndefined()
    const reader = Tool.make({ ...echoOptions, readOnly: true })
    expect(reader).toMatchObject({ readOnly: true, kind: "read", concurrency: { type: "parallel" } })
    const custom = Tool.make({
      ...echoOptions,
      kind: "network",
      concurrency: { type: "limited", max: 2 },
      timeout: "5 seconds"
    })
    expect(custom).toMatchObject({ kind: "network", concurrency: { type: "limited", max: 2 } })
    expect(Duration.toMillis(custom.timeout!)).toBe(5000)
  })

  it("rejects names providers would refuse", () => {
    expect(() => Tool.make({ ...echoOptions, name: "has space" })).toThrow(/Invalid tool name "has space"/)
    expect(() => Tool.make({ ...echoOptions, name: "x".repeat(65) })).toThrow(/Invalid tool name/)
    expect(() => Tool.make({ ...echoOptions, name: "" })).toThrow(/Invalid tool name/)
    expect(Tool.isValidName("mcp__server-tool_1")).toBe(true)
  })

  it.effect("encodes a typed result with the output schema into a json piece", () =>
    Effect.gen(function* () {
      const typed = Tool.make({
        name: "typed",
        description: "typed",
        input: Schema.Struct({ n: Schema.NumberFromString }),
        output: Schema.Struct({ doubled: Schema.NumberFromString }),
        execute: ({ n }) => Effect.succeed({ doubled: n * 2 })
      })
      const result = yield* call(typed, { n: "21" })
      expect(result).toMatchObject({ status: "success", output: [{ type: "json", value: { doubled: "42" } }] })
      expect(typed.jsonSchema).toMatchObject({ properties: { n: { type: "string" } } })
    })
  )

  it.effect("reports a typed result that breaks its output schema as an error", () =>
    Effect.gen(function* () {
      const typed = Tool.make({
        name: "typed",
        description: "typed",
        input: Schema.Struct({}),
        output: Schema.Finite.check(Schema.isGreaterThan(0)),
        execute: () => Effect.succeed(-1)
      })
      const result = yield* call(typed, {})
      expect(result.status).toBe("error")
      expect(text(result)).toContain("does not match its output schema")
    })
  )
})

const echoOptions = {
  name: "echo",
  description: "Echoes its input",
  input: Input,
  execute: (input: typeof Input.Type) => Effect.succeed(input.path)
}

describe("runToolCall", () => {
  it.effect("returns the output of a successful call with its duration", () =>
    Effect.gen(function* () {
      const result = yield* call(echo, { path: "a", count: 2 })
      expect(result).toEqual({
        toolCallId: expect.any(String),
        toolName: "echo",
        status: "success",
        output: [{ type: "text", text: "a:2" }],
        durationMs: 0
      })
    })
  )

  it.effect("passes output pieces through unchanged", () =>
    Effect.gen(function* () {
      const pieces = Tool.make({
        ...echoOptions,
        execute: () =>
          Effect.succeed([
            { type: "text", text: "t" },
            { type: "image", mediaType: "image/png", data: "AAAA" }
          ] as const)
      })
      const result = yield* call(pieces, { path: "x" })
      expect(result.output).toEqual([
        { type: "text", text: "t" },
        { type: "image", mediaType: "image/png", data: "AAAA" }
      ])
    })
  )

  it.effect("turns bad input into an error result that says exactly what was wrong", () =>
    Effect.gen(function* () {
      const result = yield* call(echo, { path: 3, count: 0 })
      expect(result.status).toBe("error")
      const message = text(result)
      expect(message).toContain("Invalid input for tool echo")
      expect(message).toContain("- path: Expected string, got 3")
      expect(message).toContain("- count: Expected a value greater than or equal to 1, got 0")
      const missing = yield* call(echo, "not an object")
      expect(text(missing)).toContain('- (the input): Expected object, got "not an object"')
    })
  )

  it.effect("decodeInput fails with a typed ToolInputError naming the field, the value and unknown fields", () =>
    Effect.gen(function* () {
      const bash = Tool.make({
        name: "Bash",
        description: "Runs a command",
        input: Schema.Struct({ command: Schema.String, timeout: Schema.optionalKey(Schema.Finite) }),
        execute: ({ command }) => Effect.succeed(command)
      })
      const misnamed = yield* Effect.flip(Tool.decodeInput(bash, { cmd: "ls" }))
      expect(misnamed).toBeInstanceOf(ToolInputError)
      expect(misnamed.issues).toEqual([{ path: "command", message: "Missing key" }])
      expect(misnamed.message).toContain("Invalid input for tool Bash")
      expect(misnamed.message).toContain('- unknown field "cmd" (the fields are: command, timeout)')
      const wrongType = yield* Effect.flip(Tool.decodeInput(bash, { command: 12345 }))
      expect(wrongType.message).toContain("- command: Expected string, got 12345")
      expect(yield* Tool.decodeInput(bash, { command: "ls" })).toEqual({ command: "ls" })
      // The model sees neither NaN nor null variants.
      expect(bash.jsonSchema).toEqual({
        type: "object",
        properties: { command: { type: "string" }, timeout: { type: "number" } },
        required: ["command"],
        additionalProperties: false
      })
    })
  )

  it.effect("times out after the default timeout", () =>
    Effect.gen(function* () {
      const slow = Tool.make({ ...echoOptions, execute: () => Effect.never })
      const fiber = yield* Effect.forkChild(
        runToolCall(slow, { id: "c", name: "echo", input: { path: "x" } }, context("/"), {
          defaultTimeout: Duration.seconds(30)
        })
      )
      yield* TestClock.adjust(Duration.seconds(29))
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(Duration.seconds(1))
      const result = yield* Fiber.join(fiber)
      expect(result.status).toBe("timeout")
      expect(text(result)).toBe("Tool echo timed out after 30s and was stopped.")
      expect(result.durationMs).toBe(30_000)
    })
  )

  it.effect("prefers the tool's own timeout to the default, and releases the tool's resources", () =>
    Effect.gen(function* () {
      let released = false
      const slow = Tool.make({
        ...echoOptions,
        timeout: "2 seconds",
        execute: () =>
          Effect.acquireRelease(Effect.void, () =>
            Effect.sync(() => {
              released = true
            })
          ).pipe(Effect.andThen(Effect.never), Effect.scoped)
      })
      const fiber = yield* Effect.forkChild(call(slow, { path: "x" }))
      yield* TestClock.adjust(Duration.seconds(2))
      const result = yield* Fiber.join(fiber)
      expect(result.status).toBe("timeout")
      expect(text(result)).toContain("after 2s")
      expect(released).toBe(true)
    })
  )

  it.effect("turns a ToolExecutionError into an error result with its message", () =>
    Effect.gen(function* () {
      const failing = Tool.make({
        ...echoOptions,
        execute: () => Effect.fail(new ToolExecutionError({ tool: "echo", message: "no such thing; try another" }))
      })
      const result = yield* call(failing, { path: "x" })
      expect(result).toMatchObject({ status: "error", output: [{ type: "text", text: "no such thing; try another" }] })
    })
  )

  it.effect("describes a failure that is not a ToolExecutionError (hand-built tools)", () =>
    Effect.gen(function* () {
      const handBuilt: Tool.Any = { ...echo, execute: () => Effect.fail("plain string" as never) }
      const result = yield* call(handBuilt, { path: "x" })
      expect(result).toMatchObject({
        status: "error",
        output: [{ type: "text", text: "Tool echo failed: plain string" }]
      })
    })
  )

  it.effect("turns a defect into an error result naming the tool, never a crash", () =>
    Effect.gen(function* () {
      const throwing = Tool.make({
        ...echoOptions,
        execute: () =>
          Effect.sync(() => {
            throw new TypeError("cannot read property x of undefined")
          })
      })
      const result = yield* call(throwing, { path: "x" })
      expect(result.status).toBe("error")
      expect(text(result)).toBe("Tool echo failed unexpectedly: cannot read property x of undefined")
      const dying = Tool.make({ ...echoOptions, execute: () => Effect.die({ code: 7 }) })
      expect(text(yield* call(dying, { path: "x" }))).toBe('Tool echo failed unexpectedly: {"code":7}')
      const dyingString = Tool.make({ ...echoOptions, execute: () => Effect.die("boom") })
      expect(text(yield* call(dyingString, { path: "x" }))).toBe("Tool echo failed unexpectedly: boom")
      expect(text(yield* call(Tool.make({ ...echoOptions, execute: () => Effect.die(10n) }), { path: "x" }))).toBe(
        "Tool echo failed unexpectedly: 10"
      )
      expect(
        text(yield* call(Tool.make({ ...echoOptions, execute: () => Effect.die(undefined) }), { path: "x" }))
      ).toBe("Tool echo failed unexpectedly: undefined")
      const nameless = Tool.make({ ...echoOptions, execute: () => Effect.die(new RangeError("")) })
      expect(text(yield* call(nameless, { path: "x" }))).toBe("Tool echo failed unexpectedly: RangeError")
    })
  )

  it.effect("lets interruption propagate instead of turning it into a result", () =>
    Effect.gen(function* () {
      const started = yield* Latch.make(false)
      const slow = Tool.make({ ...echoOptions, execute: () => started.open.pipe(Effect.andThen(Effect.never)) })
      const fiber = yield* Effect.forkChild(call(slow, { path: "x" }))
      yield* started.await
      yield* Fiber.interrupt(fiber)
      expect(Exit.hasInterrupts(yield* Fiber.await(fiber))).toBe(true)
      const selfInterrupting = Tool.make({ ...echoOptions, execute: () => Effect.interrupt })
      const exit2 = yield* Effect.exit(call(selfInterrupting, { path: "x" }))
      expect(Exit.hasInterrupts(exit2)).toBe(true)
    })
  )
})
