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
import { Message as MessageSchema } from "../streams/Message.js"
import type { CustomTool, Message, ModelOverride, PermissionMode, RunResult, ToolCall, ToolKind } from "./types.js"

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

export type Provider = "anthropic" | "openai"

export interface SageAgentSDKOptions {
  /** The model vendor (default `anthropic`). */
  readonly provider?: Provider
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
  /** Model catalog entries by model id (context window, prices...), on top of the built-in ones and the settings'. */
  readonly models?: Readonly<Record<string, ModelOverride>>
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

const Url = Schema.String.check(
  Schema.makeFilter((s: string) => /^https?:\/\//i.test(s) && URL.canParse(s), {
    expected: "an absolute URL such as http://127.0.0.1:8080"
  })
)

const PERMISSION_MODES = ["default", "acceptEdits", "plan", "bypassPermissions"] as const
const TOOL_KINDS = ["read", "edit", "execute", "network", "other"] as const
const SANDBOX_MODES = ["auto", "require", "off"] as const

const CustomToolSchema = Schema.Struct({
  name: Schema.String,
  description: Schema.String,
  inputSchema: Schema.Record(Schema.String, Schema.Unknown),
  readOnly: Schema.optionalKey(Schema.Boolean),
  kind: Schema.optionalKey(Schema.Literals(TOOL_KINDS)),
  execute: FunctionOf<CustomTool["execute"]>()
})

/** Each option's schema and, for the error message, what it accepts. */
const spec = {
  provider: [Schema.Literals(PROVIDERS), PROVIDERS.map((p) => `"${p}"`).join(" or ")],
  model: [NonEmpty, "a non-empty model name"],
  apiKey: [NonEmpty, "a non-empty API key string"],
  baseURL: [Url, "an absolute URL such as http://127.0.0.1:8080"],
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
  models: [
    Schema.Record(Schema.String, ModelOverrideSchema),
    "an object of model id -> { contextWindow?, maxOutputTokens?, pricing?: { input?, output?, cacheRead?, cacheWrite? } }"
  ]
} as const

type OptionName = keyof typeof spec

const OptionsSchema = Schema.Struct({
  provider: Schema.optionalKey(spec.provider[0]),
  model: Schema.optionalKey(spec.model[0]),
  apiKey: Schema.optionalKey(spec.apiKey[0]),
  baseURL: Schema.optionalKey(spec.baseURL[0]),
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
  models: Schema.optionalKey(spec.models[0])
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
  ]
} as const

const CallOptionsSchema = Schema.Struct({
  signal: Schema.optionalKey(callSpec.signal[0]),
  history: Schema.optionalKey(callSpec.history[0]),
  sessionId: Schema.optionalKey(callSpec.sessionId[0]),
  resume: Schema.optionalKey(callSpec.resume[0]),
  continue: Schema.optionalKey(callSpec.continue[0]),
  forkSession: Schema.optionalKey(callSpec.forkSession[0]),
  maxBudgetUsd: Schema.optionalKey(callSpec.maxBudgetUsd[0]),
  steering: Schema.optionalKey(callSpec.steering[0])
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
  Assert<Equals<Provider, ProviderId>>,
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
