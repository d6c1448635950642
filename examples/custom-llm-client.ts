/**
 * A custom `LLMClient`: the Agent runs on a model of your own instead of a vendor's provider.
 *
 *   npm run build                                   # the package's self-reference ("sage-agent") resolves to dist/
 *   node examples/custom-llm-client.ts "*.json"     # no API key, no network: the model is in this file
 *
 * The contract (`LLMClient`) is small: a provider id, a default model, capabilities, and `stream(request)`, the
 * response as a `Stream` of provider-neutral `StreamPart`s (text deltas, tool calls, usage, the finish reason);
 * `makeLLMClient` derives `generate` from `stream`. The model here is a scripted stand-in, the shape of a real
 * adapter (put your inference server's streaming call where `respond` is): given a user message, it calls the
 * built-in `Glob` tool with the message as the pattern; given the tool's result, it answers from it. Everything
 * else is Sage's own: the agent loop, permissions, the tools and their workspace checks.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Stream } from "effect"
import {
  Agent,
  type ContentBlock,
  LLMClient,
  type LLMRequest,
  layerNode,
  makeLLMClient,
  type StreamPart,
  Usage
} from "sage-agent"

const MODEL = "glob-echo-1"

/** A rough token count (about four characters a token), for the usage part. */
const tokens = (text: string): number => Math.ceil(text.length / 4)

const textOf = (blocks: ReadonlyArray<ContentBlock>): string =>
  blocks.map((block) => (block.type === "text" ? block.text : "")).join("")

/** Text streams as several deltas, one per word, like a real model's. */
const textParts = (text: string): ReadonlyArray<StreamPart> =>
  (text.match(/\S+\s*/g) ?? []).map((word): StreamPart => ({ type: "text-delta", text: word }))

/** The model itself: the parts of one response to `request`. */
const respond = (request: LLMRequest, callNumber: number): ReadonlyArray<StreamPart> => {
  const last = request.messages.at(-1)
  const input = tokens(JSON.stringify(request.messages) + (request.system ?? ""))
  const end = (text: string, stopReason: "end_turn" | "tool_use"): ReadonlyArray<StreamPart> => [
    { type: "usage", usage: new Usage({ inputTokens: input, outputTokens: tokens(text) }) },
    { type: "finish", stopReason }
  ]
  const start: StreamPart = { type: "metadata", responseId: `resp_${callNumber}`, model: request.model ?? MODEL }

  // The tool answered: read its result (a `tool` message holds one tool_result block per call).
  if (last?.role === "tool") {
    const result = last.content.find((block) => block.type === "tool_result")
    const output = result === undefined ? "" : textOf(result.content)
    const files = output.split("\n").filter((line) => line.startsWith("/"))
    const answer =
      result === undefined || result.isError
        ? `Glob could not run: ${output || "no result"}`
        : files.length === 0
          ? "No files match."
          : `${files.length} file(s) match:\n${files.map((file) => `- ${file}`).join("\n")}`
    return [start, ...textParts(answer), ...end(answer, "end_turn")]
  }

  // A user message: call Glob with it as the pattern, if the agent offers Glob.
  const pattern = last === undefined ? "" : textOf(last.content).trim()
  if (pattern === "" || request.tools?.some((tool) => tool.name === "Glob") !== true) {
    const answer = "Give me a glob pattern, e.g. *.json, and I will list the files that match."
    return [start, ...textParts(answer), ...end(answer, "end_turn")]
  }
  const intro = `Looking for ${pattern}.\n`
  const id = `call_${callNumber}`
  const args = JSON.stringify({ pattern })
  const half = Math.ceil(args.length / 2)
  return [
    start,
    ...textParts(intro),
    { type: "tool-call-start", id, name: "Glob", index: 0 },
    // Arguments may arrive in fragments; `tool-call-complete` carries the parsed input.
    { type: "tool-call-delta", id, argumentsDelta: args.slice(0, half) },
    { type: "tool-call-delta", id, argumentsDelta: args.slice(half) },
    { type: "tool-call-complete", id, name: "Glob", input: { pattern } },
    ...end(intro + args, "tool_use")
  ]
}

/** The `LLMClient` layer: a real adapter would map its server's stream (and errors, as `LLMError`s) here. */
const GlobEchoModel = Layer.sync(LLMClient, () => {
  let calls = 0
  return makeLLMClient({
    provider: "glob-echo",
    model: MODEL,
    capabilities: { streaming: true, tools: true, vision: false, thinking: false, contextWindow: 32_000 },
    stream: (request) =>
      Stream.suspend(() => Stream.fromIterable(respond(request, ++calls))).pipe(
        // A little latency, so the output streams as it would from a server; interrupting the stream stops it.
        Stream.tap(() => Effect.sleep("10 millis"))
      )
  })
})

// Provided over `layerNode`, it replaces the vendor provider, which is then never built (so no API key is read).
const SageLayer = layerNode({ provider: "anthropic", cwd: process.cwd(), env: process.env }).pipe(
  Layer.provide(GlobEchoModel)
)

const prompt = process.argv[2] ?? "*.json"

const program = Effect.gen(function* () {
  const model = yield* LLMClient
  yield* Effect.sync(() => console.error(`[model] ${model.provider}/${model.model}`))
  const agent = yield* Agent
  yield* agent.run(prompt).pipe(
    Stream.runForEach((event) =>
      Effect.sync(() => {
        if (event.type === "text.delta") process.stdout.write(event.text)
        if (event.type === "tool.started")
          console.error(`\n[tool] ${event.call.name} ${JSON.stringify(event.call.input)}`)
        if (event.type === "tool.completed") console.error(`[tool] ${event.result.toolName}: ${event.result.status}`)
        if (event.type === "turn.ended") console.error(`\n[turn] ${event.stopReason} after ${event.steps} step(s)`)
      })
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
