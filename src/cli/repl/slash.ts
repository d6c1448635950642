/**
 * The built-in slash commands of the REPL (`/help`, `/clear`, `/compact`, `/cost`, `/model`, `/resume`,
 * `/permissions`, `/reasoning`, `/status`, `/exit`) and custom commands (their prompt is returned to be run).
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { compactConversation } from "../../agent/Compaction.js"
import type { SageServices } from "../../layers/SageLive.js"
import { LLMClient } from "../../services/LLMClient.js"
import { type McpPromptInfo, McpServers } from "../../services/McpServers.js"
import { ModelCatalog } from "../../services/ModelCatalog.js"
import { PERMISSION_MODES, type PermissionMode } from "../../services/Permissions.js"
import { SessionStore } from "../../services/SessionStore.js"
import { Settings } from "../../services/Settings.js"
import type { SessionPlan, SessionSelection } from "../../session/Conversation.js"
import { sanitizeForTerminal } from "../../streams/Sanitize.js"
import type { RunArgs } from "../Args.js"
import { VERSION } from "../version.js"
import { BUILTIN_COMMANDS, type CustomCommand, expandCommand, suggest } from "./commands.js"
import type { ReplConversation } from "./conversation.js"
import { expandMcpPrompt, promptCommand } from "./mcpPrompts.js"
import type { Screen } from "./Screen.js"
import type { Palette } from "./TurnView.js"

/** What the REPL keeps between turns. */
export interface ReplState {
  model: string | undefined
  mode: PermissionMode | undefined
  showReasoning: boolean
  /** Since the REPL started (all conversations). */
  turns: number
  inputTokens: number
  outputTokens: number
  cacheTokens: number
  costUsd: number
  costKnown: boolean
}

export interface SlashContext {
  readonly args: RunArgs
  readonly state: ReplState
  readonly screen: Screen
  readonly colors: Palette
  readonly custom: ReadonlyArray<CustomCommand>
  /** The loaded agent (fails when loading failed). */
  readonly loaded: Effect.Effect<
    { readonly context: Context.Context<SageServices>; readonly plan: SessionPlan },
    unknown
  >
  readonly current: () => ReplConversation | undefined
  readonly getConversation: Effect.Effect<
    { readonly context: Context.Context<SageServices>; readonly conversation: ReplConversation },
    unknown
  >
  readonly openConversation: (selection: Omit<SessionSelection, "cwd">) => Effect.Effect<ReplConversation, unknown>
  readonly closeCurrent: Effect.Effect<void>
  readonly showResumed: (conversation: ReplConversation) => Effect.Effect<void>
  /** Runs an effect until it ends or Ctrl-C is pressed. */
  readonly cancellable: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<Exit.Exit<A, E>>
  readonly message: (text: string) => Effect.Effect<unknown>
  readonly failure: (error: unknown) => Effect.Effect<unknown>
}

/** What a command asks the REPL to do next. */
export type CommandOutcome = undefined | { readonly exit: true } | { readonly prompt: string }

export const helpText = (
  custom: ReadonlyArray<CustomCommand>,
  mcpPrompts: ReadonlyArray<McpPromptInfo> = []
): string => {
  const rows = BUILTIN_COMMANDS.map((c) => [`/${c.name}${c.args === undefined ? "" : ` ${c.args}`}`, c.description])
  const customRows = custom.map((c) => [`/${c.name} [args]`, c.description ?? `custom command (${c.file})`])
  const mcpRows = mcpPrompts.map((p) => [
    `/${promptCommand(p)}${p.arguments.length === 0 ? "" : ` ${p.arguments.map((a) => (a.required ? a.name : `[${a.name}]`)).join(" ")}`}`,
    sanitizeForTerminal(p.description ?? `prompt of the MCP server ${p.server}`)
  ])
  const width = Math.max(...[...rows, ...customRows, ...mcpRows].map((r) => (r[0] ?? "").length)) + 2
  const table = (list: ReadonlyArray<ReadonlyArray<string>>) =>
    list.map((r) => `  ${(r[0] ?? "").padEnd(width)}${r[1] ?? ""}`).join("\n")
  return [
    "Commands:",
    table(rows),
    ...(customRows.length === 0 ? [] : ["Custom commands (.sage/commands/*.md):", table(customRows)]),
    ...(mcpRows.length === 0 ? [] : ["MCP server prompts:", table(mcpRows)]),
    "Keys:",
    "  Enter submit · \\ at the end of a line or Shift-Enter (where the terminal reports it) for a new line",
    "  Up/Down history · Esc clear the line · Ctrl-C interrupt the answer, clear the line, twice to exit",
    "  Ctrl-D exit · typing while an answer runs queues a message for the model's next step"
  ].join("\n")
}

export const formatUsd = (usd: number): string => `$${usd < 0.01 && usd > 0 ? usd.toFixed(4) : usd.toFixed(2)}`

const ago = (ms: number): string => {
  const minutes = Math.round(ms / 60_000)
  if (minutes < 1) return "just now"
  if (minutes < 60) return `${minutes} min ago`
  const hours = Math.round(minutes / 60)
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} days ago`
}

/** One line of text, shortened (for echoing prompts and titles). */
export const oneLine = (text: string): string => {
  const one = sanitizeForTerminal(text).replace(/\s*\n\s*/g, " ⏎ ")
  return one.length > 100 ? `${one.slice(0, 99)}…` : one
}

export const makeSlashCommands = (ctx: SlashContext) => {
  const { args, state, screen, colors, custom, message, failure, cancellable } = ctx
  const loaded = ctx.loaded
  const getConversation = ctx.getConversation
  const openConversation = ctx.openConversation
  const closeCurrent = ctx.closeCurrent
  const showResumed = ctx.showResumed
  const fit1 = oneLine

  const showCost = Effect.sync(() => {
    const tokens = `${state.inputTokens} input, ${state.outputTokens} output, ${state.cacheTokens} cache tokens`
    const cost = state.costKnown ? formatUsd(state.costUsd) : "unknown (no price for this model)"
    screen.line(`Cost since Sage started: ${cost} · ${state.turns} turn${state.turns === 1 ? "" : "s"} · ${tokens}`)
  })

  const showPermissions = (argument: string) =>
    Effect.gen(function* () {
      if (argument !== "") {
        const mode = PERMISSION_MODES.find((m) => m.toLowerCase() === argument.toLowerCase())
        if (mode === undefined) {
          yield* message(
            colors.red(`unknown mode ${JSON.stringify(argument)} (expected ${PERMISSION_MODES.join(", ")})`)
          )
          return
        }
        state.mode = mode
        yield* message(`Permission mode: ${mode} (from the next turn on)`)
        return
      }
      const got = yield* Effect.exit(loaded)
      const settings = Exit.isSuccess(got) ? Context.getOption(got.value.context, Settings) : undefined
      const rules = settings !== undefined && settings._tag === "Some" ? yield* settings.value.ruleSet : undefined
      const mode = state.mode ?? rules?.defaultMode ?? "default"
      const lines = [`Permission mode: ${mode} (change with /permissions ${PERMISSION_MODES.join("|")})`]
      // Rules allowed "for this session" hold in the current conversation only.
      const current = ctx.current()
      const grants = current === undefined ? [] : yield* current.grants
      if (rules !== undefined) {
        if (rules.rules.length === 0 && grants.length === 0) lines.push("No rules.")
        for (const rule of rules.rules) {
          lines.push(
            `  ${rule.behavior.padEnd(5)} ${sanitizeForTerminal(rule.text)}  ${colors.dim(sanitizeForTerminal(rule.source))}`
          )
        }
      }
      for (const rule of grants) {
        lines.push(`  ${"allow".padEnd(5)} ${sanitizeForTerminal(rule)}  ${colors.dim("this session")}`)
      }
      yield* message(lines.join("\n"))
    })

  /** The model of the next turn, with what the catalog knows of it (context window, prices). */
  const describeModel = (changed: boolean) =>
    Effect.gen(function* () {
      const got = yield* Effect.exit(loaded)
      const context = Exit.isSuccess(got) ? got.value.context : undefined
      const llm = context === undefined ? undefined : Option.getOrUndefined(Context.getOption(context, LLMClient))
      const catalog =
        context === undefined ? undefined : Option.getOrUndefined(Context.getOption(context, ModelCatalog))
      const model = state.model ?? llm?.model
      const head = `Model: ${model === undefined ? "(the provider's default)" : sanitizeForTerminal(model)}${changed ? " (from the next turn on)" : ""}`
      if (model === undefined || catalog === undefined) return head
      const info = catalog.lookup(model)
      if (!info.known)
        return `${head}\n  ${colors.yellow('not in the model catalog: its cost is unknown (prices can be set in settings "models")')}`
      const price =
        info.pricing === undefined
          ? "price unknown"
          : `$${info.pricing.input} / $${info.pricing.output} per million input / output tokens`
      return `${head}\n  ${colors.dim(`context ${info.contextWindow.toLocaleString("en-US")} tokens · ${price}`)}`
    })

  const showStatus = Effect.gen(function* () {
    const current = ctx.current()
    const turns = current === undefined ? 0 : yield* current.turns
    const lines = [
      `Sage ${VERSION}`,
      `  provider   ${args.provider}`,
      `  model      ${state.model ?? "(the provider's default)"}`,
      `  directory  ${args.cwd}`,
      `  session    ${current === undefined ? "(starts with the first prompt)" : `${current.sessionId}${current.persisted ? "" : " (not saved)"}`}`,
      `  mode       ${state.mode ?? "(settings' default)"}`,
      `  turns      ${turns} in this session`,
      `  reasoning  ${state.showReasoning ? "shown" : "hidden"}`
    ]
    yield* message(lines.join("\n"))
  })

  /** A slash command; returns a prompt to run (custom commands), "exit", or undefined. */
  const command = (name: string, argument: string) =>
    Effect.gen(function* () {
      switch (name) {
        case "help": {
          // The MCP servers' prompts, once the agent (and its servers) is up; without it, the rest of the help.
          const got = yield* Effect.exit(ctx.loaded)
          const prompts = Exit.isSuccess(got) ? yield* Context.get(got.value.context, McpServers).prompts : []
          yield* message(helpText(custom, prompts))
          return undefined
        }
        case "exit":
        case "quit":
          return { exit: true as const }
        case "clear":
          yield* closeCurrent
          yield* message("New conversation.")
          return undefined
        case "cost":
          yield* showCost
          return undefined
        case "model":
          if (argument !== "") state.model = argument
          yield* message(yield* describeModel(argument !== ""))
          return undefined
        case "reasoning":
          state.showReasoning = argument === "" ? !state.showReasoning : argument === "on" || argument === "show"
          yield* message(`Reasoning: ${state.showReasoning ? "shown" : "hidden"}`)
          return undefined
        case "permissions":
          yield* showPermissions(argument)
          return undefined
        case "status":
          yield* showStatus
          return undefined
        case "compact":
          yield* compact(argument)
          return undefined
        case "resume":
          yield* resume(argument)
          return undefined
        default: {
          const found = custom.find((c) => c.name === name)
          if (found !== undefined) return { prompt: expandCommand(found.body, argument) }
          if (name.startsWith("mcp__")) {
            // An MCP server's prompt: its messages become the user's prompt.
            const got = yield* Effect.exit(ctx.loaded)
            if (Exit.isFailure(got)) return yield* Effect.as(failure(Cause.squash(got.cause)), undefined)
            const expanded = yield* expandMcpPrompt(Context.get(got.value.context, McpServers), name, argument)
            if ("prompt" in expanded) return { prompt: expanded.prompt }
            yield* message(colors.red(sanitizeForTerminal(expanded.problem)))
            return undefined
          }
          const known = [...BUILTIN_COMMANDS.map((c) => c.name), ...custom.map((c) => c.name)]
          const close = suggest(name, known)
          yield* message(
            colors.red(
              `Unknown command /${sanitizeForTerminal(name)}.${close.length === 0 ? "" : ` Did you mean ${close.map((c) => `/${c}`).join(", ")}?`} Type /help for the list.`
            )
          )
          return undefined
        }
      }
    })

  const compact = (instructions: string) =>
    Effect.gen(function* () {
      const got = yield* Effect.exit(getConversation)
      if (Exit.isFailure(got)) return yield* failure(Cause.squash(got.cause))
      const { context, conversation } = got.value
      const messages = yield* conversation.messages
      if (messages.length === 0) return yield* message("Nothing to compact yet.")
      screen.line(colors.dim("Compacting the conversation… (Ctrl-C cancels)"))
      const exit = yield* cancellable(
        compactConversation(messages, {
          ...(instructions === "" ? {} : { instructions }),
          ...(state.model === undefined ? {} : { model: state.model })
        }).pipe(Effect.provide(context))
      )
      if (Exit.isFailure(exit)) {
        if (Cause.hasInterruptsOnly(exit.cause)) return yield* message(colors.yellow("Compaction cancelled."))
        return yield* failure(Cause.squash(exit.cause))
      }
      const result = exit.value
      yield* conversation.compacted(result)
      if (result.costUsd !== undefined) {
        state.costUsd += result.costUsd
        state.costKnown = true
      }
      state.inputTokens += result.usage.inputTokens
      state.outputTokens += result.usage.outputTokens
      yield* message(
        `Compacted: ~${result.tokensBefore} → ~${result.tokensAfter} tokens (${result.messagesBefore} messages → summary + ${result.messagesKept} recent).`
      )
    })

  const listSessions = Effect.gen(function* () {
    const { context } = yield* loaded
    const store = Context.get(context, SessionStore)
    const sessions = yield* store.list({ cwd: args.cwd })
    if (sessions.length === 0) return yield* message("No saved sessions in this directory yet.")
    const now = Date.now()
    const rows = sessions.slice(0, 10).map((s) => {
      const cost = s.costUsd === undefined ? "" : ` · ${formatUsd(s.costUsd)}`
      const mark = ctx.current()?.sessionId === s.id ? colors.green(" (current)") : ""
      return `  ${colors.cyan(s.id)}  ${colors.dim(`${ago(now - s.lastUsed)} · ${s.turns} turn${s.turns === 1 ? "" : "s"}${cost}`)}  ${fit1(s.title)}${mark}`
    })
    yield* message(
      [
        `Sessions in ${args.cwd} (newest first):`,
        ...rows,
        colors.dim("Continue one with /resume ID (a unique start of the id is enough).")
      ].join("\n")
    )
  })

  const resume = (argument: string) =>
    Effect.gen(function* () {
      if (argument === "") return yield* listSessions
      const got = yield* Effect.exit(loaded)
      if (Exit.isFailure(got)) return yield* failure(Cause.squash(got.cause))
      const store = Context.get(got.value.context, SessionStore)
      const sessions = yield* store.list({})
      const matches = sessions.filter((s) => s.id === argument || s.id.startsWith(argument))
      const exact = matches.find((s) => s.id === argument)
      const chosen = exact ?? (matches.length === 1 ? matches[0] : undefined)
      if (chosen === undefined) {
        return yield* message(
          colors.red(
            matches.length === 0
              ? `No session ${JSON.stringify(argument)} (/resume lists them).`
              : `${matches.length} sessions start with ${JSON.stringify(argument)}: give more of the id.`
          )
        )
      }
      if (chosen.id === ctx.current()?.sessionId) return yield* message("That is the current session.")
      const opened = yield* Effect.exit(openConversation({ resume: chosen.id }))
      if (Exit.isFailure(opened)) return yield* failure(Cause.squash(opened.cause))
      yield* showResumed(opened.value)
    }).pipe(Effect.catch((error) => failure(error)))

  return { command, listSessions }
}
