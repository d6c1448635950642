/**
 * SageAgentSDK: the plain-Promise facade for people who do not use Effect. One `ManagedRuntime` per instance,
 * built on first use; nothing runs at import. Its public types are plain TypeScript (`types.ts`,
 * `errors.ts`): nothing in its `.d.ts` refers to Effect, and custom tools are plain `CustomTool` objects.
 *
 * ```ts
 * import { SageAgentSDK } from "sage-agent/sdk"
 * await using sage = new SageAgentSDK({ provider: "anthropic", cwd: process.cwd() })
 * const result = await sage.run("What does src/index.ts export?")
 * for await (const event of sage.stream("Run the tests")) if (event.type === "text.delta") process.stdout.write(event.text)
 * ```
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { ToolExecutionError } from "../errors/ToolError.js"
import { type SageOptions, type SageServices, layerNode } from "../layers/SageLive.js"
import { Agent, type RunOptions } from "../services/Agent.js"
import type { ApprovalAnswer } from "../services/Permissions.js"
import type { Tool, ToolReturn } from "../services/Tool.js"
import type { AgentEvent, CustomTool, PermissionMode, RunResult, ToolCall } from "./types.js"
import { ToolOutput } from "../streams/ToolCall.js"

export * from "./errors.js"
export type * from "./types.js"

/** The answer of a `canUseTool` callback. */
export type CanUseToolResult =
  | { readonly behavior: "allow"; readonly updatedInput?: unknown; readonly always?: boolean }
  | { readonly behavior: "deny"; readonly message: string }

export type CanUseTool = (
  call: ToolCall,
  context: { readonly signal: AbortSignal; readonly reason: string; readonly suggestion?: string }
) => Promise<CanUseToolResult>

export interface SageAgentSDKOptions {
  readonly provider?: "anthropic" | "openai"
  readonly model?: string
  /** Defaults to the vendor's variable (`ANTHROPIC_API_KEY` / `OPENAI_API_KEY`). */
  readonly apiKey?: string
  readonly baseURL?: string
  /** Workspace root; defaults to `process.cwd()`. */
  readonly cwd?: string
  readonly additionalDirectories?: ReadonlyArray<string>
  readonly permissionMode?: PermissionMode
  readonly allowedTools?: ReadonlyArray<string>
  readonly disallowedTools?: ReadonlyArray<string>
  /** Called for every tool call the permission rules say to ask about. Without it, asking means deny. */
  readonly canUseTool?: CanUseTool
  /** Custom tools, registered beside the built-ins (see `CustomTool`). */
  readonly tools?: ReadonlyArray<CustomTool>
  readonly maxSteps?: number
  readonly maxConcurrency?: number
  readonly maxTokens?: number
  readonly systemPrompt?: string
  /** OS sandbox for commands: `auto` (default: bubblewrap when available), `require`, or `off`. */
  readonly sandbox?: "auto" | "require" | "off"
  /** Whether sandboxed commands may use the network (default false). */
  readonly sandboxNetwork?: boolean
  /** WebFetch may reach private/loopback addresses only when allowed here. */
  readonly webFetch?: { readonly allowPrivate?: boolean; readonly allowedHosts?: ReadonlyArray<string> }
  /** Environment for commands (secrets are scrubbed); defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
}

export interface CallOptions {
  readonly signal?: AbortSignal
  /** Earlier conversation (e.g. `previous.messages`) to continue from. */
  readonly history?: RunResult["messages"]
  readonly sessionId?: string
}

/** Rejection of an aborted call (`error.name === "AbortError"`). */
export class AbortError extends Error {
  override readonly name = "AbortError"
  constructor(message = "The operation was aborted") {
    super(message)
  }
}

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
                ...(answer.always === undefined ? {} : { always: answer.always })
              }
            : { type: "deny", reason: answer.message }
      ),
      Effect.catchAll((error) =>
        Effect.succeed<ApprovalAnswer>({
          type: "deny",
          reason: `canUseTool failed: ${error instanceof Error ? error.message : String(error)}`
        })
      )
    )
})

const outputPieces = Schema.decodeUnknownEither(Schema.Array(ToolOutput))

const failureMessage = (name: string, error: unknown): string => {
  if (error instanceof Error && error.message !== "") return error.message
  if (typeof error === "string" && error !== "") return error
  return `Tool ${name} failed: ${error instanceof Error ? error.name : String(error)}`
}

/** What a custom tool's `execute` resolved with, checked (it may come from untyped JavaScript). */
const toolReturn = (name: string, value: unknown): Effect.Effect<ToolReturn, ToolExecutionError> => {
  if (typeof value === "string") return Effect.succeed(value)
  const pieces = outputPieces(value)
  if (Either.isRight(pieces)) return Effect.succeed(pieces.right)
  return Effect.fail(
    new ToolExecutionError({
      tool: name,
      message: `Tool ${name} returned neither a string nor an array of output pieces:\n${ParseResult.TreeFormatter.formatErrorSync(pieces.left)}`
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

const isAborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true

/** Turn a failed exit into what a Promise user expects: the tagged error itself, or AbortError. */
const squashExit = <A>(exit: Exit.Exit<A, unknown>, signal: AbortSignal | undefined): A => {
  if (Exit.isSuccess(exit)) return exit.value
  if (Cause.isInterruptedOnly(exit.cause) || isAborted(signal)) throw new AbortError()
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) throw failure.value
  throw Cause.squash(exit.cause)
}

export class SageAgentSDK {
  readonly #options: SageAgentSDKOptions
  #runtime: ManagedRuntime.ManagedRuntime<SageServices, unknown> | undefined

  constructor(options: SageAgentSDKOptions = {}) {
    this.#options = options
  }

  #getRuntime(): ManagedRuntime.ManagedRuntime<SageServices, unknown> {
    if (this.#runtime === undefined) {
      const o = this.#options
      const options: SageOptions = {
        provider: o.provider ?? "anthropic",
        cwd: o.cwd ?? process.cwd(),
        env: o.env ?? process.env,
        ...(o.model === undefined ? {} : { model: o.model }),
        ...(o.apiKey === undefined ? {} : { apiKey: o.apiKey }),
        ...(o.baseURL === undefined ? {} : { baseURL: o.baseURL }),
        ...(o.additionalDirectories === undefined ? {} : { additionalDirectories: o.additionalDirectories }),
        ...(o.permissionMode === undefined ? {} : { permissionMode: o.permissionMode }),
        ...(o.allowedTools === undefined ? {} : { allowedTools: o.allowedTools }),
        ...(o.disallowedTools === undefined ? {} : { disallowedTools: o.disallowedTools }),
        ...(o.tools === undefined ? {} : { tools: o.tools.map(toTool) }),
        ...(o.maxSteps === undefined ? {} : { maxSteps: o.maxSteps }),
        ...(o.maxConcurrency === undefined ? {} : { maxConcurrency: o.maxConcurrency }),
        ...(o.maxTokens === undefined ? {} : { maxTokens: o.maxTokens }),
        ...(o.systemPrompt === undefined ? {} : { system: o.systemPrompt }),
        ...(o.webFetch === undefined ? {} : { webFetch: o.webFetch }),
        ...(o.sandbox === undefined ? {} : { sandbox: o.sandbox }),
        ...(o.sandboxNetwork === undefined ? {} : { sandboxNetwork: o.sandboxNetwork }),
        ...(o.canUseTool === undefined ? {} : { approver: approverFor(o.canUseTool) })
      }
      this.#runtime = ManagedRuntime.make(layerNode(options))
    }
    return this.#runtime
  }

  #runOptions(call: CallOptions | undefined): RunOptions {
    return {
      ...(call?.history === undefined ? {} : { history: call.history }),
      ...(call?.sessionId === undefined ? {} : { sessionId: call.sessionId })
    }
  }

  /** Run one turn to the end. Rejects with the tagged error class on failure, `AbortError` on abort. */
  async run(prompt: string, options?: CallOptions): Promise<RunResult> {
    const signal = options?.signal
    if (signal?.aborted === true) throw new AbortError()
    const program = Effect.scoped(
      Effect.flatMap(Agent, (agent) =>
        Effect.flatMap(agent.start(prompt, this.#runOptions(options)), (execution) => execution.result)
      )
    )
    const exit = await this.#getRuntime().runPromiseExit(program, signal === undefined ? {} : { signal })
    return squashExit(exit, signal)
  }

  /**
   * Stream the turn's events. Breaking out of the `for await` loop (or aborting) interrupts the turn; an
   * aborted stream throws `AbortError`.
   */
  async *stream(prompt: string, options?: CallOptions): AsyncGenerator<AgentEvent, void, undefined> {
    const signal = options?.signal
    if (signal?.aborted === true) throw new AbortError()
    const runtime = await this.#getRuntime().runtime()
    const events = Stream.unwrap(Effect.map(Agent, (agent) => agent.run(prompt, this.#runOptions(options))))
    const iterator: AsyncIterator<AgentEvent> = Stream.toAsyncIterableRuntime(events, runtime)[Symbol.asyncIterator]()
    const aborted = new Promise<IteratorResult<AgentEvent>>((_, reject) => {
      signal?.addEventListener("abort", () => reject(new AbortError()), { once: true })
    })
    aborted.catch(() => {})
    try {
      while (true) {
        const next = await Promise.race([iterator.next(), aborted])
        if (next.done) return
        yield next.value
      }
    } catch (error) {
      if (isAborted(signal)) throw new AbortError()
      throw error
    } finally {
      await iterator.return?.()
    }
  }

  /** Stop everything this instance started and release its resources. */
  async close(): Promise<void> {
    const runtime = this.#runtime
    this.#runtime = undefined
    if (runtime !== undefined) await runtime.dispose()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
