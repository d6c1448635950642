/**
 * `layerNode(options)`: a complete agent for Node as a composition of Layers, one per service: Settings,
 * Workspace, FileState, Todos, Sandbox, BackgroundShells, ToolRegistry (the built-in tools plus the caller's),
 * Permissions, EventBus, LLMClient (the chosen provider, loaded on demand so only its SDK is imported), Agent,
 * and the Node platform services (`FileSystem`, `Path`).
 *
 * Every piece can be replaced with `Layer.provide`: a piece the context already holds is used instead of the
 * default one (which is then never built), e.g. `layerNode(options).pipe(Layer.provide(mySandbox))` runs
 * commands through `mySandbox`, and `Layer.provide(myEventBus)` receives every event. The pieces are also
 * exported (`pieces`) for a composition of one's own.
 */
import * as os from "node:os"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { ConfigError } from "../errors/ConfigError.js"
import type { PermissionError } from "../errors/PermissionError.js"
import type { ToolRegistrationError } from "../errors/ToolError.js"
import { explicitlyAllowsEdit, readAccessBy } from "../permissions/Check.js"
import type { AgentOption } from "../agents/AgentDefinitions.js"
import type { SandboxMode } from "../process/SandboxBubblewrap.js"
import { isProviderId, loadProvider, PROVIDERS, type ProviderId } from "../providers/registry.js"
import type { RetryPolicy } from "../providers/Retry.js"
import { Agent, type OutputSchema } from "../services/Agent.js"
import { BackgroundShells } from "../services/BackgroundShells.js"
import { EventBus } from "../services/EventBus.js"
import { FileState } from "../services/FileState.js"
import { McpServers } from "../services/McpServers.js"
import type { McpServerOption } from "../mcp/Config.js"
import { mcpTools } from "../mcp/McpTools.js"
import { Hooks, type HooksConfig } from "../services/Hooks.js"
import { LLMClient, type ReasoningEffort } from "../services/LLMClient.js"
import { ModelCatalog, type ModelOverrides } from "../services/ModelCatalog.js"
import { Approver, PERMISSION_MODES, type PermissionMode, Permissions } from "../services/Permissions.js"
import { Sandbox } from "../services/Sandbox.js"
import { SessionStore } from "../services/SessionStore.js"
import { Settings } from "../services/Settings.js"
import { Todos } from "../services/Todos.js"
import type { Tool } from "../services/Tool.js"
import { ToolRegistry } from "../services/ToolRegistry.js"
import { Workspace } from "../services/Workspace.js"
import type { WebFetchOptions } from "../tools/WebFetch.js"
import * as AgentLive from "./AgentLive.js"
import * as BackgroundShellsLive from "./BackgroundShellsLive.js"
import * as EventBusLive from "./EventBusLive.js"
import * as FileStateLive from "./FileStateLive.js"
import * as McpLive from "./McpLive.js"
import * as HooksLive from "./HooksLive.js"
import * as ModelCatalogLive from "./ModelCatalogLive.js"
import * as NodePlatform from "./NodePlatform.js"
import * as PermissionsLive from "./PermissionsLive.js"
import * as SandboxLive from "./SandboxLive.js"
import * as SessionStoreLive from "./SessionStoreLive.js"
import * as SettingsLive from "./SettingsLive.js"
import * as SubAgentsLive from "./SubAgentsLive.js"
import * as TodosLive from "./TodosLive.js"
import * as ToolRegistryLive from "./ToolRegistryLive.js"
import * as WorkspaceLive from "./WorkspaceLive.js"

export { PROVIDERS, type ProviderId } from "../providers/registry.js"
export const SANDBOX_MODES: ReadonlyArray<SandboxMode> = ["auto", "require", "off"]
export const REASONING_EFFORTS: ReadonlyArray<ReasoningEffort> = ["minimal", "low", "medium", "high"]

export interface ProviderOptions {
  readonly provider: ProviderId
  /** Defaults to the provider's default model. */
  readonly model?: string
  /** When absent, the vendor's variable (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`) is read through Effect `Config`. */
  readonly apiKey?: string | Redacted.Redacted<string>
  /** When absent, `ANTHROPIC_BASE_URL` / `OPENAI_BASE_URL` (if set), else the vendor's default. */
  readonly baseURL?: string
  readonly retry?: Partial<RetryPolicy>
  /**
   * Write every model response to this directory (one numbered JSONL file per request; files already there are
   * replaced), for `replay` later. The provider is used as usual.
   */
  readonly record?: string
  /**
   * Answer from the responses recorded in this directory, in order, instead of calling the provider (no network, no
   * key). A request that differs from its recording (model, message count, last message) or one past the last
   * recording fails with an `InvalidRequestError` from provider `replay`.
   */
  readonly replay?: string
}

export interface SageOptions extends ProviderOptions {
  /** The workspace root; tools cannot leave it (or `additionalDirectories`). */
  readonly cwd: string
  readonly additionalDirectories?: ReadonlyArray<string>
  /** Default: the settings' `defaultMode`, else `default`. */
  readonly permissionMode?: PermissionMode
  /** Extra allow rules, e.g. `Bash(npm test:*)`, highest precedence after deny. */
  readonly allowedTools?: ReadonlyArray<string>
  readonly disallowedTools?: ReadonlyArray<string>
  /** Custom tools, registered beside the built-ins. */
  readonly tools?: ReadonlyArray<Tool.Any>
  /** Model requests per turn at most (an integer >= 1; default 50). */
  readonly maxSteps?: number
  /** Tool calls run at once at most (an integer >= 1; default 10). */
  readonly maxConcurrency?: number
  /** Output tokens per model response at most (an integer >= 1). */
  readonly maxTokens?: number
  /** Stop a turn (stop reason `max_budget`) after the step whose cost reaches this many USD (a number > 0). */
  readonly maxBudgetUsd?: number
  /**
   * Extended thinking budget in tokens (an integer >= 1024) on every model request. Anthropic takes it as is; providers
   * that take an effort get the matching one (< 4096 low, < 16384 medium, else high).
   */
  readonly thinkingBudget?: number
  /** Reasoning effort on every model request; providers that take a budget get 1024 / 2048 / 8192 / 24576 tokens. */
  readonly reasoningEffort?: ReasoningEffort
  /**
   * Structured output for every turn (`StructuredOutput.fromSchema` / `fromJsonSchema`; a run's `outputSchema`
   * overrides it): the answer is validated and returned as `RunResult.structuredOutput`.
   */
  readonly outputSchema?: OutputSchema
  /** Compact the conversation when it nears the model's context window (default: settings `compaction.auto`, else true). */
  readonly autoCompact?: boolean
  /** The fraction of the context window at which to compact, in (0, 1] (default: settings, else 0.8). */
  readonly compactThreshold?: number
  /** Model catalog entries (context window, prices...) by model id, on top of the built-in ones and the settings'. */
  readonly models?: ModelOverrides
  /** Replaces Sage's system prompt (environment, tool guidance, instruction files) entirely. */
  readonly systemPrompt?: string
  /** Appended to the system prompt (Sage's, or `systemPrompt`). */
  readonly appendSystemPrompt?: string
  /** The environment commands run with (provider keys and other secrets are scrubbed from it). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Answers permission questions; without one, `ask` means deny. */
  readonly approver?: Approver.Service
  /**
   * WebFetch's network policy. By default private, loopback and link-local addresses are refused (after DNS
   * resolution and on every redirect); `allowPrivate` or `allowedHosts` allow them explicitly.
   */
  readonly webFetch?: Pick<WebFetchOptions, "allowPrivate" | "allowedHosts">
  /**
   * The OS sandbox for commands: `auto` (default) uses bubblewrap when it works here and runs commands
   * unconfined otherwise; `require` refuses to run commands without it; `off` never uses it.
   */
  readonly sandbox?: SandboxMode
  /** Whether sandboxed commands may use the network (default false). */
  readonly sandboxNetwork?: boolean
  /** The user's home directory (for `~/.sage/settings.json` and `~/.sage/AGENTS.md`); default the OS's. */
  readonly homeDir?: string
  /** Where session logs are kept; default `$SAGE_HOME/sessions`, else `<homeDir>/.sage/sessions`. */
  readonly sessionsDir?: string
  /**
   * MCP servers by name (`{ command, args, env }` or `{ type: "http" | "sse", url, headers }`), beside those of
   * `.mcp.json` and the settings' `mcpServers`; these start without approval. Their tools are `mcp__<server>__<tool>`.
   */
  readonly mcpServers?: Readonly<Record<string, McpServerOption>>
  /** MCP configuration files (`{"mcpServers": {...}}`, or such JSON inline), as `--mcp-config` gives them. */
  readonly mcpConfig?: ReadonlyArray<string>
  /**
   * Sub-agent types for the `Task` tool, by name, beside the built-in ones (`general-purpose`, `Explore`, `Plan`) and
   * the agent files (`<cwd>/.sage/agents/*.md`, `<homeDir>/.sage/agents/*.md`); these win on a name clash.
   */
  readonly agents?: Readonly<Record<string, AgentOption>>
  /** Sub-agents running at once per turn at most (an integer >= 1; default 4). */
  readonly maxSubagents?: number
  /** How deep sub-agents may nest (an integer >= 0; default 1: sub-agents cannot start sub-agents; 0: no `Task`). */
  readonly maxAgentDepth?: number
  /**
   * Hooks given in code (Effects, or commands), run beside the settings files' `hooks` for the same events
   * (`PreToolUse`, `Stop`, ...; see `Hooks`).
   */
  readonly hooks?: HooksConfig
}

/** What `layerNode` provides. */
export type SageServices =
  | Agent
  | EventBus
  | LLMClient
  | ToolRegistry
  | Permissions
  | Settings
  | Workspace
  | FileState
  | Sandbox
  | BackgroundShells
  | ModelCatalog
  | SessionStore
  | McpServers
  | Hooks
  | Todos

export type SageError = ConfigError | PermissionError | ToolRegistrationError

const invalid = (option: string, value: unknown, expected: string) =>
  new ConfigError({
    message: `Invalid option ${option}: ${JSON.stringify(value)}; expected ${expected}`,
    source: option
  })

/** Checks the options JavaScript callers may get wrong (nothing is silently defaulted). */
export const checkOptions = (options: SageOptions): Effect.Effect<SageOptions, ConfigError> =>
  Effect.gen(function* () {
    if (!isProviderId(options.provider)) {
      return yield* invalid("provider", options.provider, PROVIDERS.map((p) => `"${p}"`).join(" or "))
    }
    if (options.permissionMode !== undefined && !PERMISSION_MODES.includes(options.permissionMode)) {
      return yield* invalid("permissionMode", options.permissionMode, `one of ${PERMISSION_MODES.join(", ")}`)
    }
    if (options.sandbox !== undefined && !SANDBOX_MODES.includes(options.sandbox)) {
      return yield* invalid("sandbox", options.sandbox, SANDBOX_MODES.join(", "))
    }
    if (typeof options.cwd !== "string" || options.cwd === "") {
      return yield* invalid("cwd", options.cwd, "a directory path")
    }
    for (const name of ["maxSteps", "maxConcurrency", "maxTokens"] as const) {
      const value = options[name]
      if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
        return yield* invalid(name, value, "an integer >= 1")
      }
    }
    const thinking = options.thinkingBudget
    if (thinking !== undefined && !(Number.isInteger(thinking) && thinking >= 1024)) {
      return yield* invalid("thinkingBudget", thinking, "an integer number of tokens >= 1024")
    }
    if (options.reasoningEffort !== undefined && !REASONING_EFFORTS.includes(options.reasoningEffort)) {
      return yield* invalid("reasoningEffort", options.reasoningEffort, REASONING_EFFORTS.join(", "))
    }
    const budget = options.maxBudgetUsd
    if (budget !== undefined && !(typeof budget === "number" && Number.isFinite(budget) && budget > 0)) {
      return yield* invalid("maxBudgetUsd", budget, "a number of USD > 0")
    }
    if (options.maxSubagents !== undefined && !(Number.isInteger(options.maxSubagents) && options.maxSubagents >= 1)) {
      return yield* invalid("maxSubagents", options.maxSubagents, "an integer >= 1")
    }
    const depth = options.maxAgentDepth
    if (depth !== undefined && !(Number.isInteger(depth) && depth >= 0)) {
      return yield* invalid("maxAgentDepth", depth, "an integer >= 0")
    }
    const threshold = options.compactThreshold
    if (threshold !== undefined && !(typeof threshold === "number" && threshold > 0 && threshold <= 1)) {
      return yield* invalid("compactThreshold", threshold, "a fraction in (0, 1]")
    }
    return options
  })

/** The provider's `LLMClient` layer, importing only that provider's module (and SDK). */
export const providerLayer = (options: ProviderOptions): Layer.Layer<LLMClient, ConfigError> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const apiKey =
        options.apiKey === undefined
          ? undefined
          : Redacted.isRedacted(options.apiKey)
            ? options.apiKey
            : Redacted.make(options.apiKey)
      const overrides = {
        ...(options.model === undefined ? {} : { model: options.model }),
        ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
        ...(options.retry === undefined ? {} : { retry: options.retry }),
        ...(apiKey === undefined ? {} : { apiKey })
      }
      if (!isProviderId(options.provider)) {
        return yield* invalid("provider", options.provider, PROVIDERS.map((p) => `"${p}"`).join(" or "))
      }
      const provider = options.provider
      if (options.replay !== undefined && options.record !== undefined) {
        return yield* new ConfigError({ message: "record and replay cannot be used together", source: "replay" })
      }
      if (options.replay !== undefined) {
        const replay = yield* Effect.promise(() => import("../providers/record/RecordProvider.js"))
        return replay.layerReplay({
          dir: options.replay,
          ...(options.model === undefined ? {} : { model: options.model })
        })
      }
      const module = yield* Effect.promise(() => loadProvider(provider))
      if (options.record === undefined) return module.layerConfig(overrides)
      const record = yield* Effect.promise(() => import("../providers/record/RecordProvider.js"))
      return record.layerRecord(module.layerConfig(overrides), options.record)
    })
  )

/** `fallback`, unless the context being built already holds `tag` (then that service is used as is). */
const unlessProvided = <I, S, E, R>(tag: Context.Key<I, S>, fallback: Layer.Layer<I, E, R>): Layer.Layer<I, E, R> =>
  Layer.unwrap(
    Effect.map(
      Effect.serviceOption(tag),
      Option.match({ onNone: () => fallback, onSome: (service) => Layer.succeed(tag, service) })
    )
  )

/** The default layer of each service for `options` (each may need others: see `layerNode` for the order). */
export const pieces = (options: SageOptions) => ({
  settings: SettingsLive.layer({
    cwd: options.cwd,
    flags: { allowed: [...(options.allowedTools ?? [])], disallowed: [...(options.disallowedTools ?? [])] },
    toolNames: (options.tools ?? []).map((tool) => tool.name),
    ...(options.additionalDirectories === undefined ? {} : { additionalDirectories: options.additionalDirectories }),
    ...(options.homeDir === undefined ? {} : { homeDir: options.homeDir })
  }),
  /** The roots are `cwd` and every additional directory (options and settings); protected paths need an allow rule. */
  workspace: Layer.unwrap(
    Effect.gen(function* () {
      const rules = yield* (yield* Settings).ruleSet
      return WorkspaceLive.layer({
        cwd: options.cwd,
        additionalDirectories: rules.additionalDirectories,
        allowProtected: explicitlyAllowsEdit(rules),
        readAccess: readAccessBy(rules)
      })
    })
  ),
  fileState: FileStateLive.layer,
  /** The sessions' todo lists (`TodoWrite`), by session id; `Conversation.open` seeds a resumed session's. */
  todos: TodosLive.layer,
  /** Commands may write inside the workspace roots. */
  sandbox: Layer.unwrap(
    Effect.gen(function* () {
      const workspace = yield* Workspace
      const rules = yield* (yield* Settings).ruleSet
      return SandboxLive.layer({
        mode: options.sandbox ?? "auto",
        writableRoots: workspace.roots,
        network: options.sandboxNetwork ?? false,
        env: options.env ?? {},
        envPassthrough: rules.sandbox?.envPassthrough ?? [],
        homeDir: options.homeDir ?? os.homedir()
      })
    })
  ),
  backgroundShells: BackgroundShellsLive.layer(),
  toolRegistry: ToolRegistryLive.layerWithBuiltins({
    tools: options.tools ?? [],
    ...(options.webFetch === undefined ? {} : { builtins: { webFetch: options.webFetch } })
  }),
  permissions: PermissionsLive.layer,
  eventBus: EventBusLive.layer(),
  /** Built-in model entries, then the settings' `models`, then `options.models`. */
  modelCatalog: ModelCatalogLive.layer(options.models),
  llmClient: providerLayer(options),
  approver: options.approver === undefined ? Layer.empty : Layer.succeed(Approver, options.approver),
  agent: AgentLive.layer({
    homeDir: options.homeDir ?? os.homedir(),
    platform: `${os.platform()} ${os.release()}`,
    ...(options.permissionMode === undefined ? {} : { permissionMode: options.permissionMode }),
    ...(options.systemPrompt === undefined ? {} : { systemPrompt: options.systemPrompt }),
    ...(options.appendSystemPrompt === undefined ? {} : { appendSystemPrompt: options.appendSystemPrompt }),
    ...(options.maxSteps === undefined ? {} : { maxSteps: options.maxSteps }),
    ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
    ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }),
    ...(options.maxBudgetUsd === undefined ? {} : { maxBudgetUsd: options.maxBudgetUsd }),
    ...(options.thinkingBudget === undefined ? {} : { thinkingBudget: options.thinkingBudget }),
    ...(options.reasoningEffort === undefined ? {} : { reasoningEffort: options.reasoningEffort }),
    ...(options.outputSchema === undefined ? {} : { outputSchema: options.outputSchema }),
    ...(options.autoCompact === undefined ? {} : { autoCompact: options.autoCompact }),
    ...(options.compactThreshold === undefined ? {} : { compactThreshold: options.compactThreshold }),
    ...(options.maxAgentDepth === undefined ? {} : { maxAgentDepth: options.maxAgentDepth })
  }),
  /** The `Task` tool (sub-agents), registered into the tool registry. */
  subAgents: SubAgentsLive.layer({
    cwd: options.cwd,
    homeDir: options.homeDir ?? os.homedir(),
    ...(options.agents === undefined ? {} : { agents: options.agents }),
    ...(options.maxSubagents === undefined ? {} : { maxSubagents: options.maxSubagents }),
    ...(options.maxAgentDepth === undefined ? {} : { maxAgentDepth: options.maxAgentDepth })
  }),
  /**
   * The MCP servers (settings, `.mcp.json` once approved, `mcpConfig`, `mcpServers`), connected when the layer is
   * built and closed with it; stdio servers get the scrubbed environment plus their config's `env`.
   */
  mcp: Layer.unwrap(
    Effect.gen(function* () {
      const rules = yield* (yield* Settings).ruleSet
      return Layer.effect(
        McpServers,
        McpLive.make({
          cwd: options.cwd,
          homeDir: options.homeDir ?? os.homedir(),
          env: options.env ?? {},
          envPassthrough: rules.sandbox?.envPassthrough ?? [],
          ...(options.mcpConfig === undefined ? {} : { configFiles: options.mcpConfig }),
          ...(options.mcpServers === undefined ? {} : { servers: options.mcpServers })
        }).pipe(Effect.mapError((error) => new ConfigError({ message: error.message, source: error.source ?? "mcp" })))
      )
    })
  ),
  /**
   * The tools of the MCP servers, registered into the tool registry as `mcp__<server>__<tool>`; a server that
   * reconnects later (after a crash) adds the tools it did not have before.
   */
  mcpTools: Layer.effectDiscard(
    Effect.gen(function* () {
      const registry = yield* ToolRegistry
      const servers = yield* McpServers
      const registerNew = Effect.gen(function* () {
        const tools = yield* mcpTools(servers)
        const known = new Set((yield* registry.list).map((tool) => tool.name))
        yield* Effect.forEach(
          tools.filter((tool) => !known.has(tool.name)),
          (tool) => Effect.ignore(registry.register(tool)),
          { discard: true }
        )
      })
      yield* registerNew
      yield* servers.changes.pipe(
        Stream.filter((status) => status.state === "connected"),
        Stream.runForEach(() => registerNew),
        Effect.forkScoped
      )
    })
  ),
  /** Hooks of the settings files (read at every event) and of `options.hooks`. */
  hooks: HooksLive.layer({
    cwd: options.cwd,
    env: options.env ?? {},
    ...(options.hooks === undefined ? {} : { hooks: options.hooks })
  }),
  /** Session logs: JSONL files (see `SessionStoreLive`). */
  sessionStore: SessionStoreLive.layerJsonl({
    ...(options.sessionsDir === undefined ? {} : { dir: options.sessionsDir }),
    ...(options.homeDir === undefined ? {} : { homeDir: options.homeDir })
  }),
  platform: NodePlatform.layer
})

/**
 * A complete agent for Node. Building it checks the options (`ConfigError`), loads the settings files (a malformed
 * one fails with `PermissionError`), resolves the workspace roots, and starts the session's state (read-before-
 * write record, background shells: closed with the layer). Any piece already provided (with `Layer.provide`) is
 * used instead of its default.
 */
export const layerNode = (options: SageOptions): Layer.Layer<SageServices, SageError> =>
  Layer.unwrap(
    Effect.map(checkOptions(options), (checked) => {
      const p = pieces(checked)
      const settings = unlessProvided(Settings, p.settings)
      const workspace = unlessProvided(Workspace, p.workspace).pipe(Layer.provideMerge(settings))
      const session = Layer.mergeAll(
        unlessProvided(FileState, p.fileState),
        unlessProvided(Todos, p.todos),
        unlessProvided(Sandbox, p.sandbox),
        unlessProvided(BackgroundShells, p.backgroundShells),
        unlessProvided(Permissions, p.permissions)
      ).pipe(Layer.provideMerge(workspace))
      const tools = p.subAgents.pipe(
        Layer.provideMerge(unlessProvided(ToolRegistry, p.toolRegistry).pipe(Layer.provideMerge(session)))
      )
      const withMcp = p.mcpTools.pipe(Layer.provideMerge(unlessProvided(McpServers, p.mcp)), Layer.provideMerge(tools))
      const services = Layer.mergeAll(
        withMcp,
        unlessProvided(EventBus, p.eventBus),
        unlessProvided(LLMClient, p.llmClient),
        unlessProvided(ModelCatalog, p.modelCatalog).pipe(Layer.provide(settings)),
        unlessProvided(SessionStore, p.sessionStore),
        unlessProvided(Hooks, p.hooks).pipe(Layer.provide(settings)),
        p.approver
      )
      return unlessProvided(Agent, p.agent).pipe(Layer.provideMerge(services), Layer.provide(p.platform))
    })
  )
