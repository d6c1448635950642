/**
 * The agent loop. One turn: stream the model, emit deltas as they arrive, start each tool as soon as its call is
 * complete in the stream (permission first), append the results in call order, and repeat until the model ends
 * its turn, `maxSteps` is reached, or the turn is interrupted.
 *
 * Cancellation is fiber interruption: the provider request is aborted, running tools are interrupted (their
 * processes killed by their own finalizers), and the transcript is repaired so that every tool_use has a
 * tool_result. An interrupted turn ends with exactly one `interrupted` event and a result whose stop reason is
 * `interrupted`.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Take from "effect/Take"
import type { AgentError } from "../errors/AgentError.js"
import { Agent, type AgentExecution, type RunOptions, type RunResult } from "../services/Agent.js"
import { EventBus } from "../services/EventBus.js"
import { LLMClient } from "../services/LLMClient.js"
import { Approver, type PermissionMode, Permissions } from "../services/Permissions.js"
import type { Tool } from "../services/Tool.js"
import { ToolRegistry } from "../services/ToolRegistry.js"
import {
  type AgentEvent,
  type AgentEventType,
  type AgentState,
  type EventBody,
  PROTOCOL_VERSION
} from "../streams/AgentEvent.js"
import { type ContentBlock, type ImageBlock, type Message, messageText, type TextBlock } from "../streams/Message.js"
import { applyPart, emptyResponse, type ResponseState, type ResponseToolCall, toResponse } from "../streams/Response.js"
import type { StreamPart } from "../streams/StreamPart.js"
import { type ToolCall, type ToolResult, textOutput } from "../streams/ToolCall.js"
import { capText, redactSecrets } from "../streams/Redact.js"
import { type StopReason, Usage } from "../streams/Usage.js"
import { runToolCall } from "../tools/Tool.js"

export interface AgentOptions {
  /** The primary workspace root. */
  readonly cwd: string
  readonly system?: string
  /** Default 50. */
  readonly maxSteps?: number
  /** Tool fan-out bound; default 10. */
  readonly maxConcurrency?: number
  /** Default per-tool timeout; default 2 minutes. */
  readonly toolTimeout?: Duration.DurationInput
  readonly permissionMode?: PermissionMode
  readonly maxTokens?: number
  /** Tool output beyond this many characters is cut (head and tail kept) before the model sees it; default 100,000. */
  readonly maxToolOutputChars?: number
  /** Id of this agent in events; default `main`. */
  readonly agentId?: string
  readonly parentAgentId?: string
}

export const DEFAULT_MAX_STEPS = 50
export const DEFAULT_MAX_CONCURRENCY = 10

/** What to tell the model (and the user) when an `ask` has nobody to answer it. */
export const headlessDenial = (call: ToolCall, reason: string): string =>
  `Permission to use ${call.name} was not granted: ${reason}. No one is available to approve it in this ` +
  `non-interactive run. To allow it, re-run with --allowed-tools ${call.name} (or a narrower rule such as ` +
  `"${call.name}(...)"), or --permission-mode acceptEdits / bypassPermissions.`

const randomId = (prefix: string): Effect.Effect<string> =>
  Effect.sync(() => `${prefix}_${globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`)

/** Mutable view of one turn, kept so that an interrupt can repair the transcript. */
interface TurnProgress {
  messages: ReadonlyArray<Message>
  response: ResponseState
  results: Map<string, ToolResult>
  usage: Usage
  steps: number
}

const resultBlock = (result: ToolResult): ContentBlock => ({
  type: "tool_result",
  toolUseId: result.toolCallId,
  content: result.output.map((o): TextBlock | ImageBlock =>
    o.type === "image"
      ? { type: "image", source: { type: "base64", mediaType: o.mediaType, data: o.data } }
      : { type: "text", text: o.type === "text" ? o.text : JSON.stringify(o.value) }
  ),
  isError: result.status !== "success"
})

/** What the model and the events see of a result: secrets redacted, text bounded. */
const hygiene = (result: ToolResult, maxChars: number): ToolResult => ({
  ...result,
  output: result.output.map((o) =>
    o.type === "text" ? { type: "text", text: capText(redactSecrets(o.text), maxChars) } : o
  )
})

const syntheticResult = (call: ToolCall, status: ToolResult["status"], text: string): ToolResult => ({
  toolCallId: call.id,
  toolName: call.name,
  status,
  output: [textOutput(text)],
  durationMs: 0
})

export const make = (defaults: AgentOptions) =>
  Effect.gen(function* () {
    const llm = yield* LLMClient
    const registry = yield* ToolRegistry
    const permissions = yield* Permissions
    const bus = yield* EventBus
    const approver = yield* Effect.serviceOption(Approver)
    const approvals = yield* Effect.makeSemaphore(1)
    const agentId = defaults.agentId ?? "main"
    const defaultTimeout = Duration.decode(defaults.toolTimeout ?? "2 minutes")
    const maxToolOutputChars = Math.max(1000, defaults.maxToolOutputChars ?? 100_000)

    const start = (prompt: string, options: RunOptions = {}): Effect.Effect<AgentExecution, never, Scope.Scope> =>
      Effect.gen(function* () {
        const sessionId = options.sessionId ?? (yield* randomId("ses"))
        const turnId = yield* randomId("turn")
        const maxSteps = Math.max(1, options.maxSteps ?? defaults.maxSteps ?? DEFAULT_MAX_STEPS)
        const maxConcurrency = Math.max(1, options.maxConcurrency ?? defaults.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY)
        const mode = options.permissionMode ?? defaults.permissionMode ?? "default"
        const system = options.system ?? defaults.system
        const maxTokens = options.maxTokens ?? defaults.maxTokens

        const events = yield* PubSub.unbounded<Take.Take<AgentEvent, AgentError>>({
          replay: Number.POSITIVE_INFINITY
        })
        const result = yield* Deferred.make<RunResult, AgentError>()
        const state = yield* Ref.make<AgentState>("ready")

        // The hot path (one call per streamed delta): plain combinators, no generator.
        const emit = <T extends AgentEventType>(body: Omit<EventBody<T>, "sessionId" | "agentId">) =>
          Effect.flatMap(Clock.currentTimeMillis, (timestamp) => {
            const event = {
              ...body,
              v: PROTOCOL_VERSION,
              sessionId,
              agentId,
              ...(defaults.parentAgentId === undefined ? {} : { parentAgentId: defaults.parentAgentId }),
              timestamp
            } as unknown as AgentEvent
            return Effect.zipRight(bus.publish(event), PubSub.publish(events, Take.of(event)))
          })

        const setState = (to: AgentState) =>
          Effect.flatMap(Ref.getAndSet(state, to), (from) =>
            from === to ? Effect.void : emit<"state.changed">({ type: "state.changed", from, to })
          )

        const progress: TurnProgress = {
          messages: [...(options.history ?? []), { role: "user", content: [{ type: "text", text: prompt }] }],
          response: emptyResponse,
          results: new Map(),
          usage: Usage.empty,
          steps: 0
        }

        // ---- tools -------------------------------------------------------------------------------------
        const globalPermits = yield* Effect.makeSemaphore(maxConcurrency)
        const toolPermits = new Map<string, Effect.Semaphore>()
        const gate = (tool: Tool.Any) =>
          Effect.gen(function* () {
            switch (tool.concurrency.type) {
              case "parallel":
                return globalPermits.withPermits(1)
              case "sequential":
                return globalPermits.withPermits(maxConcurrency)
              case "limited": {
                let own = toolPermits.get(tool.name)
                if (own === undefined) {
                  own = yield* Effect.makeSemaphore(Math.max(1, tool.concurrency.max))
                  toolPermits.set(tool.name, own)
                }
                const limit = own
                return <A, E, R>(effect: Effect.Effect<A, E, R>) =>
                  limit.withPermits(1)(globalPermits.withPermits(1)(effect))
              }
            }
          })

        const decide = (tool: Tool.Any, call: ToolCall) =>
          Effect.gen(function* () {
            const decision = yield* permissions
              .check(call, {
                tool: { name: tool.name, readOnly: tool.readOnly, kind: tool.kind },
                cwd: defaults.cwd,
                mode
              })
              .pipe(
                Effect.catchAll((error) =>
                  Effect.succeed({
                    type: "deny" as const,
                    reason: `the permission check failed: ${error.message}`,
                    source: "error"
                  })
                )
              )
            if (decision.type !== "ask") return { ...decision, input: call.input }
            yield* emit<"permission.requested">({ type: "permission.requested", turnId, call, reason: decision.reason })
            if (Option.isNone(approver)) {
              return {
                type: "deny" as const,
                reason: headlessDenial(call, decision.reason),
                source: "headless",
                input: call.input
              }
            }
            const answer = yield* approvals.withPermits(1)(
              Effect.gen(function* () {
                const previous = yield* Ref.get(state)
                yield* setState("waiting_for_permission")
                const reply = yield* approver.value.approve(
                  call,
                  decision.suggestion === undefined
                    ? { reason: decision.reason }
                    : { reason: decision.reason, suggestion: decision.suggestion }
                )
                yield* setState(previous)
                return reply
              })
            )
            if (answer.type === "deny") {
              return {
                type: "deny" as const,
                reason: `the user denied it: ${answer.reason}`,
                source: "user",
                input: call.input
              }
            }
            if (answer.always === true && decision.suggestion !== undefined) {
              yield* permissions
                .allowAlways(decision.suggestion)
                .pipe(
                  Effect.catchAll((error) => Effect.logWarning("could not save the permission rule", error.message))
                )
            }
            return {
              type: "allow" as const,
              source: answer.always === true ? "user:always" : "user",
              input: answer.updatedInput ?? call.input
            }
          })

        const executeCall = (call: ResponseToolCall): Effect.Effect<ToolResult> =>
          Effect.gen(function* () {
            const found = yield* registry.get(call.name).pipe(Effect.option)
            if (Option.isNone(found)) {
              const names = (yield* registry.list).map((t) => t.name).join(", ")
              return syntheticResult(call, "error", `Unknown tool "${call.name}". Available tools: ${names || "none"}.`)
            }
            if (call.parseError !== undefined) {
              return syntheticResult(
                call,
                "error",
                `The arguments of ${call.name} were rejected: ${call.parseError}. Send valid JSON.`
              )
            }
            const tool = found.value
            const decision = yield* decide(tool, call)
            yield* emit<"permission.resolved">({
              type: "permission.resolved",
              turnId,
              callId: call.id,
              decision: decision.type,
              source: decision.source,
              ...(decision.type === "deny" ? { reason: decision.reason } : {})
            })
            if (decision.type === "deny") return syntheticResult(call, "denied", decision.reason)
            const approved: ToolCall = { id: call.id, name: call.name, input: decision.input }
            const run = yield* gate(tool)
            return yield* run(
              Effect.gen(function* () {
                yield* emit<"tool.started">({ type: "tool.started", turnId, call: approved })
                return yield* runToolCall(
                  tool,
                  approved,
                  {
                    callId: call.id,
                    sessionId,
                    cwd: defaults.cwd,
                    progress: (message: string) =>
                      emit<"tool.progress">({ type: "tool.progress", turnId, callId: call.id, message }),
                    emit: (event) => emit<"todos.updated">({ type: event.type, todos: event.todos })
                  },
                  { defaultTimeout }
                )
              })
            )
          }).pipe(
            // A defect anywhere in the path becomes an error result; siblings and the loop go on.
            Effect.catchAllDefect((defect) =>
              Effect.succeed(syntheticResult(call, "error", `${call.name} failed unexpectedly: ${String(defect)}`))
            ),
            Effect.map((result) => hygiene(result, maxToolOutputChars)),
            Effect.tap((result) =>
              Effect.gen(function* () {
                progress.results.set(call.id, result)
                yield* emit<"tool.completed">({ type: "tool.completed", turnId, result })
              })
            )
          )

        // ---- one model step ------------------------------------------------------------------------------
        const partEvent = (part: StreamPart): Effect.Effect<void> => {
          switch (part.type) {
            case "text-delta":
              return part.text === ""
                ? Effect.void
                : emit<"text.delta">({ type: "text.delta", turnId, text: part.text })
            case "reasoning-delta":
              return part.text === ""
                ? Effect.void
                : emit<"reasoning.delta">({ type: "reasoning.delta", turnId, text: part.text })
            case "tool-call-start":
              return emit<"tool_call.started">({ type: "tool_call.started", turnId, callId: part.id, name: part.name })
            case "tool-call-delta":
              return emit<"tool_call.delta">({
                type: "tool_call.delta",
                turnId,
                callId: part.id,
                argumentsDelta: part.argumentsDelta
              })
            case "tool-call-complete":
              return emit<"tool_call.completed">({
                type: "tool_call.completed",
                turnId,
                call: { id: part.id, name: part.name, input: part.input }
              })
            case "retry":
              return emit<"retry.scheduled">({
                type: "retry.scheduled",
                turnId,
                attempt: part.attempt,
                delayMs: part.delayMs,
                reason: part.reason,
                message: part.message
              })
            default:
              return Effect.void
          }
        }

        const tools = yield* registry.definitions

        const step = (n: number) =>
          Effect.scoped(
            Effect.gen(function* () {
              progress.steps = n
              progress.response = emptyResponse
              yield* emit<"step.started">({ type: "step.started", turnId, step: n })
              yield* setState("thinking")
              const running: Array<Fiber.RuntimeFiber<ToolResult>> = []
              yield* llm
                .stream({
                  messages: progress.messages,
                  tools,
                  ...(system === undefined ? {} : { system }),
                  ...(options.model === undefined ? {} : { model: options.model }),
                  ...(maxTokens === undefined ? {} : { maxTokens })
                })
                .pipe(
                  Stream.runForEach((part) => {
                    progress.response = applyPart(progress.response, part)
                    if (part.type !== "tool-call-complete") return partEvent(part)
                    // Start the tool as soon as its call is complete; results are still joined in call order.
                    const call = progress.response.toolCalls[progress.response.toolCalls.length - 1]!
                    return Effect.zipRight(
                      partEvent(part),
                      Effect.map(Effect.forkScoped(executeCall(call)), (fiber) => {
                        running.push(fiber)
                      })
                    )
                  })
                )
              const response = toResponse(progress.response)
              progress.usage = progress.usage.add(response.usage)
              yield* emit<"usage">({ type: "usage", turnId, step: response.usage, total: progress.usage })
              progress.messages = [...progress.messages, response.message]
              progress.response = emptyResponse
              yield* emit<"message">({ type: "message", turnId, message: response.message })
              if (running.length === 0) return { done: true as const, stopReason: response.stopReason }
              yield* setState("executing_tools")
              const results = yield* Effect.forEach(running, Fiber.join)
              const toolMessage: Message = { role: "tool", content: results.map(resultBlock) }
              progress.messages = [...progress.messages, toolMessage]
              progress.results = new Map()
              yield* emit<"message">({ type: "message", turnId, message: toolMessage })
              return { done: false as const, stopReason: response.stopReason }
            })
          )

        const finalText = (): string => {
          const last = [...progress.messages].reverse().find((m) => m.role === "assistant")
          return last === undefined ? "" : messageText(last)
        }

        const resultOf = (stopReason: StopReason): RunResult => ({
          sessionId,
          turnId,
          text: finalText(),
          stopReason,
          steps: progress.steps,
          usage: progress.usage,
          messages: progress.messages
        })

        const turn = Effect.gen(function* () {
          yield* emit<"turn.started">({ type: "turn.started", turnId, prompt })
          let stopReason: StopReason = "max_steps"
          for (let n = 1; n <= maxSteps; n++) {
            const outcome = yield* step(n)
            if (outcome.done) {
              stopReason = outcome.stopReason
              break
            }
          }
          const done = resultOf(stopReason)
          yield* emit<"turn.ended">({
            type: "turn.ended",
            turnId,
            stopReason,
            steps: done.steps,
            usage: done.usage,
            text: done.text
          })
          yield* setState("completed")
          return done
        })

        /** Close the transcript after an interrupt: keep what streamed, answer every open tool_use. */
        const repairAfterInterrupt = Effect.gen(function* () {
          // Unsigned (unfinished) reasoning cannot be sent back to a provider; everything else is kept.
          const content = toResponse(progress.response).message.content.filter(
            (block) => !(block.type === "thinking" && block.signature === undefined)
          )
          if (content.length > 0) {
            const partial: Message = { role: "assistant", content }
            progress.messages = [...progress.messages, partial]
            yield* emit<"message">({ type: "message", turnId, message: partial })
          }
          const last = progress.messages[progress.messages.length - 1]
          const open = last?.role === "assistant" ? last.content.filter((b) => b.type === "tool_use") : []
          if (open.length > 0) {
            const results = open.map((block) => {
              const done = progress.results.get(block.id)
              const call = { id: block.id, name: block.name, input: block.input }
              return done ?? syntheticResult(call, "cancelled", "Interrupted by the user before this tool finished.")
            })
            for (const r of results) {
              if (!progress.results.has(r.toolCallId))
                yield* emit<"tool.completed">({ type: "tool.completed", turnId, result: r })
            }
            const toolMessage: Message = { role: "tool", content: results.map(resultBlock) }
            progress.messages = [...progress.messages, toolMessage]
            yield* emit<"message">({ type: "message", turnId, message: toolMessage })
          }
          yield* setState("cancelled")
          yield* emit<"interrupted">({ type: "interrupted", turnId, reason: "interrupted by the user" })
          const interrupted = resultOf("interrupted")
          yield* Deferred.succeed(result, interrupted)
          yield* PubSub.publish(events, Take.end)
        })

        const fiber = yield* turn.pipe(
          Effect.onExit((exit) =>
            Exit.match(exit, {
              onSuccess: (done) =>
                Deferred.succeed(result, done).pipe(Effect.zipRight(PubSub.publish(events, Take.end))),
              onFailure: (cause) =>
                Cause.isInterruptedOnly(cause)
                  ? repairAfterInterrupt
                  : Effect.gen(function* () {
                      const failure = Cause.failureOption(cause)
                      const error = Option.isSome(failure)
                        ? {
                            tag: failure.value._tag,
                            message: failure.value.message,
                            retryable: "retryable" in failure.value ? failure.value.retryable : false
                          }
                        : { tag: "Defect", message: Cause.pretty(cause) }
                      yield* setState("failed")
                      yield* emit<"failed">({ type: "failed", turnId, error })
                      yield* Deferred.failCause(result, cause)
                      yield* PubSub.publish(
                        events,
                        Option.isSome(failure) ? Take.fail(failure.value) : Take.die(Cause.squash(cause))
                      )
                    })
            })
          ),
          Effect.forkScoped
        )

        const execution: AgentExecution = {
          sessionId,
          turnId,
          events: Stream.unwrapScoped(
            Effect.map(PubSub.subscribe(events), (queue) => Stream.flattenTake(Stream.fromQueue(queue)))
          ),
          result: Deferred.await(result),
          state: Ref.get(state),
          interrupt: Effect.asVoid(Fiber.interrupt(fiber))
        }
        return execution
      })

    const run = (prompt: string, options?: RunOptions): Stream.Stream<AgentEvent, AgentError> =>
      Stream.unwrapScoped(Effect.map(start(prompt, options), (execution) => execution.events))

    return Agent.of({ run, start })
  })

export const layer = (
  options: AgentOptions
): Layer.Layer<Agent, never, LLMClient | ToolRegistry | Permissions | EventBus> => Layer.effect(Agent, make(options))
