/**
 * An Effect application that composes Sage's Layers with its own.
 *
 *   npm run build                                   # the package's self-reference ("sage-agent") resolves to dist/
 *   export ANTHROPIC_API_KEY=sk-ant-...             # ANTHROPIC_BASE_URL too, for another endpoint
 *   node examples/effect-app.ts "Do we have enough SKU-1001 for an order of 30?"
 *
 * - The app has a service of its own (`Inventory`, with its own layer).
 * - A custom tool made with `Tool.make` (a Schema input) answers from that service.
 * - A replaced piece: an `EventBus` that logs every tool call and the end of the turn on stderr, given to
 *   `layerNode(...)` with `Layer.provide` (Sage then uses it instead of its own).
 * - One turn runs; the answer streams to stdout.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Context, Effect, Layer, Option, Schema, Stream } from "effect"
import { Agent, type AgentEvent, EventBus, EventBusLive, layerNode, Tool } from "sage-agent"

// ---------------------------------------------------------------------------------------------------------------
// The application's own service

class Inventory extends Context.Service<
  Inventory,
  { readonly unitsInStock: (sku: string) => Effect.Effect<Option.Option<number>> }
>()("app/Inventory") {
  /** A fixed table here; a real app would query its database. */
  static readonly layer = Layer.succeed(
    Inventory,
    Inventory.of({
      unitsInStock: (sku) =>
        Effect.succeed(
          Option.fromNullishOr(
            new Map([
              ["SKU-1001", 42],
              ["SKU-2002", 0]
            ]).get(sku.toUpperCase())
          )
        )
    })
  )
}

// ---------------------------------------------------------------------------------------------------------------
// A custom tool: the model sees its name, description and the JSON Schema generated from `input`

const checkStock = (inventory: Inventory["Service"]) =>
  Tool.make({
    name: "check_stock",
    description: "Units in stock for one product, by SKU (e.g. SKU-1001). Says so when the SKU is unknown.",
    input: Schema.Struct({
      sku: Schema.String.check(Schema.isMinLength(1)).annotate({ description: "The product's SKU" })
    }),
    readOnly: true, // allowed without asking; runs in parallel with other read-only calls
    execute: ({ sku }) =>
      Effect.map(
        inventory.unitsInStock(sku),
        Option.match({
          onNone: () => `There is no product with SKU ${sku}.`,
          onSome: (units) => `${sku}: ${units} units in stock.`
        })
      )
  })

// ---------------------------------------------------------------------------------------------------------------
// A replaced piece: Sage's event bus, with every event logged as it is published

const describe = (event: AgentEvent): string | undefined => {
  switch (event.type) {
    case "tool.started":
      return `[tool] ${event.call.name} ${JSON.stringify(event.call.input)}`
    case "tool.completed":
      return `[tool] ${event.result.toolName}: ${event.result.status} in ${event.result.durationMs} ms`
    case "turn.ended":
      return `[turn] ${event.stopReason} after ${event.steps} step(s), ${event.usage.inputTokens} tokens in, ${event.usage.outputTokens} out`
    default:
      return undefined
  }
}

const LoggingEventBus = Layer.effect(
  EventBus,
  Effect.map(EventBusLive.make(), (bus) =>
    EventBus.of({
      ...bus,
      publish: (event) => {
        const line = describe(event)
        return line === undefined ? bus.publish(event) : Effect.andThen(Console.error(line), bus.publish(event))
      }
    })
  )
)

// ---------------------------------------------------------------------------------------------------------------
// The composition: Sage for Node, with the app's tool, over the app's layers

const SageLayer = Layer.unwrap(
  Effect.map(Inventory, (inventory) =>
    layerNode({
      provider: "anthropic", // the key and endpoint come from ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL
      cwd: process.cwd(),
      env: process.env,
      tools: [checkStock(inventory)],
      appendSystemPrompt: "You are the stock assistant of a small shop. Check stock before you answer."
    })
  )
).pipe(Layer.provide(LoggingEventBus), Layer.provide(Inventory.layer))

const prompt = process.argv[2] ?? "How many units of SKU-1001 do we have?"

const program = Effect.gen(function* () {
  const agent = yield* Agent
  yield* agent
    .run(prompt)
    .pipe(
      Stream.runForEach((event) =>
        event.type === "text.delta" ? Effect.sync(() => process.stdout.write(event.text)) : Effect.void
      )
    )
  yield* Effect.sync(() => process.stdout.write("\n"))
})

// Ctrl-C interrupts the turn (the model request is aborted) and exits with 130. Sage's errors are tagged classes
// whose messages are written for people: show the message and exit with 1.
program.pipe(
  Effect.provide(SageLayer),
  Effect.tapError((error) => Console.error(`${error._tag}: ${error.message}`)),
  Effect.tapDefect((defect) => Console.error(defect)),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
