/**
 * The `Agent` service: `start` is the one primitive (a turn forked into the caller's scope, publishing its events
 * into a bounded `PubSub` and the `EventBus`); `run` is `start` viewed as its event stream. The turn itself is
 * built from small pieces: `Turn` (steps until done, one terminal event), `Step` (one model request streamed into
 * events, tools started as their calls complete), `ToolDispatch` (input check, permission, bounded fan-out),
 * `TranscriptRepair` (a valid transcript after an interrupt) and `SystemPrompt`. Optional services are used when
 * present: `Approver` (without it an `ask` is denied), `Workspace` (its roots and cwd), `Settings` (its
 * `defaultMode` when no mode is given).
 *
 * Cancellation is fiber interruption: the provider request is aborted, running tools are interrupted (their
 * processes killed by their own finalizers), and the transcript is repaired so that every tool_use has a
 * tool_result. An interrupted turn ends with exactly one `interrupted` event and a result whose stop reason is
 * `interrupted`.
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import * as Path from "effect/Path"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import type * as Take from "effect/Take"
import type { AgentError } from "../errors/AgentError.js"
import { ConfigError } from "../errors/ConfigError.js"
import * as HookRun from "../hooks/Run.js"
import {
  Agent,
  type AgentExecution,
  type OutputSchema,
  type Prompt,
  type RunOptions,
  type RunResult
} from "../services/Agent.js"
import { EventBus } from "../services/EventBus.js"
import { Hooks } from "../services/Hooks.js"
import { LLMClient, type ReasoningEffort } from "../services/LLMClient.js"
import { ModelCatalog } from "../services/ModelCatalog.js"
import { Approver, PERMISSION_MODES, type PermissionMode, Permissions } from "../services/Permissions.js"
import { type CompactionSettings, Settings } from "../services/Settings.js"
import { ToolRegistry } from "../services/ToolRegistry.js"
import { Workspace } from "../services/Workspace.js"
import type { AgentEvent } from "../streams/AgentEvent.js"
import type { Message } from "../streams/Message.js"
import { Usage } from "../streams/Usage.js"
import * as AgentEvents from "./AgentEvents.js"
import * as Compaction from "./Compaction.js"
import * as Step from "./Step.js"
import * as SubAgents from "./SubAgents.js"
import * as StructuredOutput from "./StructuredOutput.js"
import * as SystemPrompt from "./SystemPrompt.js"
import { makeDispatcher } from "./ToolDispatch.js"
import { initialTranscript, type TurnTranscript } from "./TranscriptRepair.js"
import * as Turn from "./Turn.js"
import * as TurnInput from "./TurnInput.js"

export interface AgentOptions {
  /** The working directory (the primary workspace root). Default: the `Workspace` service's `cwd`. */
  readonly cwd?: string
  /** Replaces the built system prompt (environment, tool guidance, instruction files). */
  readonly systemPrompt?: string
  /** Appended to the system prompt (built or replaced). */
  readonly appendSystemPrompt?: string
  /** Where `~/.sage/AGENTS.md` is looked for; without it no user instruction file is read. */
  readonly homeDir?: string
  /** The platform the system prompt names (e.g. `linux`); default `unknown`. */
  readonly platform?: string
  /** Model requests per turn at most (an integer >= 1); default 50. */
  readonly maxSteps?: number
  /** Tool fan-out bound (an integer >= 1); default 10. */
  readonly maxConcurrency?: number
  /** Default per-tool timeout; default 2 minutes. */
  readonly toolTimeout?: Duration.Input
  readonly permissionMode?: PermissionMode
  /** Output tokens per model response at most (an integer >= 1). */
  readonly maxTokens?: number
  /** Tool output beyond this many characters is cut (head and tail kept) before the model sees it; default 100,000. */
  readonly maxToolOutputChars?: number
  /** How many of a turn's latest events a new subscriber of `AgentExecution.events` also sees; default 64. */
  readonly eventReplay?: number
  /**
   * Stop a turn (stop reason `max_budget`) after the step whose cost reaches this many USD (a number > 0); the model's
   * price must be known (`ModelCatalog`). A run's `maxBudgetUsd` overrides it.
   */
  readonly maxBudgetUsd?: number
  /** Extended thinking budget in tokens on every model request (a run's `thinkingBudget` overrides it). */
  readonly thinkingBudget?: number
  /** Reasoning effort on every model request (a run's `reasoningEffort` overrides it). */
  readonly reasoningEffort?: ReasoningEffort
  /** Structured output for every turn (see `RunOptions.outputSchema`; a run's overrides it). */
  readonly outputSchema?: OutputSchema
  /**
   * Compact the conversation automatically when it nears the model's context window (default: the settings'
   * `compaction.auto`, else true).
   */
  readonly autoCompact?: boolean
  /** The fraction of the model's input budget at which to compact, in (0, 1] (default: the settings', else 0.8). */
  readonly compactThreshold?: number
  /** Id of this agent in events; default `main`. */
  readonly agentId?: string
  readonly parentAgentId?: string
  /**
   * How deep sub-agents (the `Task` tool) may nest (an integer >= 0): 1 (default) lets the agent start sub-agents
   * that cannot start their own; 0 allows none.
   */
  readonly maxAgentDepth?: number
}

export const DEFAULT_MAX_STEPS = 50
export const DEFAULT_MAX_CONCURRENCY = 10
export const DEFAULT_EVENT_REPLAY = 64
/** Events a subscriber may fall behind before the turn waits for it. */
const EVENT_BUFFER = 1024

const randomId = (prefix: string): Effect.Effect<string> =>
  Effect.sync(() => `${prefix}_${globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`)

const positiveInt = (name: string, value: number | undefined): Effect.Effect<number | undefined, ConfigError> =>
  value === undefined || (Number.isInteger(value) && value >= 1)
    ? Effect.succeed(value)
    : Effect.fail(new ConfigError({ message: `${name} must be an integer >= 1, got ${String(value)}`, source: name }))

const budget = (name: string, value: number | undefined): Effect.Effect<number | undefined, ConfigError> =>
  value === undefined || (typeof value === "number" && Number.isFinite(value) && value > 0)
    ? Effect.succeed(value)
    : Effect.fail(
        new ConfigError({ message: `${name} must be a number of USD > 0, got ${String(value)}`, source: name })
      )

const permissionMode = (
  name: string,
  value: PermissionMode | undefined
): Effect.Effect<PermissionMode | undefined, ConfigError> =>
  value === undefined || PERMISSION_MODES.includes(value)
    ? Effect.succeed(value)
    : Effect.fail(
        new ConfigError({
          message: `${name} must be one of ${PERMISSION_MODES.join(", ")}, got ${JSON.stringify(value)}`,
          source: name
        })
      )

/** The checked settings of one turn (agent options overridden by run options). */
interface TurnSettings {
  readonly maxSteps: number
  readonly maxConcurrency: number
  readonly maxTokens: number | undefined
  readonly mode: PermissionMode
}

/**
 * Checks the options a turn is run with; a bad one fails the turn with `ConfigError`. The permission mode is the
 * run's, else the agent's, else `fallbackMode` (the settings' `defaultMode`), else `default`.
 */
const checkRun = (
  defaults: AgentOptions,
  options: RunOptions,
  fallbackMode?: PermissionMode
): Effect.Effect<TurnSettings, ConfigError> =>
  Effect.gen(function* () {
    const maxSteps = yield* positiveInt("maxSteps", options.maxSteps ?? defaults.maxSteps)
    const maxConcurrency = yield* positiveInt("maxConcurrency", options.maxConcurrency ?? defaults.maxConcurrency)
    const maxTokens = yield* positiveInt("maxTokens", options.maxTokens ?? defaults.maxTokens)
    const mode = yield* permissionMode("permissionMode", options.permissionMode ?? defaults.permissionMode)
    return {
      maxSteps: maxSteps ?? DEFAULT_MAX_STEPS,
      maxConcurrency: maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
      maxTokens,
      mode: mode ?? fallbackMode ?? "default"
    }
  })

/** Checks the agent's own options (building the agent fails with `ConfigError` on a bad one). */
export const checkOptions = (options: AgentOptions): Effect.Effect<AgentOptions, ConfigError> =>
  Effect.gen(function* () {
    yield* checkRun(options, {})
    yield* positiveInt("maxToolOutputChars", options.maxToolOutputChars)
    yield* positiveInt("eventReplay", options.eventReplay)
    const depth = options.maxAgentDepth
    if (depth !== undefined && !(Number.isInteger(depth) && depth >= 0)) {
      return yield* new ConfigError({
        message: `maxAgentDepth must be an integer >= 0, got ${String(depth)}`,
        source: "maxAgentDepth"
      })
    }
    yield* budget("maxBudgetUsd", options.maxBudgetUsd)
    const threshold = options.compactThreshold
    if (threshold !== undefined && !(typeof threshold === "number" && threshold > 0 && threshold <= 1)) {
      return yield* new ConfigError({
        message: `compactThreshold must be a fraction in (0, 1], got ${String(threshold)}`,
        source: "compactThreshold"
      })
    }
    if (options.toolTimeout !== undefined && Option.isNone(Duration.fromInput(options.toolTimeout))) {
      return yield* new ConfigError({
        message: `toolTimeout is not a duration: ${String(options.toolTimeout)}`,
        source: "toolTimeout"
      })
    }
    return options
  })

/**
 * Steering at a step boundary: what waits in the queue becomes one user message at the end of the conversation
 * (taken, appended and announced together, so an interrupt sees all of it or none).
 */
const deliverSteering = (
  steering: Queue.Dequeue<string> | undefined,
  turnId: string,
  transcript: Ref.Ref<TurnTranscript>,
  emit: AgentEvents.Emit
): Effect.Effect<void> =>
  steering === undefined
    ? Effect.void
    : Effect.uninterruptible(
        Effect.gen(function* () {
          const waiting = (yield* Effect.orElseSucceed(Queue.clear(steering), () => [])).filter((t) => t.trim() !== "")
          if (waiting.length === 0) return
          const message: Message = { role: "user", content: waiting.map((text) => ({ type: "text", text })) }
          yield* Ref.update(transcript, (t) => ({ ...t, messages: [...t.messages, message] }))
          yield* emit(AgentEvents.messageAppended(turnId, message))
        })
      )

/** Builds the `Agent` service from its options and the services it runs on. */
export const make = Effect.fn("AgentLoop.make")(function* (unchecked: AgentOptions) {
  const defaults = yield* checkOptions(unchecked)
  const llm = yield* LLMClient
  const registry = yield* ToolRegistry
  const permissions = yield* Permissions
  const bus = yield* EventBus
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const approver = yield* Effect.serviceOption(Approver)
  const hookService = yield* Effect.serviceOption(Hooks)
  const workspace = yield* Effect.serviceOption(Workspace)
  const settingsService = yield* Effect.serviceOption(Settings)
  const catalog = yield* Effect.serviceOption(ModelCatalog)
  const settingsCompaction = Option.match(settingsService, {
    onNone: () => Effect.succeed<CompactionSettings>({}),
    onSome: (s) => Effect.map(s.ruleSet, (rules) => rules.compaction ?? {})
  })
  const settingsMode = Option.match(settingsService, {
    onNone: () => Effect.undefined,
    onSome: (s) => Effect.map(s.ruleSet, (rules) => rules.defaultMode)
  })
  const cwd = defaults.cwd ?? Option.getOrUndefined(Option.map(workspace, (w) => w.cwd))
  if (cwd === undefined) {
    return yield* new ConfigError({ message: "the agent needs a cwd option or a Workspace service", source: "cwd" })
  }
  const roots = Option.match(workspace, { onNone: () => [cwd], onSome: (w) => w.roots })
  const approvals = yield* Semaphore.make(1)
  const agentId = defaults.agentId ?? "main"
  const maxAgentDepth = defaults.maxAgentDepth ?? SubAgents.DEFAULT_MAX_AGENT_DEPTH
  const subAgentCount = yield* Ref.make(0)
  const mainRole: SubAgents.TurnRole = { agentId, parentAgentId: defaults.parentAgentId, depth: 0, registry }
  const defaultTimeout = Option.getOrElse(Duration.fromInput(defaults.toolTimeout ?? "2 minutes"), () =>
    Duration.minutes(2)
  )
  const maxToolOutputChars = Math.max(1000, defaults.maxToolOutputChars ?? 100_000)
  const replay = defaults.eventReplay ?? DEFAULT_EVENT_REPLAY

  /** The caller's system prompt, which replaces the built one (a sub-agent's prompt is its definition's). */
  const replacedPrompt = (options: RunOptions, role: SubAgents.TurnRole): string | undefined =>
    role.sub === undefined ? (options.systemPrompt ?? defaults.systemPrompt) : undefined

  /** What a turn's system prompt reads from the file system (started with the turn, see `startAs`). */
  const gatherPrompt = SystemPrompt.gather(cwd, defaults.homeDir).pipe(
    Effect.provideService(FileSystem.FileSystem, fs),
    Effect.provideService(Path.Path, path)
  )

  const systemPrompt = (
    mode: PermissionMode,
    options: RunOptions,
    role: SubAgents.TurnRole,
    gathered: Effect.Effect<SystemPrompt.Gathered> | undefined
  ) =>
    Effect.gen(function* () {
      const tools = (yield* role.registry.list).map((tool) => tool.name)
      // A sub-agent's prompt is its definition's (in place of the first section), without the parent's own.
      const replaced = replacedPrompt(options, role)
      const appended =
        role.sub === undefined
          ? [defaults.appendSystemPrompt, options.appendSystemPrompt].filter((s) => s !== undefined)
          : []
      const prompt: SystemPrompt.SystemPromptOptions = {
        intro: role.sub?.intro,
        cwd,
        roots,
        platform: defaults.platform ?? "unknown",
        permissionMode: mode,
        tools,
        homeDir: defaults.homeDir,
        systemPrompt: replaced,
        appendSystemPrompt: appended.length === 0 ? undefined : appended.join("\n\n")
      }
      return replaced === undefined
        ? SystemPrompt.compose(prompt, yield* gathered ?? gatherPrompt)
        : SystemPrompt.compose(prompt, SystemPrompt.NOTHING_GATHERED)
    })

  /** A turn of the main agent (`mainRole`) or of a sub-agent (see `SubAgents`). */
  const startAs: (
    input: Prompt,
    options: RunOptions,
    role: SubAgents.TurnRole
  ) => Effect.Effect<AgentExecution, never, Scope.Scope> = Effect.fn("Agent.start")(function* (
    input: Prompt,
    options: RunOptions,
    role: SubAgents.TurnRole
  ) {
    const { agentId, parentAgentId, registry } = role
    // The system prompt's file reads start now: they overlap the rest of the turn's set-up.
    const gathered =
      replacedPrompt(options, role) === undefined ? Fiber.join(yield* Effect.forkScoped(gatherPrompt)) : undefined
    const sessionId = options.sessionId ?? (yield* randomId("ses"))
    const turnId = yield* randomId("turn")
    const events = yield* PubSub.bounded<Take.Take<AgentEvent, AgentError>>({ capacity: EVENT_BUFFER, replay })
    const result = yield* Deferred.make<RunResult, AgentError>()
    // Each event is published once, to the agent-wide bus (never waits) and to this turn's subscribers; a
    // sub-agent's go to its parent's.
    const publish =
      role.sub?.publish ?? ((event: AgentEvent) => Effect.andThen(bus.publish(event), PubSub.publish(events, [event])))
    const emit = AgentEvents.emitter({ sessionId, agentId, parentAgentId }, publish)
    const rolled = yield* Ref.make<Turn.SubAgentTotals>({ usage: Usage.empty, costUsd: 0 })
    const state = yield* AgentEvents.makeStateCell(emit)
    const prompt = TurnInput.promptText(input)
    const userMessage: Message = TurnInput.promptMessage(input)
    const transcript = yield* Ref.make(initialTranscript([...(options.history ?? []), userMessage]))
    const model = options.model ?? llm.model
    const cost = (usage: Usage): number | undefined =>
      Option.match(catalog, { onNone: () => undefined, onSome: (c) => c.costUsd(model, usage) })

    /** The turn's structured output, once accepted (the run's `outputSchema`, else the main agent's default). */
    const outputSchema = options.outputSchema ?? (role.sub === undefined ? defaults.outputSchema : undefined)
    const structured = yield* Ref.make(Option.none<unknown>())
    const turn = Effect.gen(function* () {
      // Hooks (when the context has them): UserPromptSubmit may refuse the prompt (it is then not in the transcript).
      const mode = options.permissionMode ?? defaults.permissionMode
      const hooks = HookRun.scopeWith(
        hookService,
        { session_id: sessionId, cwd, agent_id: agentId, ...(mode === undefined ? {} : { permission_mode: mode }) },
        { emit, turnId, stopRequest: yield* Ref.make<string | undefined>(undefined) }
      )
      // (A sub-agent's prompt comes from its parent's model, not from the user: no UserPromptSubmit.)
      const submitted = yield* HookRun.userPromptSubmit(parentAgentId === undefined ? hooks : undefined, prompt)
      if (submitted.type === "refused") {
        yield* Ref.update(transcript, (t) => ({ ...t, messages: t.messages.slice(0, -1) }))
        return "hook" as const
      }
      yield* emit(AgentEvents.turnStarted(turnId, prompt))
      if (submitted.context !== undefined) {
        const context = submitted.context
        yield* Ref.update(transcript, (t) => ({ ...t, messages: [...t.messages, context] }))
        yield* emit(AgentEvents.messageAppended(turnId, context))
      }
      const settings = yield* checkRun(defaults, options, yield* settingsMode)
      yield* TurnInput.checkVision(
        input,
        llm,
        model,
        Option.getOrUndefined(Option.map(catalog, (c) => c.lookup(model)))
      )
      const system = yield* systemPrompt(settings.mode, options, role, gathered)
      const tools = yield* registry.definitions
      // What this turn (with its finished sub-agents) and its ancestors have spent so far, in USD.
      const spent = Effect.map(
        Effect.all([Ref.get(transcript), Ref.get(rolled), role.sub?.spentOutside ?? Effect.succeed(0)]),
        ([t, r, outside]) => (cost(t.usage) ?? 0) + r.costUsd + outside
      )
      const subAgents =
        role.depth < maxAgentDepth
          ? SubAgents.makeRunner(
              { maxAgentDepth, counter: subAgentCount, defaultModel: llm.model, start: startAs },
              {
                role,
                sessionId,
                mode: settings.mode,
                model: options.model,
                maxSteps: settings.maxSteps,
                maxConcurrency: settings.maxConcurrency,
                maxTokens: settings.maxTokens,
                maxBudgetUsd: options.maxBudgetUsd ?? defaults.maxBudgetUsd,
                publish,
                spent,
                rolled
              }
            )
          : undefined
      const dispatch = yield* makeDispatcher(
        { registry, permissions, approver, approvals, ...(hooks === undefined ? {} : { hooks }) },
        {
          ...(subAgents === undefined ? {} : { subAgents }),
          ...(role.sub === undefined ? {} : { asker: role.sub.asker }),
          turnId,
          sessionId,
          cwd,
          mode: settings.mode,
          maxConcurrency: settings.maxConcurrency,
          defaultTimeout,
          maxToolOutputChars,
          emit,
          state,
          onCompleted: (done) =>
            Ref.update(transcript, (t) => ({ ...t, results: new Map([...t.results, [done.toolCallId, done]]) }))
        }
      )
      const output =
        outputSchema === undefined
          ? undefined
          : yield* StructuredOutput.forTurn(outputSchema, {
              llm,
              turnId,
              transcript,
              emit,
              accepted: structured
            })
      const plainRequest = {
        tools,
        system,
        ...(options.model === undefined ? {} : { model: options.model }),
        ...(settings.maxTokens === undefined ? {} : { maxTokens: settings.maxTokens }),
        ...TurnInput.requestOptions({
          thinkingBudget: options.thinkingBudget ?? defaults.thinkingBudget,
          reasoningEffort: options.reasoningEffort ?? defaults.reasoningEffort,
          cacheKey: sessionId
        })
      }
      const request = output === undefined ? plainRequest : output.request(plainRequest)
      const maxBudgetUsd = yield* budget("maxBudgetUsd", options.maxBudgetUsd ?? defaults.maxBudgetUsd)
      if (maxBudgetUsd !== undefined && cost(Usage.empty) === undefined) {
        return yield* new ConfigError({
          message: `maxBudgetUsd needs the price of model ${model}, which is not known; set it in the settings' "models"`,
          source: "maxBudgetUsd"
        })
      }
      const overBudget = maxBudgetUsd === undefined ? undefined : Effect.map(spent, (usd) => usd >= maxBudgetUsd)
      const compaction = yield* settingsCompaction
      const info = Option.match(catalog, { onNone: () => undefined, onSome: (c) => c.lookup(model) })
      const compact =
        (defaults.autoCompact ?? compaction.auto ?? true)
          ? yield* Compaction.makeAutoCompactor({
              turnId,
              llm,
              request,
              transcript,
              emit,
              inputBudget:
                info === undefined ? llm.capabilities.contextWindow : (info.maxInputTokens ?? info.contextWindow),
              threshold: defaults.compactThreshold ?? compaction.threshold ?? Compaction.DEFAULT_THRESHOLD,
              maxOutputTokens: info?.maxOutputTokens ?? Compaction.DEFAULT_SUMMARY_TOKENS,
              cost,
              beforeCompact: HookRun.preCompact(hooks, "auto")
            })
          : Effect.void
      // A compaction is a model request too: when it used up the budget, the step's request is not made.
      const dispatchOutput = output === undefined ? dispatch : output.dispatch(dispatch)
      const modelStep = (n: number) =>
        Step.runStep({ turnId, llm, request, transcript, emit, state, dispatch: dispatchOutput, cost }, n)
      const step = output === undefined ? modelStep : output.step(modelStep)
      const stepWithinBudget = (n: number) =>
        overBudget === undefined
          ? step(n)
          : Effect.flatMap(overBudget, (over) =>
              over ? Effect.succeed<Step.StepOutcome>({ done: true, stopReason: "max_budget" }) : step(n)
            )
      // Stop hooks (SubagentStop for a sub-agent) may continue the turn; a hook's `continue: false` ends it.
      const hookedStep = yield* HookRun.withStopHooks(
        hooks,
        {
          event: parentAgentId === undefined ? "Stop" : "SubagentStop",
          transcript,
          onMessage: (message) => emit(AgentEvents.messageAppended(turnId, message))
        },
        stepWithinBudget
      )
      const stopReason = yield* Turn.runSteps(
        { maxSteps: settings.maxSteps, ...(overBudget === undefined ? {} : { overBudget }) },
        (n) =>
          Effect.andThen(
            deliverSteering(options.steering, turnId, transcript, emit),
            Effect.andThen(compact, hookedStep(n))
          )
      )
      return output === undefined ? stopReason : yield* output.finish(stopReason)
    })

    const context: Turn.TurnContext = {
      sessionId,
      turnId,
      transcript,
      emit,
      state,
      cost,
      subAgents: rolled,
      ...(outputSchema === undefined ? {} : { structuredOutput: Ref.get(structured) })
    }
    // A sub-agent's usage and cost count in its parent's turn, however it ended.
    const rollup = (sub: NonNullable<SubAgents.TurnRole["sub"]>) =>
      Effect.flatMap(Effect.all([Ref.get(transcript), Ref.get(rolled)]), ([t, r]) => {
        const totals = Turn.totals(context, t, r)
        return sub.rollup({ usage: totals.usage, costUsd: totals.costUsd ?? 0 })
      })
    const fiber = yield* turn.pipe(
      Effect.onExit((exit) =>
        Effect.flatMap(Turn.conclude(context, exit), (final) =>
          Effect.andThen(
            role.sub === undefined ? Effect.void : rollup(role.sub),
            Effect.andThen(
              Deferred.done(result, final),
              PubSub.publish(events, Exit.isSuccess(final) ? Exit.void : Exit.failCause(final.cause))
            )
          )
        )
      ),
      Effect.forkScoped
    )

    return {
      sessionId,
      turnId,
      events: Stream.fromPubSubTake(events),
      result: Deferred.await(result),
      state: state.get,
      interrupt: Fiber.interrupt(fiber)
    } satisfies AgentExecution
  })

  const start: Agent.Service["start"] = (prompt, options = {}) => startAs(prompt, options, mainRole)

  const run = (prompt: Prompt, options?: RunOptions): Stream.Stream<AgentEvent, AgentError> =>
    Stream.unwrap(Effect.map(start(prompt, options), (execution) => execution.events))

  return Agent.of({ run, start })
})
