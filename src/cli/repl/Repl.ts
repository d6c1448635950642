/**
 * The interactive REPL (`sage` with no prompt, on a terminal): a prompt, turns streamed as rendered Markdown with
 * live tool status lines, approvals answered inline, slash commands, and steering (text typed while a turn runs
 * is queued and given to the model at its next step; what is left when the turn ends is the next prompt).
 *
 * Input is read in raw mode and decoded here (`keys.ts`); the terminal is restored on every way out (the scope's
 * finalizer, and a process `exit` hook for the last resort). Ctrl-C interrupts a running turn (a second one while
 * it is still stopping kills every process group at once and exits 130); at the prompt it clears the line, and
 * twice on an empty line exits. Ctrl-D on an empty line exits (typed while a turn runs: once the turn is over).
 * SIGTERM and SIGHUP end the session (exit 130).
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"
import type * as Context from "effect/Context"
import * as Stream from "effect/Stream"
import type { SageServices } from "../../layers/SageLive.js"
import type { ApprovalAnswer, Approver } from "../../services/Permissions.js"
import { SessionStore } from "../../services/SessionStore.js"
import * as Conversation from "../../session/Conversation.js"
import { SUMMARY_INTRO } from "../../agent/Compaction.js"
import type { SessionPlan, SessionSelection } from "../../session/Conversation.js"
import { type AgentEvent, PROTOCOL_VERSION } from "../../streams/AgentEvent.js"
import { type Message, messageText } from "../../streams/Message.js"
import { sanitizeForTerminal } from "../../streams/Sanitize.js"
import type { ToolCall } from "../../streams/ToolCall.js"
import type { RunArgs } from "../Args.js"
import { parseAnswer } from "../approver.js"
import { sageOptions } from "../options.js"
import { useColor } from "../Help.js"
import { type CliIO, describeError } from "../main.js"
import { preloadAgent } from "../preload.js"
import { runInput } from "../runInput.js"
import { VERSION } from "../version.js"
import { loadCustomCommands, parseCommand } from "./commands.js"
import { fromSession, type ReplConversation } from "./conversation.js"
import { type History, openHistory, sageHome } from "./history.js"
import { type Key, makeKeyDecoder } from "./keys.js"
import { applyKey, type EditorAction, type EditorState, emptyEditor, type Layout } from "./LineEditor.js"
import { makeScreen } from "./Screen.js"
import { makeSlashCommands, oneLine, type ReplState } from "./slash.js"
import { makeTurnView, palette } from "./TurnView.js"
import { watchMcpStatus } from "../mcpStatus.js"

/** The prompt string (the bench and the tmux tests look for it). */
export const PROMPT = "› "
export const DUMB_PROMPT = "> "

/** An input event: a key, or the end of input (the terminal closed, or a terminating signal). */
type Input = Key | { readonly name: "closed"; readonly text: string }

type TTYIn = NodeJS.ReadableStream & {
  readonly isTTY?: boolean | undefined
  readonly setRawMode?: (mode: boolean) => unknown
  readonly setEncoding?: (encoding: BufferEncoding) => unknown
}
type TTYOut = NodeJS.WritableStream & { readonly columns?: number; readonly rows?: number }

/** What the approver needs from the running turn's input loop. */
interface PendingApproval {
  editor: EditorState
  readonly canAlways: boolean
  readonly answer: Deferred.Deferred<ApprovalAnswer>
}

const describeInput = (input: unknown): string => {
  const json = JSON.stringify(input) ?? ""
  return sanitizeForTerminal(json.length > 300 ? `${json.slice(0, 297)}...` : json)
}

/** 0 for the end of input, 1 for a failed start, 130 for a terminating signal. */
/** The command a Ctrl-D typed while a turn runs leaves for after it. */
const EXIT_COMMAND = "/exit"

const exitCodeOf = (why: string): number => (why === "end" ? 0 : why === "error" ? 1 : 130)

/**
 * The REPL. It runs in a child fiber under an uninterruptible parent: signals reach it only through `io.onSignal`
 * (SIGINT interrupts the turn, SIGTERM and SIGHUP end the session after it), never as a sudden interruption of the
 * whole program by the runtime.
 */
export const runRepl = (args: RunArgs, io: CliIO): Effect.Effect<number> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(Effect.forkChild(restore(repl(args, io))), (fiber) => Fiber.join(fiber))
  )

/** A text delta carrying `text` (to show a stored answer with the same renderer as a live one). */
const textEvent = (text: string): AgentEvent => ({
  type: "text.delta",
  turnId: "",
  text,
  v: PROTOCOL_VERSION,
  sessionId: "",
  agentId: "main",
  timestamp: 0
})

const repl = (args: RunArgs, io: CliIO): Effect.Effect<number> =>
  Effect.scoped(
    Effect.gen(function* () {
      // A long-lived process whose prompt is ready long before any model request: compact heap from the start.
      io.compactHeap?.()
      const stdin: TTYIn = io.stdin
      const stdout: TTYOut = io.stdout
      const ansi = io.env.TERM !== "dumb"
      const color = useColor(true, io.env)
      const colors = palette(color)
      const screen = makeScreen(
        {
          write: (text) => {
            stdout.write(text)
          },
          columns: () => stdout.columns ?? 80,
          rows: () => stdout.rows ?? 24
        },
        { ansi, color }
      )
      const promptLayout = (): Layout => ({
        prompt: color ? colors.cyan(ansi ? PROMPT : DUMB_PROMPT) : ansi ? PROMPT : DUMB_PROMPT,
        continuation: "  ",
        columns: screen.columns()
      })

      // Raw input, decoded into keys; restored on every exit path.
      const inputs = yield* Queue.unbounded<Input>()
      const decode = makeKeyDecoder()
      const onData = (chunk: Buffer | string) => {
        for (const key of decode(typeof chunk === "string" ? chunk : chunk.toString("utf8"))) {
          Queue.offerUnsafe(inputs, key)
        }
      }
      const onEnd = () => {
        Queue.offerUnsafe(inputs, { name: "closed", text: "end" })
      }
      let restored = false
      const restore = () => {
        if (restored) return
        restored = true
        stdin.off("data", onData)
        stdin.off("end", onEnd)
        try {
          if (ansi) stdout.write("\u001b[?2004l")
          stdin.setRawMode?.(false)
        } catch {
          // the terminal is gone
        }
        stdin.pause()
      }
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          stdin.setRawMode?.(true)
          stdin.on("data", onData)
          stdin.on("end", onEnd)
          stdin.resume()
          // Bracketed paste: a pasted newline is text, not Enter.
          if (ansi) stdout.write("\u001b[?2004h")
          process.once("exit", restore)
        }),
        () =>
          Effect.sync(() => {
            screen.hideInput()
            restore()
            process.off("exit", restore)
          })
      )

      // Signals: SIGINT is Ctrl-C (it only comes from outside in raw mode); SIGTERM and SIGHUP end the session.
      const unsubscribe = io.onSignal((signal) => {
        Queue.offerUnsafe(inputs, signal === "SIGINT" ? { name: "ctrl", text: "c" } : { name: "closed", text: signal })
      })
      yield* Effect.addFinalizer(() => Effect.sync(unsubscribe))
      const forceExit = (code: number) => {
        screen.hideInput()
        restore()
        io.forceExit(code)
      }

      const home = sageHome(io.env)
      const history: History = openHistory(home === undefined ? undefined : `${home}/history`)
      const custom = loadCustomCommands(args.cwd, io.env.HOME)
      const state: ReplState = {
        model: args.model,
        mode: args.permissionMode,
        showReasoning: false,
        turns: 0,
        inputTokens: 0,
        outputTokens: 0,
        cacheTokens: 0,
        costUsd: 0,
        costKnown: false
      }

      // The banner and the prompt come first; the agent loads behind them.
      screen.write(
        `${colors.bold(`Sage ${VERSION}`)} ${colors.dim(`· ${args.provider}${args.model === undefined ? "" : ` · ${args.model}`} · ${args.cwd}`)}\n${colors.dim("/help for commands and keys, Ctrl-D to exit")}\n`
      )
      screen.showInput(emptyEditor(history.entries().length), promptLayout())

      let approval: PendingApproval | undefined
      /** Draws the running turn's input line again (after an approval question took its place). */
      let turnInput: (() => void) | undefined
      /** Commands typed while a turn ran: they run (in order) when it is over. */
      const afterTurn: Array<string> = []
      /** Set when input ended or a terminating signal came during a turn: the session ends after it. */
      let closedBy: string | undefined
      const approver: Approver.Service = {
        approve: (call: ToolCall, request: { readonly reason: string; readonly suggestion?: string }) =>
          Effect.gen(function* () {
            const answer = yield* Deferred.make<ApprovalAnswer>()
            const always =
              request.suggestion === undefined
                ? ""
                : `, [s]ession or [a]lways allow ${sanitizeForTerminal(request.suggestion)}`
            screen.line(
              `${colors.yellow("?")} ${colors.bold(sanitizeForTerminal(call.name))} ${colors.dim(describeInput(call.input))}\n  ${sanitizeForTerminal(request.reason)}\n  Allow? [y]es once${always}, [n]o (add a reason after n)`
            )
            approval = { editor: emptyEditor(0), canAlways: request.suggestion !== undefined, answer }
            screen.showInput(approval.editor, approvalLayout())
            return yield* Deferred.await(answer).pipe(
              Effect.ensuring(
                Effect.sync(() => {
                  approval = undefined
                  screen.hideInput()
                  turnInput?.()
                })
              )
            )
          })
      }
      const steerLayout = (): Layout => ({
        prompt: `${colors.dim("working… (Ctrl-C interrupts; type to add a message)")} ${ansi ? "» " : ">> "}`,
        continuation: "  ",
        columns: screen.columns()
      })
      const approvalLayout = (): Layout => ({
        prompt: `  ${colors.yellow(approval?.canAlways === true ? "y/s/a/n" : "y/n")} ${ansi ? PROMPT : DUMB_PROMPT}`,
        continuation: "  ",
        columns: screen.columns()
      })

      const options = sageOptions(args, io.env, approver)
      // Loading: the session store, the session asked for (-c, -r ID, --fork-session), then the agent. The prompt is
      // already on screen meanwhile. A session's "for this session" grants are not rules of the agent: opening its
      // conversation allows them for that session only (so /clear and /resume leave them behind).
      const loaded = yield* Deferred.make<
        { readonly context: Context.Context<SageServices>; readonly plan: SessionPlan },
        unknown
      >()
      yield* Effect.forkScoped(
        Effect.gen(function* () {
          const { layerNode, sessions } = yield* Effect.promise(() => preloadAgent(args.provider))
          io.onLoaded?.()
          const store = yield* Effect.provide(SessionStore.use(Effect.succeed), sessions.storeLayer(io.env.HOME))
          const plan = yield* Conversation.plan({
            cwd: args.cwd,
            ...(typeof args.resume === "string" ? { resume: args.resume } : {}),
            continue: args.continue,
            fork: args.forkSession,
            ...(args.sessionId === undefined ? {} : { sessionId: args.sessionId })
          }).pipe(Effect.provideService(SessionStore, store))
          const layer = layerNode(options).pipe(Layer.provide(Layer.succeed(SessionStore, store)))
          return { context: yield* Layer.build(layer), plan }
        }).pipe(
          Effect.exit,
          Effect.flatMap((exit) => Deferred.done(loaded, exit))
        )
      )

      // The conversation: a session of the store (in memory only with --no-session-persistence), opened with the
      // first prompt (at once for -c and -r); /clear and /resume close it (its log gets `session.ended`, its lock is
      // released) and open another.
      let current: { readonly conversation: ReplConversation; readonly scope: Scope.Closeable } | undefined
      let firstPlan = true
      const closeCurrent = Effect.suspend(() => {
        const open = current
        current = undefined
        return open === undefined ? Effect.void : Scope.close(open.scope, Exit.void)
      })
      yield* Effect.addFinalizer(() => closeCurrent)
      const openConversation = (selection: Omit<SessionSelection, "cwd">) =>
        Effect.gen(function* () {
          const { context, plan } = yield* Deferred.await(loaded)
          yield* closeCurrent
          const usePlan = firstPlan
          firstPlan = false
          const scope = yield* Scope.make()
          const opened = yield* Conversation.open({
            cwd: args.cwd,
            ...selection,
            ...(usePlan ? { plan } : {}),
            persist: args.persistSession,
            ...(state.model === undefined ? {} : { model: state.model })
          }).pipe(
            Scope.provide(scope),
            Effect.provide(context),
            Effect.onError(() => Scope.close(scope, Exit.void))
          )
          const conversation = fromSession(opened)
          current = { conversation, scope }
          return conversation
        })
      const getConversation = Effect.gen(function* () {
        const { context } = yield* Deferred.await(loaded)
        const conversation = current?.conversation ?? (yield* openConversation({}))
        return { context, conversation }
      })

      /** The end of a resumed conversation, so the user knows where it stands. */
      const showResumed = (conversation: ReplConversation) =>
        Effect.gen(function* () {
          const messages = yield* conversation.messages
          const turns = yield* conversation.turns
          screen.line(colors.dim(`Resumed session ${conversation.sessionId} (${turns} turn${turns === 1 ? "" : "s"}).`))
          // The last exchange: the last prompt the user typed (not a compaction summary) and the answer after it.
          const isPrompt = (m: Message) =>
            m.role === "user" && m.content.some((b) => b.type === "text") && !messageText(m).startsWith(SUMMARY_INTRO)
          const lastUser = messages.findLastIndex(isPrompt)
          if (messages.some((m) => m.role === "user" && messageText(m).startsWith(SUMMARY_INTRO))) {
            screen.line(colors.dim("(earlier messages were compacted into a summary)"))
          }
          const view = makeTurnView(screen, { showReasoning: false })
          if (lastUser !== -1) {
            const prompt = messageText(messages[lastUser] ?? { role: "user", content: [] })
            screen.line(colors.dim(`${ansi ? PROMPT : DUMB_PROMPT}${oneLine(prompt)}`))
          }
          const answer = messages.slice(lastUser + 1).findLast((m) => m.role === "assistant")
          if (answer !== undefined) view.onEvent(textEvent(messageText(answer)))
          view.finish()
        })

      // Loading failed (a session that cannot be opened, a bad setting): the error, and the REPL ends.
      // A session asked for on the command line is opened at once and its end is shown.
      yield* Effect.forkScoped(
        Effect.gen(function* () {
          const got = yield* Effect.exit(Deferred.await(loaded))
          if (Exit.isFailure(got)) {
            yield* failure(Cause.squash(got.cause))
            Queue.offerUnsafe(inputs, { name: "closed", text: "error" })
            return
          }
          if (got.value.plan.kind === "new") return
          const opened = yield* Effect.exit(openConversation({}))
          if (Exit.isFailure(opened)) {
            yield* failure(Cause.squash(opened.cause))
            Queue.offerUnsafe(inputs, { name: "closed", text: "error" })
            return
          }
          yield* showResumed(opened.value)
        })
      )

      const message = (text: string) => Effect.sync(() => screen.line(text))
      const failure = (error: unknown) => message(colors.red(`error: ${describeError(error)}`))

      /** Reads one input line at the prompt. */
      const readLine = (initial: string) =>
        Effect.gen(function* () {
          let editor: EditorState = { ...emptyEditor(history.entries().length), text: initial, cursor: initial.length }
          screen.showInput(editor, promptLayout())
          while (true) {
            const input = yield* Queue.take(inputs)
            if (input.name === "closed") return { type: "closed" as const, text: input.text }
            const step = applyKey(editor, input, history.entries())
            editor = step.state
            const action: EditorAction = step.action
            if (action.type === "none") {
              screen.showInput(editor, promptLayout())
              continue
            }
            return action
          }
        })

      let imagesPending = true
      /** One turn: events on screen, keys steer / answer approvals / interrupt. Returns leftover steering text. */
      const runTurn = (prompt: string) =>
        Effect.scoped(
          Effect.gen(function* () {
            const got = yield* Effect.exit(getConversation)
            if (Exit.isFailure(got)) {
              const error = Exit.findErrorOption(got)
              yield* failure(error._tag === "Some" ? error.value : Cause.squash(got.cause))
              return { left: "", draft: "" }
            }
            // `@path.png` references in every prompt, `--image` files with the first one (see `runInput`).
            const input = yield* Effect.exit(
              runInput({ ...args, images: imagesPending ? args.images : [], jsonSchema: undefined }, prompt).pipe(
                Effect.provide(got.value.context)
              )
            )
            imagesPending = false
            if (Exit.isFailure(input)) {
              const error = Exit.findErrorOption(input)
              yield* failure(error._tag === "Some" ? error.value : Cause.squash(input.cause))
              return { left: "", draft: "" }
            }
            const steering = yield* Queue.unbounded<string>()
            const execution = yield* got.value.conversation.start(input.value.prompt, {
              steering,
              ...(state.model === undefined ? {} : { model: state.model }),
              ...(state.mode === undefined ? {} : { permissionMode: state.mode })
            })
            const view = makeTurnView(screen, { showReasoning: state.showReasoning })
            const record = (event: AgentEvent) => {
              // A sub-agent's usage is already in its parent's turn.ended.
              if (event.type === "turn.ended" && event.parentAgentId === undefined) {
                state.turns++
                state.inputTokens += event.usage.inputTokens
                state.outputTokens += event.usage.outputTokens
                state.cacheTokens += event.usage.cacheReadTokens + event.usage.cacheWriteTokens
                if (event.costUsd !== undefined) {
                  state.costUsd += event.costUsd
                  state.costKnown = true
                }
              }
            }
            const printer = yield* Effect.forkScoped(
              Stream.runForEach(execution.events, (event) =>
                Effect.sync(() => {
                  record(event)
                  view.onEvent(event)
                })
              )
            )
            let steer = emptyEditor(history.entries().length)
            // While the turn runs, the input line below the output says so (on a dumb terminal only once typed in).
            const showSteer = () => {
              if (approval !== undefined) return
              if (ansi || steer.text !== "") screen.showInput(steer, steerLayout())
              else screen.hideInput()
            }
            turnInput = showSteer
            showSteer()
            let stopping = false
            const keys = yield* Effect.forkScoped(
              Effect.forever(
                Effect.gen(function* () {
                  const input = yield* Queue.take(inputs)
                  if (input.name === "closed" || (input.name === "ctrl" && input.text === "c")) {
                    if (input.name === "closed") closedBy = input.text
                    if (stopping) return forceExit(130)
                    stopping = true
                    yield* Effect.forkScoped(execution.interrupt)
                    return
                  }
                  const pending = approval
                  if (pending !== undefined) {
                    const step = applyKey(pending.editor, input, [])
                    pending.editor = step.state
                    if (step.action.type === "submit") {
                      screen.commitInput()
                      yield* Deferred.succeed(pending.answer, parseAnswer(step.action.text, pending.canAlways))
                    } else screen.showInput(pending.editor, approvalLayout())
                    return
                  }
                  const step = applyKey(steer, input, history.entries())
                  steer = step.state
                  if (step.action.type === "eof") {
                    // Ctrl-D on an empty line while the turn runs: exit once it is over (as a shell does with an
                    // end-of-file typed ahead), not a key lost.
                    if (!afterTurn.includes(EXIT_COMMAND)) {
                      afterTurn.push(EXIT_COMMAND)
                      screen.hideInput()
                      screen.line(colors.dim("↳ exits after this turn (Ctrl-D)"))
                    }
                    showSteer()
                    return
                  }
                  if (step.action.type === "submit" && step.action.text.trim() !== "") {
                    history.add(step.action.text)
                    screen.hideInput()
                    if (parseCommand(step.action.text) !== undefined) {
                      // A command is for Sage, not the model: it runs when the turn is over.
                      afterTurn.push(step.action.text)
                      screen.line(colors.dim(`↳ runs after this turn: ${oneLine(step.action.text)}`))
                    } else {
                      yield* Queue.offer(steering, step.action.text)
                      screen.line(colors.dim(`↳ queued for the next step: ${oneLine(step.action.text)}`))
                    }
                    steer = emptyEditor(history.entries().length)
                    showSteer()
                    return
                  }
                  showSteer()
                })
              )
            )
            const exit = yield* Effect.exit(execution.result)
            yield* Effect.ignore(Fiber.join(printer))
            yield* Fiber.interrupt(keys)
            turnInput = undefined
            screen.hideInput()
            // A failure was shown by its `failed` event; one before the turn started is shown here.
            if (Exit.isFailure(exit) && !view.sawEnd()) yield* failure(Cause.squash(exit.cause))
            view.finish()
            const left = (yield* Queue.clear(steering)).filter((t) => t.trim() !== "")
            return { left: left.join("\n"), draft: steer.text }
          })
        )

      /** Runs `effect` until it ends or Ctrl-C is pressed (other keys meanwhile are dropped). */
      const cancellable = <A, E>(effect: Effect.Effect<A, E>) =>
        Effect.gen(function* () {
          const fiber = yield* Effect.forkChild(effect)
          const watcher = yield* Effect.forkChild(
            Effect.gen(function* () {
              while (true) {
                const input = yield* Queue.take(inputs)
                if (input.name === "closed") closedBy = input.text
                if (input.name === "closed" || (input.name === "ctrl" && input.text === "c")) {
                  return yield* Fiber.interrupt(fiber)
                }
              }
            })
          )
          const exit = yield* Fiber.await(fiber)
          yield* Fiber.interrupt(watcher)
          return exit
        })

      const slash = makeSlashCommands({
        args,
        state,
        screen,
        colors,
        custom,
        loaded: Deferred.await(loaded),
        current: () => current?.conversation,
        getConversation,
        openConversation,
        closeCurrent,
        showResumed,
        cancellable,
        message,
        failure
      })
      const command = slash.command
      const listSessions = slash.listSessions

      // MCP servers that failed or wait for approval, then status changes (a crash, a reconnection).
      yield* Effect.forkScoped(
        Effect.ignore(
          Effect.flatMap(Deferred.await(loaded), ({ context }) =>
            watchMcpStatus(context, (line) => message(colors.dim(sanitizeForTerminal(line))))
          )
        )
      )

      // `-r` without an id: the sessions to choose from (then /resume ID).
      if (args.resume === true)
        yield* Effect.forkScoped(Effect.ignore(Effect.andThen(Deferred.await(loaded), listSessions)))

      let interruptArmed = false
      let draft = ""
      while (true) {
        if (closedBy !== undefined) {
          screen.hideInput()
          return exitCodeOf(closedBy)
        }
        const next = afterTurn.shift()
        if (next !== undefined) screen.line(colors.dim(`${ansi ? PROMPT : DUMB_PROMPT}${oneLine(next)}`))
        const action: EditorAction | { readonly type: "closed"; readonly text: string } =
          next === undefined ? yield* readLine(draft) : { type: "submit", text: next }
        if (next === undefined) draft = ""
        if (action.type === "closed") {
          screen.hideInput()
          return exitCodeOf(action.text)
        }
        if (action.type === "eof") {
          screen.hideInput()
          return 0
        }
        if (action.type === "interrupt") {
          if (interruptArmed) {
            screen.hideInput()
            return 0
          }
          interruptArmed = true
          screen.line(colors.dim("Press Ctrl-C again to exit (or Ctrl-D)."))
          continue
        }
        if (action.type !== "submit") continue
        interruptArmed = false
        if (next === undefined) screen.commitInput()
        const text = action.text
        if (text.trim() === "") continue
        if (next === undefined) history.add(text)
        let prompt: string | undefined = text
        const parsed = parseCommand(text)
        if (parsed !== undefined) {
          const outcome = yield* command(parsed.name, parsed.args)
          if (outcome === undefined) continue
          if ("exit" in outcome) {
            screen.hideInput()
            return 0
          }
          prompt = outcome.prompt
        }
        while (prompt !== undefined && prompt.trim() !== "" && closedBy === undefined) {
          const turn: { readonly left: string; readonly draft: string } = yield* runTurn(prompt)
          const { left, draft: typed } = turn
          prompt = undefined
          draft = typed
          if (left !== "" && closedBy === undefined) {
            // Steering that arrived after the model's last step: the next turn's prompt.
            screen.line(`${colors.dim("↳ sending what was queued:")} ${oneLine(left)}`)
            prompt = left
          }
        }
      }
    })
  )
