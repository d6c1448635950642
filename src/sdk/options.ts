/**
 * The options of `SageAgentSDK` and of its calls, as plain TypeScript types, and their run-time check: the
 * constructor validates what it is given against a Schema (JavaScript callers have no compiler), so a wrong option
 * is a `ConfigError` naming the option, the bad value and the accepted values, never a silent default.
 */
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import { ConfigError } from "../errors/ConfigError.js"
import { PROVIDERS, type ProviderId } from "../providers/registry.js"
import type { PermissionMode as SchemaPermissionMode } from "../services/Permissions.js"
import {
  HOOK_EVENTS,
  type HookEventName as LibHookEventName,
  type HookInput as LibHookInput,
  type HookOutput as LibHookOutput
} from "../streams/HookData.js"
import { Message as MessageSchema } from "../streams/Message.js"
import type {
  CustomTool,
  JsonSchema,
  Message,
  ModelOverride,
  PermissionMode,
  RunResult,
  SubAgentDefinition,
  ToolCall,
  ToolKind
} from "./types.js"

/** The answer of a `canUseTool` callback. */
export type CanUseToolResult =
  | {
      readonly behavior: "allow"
      readonly updatedInput?: unknown
      /** Save the suggested rule in settings (allow always). */
      readonly always?: boolean
      /** Allow the suggested rule for the rest of this session (kept in the session log; applies on resume). */
      readonly session?: boolean
    }
  | { readonly behavior: "deny"; readonly message: string }

export type CanUseTool = (
  call: ToolCall,
  context: { readonly signal: AbortSignal; readonly reason: string; readonly suggestion?: string }
) => Promise<CanUseToolResult>

// ---------------------------------------------------------------------------------------------------------------
// Hooks (plain copies of the library's types, checked equal below)

/** The events hooks run at. */
export type HookEventName =
  | "PreToolUse"
  | "PostToolUse"
  | "UserPromptSubmit"
  | "Stop"
  | "SubagentStop"
  | "SessionStart"
  | "SessionEnd"
  | "PreCompact"
  | "Notification"
  | "PermissionRequest"

/**
 * What a hook receives (as JSON on stdin for a command): the common fields, then those of its event. Field names
 * are Claude Code's (snake_case).
 */
export interface HookInput {
  readonly hook_event_name: HookEventName
  readonly session_id: string
  /** The session log, when the session is saved. */
  readonly transcript_path?: string
  readonly cwd: string
  readonly permission_mode?: string
  /** The agent (`main`, or a sub-agent's id). */
  readonly agent_id?: string
  /** PreToolUse, PostToolUse, PermissionRequest. */
  readonly tool_name?: string
  readonly tool_input?: unknown
  readonly tool_use_id?: string
  /** PostToolUse: the tool's result (`status`, `output`, and `text`: the output as text). */
  readonly tool_response?: unknown
  /** UserPromptSubmit. */
  readonly prompt?: string
  /** Stop, SubagentStop: true when the turn already continued because of a Stop hook. */
  readonly stop_hook_active?: boolean
  /** Stop, SubagentStop: the text of the last assistant message. */
  readonly last_assistant_message?: string
  /** SessionStart: `startup`, `resume`, `clear` or `compact`. */
  readonly source?: string
  /** SessionEnd: `clear`, `logout`, `prompt_input_exit` or `other`. */
  readonly reason?: string
  /** PreCompact: `manual` or `auto`. */
  readonly trigger?: "manual" | "auto"
  readonly custom_instructions?: string
  /** Notification. */
  readonly message?: string
  readonly notification_type?: string
}

/** What a hook may answer (a command: as JSON on stdout, with exit code 0). Unknown fields are ignored. */
export interface HookOutput {
  /** False: stop the turn (after this hook's event) with `stopReason` shown to the user. */
  readonly continue?: boolean
  readonly stopReason?: string
  /** Keep the hook's stdout out of the logs. */
  readonly suppressOutput?: boolean
  /** A message for the user (shown with the `hook` event). */
  readonly systemMessage?: string
  /**
   * `block`: refuse (PreToolUse: the call; UserPromptSubmit: the prompt; PostToolUse: the result is annotated;
   * Stop/SubagentStop: the turn goes on with `reason` as a new user message). `approve`: the older spelling of
   * PreToolUse's `permissionDecision: "allow"`.
   */
  readonly decision?: "block" | "approve"
  readonly reason?: string
  readonly hookSpecificOutput?: {
    readonly hookEventName?: string
    /** PreToolUse. */
    readonly permissionDecision?: "allow" | "deny" | "ask"
    readonly permissionDecisionReason?: string
    /** PreToolUse: the input the tool runs with instead (checked by its schema and the permission rules again). */
    readonly updatedInput?: unknown
    /** UserPromptSubmit, SessionStart, PostToolUse, PreToolUse: text added to the model's context. */
    readonly additionalContext?: string
    /** PermissionRequest: the answer to the permission question. */
    readonly decision?: {
      readonly behavior: "allow" | "deny"
      readonly updatedInput?: unknown
      readonly message?: string
    }
  }
}

/**
 * An SDK hook: called with the event's input (the JSON a command hook gets on stdin) and answering like a command's
 * JSON output (or nothing: go on). A rejection or a timeout is reported (a `hook` event) and never stops the turn.
 * `signal` is aborted when the turn is interrupted or the hook times out.
 */
export type HookCallback = (
  input: HookInput,
  context: { readonly signal: AbortSignal; readonly toolUseId?: string }
  // biome-ignore lint/suspicious/noConfusingVoidType: a function that returns nothing means "go on"
) => Promise<HookOutput | undefined | void>

/** Hooks for the targets `matcher` matches (tool name, session source, ...: see the README's "Hooks"). */
export interface HookCallbackMatcher {
  readonly matcher?: string
  readonly hooks: ReadonlyArray<HookCallback>
  /** Seconds each hook may take (default 60). */
  readonly timeout?: number
}

export type HooksOption = { readonly [E in HookEventName]?: ReadonlyArray<HookCallbackMatcher> }

export type Provider =
  | "anthropic"
  | "openai"
  | "openai-responses"
  | "azure"
  | "gemini"
  | "vertex"
  | "ollama"
  | "bedrock"

export interface SageAgentSDKOptions {
  /** The model vendor (default `anthropic`). */
  readonly provider?: Provider
  readonly model?: string
  /** Defaults to the vendor's variable (`ANTHROPIC_API_KEY` / `OPENAI_API_KEY`). */
  readonly apiKey?: string
  readonly baseURL?: string
  /** Write every model response to this directory (numbered JSONL files), for `replay` later. */
  readonly record?: string
  /**
   * Answer from the responses recorded in this directory, in order, with no network; a request that differs from its
   * recording, or one past the last, fails (an `InvalidRequestError` from provider `replay`).
   */
  readonly replay?: string
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
  /** Model requests per turn at most (an integer >= 1); the turn stops with `max_steps` after it. */
  readonly maxSteps?: number
  /** Tool calls run at once at most (an integer >= 1, default 10). */
  readonly maxConcurrency?: number
  /** Output tokens per model response at most (an integer >= 1). */
  readonly maxTokens?: number
  /** Replaces Sage's system prompt (environment, tool guidance, instruction files) entirely. */
  readonly systemPrompt?: string
  /** Appended to the system prompt (Sage's, or `systemPrompt`). */
  readonly appendSystemPrompt?: string
  /** OS sandbox for commands: `auto` (default: bubblewrap when available), `require`, or `off`. */
  readonly sandbox?: "auto" | "require" | "off"
  /** Whether sandboxed commands may use the network (default false). */
  readonly sandboxNetwork?: boolean
  /** WebFetch may reach private/loopback addresses only when allowed here. */
  readonly webFetch?: { readonly allowPrivate?: boolean; readonly allowedHosts?: ReadonlyArray<string> }
  /** Environment for commands (secrets are scrubbed); defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /**
   * Whether every call is saved as a session (default true): an append-only log under `sessionsDir`, which
   * `resume` / `continue` continue and `listSessions()` / `getSession()` read.
   */
  readonly persistSession?: boolean
  /** Where session logs are kept (default: `$SAGE_HOME/sessions`, else `~/.sage/sessions`). */
  readonly sessionsDir?: string
  /**
   * Stop a turn (stop reason `max_budget`) after the step whose cost reaches this many USD (a number > 0). The
   * model's price must be known (built in, or set with `models`).
   */
  readonly maxBudgetUsd?: number
  /** Compact the conversation when it nears the model's context window (default: settings `compaction.auto`, else true). */
  readonly autoCompact?: boolean
  /** The fraction of the model's context window at which to compact, in (0, 1] (default: settings, else 0.8). */
  readonly compactThreshold?: number
  /**
   * Extended thinking budget in tokens (an integer >= 1024) on every model request; providers that take an effort get
   * the matching one.
   */
  readonly thinkingBudget?: number
  /** Reasoning effort on every model request; providers that take a budget get the matching one. */
  readonly reasoningEffort?: "minimal" | "low" | "medium" | "high"
  /**
   * Structured output for every run (a JSON Schema object): the final answer must be JSON matching it, returned as
   * `RunResult.structuredOutput` (a run's `outputSchema` overrides it). Needs the `ajv` package.
   */
  readonly outputSchema?: JsonSchema
  /** Model catalog entries by model id (context window, prices...), on top of the built-in ones and the settings'. */
  readonly models?: Readonly<Record<string, ModelOverride>>
  /**
   * Sub-agent types for the `Task` tool, by name (`subagent_type`), beside the built-in `general-purpose`, `Explore`
   * and `Plan` and the agent files (`.sage/agents/*.md`, `~/.sage/agents/*.md`); these win on a name clash.
   */
  readonly agents?: Readonly<Record<string, SubAgentDefinition>>
  /** Sub-agents running at once per turn at most (an integer >= 1, default 4). */
  readonly maxSubagents?: number
  /** How deep sub-agents may nest (an integer >= 0; default 1: sub-agents cannot start sub-agents; 0: no `Task` tool). */
  readonly maxAgentDepth?: number
  /**
   * Hooks as async functions, by event (`PreToolUse`, `PostToolUse`, `UserPromptSubmit`, `Stop`, ...), run beside
   * the settings files' command hooks with the same inputs and answers.
   */
  readonly hooks?: HooksOption
  /**
   * MCP servers by name, as in `.mcp.json`: `{ command, args?, env?, cwd? }` (stdio) or `{ type: "http" | "sse",
   * url, headers? }`, each with optional `startupTimeoutMs` / `toolTimeoutMs`. Their tools are
   * `mcp__<server>__<tool>` (rules `mcp__server` / `mcp__server__tool`); they start without approval.
   */
  readonly mcpServers?: Readonly<Record<string, McpServerSpec>>
}

/** One MCP server of the `mcpServers` option: stdio (`command`), or remote (`type: "http" | "sse"`, `url`). */
export type McpServerSpec =
  | {
      readonly type?: "stdio"
      readonly command: string
      readonly args?: ReadonlyArray<string>
      readonly env?: { readonly [name: string]: string }
      readonly cwd?: string
      /** Connecting and listing its tools, in ms (default 10 000). */
      readonly startupTimeoutMs?: number
      /** One tool call, in ms (default 60 000). */
      readonly toolTimeoutMs?: number
    }
  | {
      readonly type: "http" | "sse"
      readonly url: string
      readonly headers?: { readonly [name: string]: string }
      readonly startupTimeoutMs?: number
      readonly toolTimeoutMs?: number
    }

export interface CallOptions {
  /** Aborting it stops the call: `run()` rejects and `stream()` throws with `AbortError`. */
  readonly signal?: AbortSignal
  /**
   * The conversation so far, to continue it: the previous result's `messages` (`RunResult.messages`, which
   * already holds every earlier turn). The new prompt is appended to it.
   */
  readonly history?: RunResult["messages"]
  /**
   * The id of the session this call starts (default: a new random id; `RunResult.sessionId` says which). With
   * `forkSession`, the id of the fork.
   */
  readonly sessionId?: string
  /** Continue the saved session with this id (a previous `RunResult.sessionId`): its history, todos and log. */
  readonly resume?: string
  /** Continue the latest session of `cwd` (a new session when there is none). */
  readonly continue?: boolean
  /** With `resume` or `continue`: continue as a new session (new id, `parentSessionId` = the original's). */
  readonly forkSession?: boolean
  /** This turn's budget in USD (overrides the constructor's `maxBudgetUsd`). */
  readonly maxBudgetUsd?: number
  /**
   * Steering: user messages for the running turn (e.g. an async generator fed while it runs). Each one is given to
   * the model at the next step boundary (after the current step's tool results). Messages that arrive after the
   * model's last step are not delivered: send them as the next prompt.
   */
  readonly steering?: AsyncIterable<string>
  /** Structured output for this run (a JSON Schema object; overrides the constructor's `outputSchema`). */
  readonly outputSchema?: JsonSchema
}

// ---------------------------------------------------------------------------------------------------------------
// The run-time check

/** A function of the given type (only `typeof` can be checked at run time). */
const FunctionOf = <F>() => Schema.declare((u: unknown): u is F => typeof u === "function", { expected: "a function" })

const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

const Usd = Schema.Finite.check(Schema.isGreaterThan(0))

const Fraction = Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1))

const Price = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))

const ModelOverrideSchema = Schema.Struct({
  provider: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1))),
  contextWindow: Schema.optionalKey(PositiveInt),
  maxInputTokens: Schema.optionalKey(PositiveInt),
  maxOutputTokens: Schema.optionalKey(PositiveInt),
  pricing: Schema.optionalKey(
    Schema.Struct({
      input: Schema.optionalKey(Price),
      output: Schema.optionalKey(Price),
      cacheRead: Schema.optionalKey(Price),
      cacheWrite: Schema.optionalKey(Price)
    })
  ),
  capabilities: Schema.optionalKey(
    Schema.Struct({
      tools: Schema.optionalKey(Schema.Boolean),
      vision: Schema.optionalKey(Schema.Boolean),
      reasoning: Schema.optionalKey(Schema.Boolean)
    })
  )
})

const NonEmpty = Schema.String.check(Schema.isMinLength(1))

const McpTimeoutFields = {
  startupTimeoutMs: Schema.optionalKey(PositiveInt),
  toolTimeoutMs: Schema.optionalKey(PositiveInt)
}
const McpServerSchema = Schema.Union([
  Schema.Struct({
    type: Schema.optionalKey(Schema.Literal("stdio")),
    command: NonEmpty,
    args: Schema.optionalKey(Schema.Array(Schema.String)),
    env: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
    cwd: Schema.optionalKey(Schema.String),
    ...McpTimeoutFields
  }),
  Schema.Struct({
    type: Schema.Literals(["http", "sse"]),
    url: NonEmpty,
    headers: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
    ...McpTimeoutFields
  })
])

const Url = Schema.String.check(
  Schema.makeFilter((s: string) => /^https?:\/\//i.test(s) && URL.canParse(s), {
    expected: "an absolute URL such as http://127.0.0.1:8080"
  })
)

const PERMISSION_MODES = ["default", "acceptEdits", "plan", "bypassPermissions"] as const
const TOOL_KINDS = ["read", "edit", "execute", "network", "other"] as const
const SANDBOX_MODES = ["auto", "require", "off"] as const
const REASONING_EFFORTS = ["minimal", "low", "medium", "high"] as const
const JsonSchemaObject = Schema.Record(Schema.String, Schema.Unknown)

const SubAgentSchema = Schema.Struct({
  description: NonEmpty,
  prompt: NonEmpty,
  tools: Schema.optionalKey(Schema.Array(NonEmpty)),
  disallowedTools: Schema.optionalKey(Schema.Array(NonEmpty)),
  model: Schema.optionalKey(NonEmpty),
  permissionMode: Schema.optionalKey(Schema.Literals(PERMISSION_MODES)),
  maxSteps: Schema.optionalKey(PositiveInt)
})

const CustomToolSchema = Schema.Struct({
  name: Schema.String,
  description: Schema.String,
  inputSchema: Schema.Record(Schema.String, Schema.Unknown),
  readOnly: Schema.optionalKey(Schema.Boolean),
  kind: Schema.optionalKey(Schema.Literals(TOOL_KINDS)),
  execute: FunctionOf<CustomTool["execute"]>()
})

const HookMatcherSchema = Schema.Array(
  Schema.Struct({
    matcher: Schema.optionalKey(Schema.String),
    hooks: Schema.Array(FunctionOf<HookCallback>()),
    timeout: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0)))
  })
)

const HooksSchema = Schema.Struct({
  PreToolUse: Schema.optionalKey(HookMatcherSchema),
  PostToolUse: Schema.optionalKey(HookMatcherSchema),
  UserPromptSubmit: Schema.optionalKey(HookMatcherSchema),
  Stop: Schema.optionalKey(HookMatcherSchema),
  SubagentStop: Schema.optionalKey(HookMatcherSchema),
  SessionStart: Schema.optionalKey(HookMatcherSchema),
  SessionEnd: Schema.optionalKey(HookMatcherSchema),
  PreCompact: Schema.optionalKey(HookMatcherSchema),
  Notification: Schema.optionalKey(HookMatcherSchema),
  PermissionRequest: Schema.optionalKey(HookMatcherSchema)
})

/** Each option's schema and, for the error message, what it accepts. */
const spec = {
  provider: [Schema.Literals(PROVIDERS), PROVIDERS.map((p) => `"${p}"`).join(" or ")],
  model: [NonEmpty, "a non-empty model name"],
  apiKey: [NonEmpty, "a non-empty API key string"],
  baseURL: [Url, "an absolute URL such as http://127.0.0.1:8080"],
  record: [NonEmpty, "a directory path"],
  replay: [NonEmpty, "a directory path"],
  cwd: [NonEmpty, "a directory path"],
  additionalDirectories: [Schema.Array(NonEmpty), "an array of directory paths"],
  permissionMode: [Schema.Literals(PERMISSION_MODES), `one of "default", "acceptEdits", "plan", "bypassPermissions"`],
  allowedTools: [Schema.Array(Schema.String), 'an array of rules such as "Bash(npm test:*)"'],
  disallowedTools: [Schema.Array(Schema.String), 'an array of rules such as "WebFetch"'],
  canUseTool: [FunctionOf<CanUseTool>(), "an async function (call, context) => ({ behavior: ... })"],
  tools: [
    Schema.Array(CustomToolSchema),
    "an array of custom tools { name, description, inputSchema, execute, readOnly?, kind? }"
  ],
  maxSteps: [PositiveInt, "an integer >= 1"],
  maxConcurrency: [PositiveInt, "an integer >= 1"],
  maxTokens: [PositiveInt, "an integer >= 1"],
  systemPrompt: [Schema.String, "a string"],
  appendSystemPrompt: [Schema.String, "a string"],
  sandbox: [Schema.Literals(SANDBOX_MODES), `"auto", "require" or "off"`],
  sandboxNetwork: [Schema.Boolean, "true or false"],
  webFetch: [
    Schema.Struct({
      allowPrivate: Schema.optionalKey(Schema.Boolean),
      allowedHosts: Schema.optionalKey(Schema.Array(Schema.String))
    }),
    "{ allowPrivate?: boolean, allowedHosts?: string[] }"
  ],
  env: [Schema.Record(Schema.String, Schema.UndefinedOr(Schema.String)), "an object of string values"],
  persistSession: [Schema.Boolean, "true or false"],
  sessionsDir: [NonEmpty, "a directory path"],
  maxBudgetUsd: [Usd, "a number of USD > 0"],
  autoCompact: [Schema.Boolean, "true or false"],
  compactThreshold: [Fraction, "a fraction of the context window in (0, 1], e.g. 0.8"],
  thinkingBudget: [Schema.Int.check(Schema.isGreaterThanOrEqualTo(1024)), "an integer number of tokens >= 1024"],
  reasoningEffort: [Schema.Literals(REASONING_EFFORTS), `"minimal", "low", "medium" or "high"`],
  outputSchema: [JsonSchemaObject, "a JSON Schema object"],
  models: [
    Schema.Record(Schema.String, ModelOverrideSchema),
    "an object of model id -> { contextWindow?, maxOutputTokens?, pricing?: { input?, output?, cacheRead?, cacheWrite? } }"
  ],
  agents: [
    Schema.Record(Schema.String, SubAgentSchema),
    "an object of agent name -> { description, prompt, tools?, disallowedTools?, model?, permissionMode?, maxSteps? }"
  ],
  maxSubagents: [PositiveInt, "an integer >= 1"],
  maxAgentDepth: [Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)), "an integer >= 0"],
  mcpServers: [
    Schema.Record(Schema.String, McpServerSchema),
    'an object of server name -> { command, args?, env?, cwd? } or { type: "http" | "sse", url, headers? }'
  ],
  hooks: [
    HooksSchema,
    `an object of hook event (${HOOK_EVENTS.join(", ")}) -> [{ matcher?, hooks: [async (input) => answer], timeout? }]`
  ]
} as const

type OptionName = keyof typeof spec

const OptionsSchema = Schema.Struct({
  provider: Schema.optionalKey(spec.provider[0]),
  model: Schema.optionalKey(spec.model[0]),
  apiKey: Schema.optionalKey(spec.apiKey[0]),
  baseURL: Schema.optionalKey(spec.baseURL[0]),
  record: Schema.optionalKey(spec.record[0]),
  replay: Schema.optionalKey(spec.replay[0]),
  cwd: Schema.optionalKey(spec.cwd[0]),
  additionalDirectories: Schema.optionalKey(spec.additionalDirectories[0]),
  permissionMode: Schema.optionalKey(spec.permissionMode[0]),
  allowedTools: Schema.optionalKey(spec.allowedTools[0]),
  disallowedTools: Schema.optionalKey(spec.disallowedTools[0]),
  canUseTool: Schema.optionalKey(spec.canUseTool[0]),
  tools: Schema.optionalKey(spec.tools[0]),
  maxSteps: Schema.optionalKey(spec.maxSteps[0]),
  maxConcurrency: Schema.optionalKey(spec.maxConcurrency[0]),
  maxTokens: Schema.optionalKey(spec.maxTokens[0]),
  systemPrompt: Schema.optionalKey(spec.systemPrompt[0]),
  appendSystemPrompt: Schema.optionalKey(spec.appendSystemPrompt[0]),
  sandbox: Schema.optionalKey(spec.sandbox[0]),
  sandboxNetwork: Schema.optionalKey(spec.sandboxNetwork[0]),
  webFetch: Schema.optionalKey(spec.webFetch[0]),
  env: Schema.optionalKey(spec.env[0]),
  persistSession: Schema.optionalKey(spec.persistSession[0]),
  sessionsDir: Schema.optionalKey(spec.sessionsDir[0]),
  maxBudgetUsd: Schema.optionalKey(spec.maxBudgetUsd[0]),
  autoCompact: Schema.optionalKey(spec.autoCompact[0]),
  compactThreshold: Schema.optionalKey(spec.compactThreshold[0]),
  thinkingBudget: Schema.optionalKey(spec.thinkingBudget[0]),
  reasoningEffort: Schema.optionalKey(spec.reasoningEffort[0]),
  outputSchema: Schema.optionalKey(spec.outputSchema[0]),
  models: Schema.optionalKey(spec.models[0]),
  agents: Schema.optionalKey(spec.agents[0]),
  maxSubagents: Schema.optionalKey(spec.maxSubagents[0]),
  maxAgentDepth: Schema.optionalKey(spec.maxAgentDepth[0]),
  hooks: Schema.optionalKey(spec.hooks[0]),
  mcpServers: Schema.optionalKey(spec.mcpServers[0])
})

const callSpec = {
  signal: [
    Schema.declare((u: unknown): u is AbortSignal => u instanceof AbortSignal, { expected: "an AbortSignal" }),
    "an AbortSignal"
  ],
  history: [Schema.Array(MessageSchema), "an array of messages (a previous result's `messages`)"],
  sessionId: [NonEmpty, "a non-empty string"],
  resume: [NonEmpty, "a session id (a previous result's sessionId)"],
  continue: [Schema.Boolean, "true or false"],
  forkSession: [Schema.Boolean, "true or false"],
  maxBudgetUsd: [Usd, "a number of USD > 0"],
  steering: [
    Schema.declare(
      (u: unknown): u is AsyncIterable<string> =>
        typeof u === "object" &&
        u !== null &&
        Symbol.asyncIterator in u &&
        typeof u[Symbol.asyncIterator] === "function",
      { expected: "an async iterable of strings" }
    ),
    "an async iterable of strings (e.g. an async generator)"
  ],
  outputSchema: [JsonSchemaObject, "a JSON Schema object"]
} as const

const CallOptionsSchema = Schema.Struct({
  signal: Schema.optionalKey(callSpec.signal[0]),
  history: Schema.optionalKey(callSpec.history[0]),
  sessionId: Schema.optionalKey(callSpec.sessionId[0]),
  resume: Schema.optionalKey(callSpec.resume[0]),
  continue: Schema.optionalKey(callSpec.continue[0]),
  forkSession: Schema.optionalKey(callSpec.forkSession[0]),
  maxBudgetUsd: Schema.optionalKey(callSpec.maxBudgetUsd[0]),
  steering: Schema.optionalKey(callSpec.steering[0]),
  outputSchema: Schema.optionalKey(callSpec.outputSchema[0])
})

type Accepts = Readonly<Record<string, readonly [unknown, string]>>

const strict = { onExcessProperty: "error" } as const

const formatIssue = SchemaIssue.makeFormatterStandardSchemaV1()

/** A path such as `tools[0].execute`. */
const pathText = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join("")

const valueAt = (input: unknown, path: ReadonlyArray<PropertyKey>): unknown =>
  path.reduce<unknown>(
    (value, key) =>
      typeof value === "object" && value !== null && key in value
        ? (value as Record<PropertyKey, unknown>)[key]
        : undefined,
    input
  )

/** The bad value as the message shows it: short, and never a secret. */
const show = (option: string, value: unknown): string => {
  if (option === "apiKey") return typeof value === "string" ? `a string of ${value.length} characters` : typeof value
  if (typeof value === "function") return "a function"
  if (value === undefined) return "undefined"
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value)
  if (typeof value === "bigint") return `${value}n`
  if (typeof value === "symbol") return value.toString()
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = Object.prototype.toString.call(value)
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/**
 * Check `input` against `schema` (unknown keys are errors at every level: a typo must not be ignored). Returns it
 * unchanged (so custom tools keep their identity) or throws `ConfigError` for the first problem, with `source` =
 * the option's path and a message naming the bad value and what is accepted.
 */
const validate = <T extends object>(
  what: string,
  schema: Schema.Codec<unknown, unknown>,
  accepts: Accepts,
  isValid: (input: unknown) => input is T,
  input: unknown
): T => {
  const invalid = (message: string, source: string): ConfigError =>
    new ConfigError({ message: `Invalid ${what}: ${message}`, source })
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw invalid(`expected an options object, got ${show("options", input)}`, "options")
  }
  const names = Object.keys(accepts)
  for (const key of Object.keys(input)) {
    if (!names.includes(key)) {
      throw invalid(`unknown option ${JSON.stringify(key)}; the options are ${names.join(", ")}`, key)
    }
  }
  if (isValid(input)) return input
  const exit = Schema.decodeUnknownExit(schema)(input, strict)
  const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined
  const issue = error === undefined ? undefined : formatIssue(error.issue).issues[0]
  const path = (issue?.path ?? []).map((segment) => (typeof segment === "object" ? segment.key : segment))
  const top = typeof path[0] === "string" ? path[0] : ""
  const option = pathText(path)
  const described = accepts[top]?.[1]
  if (issue?.message === "Expected no excess property") {
    throw invalid(
      `unknown option ${JSON.stringify(option)}${described === undefined ? "" : `; ${top} accepts ${described}`}`,
      option
    )
  }
  const expected =
    described !== undefined && path.length === 1
      ? described
      : (issue?.message.replace(/^Expected /, "") ?? "a valid value")
  throw invalid(`${option} is ${show(top, valueAt(input, path))}; expected ${expected}`, option)
}

const isOptions = (input: unknown): input is SageAgentSDKOptions =>
  Exit.isSuccess(Schema.decodeUnknownExit(OptionsSchema)(input, strict))

const isCallOptions = (input: unknown): input is CallOptions =>
  Exit.isSuccess(Schema.decodeUnknownExit(CallOptionsSchema)(input, strict))

/** Check the constructor's options; throws `ConfigError` naming the first bad option. */
export const validateOptions = (input: unknown): SageAgentSDKOptions =>
  input === undefined ? {} : validate("SageAgentSDK options", OptionsSchema, spec, isOptions, input)

/** Check the options of one call (`run()`, `stream()`); throws `ConfigError` naming the first bad option. */
export const validateCallOptions = (method: string, input: unknown): CallOptions =>
  input === undefined ? {} : validate(`${method}() options`, CallOptionsSchema, callSpec, isCallOptions, input)

// ---------------------------------------------------------------------------------------------------------------
// Conformance (type level only): the schema checks exactly the plain interface.

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type Assert<T extends true> = T
type Flat<T> = { [K in keyof T]: T[K] }

type OptionChecks = [
  Assert<Equals<keyof SageAgentSDKOptions, OptionName>>,
  Assert<Equals<keyof typeof OptionsSchema.Type, OptionName>>,
  Assert<typeof OptionsSchema.Type extends SageAgentSDKOptions ? true : false>,
  Assert<
    Equals<
      Flat<Omit<typeof OptionsSchema.Type, "tools" | "canUseTool">>,
      Flat<Omit<SageAgentSDKOptions, "tools" | "canUseTool">>
    >
  >,
  Assert<Equals<McpServerSpec, typeof McpServerSchema.Type>>,
  Assert<Equals<Provider, ProviderId>>,
  Assert<Equals<HookEventName, LibHookEventName>>,
  Assert<Equals<HookInput, LibHookInput>>,
  Assert<Equals<HookOutput, LibHookOutput>>,
  Assert<Equals<PermissionMode, SchemaPermissionMode>>,
  Assert<Equals<(typeof PERMISSION_MODES)[number], PermissionMode>>,
  Assert<Equals<(typeof TOOL_KINDS)[number], ToolKind>>,
  Assert<Equals<Message, RunResult["messages"][number]>>,
  Assert<Equals<keyof CallOptions, keyof typeof callSpec>>,
  Assert<Equals<Flat<typeof CallOptionsSchema.Type>, Flat<CallOptions>>>,
  OptionsChecked?
]
// `OptionChecks` and `OptionsChecked` refer to each other so that `noUnusedLocals` accepts them unexported.
type OptionsChecked = OptionChecks
