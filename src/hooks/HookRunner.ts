/**
 * Running hooks: the `Hooks` service from a configuration (settings files and options), the workspace and the
 * environment commands get.
 *
 * A command hook runs as `bash --norc --noprofile -c <command>` in the workspace, in its own process group (killed on timeout and when
 * the caller is interrupted), with the scrubbed environment plus `SAGE_PROJECT_DIR` (and `CLAUDE_PROJECT_DIR`, so
 * that hooks written for Claude Code work), and the event as JSON on stdin. Its exit code decides: 0 goes on
 * (stdout may be a JSON answer, or for UserPromptSubmit and SessionStart plain text for the model's context), 2
 * blocks with stderr as the reason, anything else is an error that is reported and otherwise ignored. A callback
 * hook's answer (or failure) is read the same way.
 *
 * The hooks of one event run in parallel (at most `concurrency` at once, identical commands once) and their answers
 * are combined (see `HookOutcome`). Nothing here fails: every problem is a `HookReport`.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { OutputCollector, spawnGroup } from "../process/ProcessGroup.js"
import {
  type HookEventName,
  type HookHandler,
  type HookInput,
  type HookOutcome,
  type HookOutput,
  type HookReport,
  type Hooks,
  type HooksConfig,
  emptyOutcome
} from "../services/Hooks.js"
import { matches } from "./Matcher.js"

export const DEFAULT_HOOK_TIMEOUT_SECONDS = 60
export const DEFAULT_HOOK_CONCURRENCY = 8
/** Bytes of stdout and of stderr kept per hook (head and tail). */
const MAX_OUTPUT_BYTES = 256 * 1024
/** What a report keeps of stderr or an error. */
const MAX_MESSAGE_CHARS = 2_000
const KILL_GRACE = Duration.millis(500)
const DRAIN = Duration.millis(200)

export interface HookRunnerOptions {
  /** The hooks as they are now (read at every event). */
  readonly config: Effect.Effect<HooksConfig>
  /** The workspace root: commands run here, and it is `SAGE_PROJECT_DIR`. */
  readonly cwd: string
  /** The environment of commands, already scrubbed of credentials (see `CommandEnv.ts`). */
  readonly env: Readonly<Record<string, string>>
  /** Hooks of one event running at once at most (default 8). */
  readonly concurrency?: number
}

/** The target an event's matchers are matched against. */
export const matchTarget = (input: HookInput): string | undefined => {
  switch (input.hook_event_name) {
    case "PreToolUse":
    case "PostToolUse":
    case "PermissionRequest":
      return input.tool_name
    case "SessionStart":
      return input.source
    case "SessionEnd":
      return input.reason
    case "PreCompact":
      return input.trigger
    case "Notification":
      return input.notification_type
    default:
      return undefined
  }
}

/** The hooks to run for `input`: those of matching matchers, identical commands (and callbacks) once. */
export const selectHandlers = (config: HooksConfig, input: HookInput): ReadonlyArray<HookHandler> => {
  const target = matchTarget(input)
  const seen = new Set<unknown>()
  const out: Array<HookHandler> = []
  for (const group of config[input.hook_event_name] ?? []) {
    if (!matches(group.matcher, target)) continue
    for (const handler of group.hooks) {
      const key = handler.type === "command" ? `command:${handler.command}` : handler.callback
      if (seen.has(key)) continue
      seen.add(key)
      out.push(handler)
    }
  }
  return out
}

const bounded = (text: string): string =>
  text.length <= MAX_MESSAGE_CHARS ? text : `${text.slice(0, MAX_MESSAGE_CHARS)}... [${text.length} characters]`

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined)

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const BEHAVIORS = ["allow", "deny"] as const
const PERMISSION_DECISIONS = ["allow", "deny", "ask"] as const

/** A hook's answer from untyped JSON (or a callback's value): known fields of the right type, the rest ignored. */
export const toOutput = (value: unknown): HookOutput | undefined => {
  if (!isRecord(value)) return undefined
  const specific = isRecord(value.hookSpecificOutput) ? value.hookSpecificOutput : undefined
  const decisionOf = (d: unknown) => {
    const behavior = isRecord(d) ? BEHAVIORS.find((b) => b === d.behavior) : undefined
    if (!isRecord(d) || behavior === undefined) return undefined
    const message = str(d.message)
    return {
      behavior,
      ...(d.updatedInput === undefined ? {} : { updatedInput: d.updatedInput }),
      ...(message === undefined ? {} : { message })
    }
  }
  const permissionDecision = PERMISSION_DECISIONS.find((p) => p === specific?.permissionDecision)
  const decision = decisionOf(specific?.decision)
  const hookSpecificOutput =
    specific === undefined
      ? undefined
      : {
          ...(str(specific.hookEventName) === undefined ? {} : { hookEventName: str(specific.hookEventName) }),
          ...(permissionDecision === undefined ? {} : { permissionDecision }),
          ...(str(specific.permissionDecisionReason) === undefined
            ? {}
            : { permissionDecisionReason: str(specific.permissionDecisionReason) }),
          ...(specific.updatedInput === undefined ? {} : { updatedInput: specific.updatedInput }),
          ...(str(specific.additionalContext) === undefined
            ? {}
            : { additionalContext: str(specific.additionalContext) }),
          ...(decision === undefined ? {} : { decision })
        }
  return {
    ...(typeof value.continue === "boolean" ? { continue: value.continue } : {}),
    ...(str(value.stopReason) === undefined ? {} : { stopReason: str(value.stopReason) }),
    ...(typeof value.suppressOutput === "boolean" ? { suppressOutput: value.suppressOutput } : {}),
    ...(str(value.systemMessage) === undefined ? {} : { systemMessage: str(value.systemMessage) }),
    ...(value.decision === "block" || value.decision === "approve" ? { decision: value.decision } : {}),
    ...(str(value.reason) === undefined ? {} : { reason: str(value.reason) }),
    ...(hookSpecificOutput === undefined ? {} : { hookSpecificOutput })
  }
}

/** What one hook run gave. */
interface Ran {
  readonly report: HookReport
  readonly output?: HookOutput
  /** Exit code 2: stderr. */
  readonly blocked?: string
  /** Exit code 0 with text that is not a JSON answer. */
  readonly text?: string
}

const labelOf = (handler: HookHandler): string =>
  handler.type === "command" ? handler.command : (handler.name ?? "callback")

const timeoutOf = (handler: HookHandler): Duration.Duration =>
  Duration.millis(Math.round((handler.timeout ?? DEFAULT_HOOK_TIMEOUT_SECONDS) * 1000))

const since = (start: number) => Effect.map(Clock.currentTimeMillis, (now) => Math.max(0, now - start))

/** Reads stdout of a hook that exited 0: a JSON answer, or text. */
const readStdout = (stdout: string): { readonly output?: HookOutput; readonly text?: string } => {
  const trimmed = stdout.trim()
  if (trimmed === "") return {}
  if (trimmed.startsWith("{")) {
    try {
      const output = toOutput(JSON.parse(trimmed))
      if (output !== undefined) return { output }
    } catch {
      // Not JSON: plain text.
    }
  }
  return { text: trimmed }
}

const runCommand = (
  handler: Extract<HookHandler, { type: "command" }>,
  input: HookInput,
  options: HookRunnerOptions
): Effect.Effect<Ran> =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    const event = input.hook_event_name
    const stdout = new OutputCollector(MAX_OUTPUT_BYTES)
    const stderr = new OutputCollector(MAX_OUTPUT_BYTES)
    const attempt = yield* Effect.result(
      Effect.scoped(
        Effect.gen(function* () {
          const group = yield* Effect.acquireRelease(
            spawnGroup({
              command: "bash",
              // No start-up files: bash reads ~/.bashrc when its stdin is a socket (as Node's pipes are).
              args: ["--norc", "--noprofile", "-c", handler.command],
              cwd: options.cwd,
              env: options.env,
              tool: "hook",
              stdin: `${JSON.stringify(input)}\n`,
              onOutput: (chunk, from) => (from === "stdout" ? stdout : stderr).push(chunk)
            }),
            (g) => g.kill(KILL_GRACE)
          )
          // Interruptible even inside a finalizer (SessionEnd), so that the timeout always fires.
          const exited = yield* Effect.interruptible(group.exited.pipe(Effect.timeoutOption(timeoutOf(handler))))
          if (Option.isNone(exited)) {
            yield* group.kill(KILL_GRACE)
            return undefined
          }
          yield* group.closed.pipe(Effect.timeoutOption(DRAIN))
          return exited.value
        })
      )
    )
    const durationMs = yield* since(start)
    const base = { event, hook: handler.command, durationMs }
    if (attempt._tag === "Failure") {
      return { report: { ...base, outcome: "error", message: bounded(attempt.failure.message) } } satisfies Ran
    }
    const exit = attempt.success
    if (exit === undefined) {
      const seconds = handler.timeout ?? DEFAULT_HOOK_TIMEOUT_SECONDS
      return {
        report: { ...base, outcome: "timeout", message: `the hook did not finish within ${seconds} s and was killed` }
      } satisfies Ran
    }
    const errText = stderr.text().trim()
    const code = exit.code ?? -1
    if (code === 2) {
      const reason = errText === "" ? `blocked by the hook ${handler.command}` : errText
      return { report: { ...base, outcome: "blocked", exitCode: 2, message: bounded(reason) }, blocked: reason }
    }
    if (code !== 0) {
      const why = exit.signal === null ? `exit code ${code}` : `killed by ${exit.signal}`
      return {
        report: {
          ...base,
          outcome: "error",
          exitCode: code,
          message: bounded(errText === "" ? `the hook failed (${why})` : errText)
        }
      } satisfies Ran
    }
    const read = readStdout(stdout.text())
    return { report: { ...base, outcome: "success", exitCode: 0 }, ...read } satisfies Ran
  })

const describeError = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === "string" ? error : String(error)

const runCallback = (handler: Extract<HookHandler, { type: "callback" }>, input: HookInput): Effect.Effect<Ran> =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    const base = { event: input.hook_event_name, hook: labelOf(handler) }
    const attempt = yield* Effect.suspend(() =>
      handler.callback(input, input.tool_use_id === undefined ? {} : { toolUseId: input.tool_use_id })
    ).pipe(
      Effect.timeoutOption(timeoutOf(handler)),
      Effect.interruptible,
      Effect.catchDefect((defect) => Effect.fail(defect)),
      Effect.result
    )
    const durationMs = yield* since(start)
    if (attempt._tag === "Failure") {
      return {
        report: { ...base, durationMs, outcome: "error", message: bounded(describeError(attempt.failure)) }
      } satisfies Ran
    }
    if (Option.isNone(attempt.success)) {
      const seconds = handler.timeout ?? DEFAULT_HOOK_TIMEOUT_SECONDS
      return {
        report: { ...base, durationMs, outcome: "timeout", message: `the hook did not finish within ${seconds} s` }
      } satisfies Ran
    }
    const output = toOutput(attempt.success.value)
    return { report: { ...base, durationMs, outcome: "success" }, ...(output === undefined ? {} : { output }) }
  })

/** Events whose plain stdout (exit code 0) goes to the model's context. */
const TEXT_IS_CONTEXT: ReadonlySet<HookEventName> = new Set(["UserPromptSubmit", "SessionStart"])

const RANK = { allow: 0, ask: 1, deny: 2 } as const

/** The answers of one event's hooks, combined (see `HookOutcome`). */
export const combine = (event: HookEventName, runs: ReadonlyArray<Ran>): HookOutcome => {
  const blocked: Array<string> = []
  const context: Array<string> = []
  let stop: string | undefined
  let permission: HookOutcome["permission"]
  let updatedInput: unknown
  const reports: Array<HookReport> = []
  const decide = (decision: "allow" | "deny" | "ask", reason: string | undefined) => {
    if (permission === undefined || RANK[decision] > RANK[permission.decision]) {
      permission = { decision, ...(reason === undefined ? {} : { reason }) }
    } else if (RANK[decision] === RANK[permission.decision] && reason !== undefined) {
      permission = { decision, reason: permission.reason === undefined ? reason : `${permission.reason}; ${reason}` }
    }
  }
  for (const run of runs) {
    let report = run.report
    if (run.blocked !== undefined) blocked.push(run.blocked)
    if (run.text !== undefined && TEXT_IS_CONTEXT.has(event)) context.push(run.text)
    const o = run.output
    if (o !== undefined) {
      let refused = false
      if (o.continue === false) stop = [stop, o.stopReason ?? ""].filter((s) => s !== undefined && s !== "").join("; ")
      if (o.decision === "block") {
        blocked.push(o.reason ?? `blocked by the hook ${report.hook}`)
        refused = true
      }
      if (o.decision === "approve" && event === "PreToolUse") decide("allow", o.reason)
      const specific = o.hookSpecificOutput
      if (specific !== undefined) {
        if (event === "PreToolUse" && specific.permissionDecision !== undefined) {
          decide(specific.permissionDecision, specific.permissionDecisionReason)
          refused ||= specific.permissionDecision === "deny"
        }
        if (event === "PreToolUse" && specific.updatedInput !== undefined) updatedInput = specific.updatedInput
        if (event === "PermissionRequest" && specific.decision !== undefined) {
          decide(specific.decision.behavior, specific.decision.message)
          refused ||= specific.decision.behavior === "deny"
          if (specific.decision.updatedInput !== undefined) updatedInput = specific.decision.updatedInput
        }
        if (specific.additionalContext !== undefined && specific.additionalContext.trim() !== "") {
          context.push(specific.additionalContext)
        }
      }
      if (refused && report.outcome === "success") {
        const why = o.reason ?? specific?.permissionDecisionReason ?? specific?.decision?.message
        report = { ...report, outcome: "blocked", ...(why === undefined ? {} : { message: bounded(why) }) }
      } else if (o.systemMessage !== undefined && report.message === undefined) {
        report = { ...report, message: bounded(o.systemMessage) }
      }
    }
    reports.push(report)
  }
  return {
    ...(blocked.length === 0 ? {} : { blocked: blocked.join("\n") }),
    ...(stop === undefined ? {} : { stop }),
    ...(permission === undefined ? {} : { permission }),
    ...(updatedInput === undefined ? {} : { updatedInput }),
    additionalContext: context,
    reports
  }
}

/** The `Hooks` service for `options`. */
export const makeHookRunner = (options: HookRunnerOptions): Hooks.Service => {
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_HOOK_CONCURRENCY)
  const run = (input: HookInput): Effect.Effect<HookOutcome> =>
    Effect.flatMap(options.config, (config) => {
      const handlers = selectHandlers(config, input)
      if (handlers.length === 0) return Effect.succeed(emptyOutcome)
      return Effect.map(
        Effect.forEach(
          handlers,
          (handler) => (handler.type === "command" ? runCommand(handler, input, options) : runCallback(handler, input)),
          { concurrency }
        ),
        (runs) => combine(input.hook_event_name, runs)
      )
    })
  const has = (event: HookEventName): Effect.Effect<boolean> =>
    Effect.map(options.config, (config) => (config[event] ?? []).some((m) => m.hooks.length > 0))
  return { run, has }
}
