/**
 * SageAgentSDK: the plain-Promise facade for people who do not use Effect. One `ManagedRuntime` per instance,
 * built on first use; nothing runs at import. Its public types are plain TypeScript (`types.ts`, `errors.ts`,
 * `options.ts`): nothing in its `.d.ts` refers to Effect, and custom tools are plain `CustomTool` objects.
 *
 * ```ts
 * import { SageAgentSDK } from "sage-agent/sdk"
 * const sage = new SageAgentSDK({ provider: "anthropic", cwd: process.cwd() })
 * try {
 *   const first = await sage.run("What does src/index.ts export?")
 *   const next = await sage.run("And src/sdk?", { history: first.messages }) // continues the conversation
 *   for await (const event of sage.stream("Run the tests")) if (event.type === "text.delta") process.stdout.write(event.text)
 * } finally {
 *   await sage.close() // stops every running turn; later calls reject with SageClosedError
 * }
 * ```
 */
import * as path from "node:path"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { compactConversation } from "../agent/Compaction.js"
import { imageFromFile } from "../agent/PromptImages.js"
import { fromJsonSchema } from "../agent/StructuredOutput.js"
import { splitModel } from "../providers/ModelShorthand.js"
import { ImageBlock, TextBlock } from "../streams/Message.js"
import * as Outcome from "../agent/Outcome.js"
import { ConfigError } from "../errors/ConfigError.js"
import { ToolExecutionError } from "../errors/ToolError.js"
import { layerNode, type SageOptions, type SageServices } from "../layers/SageLive.js"
import type { RunOptions } from "../services/Agent.js"
import { SessionStore } from "../services/SessionStore.js"
import * as Conversation from "../session/Conversation.js"
import * as NodePlatform from "../layers/NodePlatform.js"
import * as SessionStoreLive from "../layers/SessionStoreLive.js"
import type { ApprovalAnswer } from "../services/Permissions.js"
import { HOOK_EVENTS, type HookMatcher, type HooksConfig } from "../services/Hooks.js"
import type { Tool, ToolReturn } from "../services/Tool.js"
import { ToolOutput } from "../streams/ToolCall.js"
import { AbortError, SageClosedError } from "./errors.js"
import {
  type CallOptions,
  type CanUseTool,
  type HooksOption,
  type SageAgentSDKOptions,
  validateCallOptions,
  validateOptions
} from "./options.js"
import type {
  AgentEvent,
  CompactionResult,
  CustomTool,
  Prompt,
  RunResult,
  SessionDetail,
  SessionInfo,
  ToolCall
} from "./types.js"

export * from "./errors.js"
export type {
  CallOptions,
  CanUseTool,
  CanUseToolResult,
  HookCallback,
  HookCallbackMatcher,
  HookEventName,
  HookInput,
  HookOutput,
  HooksOption,
  Provider,
  SageAgentSDKOptions
} from "./options.js"
export type * from "./types.js"

const approverFor = (canUseTool: CanUseTool) => ({
  approve: (call: ToolCall, request: { readonly reason: string; readonly suggestion?: string }) =>
    Effect.tryPromise({
      try: (signal) => canUseTool(call, { signal, ...request }),
      catch: (error) => error
    }).pipe(
      Effect.map(
        (answer): ApprovalAnswer =>
          answer.behavior === "allow"
            ? {
                type: "allow",
                ...(answer.updatedInput === undefined ? {} : { updatedInput: answer.updatedInput }),
                ...(answer.always === undefined ? {} : { always: answer.always }),
                ...(answer.session === undefined ? {} : { session: answer.session })
              }
            : { type: "deny", reason: answer.message }
      ),
      Effect.catch((error) =>
        Effect.succeed<ApprovalAnswer>({
          type: "deny",
          reason: `canUseTool failed: ${error instanceof Error ? error.message : String(error)}`
        })
      )
    )
})

/** The SDK's async hooks as in-process hooks (the signal is aborted on timeout and interruption). */
const hooksFor = (option: HooksOption): HooksConfig => {
  const config: { [E in (typeof HOOK_EVENTS)[number]]?: ReadonlyArray<HookMatcher> } = {}
  for (const event of HOOK_EVENTS) {
    const matchers = option[event]
    if (matchers === undefined) continue
    config[event] = matchers.map(
      (m): HookMatcher => ({
        ...(m.matcher === undefined ? {} : { matcher: m.matcher }),
        hooks: m.hooks.map((hook) => ({
          type: "callback",
          name: hook.name === "" ? "sdk hook" : hook.name,
          ...(m.timeout === undefined ? {} : { timeout: m.timeout }),
          callback: (input, context) =>
            Effect.tryPromise({
              try: (signal) =>
                hook(input, context.toolUseId === undefined ? { signal } : { signal, toolUseId: context.toolUseId }),
              catch: (error) => error
            })
        }))
      })
    )
  }
  return config
}

const decodeOutputPieces = Schema.decodeUnknownExit(Schema.Array(ToolOutput))

const failureMessage = (name: string, error: unknown): string => {
  if (error instanceof Error && error.message !== "") return error.message
  if (typeof error === "string" && error !== "") return error
  return `Tool ${name} failed: ${error instanceof Error ? error.name : String(error)}`
}

/** What a custom tool's `execute` resolved with, checked (it may come from untyped JavaScript). */
const toolReturn = (name: string, value: unknown): Effect.Effect<ToolReturn, ToolExecutionError> => {
  if (typeof value === "string") return Effect.succeed(value)
  const pieces = decodeOutputPieces(value)
  if (Exit.isSuccess(pieces)) return Effect.succeed(pieces.value)
  return Effect.fail(
    new ToolExecutionError({
      tool: name,
      message: `Tool ${name} returned neither a string nor an array of output pieces:\n${String(Cause.squash(pieces.cause))}`
    })
  )
}

/**
 * A `CustomTool` as the agent's `Tool`: the model sees `inputSchema` unchanged, `execute` gets the raw input, and
 * interrupting the call aborts the signal `execute` was given. Defaults are `Tool.make`'s.
 */
const toTool = (custom: CustomTool): Tool.Any => {
  const readOnly = custom.readOnly ?? false
  return {
    name: custom.name,
    description: custom.description,
    input: Schema.Unknown,
    jsonSchema: { ...custom.inputSchema },
    readOnly,
    kind: custom.kind ?? (readOnly ? "read" : "other"),
    concurrency: readOnly ? { type: "parallel" } : { type: "sequential" },
    execute: (input, context) =>
      Effect.tryPromise({
        try: (signal) => custom.execute(input, { signal, callId: context.callId }),
        catch: (error) => new ToolExecutionError({ tool: custom.name, message: failureMessage(custom.name, error) })
      }).pipe(Effect.flatMap((value: unknown) => toolReturn(custom.name, value)))
  }
}

/** The SDK's options as the options of `layerNode` (the same mapping the CLI makes from its flags). */
const sageOptions = (o: SageAgentSDKOptions): SageOptions => {
  // `model: "openai/gpt-5"` without `provider` picks the provider (see ModelShorthand).
  const chosen = splitModel(o.provider, o.model)
  return {
    provider: chosen.provider ?? "anthropic",
    cwd: o.cwd ?? process.cwd(),
    env: o.env ?? process.env,
    ...(chosen.model === undefined ? {} : { model: chosen.model }),
    ...(o.thinkingBudget === undefined ? {} : { thinkingBudget: o.thinkingBudget }),
    ...(o.reasoningEffort === undefined ? {} : { reasoningEffort: o.reasoningEffort }),
    ...(o.apiKey === undefined ? {} : { apiKey: o.apiKey }),
    ...(o.baseURL === undefined ? {} : { baseURL: o.baseURL }),
    ...(o.record === undefined ? {} : { record: path.resolve(o.cwd ?? process.cwd(), o.record) }),
    ...(o.replay === undefined ? {} : { replay: path.resolve(o.cwd ?? process.cwd(), o.replay) }),
    ...(o.additionalDirectories === undefined ? {} : { additionalDirectories: o.additionalDirectories }),
    ...(o.permissionMode === undefined ? {} : { permissionMode: o.permissionMode }),
    ...(o.allowedTools === undefined ? {} : { allowedTools: o.allowedTools }),
    ...(o.disallowedTools === undefined ? {} : { disallowedTools: o.disallowedTools }),
    ...(o.tools === undefined ? {} : { tools: o.tools.map(toTool) }),
    ...(o.maxSteps === undefined ? {} : { maxSteps: o.maxSteps }),
    ...(o.maxConcurrency === undefined ? {} : { maxConcurrency: o.maxConcurrency }),
    ...(o.maxTokens === undefined ? {} : { maxTokens: o.maxTokens }),
    ...(o.systemPrompt === undefined ? {} : { systemPrompt: o.systemPrompt }),
    ...(o.appendSystemPrompt === undefined ? {} : { appendSystemPrompt: o.appendSystemPrompt }),
    ...(o.webFetch === undefined ? {} : { webFetch: o.webFetch }),
    ...(o.sandbox === undefined ? {} : { sandbox: o.sandbox }),
    ...(o.sandboxNetwork === undefined ? {} : { sandboxNetwork: o.sandboxNetwork }),
    ...(o.canUseTool === undefined ? {} : { approver: approverFor(o.canUseTool) }),
    ...(o.maxBudgetUsd === undefined ? {} : { maxBudgetUsd: o.maxBudgetUsd }),
    ...(o.autoCompact === undefined ? {} : { autoCompact: o.autoCompact }),
    ...(o.compactThreshold === undefined ? {} : { compactThreshold: o.compactThreshold }),
    ...(o.models === undefined ? {} : { models: o.models }),
    ...(o.agents === undefined ? {} : { agents: o.agents }),
    ...(o.maxSubagents === undefined ? {} : { maxSubagents: o.maxSubagents }),
    ...(o.maxAgentDepth === undefined ? {} : { maxAgentDepth: o.maxAgentDepth }),
    ...(o.sessionsDir === undefined ? {} : { sessionsDir: o.sessionsDir }),
    ...(o.mcpServers === undefined ? {} : { mcpServers: o.mcpServers }),
    ...(o.hooks === undefined ? {} : { hooks: hooksFor(o.hooks) })
  }
}

/** The session of a call: a new one (seeded with `history`), or the one it resumes, continues or forks. */
const conversation = (options: SageAgentSDKOptions, call: CallOptions) =>
  Conversation.open({
    cwd: options.cwd ?? process.cwd(),
    persist: options.persistSession !== false,
    ...(call.history === undefined ? {} : { history: call.history }),
    ...(call.sessionId === undefined ? {} : { sessionId: call.sessionId }),
    ...(call.resume === undefined ? {} : { resume: call.resume }),
    ...(call.continue === undefined ? {} : { continue: call.continue }),
    ...(call.forkSession === undefined ? {} : { fork: call.forkSession })
  })

/** The call's steering messages as a queue the turn drains at its step boundaries (fed for the scope's life). */
const steeringOf = (call: CallOptions) =>
  Effect.gen(function* () {
    if (call.steering === undefined) return {}
    const queue = yield* Queue.unbounded<string>()
    yield* Effect.forkScoped(
      Stream.fromAsyncIterable(call.steering, (error) => error).pipe(
        Stream.runForEach((text) => (typeof text === "string" ? Queue.offer(queue, text) : Effect.void)),
        Effect.ignore
      )
    )
    return { steering: queue }
  })

const runOptions = (call: CallOptions | undefined): Omit<RunOptions, "history" | "sessionId"> => ({
  ...(call?.maxBudgetUsd === undefined ? {} : { maxBudgetUsd: call.maxBudgetUsd })
})

const PromptBlocks = Schema.Array(
  Schema.Union([TextBlock, ImageBlock, Schema.Struct({ type: Schema.Literal("image"), path: Schema.NonEmptyString })])
)
const isPromptBlocks = Schema.is(PromptBlocks)

/** The call's prompt and options, checked like the constructor's (JavaScript callers have no compiler). */
const checkCall = (method: string, prompt: unknown, options: unknown): CallOptions => {
  if (typeof prompt !== "string" && !isPromptBlocks(prompt)) {
    throw new ConfigError({
      message: `${method}() expects the prompt as a string or an array of blocks ({ type: "text", text }, { type: "image", source }, { type: "image", path }), got ${prompt === null ? "null" : Array.isArray(prompt) ? "an array with an invalid block" : typeof prompt}`,
      source: "prompt"
    })
  }
  return validateCallOptions(method, options)
}

/**
 * The turn's prompt (image files read through the workspace and the Read permission rules) and its output schema
 * (the call's, else the constructor's).
 */
const turnInput = (options: SageAgentSDKOptions, call: CallOptions, prompt: Prompt) =>
  Effect.gen(function* () {
    const mode = options.permissionMode === undefined ? {} : { mode: options.permissionMode }
    const blocks =
      typeof prompt === "string"
        ? prompt
        : yield* Effect.forEach(prompt, (block) =>
            "path" in block ? imageFromFile(block.path, mode) : Effect.succeed(block)
          )
    const schema = call.outputSchema ?? options.outputSchema
    const outputSchema = schema === undefined ? undefined : yield* fromJsonSchema(schema)
    return { prompt: blocks, options: outputSchema === undefined ? {} : { outputSchema } }
  })

/** Read at the time of the call (a signal can be aborted while a call awaits). */
const isAborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true

const CLOSED_WHILE_RUNNING =
  "This SageAgentSDK was closed while the call was running; create a new instance to run again"

export class SageAgentSDK {
  readonly #options: SageAgentSDKOptions
  #runtime: ManagedRuntime.ManagedRuntime<SageServices, unknown> | undefined
  /** Set by `close()`: resolves once everything this instance started has stopped. */
  #closing: Promise<void> | undefined
  /**
   * Stops one open `stream()` (interrupts its turn and closes its scope). Its iterator runs on the runtime's
   * context, not on the runtime, so disposing the runtime would not stop it; the fibers of `run()` are the
   * runtime's own, which its disposal interrupts and awaits.
   */
  readonly #streams = new Set<() => Promise<unknown>>()

  /** Checks the options at once: an invalid one throws `ConfigError` naming it (nothing is silently defaulted). */
  constructor(options: SageAgentSDKOptions = {}) {
    this.#options = validateOptions(options)
  }

  /** `SageClosedError` after `close()`. */
  #assertOpen(): void {
    if (this.#closing !== undefined) throw new SageClosedError()
  }

  /** The runtime, made on first use (its layer is built by the first call that runs on it). */
  #runtimeNow(): ManagedRuntime.ManagedRuntime<SageServices, unknown> {
    this.#runtime ??= ManagedRuntime.make(layerNode(sageOptions(this.#options)))
    return this.#runtime
  }

  /** Run `effect` on the runtime: `signal` interrupts it, and so does `close()` (disposing the runtime). */
  async #call<A>(
    runtime: ManagedRuntime.ManagedRuntime<SageServices, unknown>,
    effect: Effect.Effect<A, unknown, SageServices>,
    signal: AbortSignal | undefined
  ): Promise<A> {
    const exit = await runtime.runPromiseExit(effect, signal === undefined ? {} : { signal })
    if (Exit.isSuccess(exit)) return exit.value
    if (isAborted(signal)) throw new AbortError()
    const outcome = Outcome.fromCause(exit.cause)
    if (outcome.status === "interrupted") {
      throw this.#closing === undefined ? new AbortError() : new SageClosedError(CLOSED_WHILE_RUNNING)
    }
    // The tagged error itself (an instance of the classes in `errors.ts`), or the defect.
    throw Cause.squash(exit.cause)
  }

  /**
   * Run one turn to the end and resolve with its result. Only the result is kept, not the turn's events. Rejects
   * with the tagged error class on failure, `AbortError` on abort, `SageClosedError` when the instance is (or
   * gets) closed. Pass `{ history: previous.messages }` to continue a conversation.
   */
  async run(prompt: Prompt, options?: CallOptions): Promise<RunResult> {
    this.#assertOpen()
    const call = checkCall("run", prompt, options)
    const signal = call.signal
    if (isAborted(signal)) throw new AbortError()
    const runtime = this.#runtimeNow()
    const program = Effect.scoped(
      Effect.flatMap(Effect.zip(conversation(this.#options, call), steeringOf(call)), ([session, steering]) =>
        Effect.flatMap(turnInput(this.#options, call, prompt), (input) =>
          Effect.flatMap(
            session.start(input.prompt, { ...runOptions(call), ...steering, ...input.options }),
            (execution) => execution.result
          )
        )
      )
    )
    return this.#call(runtime, program, signal)
  }

  /**
   * Stream the turn's events. Breaking out of the `for await` loop (or aborting) interrupts the turn; an aborted
   * stream throws `AbortError`, one stopped by `close()` throws `SageClosedError`.
   */
  async *stream(prompt: Prompt, options?: CallOptions): AsyncGenerator<AgentEvent, void, undefined> {
    this.#assertOpen()
    const call = checkCall("stream", prompt, options)
    const signal = call.signal
    if (isAborted(signal)) throw new AbortError()
    const runtime = this.#runtimeNow()
    const context = await this.#call(runtime, Effect.context<SageServices>(), signal)
    if (this.#closing !== undefined) throw new SageClosedError(CLOSED_WHILE_RUNNING)
    const events = Stream.unwrap(
      Effect.map(Effect.zip(conversation(this.#options, call), steeringOf(call)), ([session, steering]) =>
        Stream.unwrap(
          Effect.map(turnInput(this.#options, call, prompt), (input) =>
            session.run(input.prompt, { ...runOptions(call), ...steering, ...input.options })
          )
        )
      )
    )
    const iterator = Stream.toAsyncIterableWith(events, context)[Symbol.asyncIterator]()
    let stoppedByClose = false
    const stop = (): Promise<unknown> => {
      stoppedByClose = true
      return iterator.return?.() ?? Promise.resolve()
    }
    this.#streams.add(stop)
    let onAbort: (() => void) | undefined
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new AbortError())
      signal?.addEventListener("abort", onAbort, { once: true })
    })
    aborted.catch(() => {})
    try {
      while (true) {
        const next = await Promise.race([iterator.next(), aborted])
        if (next.done) {
          if (stoppedByClose) throw new SageClosedError(CLOSED_WHILE_RUNNING)
          return
        }
        yield next.value
      }
    } catch (error) {
      if (isAborted(signal)) throw new AbortError()
      if (stoppedByClose) throw new SageClosedError(CLOSED_WHILE_RUNNING)
      throw error
    } finally {
      if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort)
      this.#streams.delete(stop)
      await iterator.return?.()
    }
  }

  /**
   * Compact a conversation (what the REPL's `/compact` does): the model summarizes the older messages under a fixed
   * prompt (plus `instructions`, when given), and the result's `messages` (the summary, then the latest messages) are
   * the history to continue from: `run(prompt, { history: compacted.messages })`. Rejects with `CompactionError`
   * (the conversation is unchanged), `AbortError` or `SageClosedError`.
   */
  async compact(
    messages: RunResult["messages"],
    options?: { readonly instructions?: string; readonly signal?: AbortSignal }
  ): Promise<CompactionResult> {
    this.#assertOpen()
    const history = validateCallOptions("compact", { history: messages }).history ?? []
    if (options?.instructions !== undefined && typeof options.instructions !== "string") {
      throw new ConfigError({ message: "compact() instructions must be a string", source: "instructions" })
    }
    const signal = options?.signal
    if (isAborted(signal)) throw new AbortError()
    const runtime = this.#runtimeNow()
    const instructions = options?.instructions
    return this.#call(runtime, compactConversation(history, instructions === undefined ? {} : { instructions }), signal)
  }

  /**
   * The saved sessions (of `cwd` when given), the most recently used first. Read from the session logs under
   * `sessionsDir`; works without a provider key.
   */
  async listSessions(options?: { readonly cwd?: string }): Promise<ReadonlyArray<SessionInfo>> {
    this.#assertOpen()
    const cwd = options?.cwd
    if (cwd !== undefined && typeof cwd !== "string") {
      throw new ConfigError({ message: "listSessions() cwd must be a directory path", source: "cwd" })
    }
    return this.#sessions(SessionStore.use((store) => store.list(cwd === undefined ? {} : { cwd })))
  }

  /** A saved session with its conversation; rejects with `SessionNotFound` (or `InvalidSessionId`). */
  async getSession(id: string): Promise<SessionDetail> {
    this.#assertOpen()
    if (typeof id !== "string") throw new ConfigError({ message: "getSession() expects a session id", source: "id" })
    return this.#sessions(
      SessionStore.use((store) =>
        Effect.map(
          store.load(id),
          (loaded): SessionDetail => ({
            ...loaded.summary,
            messages: loaded.messages,
            todos: loaded.todos,
            grants: loaded.grants,
            repairs: loaded.repairs
          })
        )
      )
    )
  }

  /** Runs `effect` on the session store alone (no provider, no agent). */
  async #sessions<A>(effect: Effect.Effect<A, unknown, SessionStore>): Promise<A> {
    const layer = SessionStoreLive.layerJsonl({
      ...(this.#options.sessionsDir === undefined ? {} : { dir: this.#options.sessionsDir })
    }).pipe(Layer.provide(NodePlatform.layer))
    const exit = await Effect.runPromiseExit(Effect.provide(effect, layer))
    if (Exit.isSuccess(exit)) return exit.value
    throw Cause.squash(exit.cause)
  }

  /**
   * Stop everything this instance started and release its resources: every running turn is interrupted (its
   * model request aborted, its commands killed) and awaited, then the runtime is disposed. Calls still running
   * reject with `SageClosedError`, and so does every later call. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    await Promise.allSettled(Array.from(this.#streams, (stop) => stop()))
    // Interrupts and awaits every fiber the runtime started (running `run()` calls, a layer build), then
    // releases the layer's resources.
    const runtime = this.#runtime
    this.#runtime = undefined
    if (runtime !== undefined) await runtime.dispose()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
