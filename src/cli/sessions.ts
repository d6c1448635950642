/**
 * Sessions on the command line: `sage sessions list|show|export|delete`, the choice of session for a run
 * (`-c`, `-r [ID]`, `--fork-session`, `--session-id`, `--no-session-persistence`), and the picker `sage -r` shows on
 * a terminal.
 */
import * as readline from "node:readline"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodePlatform from "../layers/NodePlatform.js"
import * as SessionStoreLive from "../layers/SessionStoreLive.js"
import { type LoadedSession, SessionStore, type SessionSummary } from "../services/SessionStore.js"
import * as Conversation from "../session/Conversation.js"
import { messageText } from "../streams/Message.js"
import { sanitizeForTerminal } from "../streams/Sanitize.js"
import type { RunArgs, SessionsArgs } from "./Args.js"

type Readable = NodeJS.ReadableStream & { readonly isTTY?: boolean | undefined }
type Writable = NodeJS.WritableStream & { readonly isTTY?: boolean | undefined }

/** The JSONL store of the CLI's environment (`SAGE_HOME` is read through `Config`, `HOME` from `homeDir`). */
export const storeLayer = (homeDir: string | undefined): Layer.Layer<SessionStore> =>
  SessionStoreLive.layerJsonl(homeDir === undefined ? {} : { homeDir }).pipe(Layer.provide(NodePlatform.layer))

export { open as openConversation } from "../session/Conversation.js"

/** A problem with the session flags (`-r` without an id and no terminal, nothing to pick). */
export class SessionUsage {
  readonly _tag = "UsageError"
  constructor(readonly message: string) {}
}

const ago = (then: number, now: number): string => {
  const s = Math.max(0, Math.round((now - then) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.round(s / 60)}m ago`
  if (s < 86_400) return `${Math.round(s / 3600)}h ago`
  return `${Math.round(s / 86_400)}d ago`
}

const cost = (usd: number | undefined): string => (usd === undefined ? "" : `$${usd.toFixed(usd < 1 ? 4 : 2)}`)

/** One line per session: id, last used, turns, cost, model, cwd, title. */
export const formatList = (sessions: ReadonlyArray<SessionSummary>, now: number): string => {
  if (sessions.length === 0) return "No sessions yet. Every sage -p run is saved as a session.\n"
  const rows = sessions.map((s) => [
    s.id,
    ago(s.lastUsed, now),
    `${s.turns} turn${s.turns === 1 ? "" : "s"}`,
    cost(s.costUsd),
    s.model,
    s.cwd,
    sanitizeForTerminal(s.title)
  ])
  const head = ["ID", "LAST USED", "TURNS", "COST", "MODEL", "CWD", "TITLE"]
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd()
  return `${[line(head), ...rows.map(line)].join("\n")}\n`
}

const quoteBlock = (text: string): string =>
  text
    .split("\n")
    .map((l) => `> ${l}`)
    .join("\n")

/** The session as Markdown: each prompt, the tool calls and their results (shortened), and the answers. */
export const toMarkdown = (session: LoadedSession): string => {
  const h = session.header
  const out: Array<string> = [
    `# ${session.summary.title === "" ? h.id : session.summary.title}`,
    "",
    `- session: \`${h.id}\`${h.parentSessionId === undefined ? "" : ` (forked from \`${h.parentSessionId}\`)`}`,
    `- cwd: \`${h.cwd}\``,
    `- model: ${h.provider} ${h.model}`,
    `- created: ${new Date(h.created).toISOString()}`,
    `- turns: ${session.summary.turns}${session.summary.costUsd === undefined ? "" : `, cost ${cost(session.summary.costUsd)}`}`,
    ""
  ]
  for (const record of session.records) {
    if (record.parentAgentId !== undefined) continue
    switch (record.type) {
      case "turn.started":
        out.push("## User", "", typeof record.prompt === "string" ? record.prompt : "", "")
        break
      case "message": {
        const message = record.message
        if (typeof message !== "object" || message === null || !("role" in message) || !("content" in message)) break
        const content = Array.isArray(message.content) ? message.content : []
        if (message.role === "assistant") {
          const text = content
            .flatMap((b: unknown) =>
              typeof b === "object" && b !== null && "type" in b && b.type === "text" && "text" in b
                ? [String(b.text)]
                : []
            )
            .join("")
          if (text.trim() !== "") out.push("## Assistant", "", text, "")
          for (const b of content) {
            if (typeof b === "object" && b !== null && "type" in b && b.type === "tool_use" && "name" in b) {
              const input = "input" in b ? JSON.stringify(b.input) : ""
              out.push(
                `**Tool** \`${String(b.name)}\` \`${input.length > 200 ? `${input.slice(0, 197)}...` : input}\``,
                ""
              )
            }
          }
        }
        break
      }
      case "tool.completed": {
        const result = record.result
        if (typeof result !== "object" || result === null || !("output" in result) || !Array.isArray(result.output))
          break
        const text = result.output
          .map((o: unknown) => (typeof o === "object" && o !== null && "text" in o ? String(o.text) : ""))
          .join("\n")
        const short = text.length > 500 ? `${text.slice(0, 497)}...` : text
        const status = "status" in result ? String(result.status) : ""
        out.push(`Result (${status}):`, "", quoteBlock(short), "")
        break
      }
      case "interrupted":
        out.push(`*Interrupted: ${String(record.reason)}*`, "")
        break
      case "failed":
        out.push("*The turn failed.*", "")
        break
      case "compaction":
        out.push("*The conversation was compacted here (summary below).*", "", quoteBlock(String(record.summary)), "")
        break
      case "session.repaired":
        out.push(`*Repaired after a crash: ${Array.isArray(record.repairs) ? record.repairs.join("; ") : ""}*`, "")
        break
    }
  }
  return `${out.join("\n").trimEnd()}\n`
}

/** `sage sessions ...`; the exit code. */
export const runSessions = (
  args: SessionsArgs,
  write: (text: string) => Effect.Effect<void>,
  writeError: (text: string) => Effect.Effect<void>
) =>
  Effect.gen(function* () {
    const store = yield* SessionStore
    const now = Date.now()
    switch (args.action) {
      case "list": {
        const sessions = yield* store.list(args.cwd === undefined ? {} : { cwd: args.cwd })
        yield* write(formatList(sessions, now))
        return 0
      }
      case "show": {
        const session = yield* store.load(args.id ?? "")
        const s = session.summary
        const lines = [
          `id          ${s.id}`,
          `title       ${sanitizeForTerminal(s.title)}`,
          `cwd         ${s.cwd}`,
          `model       ${s.provider} ${s.model}`,
          `created     ${new Date(s.created).toISOString()}`,
          `last used   ${new Date(s.lastUsed).toISOString()} (${ago(s.lastUsed, now)})`,
          `turns       ${s.turns}`,
          ...(s.costUsd === undefined ? [] : [`cost        ${cost(s.costUsd)}`]),
          ...(s.parentSessionId === undefined ? [] : [`forked from ${s.parentSessionId}`]),
          `messages    ${session.messages.length}`,
          ...(session.todos.length === 0
            ? []
            : [
                `todos       ${session.todos.map((t) => `[${t.status}] ${sanitizeForTerminal(t.content)}`).join("; ")}`
              ]),
          ...(session.grants.length === 0 ? [] : [`allowed     ${session.grants.join(", ")} (for this session)`]),
          ...(session.repairs.length === 0 ? [] : [`repaired    ${session.repairs.join("; ")}`]),
          "",
          ...session.messages.slice(-6).map((m) => {
            const results = m.content.filter((b) => b.type === "tool_result").length
            const calls = m.content.flatMap((b) => (b.type === "tool_use" ? [b.name] : []))
            const text = sanitizeForTerminal(
              [
                messageText(m).replace(/\s+/g, " ").trim(),
                calls.length === 0 ? "" : `[calls ${calls.join(", ")}]`,
                results === 0 ? "" : `[${results} tool result${results === 1 ? "" : "s"}]`
              ]
                .filter((p) => p !== "")
                .join(" ")
            )
            return `${m.role.padEnd(10)}  ${text.length > 100 ? `${text.slice(0, 97)}...` : text}`
          })
        ]
        yield* write(`${lines.join("\n")}\n`)
        return 0
      }
      case "export": {
        if (args.format === "jsonl") yield* write(yield* store.read(args.id ?? ""))
        else yield* write(toMarkdown(yield* store.load(args.id ?? "")))
        return 0
      }
      case "delete": {
        yield* store.delete(args.id ?? "")
        yield* writeError(`sage: deleted session ${args.id}\n`)
        return 0
      }
    }
  })

/** Asks which session to resume (a numbered list on `output`, a line from `input`); undefined when cancelled. */
export const pickSession = (
  sessions: ReadonlyArray<SessionSummary>,
  input: Readable,
  output: Writable,
  now: number
): Effect.Effect<string | undefined> =>
  Effect.callback<string | undefined>((resume) => {
    const shown = sessions.slice(0, 20)
    output.write(
      `${shown
        .map(
          (s, i) =>
            `${String(i + 1).padStart(3)}) ${s.id}  ${ago(s.lastUsed, now)}  ${s.turns} turn${s.turns === 1 ? "" : "s"}  ${sanitizeForTerminal(s.title)}`
        )
        .join("\n")}\nResume which session? [1-${shown.length}, Enter to cancel]: `
    )
    const rl = readline.createInterface({ input, terminal: false })
    let answered = false
    rl.once("line", (line) => {
      answered = true
      rl.close()
      const n = Number(line.trim())
      const chosen = Number.isInteger(n) && n >= 1 ? shown[n - 1] : shown.find((s) => s.id === line.trim())
      resume(Effect.succeed(chosen?.id))
    })
    rl.once("close", () => {
      if (!answered) resume(Effect.succeed(undefined))
    })
    return Effect.sync(() => {
      answered = true
      rl.close()
    })
  })

/**
 * The session a run uses (`-c`, `-r`, `--fork-session`, `--session-id`), chosen before the agent is built (a
 * resumed session's permission grants become allow rules of the run). `-r` without an id asks on a terminal.
 */
export const planRun = (args: RunArgs, stdin: Readable, stderr: Writable) =>
  Effect.gen(function* () {
    let resume = args.resume
    if (resume === true) {
      const store = yield* SessionStore
      if (stdin.isTTY !== true || stderr.isTTY !== true) {
        return yield* Effect.fail(
          new SessionUsage(
            "--resume needs a session id when not on a terminal: sage -r ID (sage sessions list shows the ids; -c continues the latest of this directory)"
          )
        )
      }
      const here = yield* store.list({ cwd: args.cwd })
      const sessions = here.length > 0 ? here : yield* store.list()
      if (sessions.length === 0) return yield* Effect.fail(new SessionUsage("no sessions to resume yet"))
      const picked = yield* pickSession(sessions, stdin, stderr, Date.now())
      if (picked === undefined) return yield* Effect.fail(new SessionUsage("no session chosen"))
      resume = picked
    }
    return yield* Conversation.plan({
      cwd: args.cwd,
      ...(resume === undefined ? {} : { resume }),
      continue: args.continue,
      fork: args.forkSession,
      ...(args.sessionId === undefined ? {} : { sessionId: args.sessionId }),
      persist: args.persistSession
    })
  })
