/** The in-memory `ToolRegistry` engine: tools by name, in registration order. */
import * as Effect from "effect/Effect"
import * as SynchronizedRef from "effect/SynchronizedRef"
import { ToolNotFoundError, ToolRegistrationError } from "../errors/ToolError.js"
import type { Tool } from "../services/Tool.js"
import type { ToolRegistry } from "../services/ToolRegistry.js"
import { isValidToolName, toolDefinition } from "./Tool.js"

const notFound = (name: string, known: ReadonlyMap<string, Tool.Any>) =>
  new ToolNotFoundError({
    name,
    message: `No tool named "${name}" is registered${known.size === 0 ? "" : `; available: ${[...known.keys()].join(", ")}`}`
  })

const fromMap = (initial: ReadonlyMap<string, Tool.Any>): Effect.Effect<ToolRegistry.Service> =>
  Effect.gen(function* () {
    const ref = yield* SynchronizedRef.make(initial)
    const service: ToolRegistry.Service = {
      register: Effect.fn("ToolRegistry.register")(function* (tool: Tool.Any) {
        if (!isValidToolName(tool.name)) {
          return yield* new ToolRegistrationError({
            name: tool.name,
            message: `Invalid tool name "${tool.name}": use 1-64 characters from a-z, A-Z, 0-9, "_" and "-"`
          })
        }
        yield* SynchronizedRef.updateEffect(ref, (tools) =>
          tools.has(tool.name)
            ? Effect.fail(
                new ToolRegistrationError({
                  name: tool.name,
                  message: `A tool named "${tool.name}" is already registered`
                })
              )
            : Effect.succeed(new Map([...tools, [tool.name, tool]]))
        )
      }),
      unregister: Effect.fn("ToolRegistry.unregister")(function* (name: string) {
        yield* SynchronizedRef.updateEffect(ref, (tools) => {
          if (!tools.has(name)) return Effect.fail(notFound(name, tools))
          const next = new Map(tools)
          next.delete(name)
          return Effect.succeed(next)
        })
      }),
      get: Effect.fn("ToolRegistry.get")(function* (name: string) {
        const tools = yield* SynchronizedRef.get(ref)
        const tool = tools.get(name)
        if (tool === undefined) return yield* notFound(name, tools)
        return tool
      }),
      list: Effect.map(SynchronizedRef.get(ref), (tools) => [...tools.values()]),
      definitions: Effect.map(SynchronizedRef.get(ref), (tools) => [...tools.values()].map(toolDefinition)),
      filter: Effect.fn("ToolRegistry.filter")(function* (keep: (tool: Tool.Any) => boolean) {
        const tools = yield* SynchronizedRef.get(ref)
        return yield* fromMap(new Map([...tools].filter(([, tool]) => keep(tool))))
      })
    }
    return service
  })

/** A registry holding `tools` (in this order); fails on a duplicate or invalid name. */
export const make = (tools: ReadonlyArray<Tool.Any> = []): Effect.Effect<ToolRegistry.Service, ToolRegistrationError> =>
  Effect.gen(function* () {
    const registry = yield* fromMap(new Map())
    yield* Effect.forEach(tools, registry.register, { discard: true })
    return registry
  })
