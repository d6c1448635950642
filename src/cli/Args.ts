/**
 * The command line, parsed by hand: a dozen flags do not need a framework, and every mistake gets one line that
 * names the flag, the bad value and what is accepted (exit 2). Pure: the file system is asked through `isDirectory`.
 */
import * as path from "node:path"
import type { AgentOption } from "../agents/AgentDefinitions.js"
import { splitModel } from "../providers/ModelShorthand.js"
import { PROVIDERS, type ProviderId } from "../providers/registry.js"

export { PROVIDERS } from "../providers/registry.js"
export type ProviderName = ProviderId
export const OUTPUT_FORMATS = ["text", "json", "stream-json"] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]
export const MODES = ["default", "acceptEdits", "plan", "bypassPermissions"] as const
export type Mode = (typeof MODES)[number]
export const SANDBOX_MODES = ["auto", "require", "off"] as const
export type SandboxChoice = (typeof SANDBOX_MODES)[number]
export const REASONING_EFFORTS = ["minimal", "low", "medium", "high"] as const
export type ReasoningEffortChoice = (typeof REASONING_EFFORTS)[number]

/** `sage -p PROMPT ...`: one turn, printed. */
export interface RunArgs {
  readonly _tag: "Run"
  readonly prompt: string | undefined
  /** `-p/--print` was given (without it, no prompt and a terminal mean the interactive REPL). */
  readonly print: boolean
  readonly provider: ProviderName
  readonly model: string | undefined
  readonly outputFormat: OutputFormat
  readonly maxSteps: number | undefined
  /** `--max-budget-usd N`: stop the turn after the step whose cost reaches N USD. */
  readonly maxBudgetUsd: number | undefined
  readonly permissionMode: Mode | undefined
  readonly allowedTools: ReadonlyArray<string>
  readonly disallowedTools: ReadonlyArray<string>
  readonly cwd: string
  readonly addDirs: ReadonlyArray<string>
  readonly sandbox: SandboxChoice
  readonly systemPrompt: string | undefined
  readonly appendSystemPrompt: string | undefined
  /** `-c`: continue the latest session of `cwd`. */
  readonly continue: boolean
  /** `-r ID` (a string), `-r` alone (true: pick one), or absent. */
  readonly resume: string | true | undefined
  readonly forkSession: boolean
  readonly sessionId: string | undefined
  /** False with `--no-session-persistence`. */
  readonly persistSession: boolean
  /** `--agents JSON`: sub-agent types by name (`{"reviewer": {"description": ..., "prompt": ...}}`). */
  readonly agents?: Readonly<Record<string, AgentOption>> | undefined
  /** `--max-subagents N`: sub-agents running at once per turn. */
  readonly maxSubagents?: number | undefined
  /** `--mcp-config FILE` (repeatable; a file of `{"mcpServers": {...}}`, or such JSON inline). */
  readonly mcpConfig: ReadonlyArray<string>
  /** `--base-url URL`: the provider's endpoint. */
  readonly baseURL?: string | undefined
  /** `--thinking-budget N`: extended thinking budget in tokens. */
  readonly thinkingBudget?: number | undefined
  /** `--reasoning-effort E`. */
  readonly reasoningEffort?: ReasoningEffortChoice | undefined
  /** `--json-schema FILE` (resolved): the answer must be JSON matching the schema in FILE. */
  readonly jsonSchema?: string | undefined
  /** `--image FILE` (repeatable, as given: resolved in the workspace when the turn starts). */
  readonly images?: ReadonlyArray<string>
  /** `--record DIR` (resolved): write every model response to DIR. */
  readonly record?: string | undefined
  /** `--replay DIR` (resolved): answer from the responses recorded in DIR instead of a provider. */
  readonly replay?: string | undefined
}

/** `sage mcp ACTION ...`: the rest of the words are parsed by `cli/mcp.ts` (or `cli/mcpServe.ts` for `serve`). */
export interface McpArgs {
  readonly _tag: "Mcp"
  readonly action: string
  readonly argv: ReadonlyArray<string>
}

/** `sage sessions list|show|export|delete`. */
export interface SessionsArgs {
  readonly _tag: "Sessions"
  readonly action: "list" | "show" | "export" | "delete"
  readonly id: string | undefined
  readonly format: "jsonl" | "markdown"
  /** `list --cwd DIR`: only the sessions of DIR. */
  readonly cwd: string | undefined
}

/** `sage permissions check TOOL [INPUT-JSON]`. */
export interface CheckArgs {
  readonly _tag: "Check"
  readonly tool: string
  readonly input: string
  readonly cwd: string
  readonly permissionMode: Mode
  readonly allowedTools: ReadonlyArray<string>
  readonly disallowedTools: ReadonlyArray<string>
}

export type Parsed =
  | { readonly _tag: "Help"; readonly topic: "main" | "permissions" | "sessions" }
  | { readonly _tag: "Version" }
  | RunArgs
  | CheckArgs
  | SessionsArgs
  | McpArgs

/** A mistake on the command line: one line (without the `sage: ` prefix); exit code 2. */
export class UsageError {
  readonly _tag = "UsageError"
  constructor(readonly message: string) {}
}

export interface ParseContext {
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly isDirectory: (dir: string) => boolean
}

/** `optional`: a value when the next word is one (for `--resume`, a session id), else none. */
type FlagKind = "boolean" | "value" | "repeated" | "optional"
interface FlagSpec {
  readonly kind: FlagKind
  readonly short?: string
}

const RUN_FLAGS: Readonly<Record<string, FlagSpec>> = {
  print: { kind: "boolean", short: "p" },
  continue: { kind: "boolean", short: "c" },
  resume: { kind: "optional", short: "r" },
  "fork-session": { kind: "boolean" },
  "session-id": { kind: "value" },
  "no-session-persistence": { kind: "boolean" },
  help: { kind: "boolean", short: "h" },
  version: { kind: "boolean", short: "v" },
  provider: { kind: "value" },
  model: { kind: "value" },
  "output-format": { kind: "value" },
  "max-steps": { kind: "value" },
  "max-budget-usd": { kind: "value" },
  "permission-mode": { kind: "value" },
  "allowed-tools": { kind: "repeated" },
  "disallowed-tools": { kind: "repeated" },
  cwd: { kind: "value" },
  "add-dir": { kind: "repeated" },
  sandbox: { kind: "value" },
  "system-prompt": { kind: "value" },
  "append-system-prompt": { kind: "value" },
  "mcp-config": { kind: "repeated" },
  agents: { kind: "value" },
  "max-subagents": { kind: "value" },
  "base-url": { kind: "value" },
  "thinking-budget": { kind: "value" },
  "reasoning-effort": { kind: "value" },
  "json-schema": { kind: "value" },
  image: { kind: "repeated" },
  record: { kind: "value" },
  replay: { kind: "value" }
}

const CHECK_FLAGS: Readonly<Record<string, FlagSpec>> = {
  help: { kind: "boolean", short: "h" },
  cwd: { kind: "value" },
  "permission-mode": { kind: "value" },
  "allowed-tools": { kind: "repeated" },
  "disallowed-tools": { kind: "repeated" }
}

interface Scanned {
  readonly flags: ReadonlyMap<string, ReadonlyArray<string>>
  readonly positionals: ReadonlyArray<string>
}

const quote = (value: string): string => JSON.stringify(value)

/** "a, b or c" */
export const listChoices = (choices: ReadonlyArray<string>): string =>
  choices.length <= 1
    ? (choices[0] ?? "")
    : `${choices.slice(0, -1).join(", ")} or ${choices[choices.length - 1] ?? ""}`

export const invalidValue = (flag: string, value: string, expected: string): UsageError =>
  new UsageError(`invalid value for ${flag}: ${quote(value)} (expected ${expected})`)

/** Splits argv into flags (by long name) and positionals; `--` ends the flags. */
const scan = (argv: ReadonlyArray<string>, specs: Readonly<Record<string, FlagSpec>>): Scanned | UsageError => {
  const flags = new Map<string, Array<string>>()
  const positionals: Array<string> = []
  const shorts = new Map(Object.entries(specs).flatMap(([name, spec]) => (spec.short ? [[spec.short, name]] : [])))
  const known = (token: string): boolean =>
    (token.startsWith("--") && token.slice(2).split("=")[0]! in specs) ||
    (/^-[a-zA-Z]$/.test(token) && shorts.has(token.slice(1)))
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!
    if (token === "--") {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (!token.startsWith("-") || token === "-") {
      positionals.push(token)
      continue
    }
    let name: string
    let inline: string | undefined
    if (token.startsWith("--")) {
      const eq = token.indexOf("=")
      name = eq === -1 ? token.slice(2) : token.slice(2, eq)
      inline = eq === -1 ? undefined : token.slice(eq + 1)
    } else {
      const long = shorts.get(token.slice(1))
      if (long === undefined) return new UsageError(`unknown option ${token} (see sage --help)`)
      name = long
    }
    const spec = specs[name]
    if (spec === undefined) return new UsageError(`unknown option --${name} (see sage --help)`)
    const values = flags.get(name) ?? []
    flags.set(name, values)
    if (spec.kind === "boolean") {
      if (inline !== undefined) return new UsageError(`option --${name} takes no value (got ${quote(inline)})`)
      values.push("true")
      continue
    }
    if (inline !== undefined) {
      values.push(inline)
      continue
    }
    if (spec.kind === "optional") {
      const next = argv[i + 1]
      // Only a word that can be a session id is taken (a prompt has spaces; a flag starts with "-").
      if (next !== undefined && !next.startsWith("-") && SESSION_ID.test(next)) {
        values.push(next)
        i++
      } else values.push("")
      continue
    }
    const next = argv[i + 1]
    if (next === undefined || known(next)) return new UsageError(`option --${name} needs a value`)
    values.push(next)
    i++
  }
  return { flags, positionals }
}

const single = (scanned: Scanned, name: string): string | undefined | UsageError => {
  const values = scanned.flags.get(name)
  if (values === undefined || values.length === 0) return undefined
  if (values.length > 1) return new UsageError(`option --${name} was given ${values.length} times (give it once)`)
  return values[0]
}

const choice = <const C extends string>(
  label: string,
  value: string | undefined,
  choices: ReadonlyArray<C>
): C | undefined | UsageError => {
  if (value === undefined) return undefined
  const found = choices.find((c) => c === value)
  return found ?? invalidValue(label, value, listChoices(choices))
}

/** Rule lists stay as typed: the permission engine splits them (commas and spaces outside parentheses). */
const rules = (scanned: Scanned, name: string): ReadonlyArray<string> => scanned.flags.get(name) ?? []

const directory = (flag: string, value: string, context: ParseContext): string | UsageError => {
  const resolved = path.resolve(context.cwd, value)
  return context.isDirectory(resolved) ? resolved : invalidValue(flag, value, "an existing directory")
}

const isError = (u: unknown): u is UsageError => u instanceof UsageError

/** Parse `argv` (without `node` and the script). */
export const parseArgs = (argv: ReadonlyArray<string>, context: ParseContext): Parsed | UsageError => {
  if (argv[0] === "permissions") return parsePermissions(argv.slice(1), context)
  if (argv[0] === "sessions") return parseSessions(argv.slice(1), context)
  if (argv[0] === "mcp") return { _tag: "Mcp", action: argv[1] ?? "help", argv: argv.slice(2) }
  const scanned = scan(argv, RUN_FLAGS)
  if (isError(scanned)) return scanned
  if (scanned.flags.has("help")) return { _tag: "Help", topic: "main" }
  if (scanned.flags.has("version")) return { _tag: "Version" }
  if (scanned.positionals.length > 1) {
    return new UsageError(
      `unexpected argument ${quote(scanned.positionals[1] ?? "")}: give the prompt as one argument (quote it)`
    )
  }

  const providerFlag = single(scanned, "provider")
  if (isError(providerFlag)) return providerFlag
  const envProvider = context.env.SAGE_PROVIDER === "" ? undefined : context.env.SAGE_PROVIDER
  const provider =
    providerFlag !== undefined
      ? choice("--provider", providerFlag, PROVIDERS)
      : choice("SAGE_PROVIDER", envProvider, PROVIDERS)
  if (isError(provider)) return provider

  const modelFlag = single(scanned, "model")
  if (isError(modelFlag)) return modelFlag
  if (modelFlag === "") return invalidValue("--model", "", "a model id")
  const envModel = context.env.SAGE_MODEL === "" ? undefined : context.env.SAGE_MODEL
  // `--model openai/gpt-5` picks the provider when none was given (see ModelShorthand).
  const chosen = splitModel(provider, modelFlag ?? envModel)

  const features = featureFlags(scanned, context)
  if (isError(features)) return features
  const recording = recordFlags(scanned, context)
  if (isError(recording)) return recording
  const subAgents = subAgentFlags(scanned)
  if (isError(subAgents)) return subAgents

  const format = single(scanned, "output-format")
  if (isError(format)) return format
  const outputFormat = choice("--output-format", format, OUTPUT_FORMATS)
  if (isError(outputFormat)) return outputFormat

  const steps = single(scanned, "max-steps")
  if (isError(steps)) return steps
  let maxSteps: number | undefined
  if (steps !== undefined) {
    if (!/^\+?\d+$/.test(steps.trim()) || Number(steps) < 1 || !Number.isSafeInteger(Number(steps))) {
      return invalidValue("--max-steps", steps, "a whole number of at least 1")
    }
    maxSteps = Number(steps)
  }

  const budget = single(scanned, "max-budget-usd")
  if (isError(budget)) return budget
  let maxBudgetUsd: number | undefined
  if (budget !== undefined) {
    const usd = Number(budget.trim().replace(/^\$/, ""))
    if (budget.trim() === "" || !Number.isFinite(usd) || usd <= 0) {
      return invalidValue("--max-budget-usd", budget, "an amount of US dollars above 0, e.g. 0.50")
    }
    maxBudgetUsd = usd
  }

  const mode = single(scanned, "permission-mode")
  if (isError(mode)) return mode
  const permissionMode = choice("--permission-mode", mode, MODES)
  if (isError(permissionMode)) return permissionMode

  const sandboxFlag = single(scanned, "sandbox")
  if (isError(sandboxFlag)) return sandboxFlag
  const sandbox = choice("--sandbox", sandboxFlag, SANDBOX_MODES)
  if (isError(sandbox)) return sandbox

  const cwdFlag = single(scanned, "cwd")
  if (isError(cwdFlag)) return cwdFlag
  const cwd = cwdFlag === undefined ? context.cwd : directory("--cwd", cwdFlag, context)
  if (isError(cwd)) return cwd
  const addDirs: Array<string> = []
  for (const dir of scanned.flags.get("add-dir") ?? []) {
    const resolved = directory("--add-dir", dir, { ...context, cwd })
    if (isError(resolved)) return resolved
    addDirs.push(resolved)
  }

  const systemPrompt = single(scanned, "system-prompt")
  if (isError(systemPrompt)) return systemPrompt
  const appendSystemPrompt = single(scanned, "append-system-prompt")
  if (isError(appendSystemPrompt)) return appendSystemPrompt

  const session = sessionFlags(scanned)
  if (isError(session)) return session

  return {
    _tag: "Run",
    prompt: scanned.positionals[0],
    print: scanned.flags.has("print"),
    provider: chosen.provider ?? "anthropic",
    model: chosen.model,
    outputFormat: outputFormat ?? "text",
    maxSteps,
    maxBudgetUsd,
    permissionMode,
    allowedTools: rules(scanned, "allowed-tools"),
    disallowedTools: rules(scanned, "disallowed-tools"),
    cwd,
    addDirs,
    sandbox: sandbox ?? "auto",
    systemPrompt,
    appendSystemPrompt,
    mcpConfig: scanned.flags.get("mcp-config") ?? [],
    ...session,
    ...features,
    ...recording,
    ...subAgents
  }
}

/** `--agents JSON` (an object of agent name -> definition; its fields are checked when the agent loads), `--max-subagents N`. */
const subAgentFlags = (scanned: Scanned): Pick<RunArgs, "agents" | "maxSubagents"> | UsageError => {
  const agents = single(scanned, "agents")
  if (isError(agents)) return agents
  const max = single(scanned, "max-subagents")
  if (isError(max)) return max
  let parsed: unknown
  if (agents !== undefined) {
    try {
      parsed = JSON.parse(agents)
    } catch {
      parsed = undefined
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return invalidValue(
        "--agents",
        agents,
        'a JSON object such as {"reviewer": {"description": "...", "prompt": "..."}}'
      )
    }
  }
  if (max !== undefined && (!/^\+?\d+$/.test(max.trim()) || Number(max) < 1 || !Number.isSafeInteger(Number(max)))) {
    return invalidValue("--max-subagents", max, "a whole number of at least 1")
  }
  const definitions: Record<string, AgentOption> = {}
  if (typeof parsed === "object" && parsed !== null) {
    for (const [name, value] of Object.entries(parsed)) definitions[name] = value
  }
  return {
    ...(agents === undefined ? {} : { agents: definitions }),
    ...(max === undefined ? {} : { maxSubagents: Number(max) })
  }
}

/** `--record DIR`, `--replay DIR` (not both), resolved against the working directory. */
const recordFlags = (scanned: Scanned, context: ParseContext): Pick<RunArgs, "record" | "replay"> | UsageError => {
  const record = single(scanned, "record")
  if (isError(record)) return record
  const replay = single(scanned, "replay")
  if (isError(replay)) return replay
  if (record === "") return invalidValue("--record", record, "a directory")
  if (replay === "") return invalidValue("--replay", replay, "a directory")
  if (record !== undefined && replay !== undefined)
    return new UsageError("--record and --replay cannot be used together")
  return {
    ...(record === undefined ? {} : { record: path.resolve(context.cwd, record) }),
    ...(replay === undefined ? {} : { replay: path.resolve(context.cwd, replay) })
  }
}

/** `--base-url`, `--thinking-budget`, `--reasoning-effort`, `--json-schema`, `--image`. */
const featureFlags = (
  scanned: Scanned,
  context: ParseContext
): Pick<RunArgs, "baseURL" | "thinkingBudget" | "reasoningEffort" | "jsonSchema" | "images"> | UsageError => {
  const baseURL = single(scanned, "base-url")
  if (isError(baseURL)) return baseURL
  if (baseURL !== undefined && !(/^https?:\/\//i.test(baseURL) && URL.canParse(baseURL))) {
    return invalidValue("--base-url", baseURL, "an absolute http(s) URL, e.g. http://127.0.0.1:11434/v1")
  }
  const budget = single(scanned, "thinking-budget")
  if (isError(budget)) return budget
  let thinkingBudget: number | undefined
  if (budget !== undefined) {
    if (!/^\+?\d+$/.test(budget.trim()) || !Number.isSafeInteger(Number(budget)) || Number(budget) < 1024) {
      return invalidValue("--thinking-budget", budget, "a whole number of tokens, at least 1024")
    }
    thinkingBudget = Number(budget)
  }
  const effort = single(scanned, "reasoning-effort")
  if (isError(effort)) return effort
  const reasoningEffort = choice("--reasoning-effort", effort, REASONING_EFFORTS)
  if (isError(reasoningEffort)) return reasoningEffort
  const schema = single(scanned, "json-schema")
  if (isError(schema)) return schema
  if (schema === "") return invalidValue("--json-schema", schema, "a JSON Schema file")
  const images = scanned.flags.get("image") ?? []
  const empty = images.find((image) => image.trim() === "")
  if (empty !== undefined) return invalidValue("--image", empty, "an image file (PNG, JPEG, GIF or WebP)")
  return {
    ...(baseURL === undefined ? {} : { baseURL }),
    ...(thinkingBudget === undefined ? {} : { thinkingBudget }),
    ...(reasoningEffort === undefined ? {} : { reasoningEffort }),
    ...(schema === undefined ? {} : { jsonSchema: path.resolve(context.cwd, schema) }),
    ...(images.length === 0 ? {} : { images })
  }
}

const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/

/** `-c`, `-r [ID]`, `--fork-session`, `--session-id ID`, `--no-session-persistence`. */
const sessionFlags = (
  scanned: Scanned
): Pick<RunArgs, "continue" | "resume" | "forkSession" | "sessionId" | "persistSession"> | UsageError => {
  const resumeFlag = single(scanned, "resume")
  if (isError(resumeFlag)) return resumeFlag
  const resume = resumeFlag === undefined ? undefined : resumeFlag === "" ? true : resumeFlag
  if (typeof resume === "string" && !SESSION_ID.test(resume)) {
    return invalidValue("--resume", resume, "a session id (see sage sessions list)")
  }
  const sessionId = single(scanned, "session-id")
  if (isError(sessionId)) return sessionId
  if (sessionId !== undefined && !SESSION_ID.test(sessionId)) {
    return invalidValue("--session-id", sessionId, "1-128 letters, digits, _ or -")
  }
  const continueFlag = scanned.flags.has("continue")
  const forkSession = scanned.flags.has("fork-session")
  if (continueFlag && resume !== undefined) return new UsageError("--continue and --resume cannot be used together")
  if (forkSession && !continueFlag && resume === undefined) {
    return new UsageError("--fork-session needs --continue or --resume ID (the session to fork)")
  }
  return {
    continue: continueFlag,
    resume,
    forkSession,
    sessionId,
    persistSession: !scanned.flags.has("no-session-persistence")
  }
}

const SESSIONS_FLAGS: Readonly<Record<string, FlagSpec>> = {
  help: { kind: "boolean", short: "h" },
  format: { kind: "value" },
  cwd: { kind: "value" }
}

const SESSION_ACTIONS = ["list", "show", "export", "delete"] as const
const EXPORT_FORMATS = ["jsonl", "markdown"] as const

const parseSessions = (argv: ReadonlyArray<string>, context: ParseContext): Parsed | UsageError => {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === "--help" || sub === "-h") return { _tag: "Help", topic: "sessions" }
  const action = SESSION_ACTIONS.find((a) => a === sub)
  if (action === undefined) {
    return new UsageError(
      `unknown command ${quote(sub)} after "sessions" (expected ${listChoices(SESSION_ACTIONS)}; see sage sessions --help)`
    )
  }
  const scanned = scan(rest, SESSIONS_FLAGS)
  if (isError(scanned)) return scanned
  if (scanned.flags.has("help")) return { _tag: "Help", topic: "sessions" }
  const [id, extra] = scanned.positionals
  if (action === "list" ? id !== undefined : extra !== undefined) {
    return new UsageError(`unexpected argument ${quote((action === "list" ? id : extra) ?? "")}`)
  }
  if (action !== "list" && (id === undefined || id === "")) {
    return new UsageError(`sessions ${action} needs a session id (see sage sessions list)`)
  }
  const formatFlag = single(scanned, "format")
  if (isError(formatFlag)) return formatFlag
  if (formatFlag !== undefined && action !== "export") return new UsageError("--format is for sessions export")
  const format = choice("--format", formatFlag, EXPORT_FORMATS)
  if (isError(format)) return format
  const cwdFlag = single(scanned, "cwd")
  if (isError(cwdFlag)) return cwdFlag
  if (cwdFlag !== undefined && action !== "list") return new UsageError("--cwd is for sessions list")
  const cwd = cwdFlag === undefined ? undefined : directory("--cwd", cwdFlag, context)
  if (isError(cwd)) return cwd
  return { _tag: "Sessions", action, id, format: format ?? "jsonl", cwd }
}

const parsePermissions = (argv: ReadonlyArray<string>, context: ParseContext): Parsed | UsageError => {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === "--help" || sub === "-h") return { _tag: "Help", topic: "permissions" }
  if (sub !== "check") {
    return new UsageError(`unknown command ${quote(sub)} after "permissions" (expected check; see sage --help)`)
  }
  const scanned = scan(rest, CHECK_FLAGS)
  if (isError(scanned)) return scanned
  if (scanned.flags.has("help")) return { _tag: "Help", topic: "permissions" }
  const [tool, input = "{}", extra] = scanned.positionals
  if (tool === undefined || tool === "") {
    return new UsageError('permissions check needs a tool name, e.g. sage permissions check Bash \'{"command":"ls"}\'')
  }
  if (extra !== undefined) return new UsageError(`unexpected argument ${quote(extra)} after the input JSON`)
  const mode = single(scanned, "permission-mode")
  if (isError(mode)) return mode
  const permissionMode = choice("--permission-mode", mode, MODES)
  if (isError(permissionMode)) return permissionMode
  const cwdFlag = single(scanned, "cwd")
  if (isError(cwdFlag)) return cwdFlag
  const cwd = cwdFlag === undefined ? context.cwd : directory("--cwd", cwdFlag, context)
  if (isError(cwd)) return cwd
  return {
    _tag: "Check",
    tool,
    input,
    cwd,
    permissionMode: permissionMode ?? "default",
    allowedTools: rules(scanned, "allowed-tools"),
    disallowedTools: rules(scanned, "disallowed-tools")
  }
}
