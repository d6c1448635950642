import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as ToolRegistryLive from "../../src/layers/ToolRegistryLive.js"
import type { Tool as ToolContract } from "../../src/services/Tool.js"
import { ToolRegistry } from "../../src/services/ToolRegistry.js"
import { Tool } from "../../src/tools/Tool.js"

const tool = (name: string, readOnly = false) =>
  Tool.make({
    name,
    description: `The ${name} tool`,
    input: Schema.Struct({ x: Schema.String }),
    readOnly,
    execute: ({ x }) => Effect.succeed(x)
  })

const names = (tools: ReadonlyArray<ToolContract.Any>) => tools.map((t) => t.name)

describe("ToolRegistryLive", () => {
  it.effect("lists tools and definitions in registration order", () =>
    Effect.gen(function* () {
      const registry = yield* ToolRegistryLive.make([tool("b"), tool("a")])
      yield* registry.register(tool("c"))
      expect(names(yield* registry.list)).toEqual(["b", "a", "c"])
      const definitions = yield* registry.definitions
      expect(definitions.map((d) => d.name)).toEqual(["b", "a", "c"])
      expect(definitions[0]).toEqual({
        name: "b",
        description: "The b tool",
        inputSchema: expect.objectContaining({ type: "object", required: ["x"] })
      })
    })
  )

  it.effect("gets a tool by name and fails with ToolNotFoundError naming the available tools", () =>
    Effect.gen(function* () {
      const registry = yield* ToolRegistryLive.make([tool("Read"), tool("Bash")])
      expect((yield* registry.get("Bash")).name).toBe("Bash")
      const error = yield* Effect.flip(registry.get("Write"))
      expect(error._tag).toBe("ToolNotFoundError")
      expect(error.name).toBe("Write")
      expect(error.message).toBe('No tool named "Write" is registered; available: Read, Bash')
      const empty = yield* ToolRegistryLive.make()
      expect((yield* Effect.flip(empty.get("x"))).message).toBe('No tool named "x" is registered')
    })
  )

  it.effect("refuses a duplicate name, at construction and later, and keeps the first", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(ToolRegistryLive.make([tool("a"), tool("a")]))
      expect(error).toMatchObject({ _tag: "ToolRegistrationError", name: "a" })
      expect(error.message).toContain("already registered")
      const registry = yield* ToolRegistryLive.make([tool("a", true)])
      const again = yield* Effect.flip(registry.register(tool("a")))
      expect(again._tag).toBe("ToolRegistrationError")
      expect((yield* registry.get("a")).readOnly).toBe(true)
    })
  )

  it.effect("refuses an invalid name on a hand-built tool", () =>
    Effect.gen(function* () {
      const registry = yield* ToolRegistryLive.make()
      const handBuilt: ToolContract.Any = { ...tool("ok"), name: "bad name!" }
      const error = yield* Effect.flip(registry.register(handBuilt))
      expect(error).toMatchObject({ _tag: "ToolRegistrationError", name: "bad name!" })
      expect(yield* registry.list).toEqual([])
    })
  )

  it.effect("unregisters, and fails for an unknown name", () =>
    Effect.gen(function* () {
      const registry = yield* ToolRegistryLive.make([tool("a"), tool("b"), tool("c")])
      yield* registry.unregister("b")
      expect(names(yield* registry.list)).toEqual(["a", "c"])
      const error = yield* Effect.flip(registry.unregister("b"))
      expect(error._tag).toBe("ToolNotFoundError")
      // The name is free again; it goes to the end.
      yield* registry.register(tool("b"))
      expect(names(yield* registry.list)).toEqual(["a", "c", "b"])
    })
  )

  it.effect("filter returns an independent registry with the kept tools", () =>
    Effect.gen(function* () {
      const registry = yield* ToolRegistryLive.make([tool("Read", true), tool("Bash"), tool("Glob", true)])
      const readOnly = yield* registry.filter((t) => t.readOnly)
      expect(names(yield* readOnly.list)).toEqual(["Read", "Glob"])
      yield* readOnly.register(tool("Extra"))
      yield* registry.unregister("Read")
      expect(names(yield* readOnly.list)).toEqual(["Read", "Glob", "Extra"])
      expect(names(yield* registry.list)).toEqual(["Bash", "Glob"])
    })
  )

  it.effect("layer provides the ToolRegistry service", () =>
    Effect.gen(function* () {
      const registry = yield* ToolRegistry
      expect(names(yield* registry.list)).toEqual(["a"])
    }).pipe(Effect.provide(ToolRegistryLive.layer([tool("a")])))
  )

  it.effect("concurrent registrations of one name: exactly one wins", () =>
    Effect.gen(function* () {
      const registry = yield* ToolRegistryLive.make()
      const results = yield* Effect.forEach(
        Array.from({ length: 20 }, () => tool("same")),
        (t) => Effect.result(registry.register(t)),
        { concurrency: 20 }
      )
      expect(results.filter((r) => r._tag === "Success")).toHaveLength(1)
      expect(names(yield* registry.list)).toEqual(["same"])
    })
  )
})
