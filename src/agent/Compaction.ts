/**
 * Compaction: when a conversation nears the model's context window, the model summarizes the older part under a
 * fixed prompt, and the conversation continues from one user message holding the summary plus the latest messages.
 *
 * The cut never separates a tool_use from its tool_result: the kept tail starts at a user or assistant message,
 * never at a tool message, so every tool_use it holds has its results after it, and every tool_result its call.
 * The messages before the cut are not lost: the session log keeps them (the `compaction` event marks the boundary).
 *
 * Token counts here are estimates (about 4 characters a token), good enough to decide when and where to cut; the
 * trigger itself is measured from the input tokens the provider reported for the last response.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import { CompactionError } from "../errors/CompactionError.js"
import type { LLMError } from "../errors/LLMError.js"
import { LLMClient, type LLMRequest } from "../services/LLMClient.js"
import { ModelCatalog } from "../services/ModelCatalog.js"
import { Workspace } from "../services/Workspace.js"
import * as HookRun from "../hooks/Run.js"
import { type ContentBlock, type Message, messageText } from "../streams/Message.js"
import type { ToolDefinition } from "../streams/ToolCall.js"
import { Usage } from "../streams/Usage.js"
import type { AgentEventBodyOf, Emit } from "./AgentEvents.js"
import type { TurnTranscript } from "./TranscriptRepair.js"

/** The fixed instructions the summarizing request ends with. */
export const COMPACTION_PROMPT = `Your task now is to write a summary of the conversation so far. It will replace the conversation: \
you will continue the work from this summary and the latest messages alone, so everything needed to carry on must be in it. \
Do not call any tools. Be specific and complete, but concise: keep exact names, paths, commands, values and error messages; \
leave out pleasantries and anything already superseded.

Cover, under these headings:
1. Goal: what the user asked for, in their own words where it matters, including every explicit requirement.
2. User preferences and constraints: style, tools, things to do or not to do, approvals given or refused.
3. Decisions: what was decided and why, and approaches that were tried and rejected.
4. Files and code: every file read, created or changed, with what changed and why; important code snippets, \
signatures and commands verbatim.
5. Errors and fixes: problems met and how they were solved (or not yet).
6. Current state: what was being done right before this summary, precisely.
7. Open tasks: what remains, in order, and the next step.

Reply with the summary only, inside <summary></summary> tags.`

/** The first line of the summary message (how the model knows what it is reading). */
export const SUMMARY_INTRO =
  "This conversation was compacted to fit the context window. Here is a summary of the earlier part of it:"

const SUMMARY_OUTRO =
  "Continue from where the conversation left off; the latest messages (if any) follow. Do not mention the summary."

/** The user message that stands for the summarized part of a conversation. */
export const summaryMessage = (summary: string): Message => ({
  role: "user",
  content: [{ type: "text", text: `${SUMMARY_INTRO}\n\n<summary>\n${summary}\n</summary>\n\n${SUMMARY_OUTRO}` }]
})

/**
 * The conversation after a compaction, rebuilt from the messages before it and the `compaction` event's fields (what
 * a session log does on load).
 */
export const rebuild = (
  before: ReadonlyArray<Message>,
  summary: string,
  messagesKept: number
): ReadonlyArray<Message> => [
  summaryMessage(summary),
  ...(messagesKept <= 0 ? [] : before.slice(Math.max(0, before.length - messagesKept)))
]

/** Estimated tokens an image costs (a large screenshot is about this much on both vendors). */
const IMAGE_TOKENS = 1_600
const MESSAGE_OVERHEAD = 4

const blockChars = (block: ContentBlock): number => {
  switch (block.type) {
    case "text":
      return block.text.length
    case "image":
      return IMAGE_TOKENS * 4
    case "tool_use":
      return block.name.length + (JSON.stringify(block.input) ?? "").length
    case "tool_result":
      return block.content.reduce((n, c) => n + (c.type === "text" ? c.text.length : IMAGE_TOKENS * 4), 0)
    case "thinking":
      return block.thinking.length
    case "redacted_thinking":
      return block.data.length
  }
}

/** Estimated tokens of one message (about 4 characters a token). */
export const estimateMessageTokens = (message: Message): number =>
  MESSAGE_OVERHEAD + Math.ceil(message.content.reduce((n, b) => n + blockChars(b), 0) / 4)

/** Estimated tokens of a conversation. */
export const estimateTokens = (messages: ReadonlyArray<Message>): number =>
  messages.reduce((n, m) => n + estimateMessageTokens(m), 0)

/** Whether the conversation may be cut right before `messages[i]` (the tail would start with a whole exchange). */
const isCutPoint = (messages: ReadonlyArray<Message>, i: number): boolean => {
  const role = messages[i]?.role
  return role === "user" || role === "assistant"
}

/**
 * Where to cut: the index of the first kept message. The tail is the longest one that fits in `keepTokens` and
 * starts at a cut point; at least one message is summarized. A conversation that ends with the user's prompt keeps
 * that prompt even when it is over `keepTokens`.
 */
export const cutIndex = (messages: ReadonlyArray<Message>, keepTokens: number): number => {
  let cut = messages.length
  let size = 0
  for (let i = messages.length - 1; i >= 1; i--) {
    size += estimateMessageTokens(messages[i] ?? { role: "user", content: [] })
    if (size > keepTokens) break
    if (isCutPoint(messages, i)) cut = i
  }
  const last = messages.length - 1
  if (cut === messages.length && last >= 1 && messages[last]?.role === "user") return last
  return cut
}

export interface CompactOptions {
  /** Extra instructions for this summary (`/compact focus on the API changes`). */
  readonly instructions?: string
  /** The model to summarize with; default the client's. */
  readonly model?: string
  /** The system prompt of the conversation (sent again so that the provider's prompt cache is reused). */
  readonly system?: string
  /** The conversation's tools (some providers refuse tool_use blocks without them); the summary may not call them. */
  readonly tools?: ReadonlyArray<ToolDefinition>
  /** Estimated tokens of the latest messages kept verbatim after the summary; default 20,000. */
  readonly keepRecentTokens?: number
  /** Output tokens of the summary at most; default 8,192. */
  readonly maxTokens?: number
  /**
   * Estimated tokens the summarizing request may carry (the model's input budget less the summary). When the part
   * to summarize is larger, its oldest messages are left out (and the model is told so). Default: no limit.
   */
  readonly maxRequestTokens?: number
  /** The session being compacted (named to PreCompact hooks by `compactConversation`). */
  readonly sessionId?: string
}

export const DEFAULT_KEEP_RECENT_TOKENS = 20_000
export const DEFAULT_SUMMARY_TOKENS = 8_192

export interface CompactionResult {
  readonly summary: string
  /** The conversation after compaction: the summary message, then the kept messages. */
  readonly messages: ReadonlyArray<Message>
  readonly messagesBefore: number
  readonly messagesKept: number
  /** Estimated tokens before and after. */
  readonly tokensBefore: number
  readonly tokensAfter: number
  /** Usage of the summarizing request. */
  readonly usage: Usage
  /** Its cost in USD, when the model's price is known. */
  readonly costUsd?: number
}

/** The text inside `<summary>` tags (the whole text when the model left them out), trimmed. */
export const extractSummary = (text: string): string => {
  const match = /<summary>([\s\S]*?)(?:<\/summary>|$)/.exec(text)
  return (match?.[1] ?? text).trim()
}

/**
 * `head` without its oldest messages until it fits in `limit` estimated tokens (at least its last message stays),
 * starting with a note saying how many were left out; never starting at a tool result whose call was left out.
 */
export const fitHead = (head: ReadonlyArray<Message>, limit: number): ReadonlyArray<Message> => {
  let size = estimateTokens(head)
  if (size <= limit) return head
  let start = 0
  while (start < head.length - 1 && (size > limit || head[start]?.role === "tool")) {
    size -= estimateMessageTokens(head[start] ?? { role: "user", content: [] })
    start++
  }
  const note: Message = {
    role: "user",
    content: [
      {
        type: "text",
        text: `[The ${start} oldest messages of this conversation did not fit in this request and are left out.]`
      }
    ]
  }
  return [note, ...head.slice(start)]
}

const requestFailed = (error: LLMError): CompactionError =>
  new CompactionError({
    message: `compaction failed, the conversation is unchanged: ${error.message}`,
    reason: "request_failed",
    errorTag: error._tag,
    retryable: error.retryable
  })

/**
 * Summarize the older part of `messages` with `llm`, keeping the latest messages whole. Fails with
 * `CompactionError` (the caller's conversation is untouched): nothing to summarize, the request failed, or the
 * model gave no summary.
 */
export const compactWith = (
  llm: LLMClient.Service,
  messages: ReadonlyArray<Message>,
  options: CompactOptions = {},
  pricing?: (usage: Usage) => number | undefined
): Effect.Effect<CompactionResult, CompactionError> =>
  Effect.gen(function* () {
    const conversation = messages
    if (conversation.length === 0) {
      return yield* new CompactionError({ message: "there is no conversation to compact yet", reason: "empty" })
    }
    const cut = cutIndex(conversation, Math.max(0, options.keepRecentTokens ?? DEFAULT_KEEP_RECENT_TOKENS))
    const instructions = options.instructions?.trim() ?? ""
    const ask: Message = {
      role: "user",
      content: [
        {
          type: "text",
          text:
            instructions === ""
              ? COMPACTION_PROMPT
              : `${COMPACTION_PROMPT}\n\nAdditional instructions for this summary:\n${instructions}`
        }
      ]
    }
    const head = fitHead(
      conversation.slice(0, cut),
      Math.max(0, (options.maxRequestTokens ?? Number.POSITIVE_INFINITY) - estimateTokens([ask]))
    )
    const tail = conversation.slice(cut)
    const tools = options.tools ?? []
    const request: LLMRequest = {
      messages: [...head, ask],
      maxTokens: options.maxTokens ?? DEFAULT_SUMMARY_TOKENS,
      ...(options.model === undefined ? {} : { model: options.model }),
      ...(options.system === undefined ? {} : { system: options.system }),
      ...(tools.length === 0 ? {} : { tools, toolChoice: { type: "none" as const } })
    }
    const response = yield* Effect.mapError(llm.generate(request), requestFailed)
    const summary = extractSummary(messageText(response.message))
    if (summary === "") {
      return yield* new CompactionError({
        message: "compaction failed, the conversation is unchanged: the model answered without a summary",
        reason: "no_summary"
      })
    }
    const compacted = [summaryMessage(summary), ...tail]
    const costUsd = pricing?.(response.usage)
    return {
      summary,
      messages: compacted,
      messagesBefore: messages.length,
      messagesKept: tail.length,
      tokensBefore: estimateTokens(messages),
      tokensAfter: estimateTokens(compacted),
      usage: response.usage,
      ...(costUsd === undefined ? {} : { costUsd })
    }
  })

/**
 * Compact a conversation with the context's `LLMClient` (a manual `/compact`): the result's `messages` replace the
 * conversation. By default everything is summarized (`keepRecentTokens` 0; a conversation ending with a user message
 * keeps it). Priced with the context's `ModelCatalog` when there is one. Fails with `CompactionError`.
 */
export const compactConversation = Effect.fn("Compaction.compactConversation")(function* (
  messages: ReadonlyArray<Message>,
  options: CompactOptions = {}
) {
  const llm = yield* LLMClient
  const catalog = yield* Effect.serviceOption(ModelCatalog)
  const workspace = yield* Effect.serviceOption(Workspace)
  const hooks = yield* HookRun.scopeOf({
    session_id: options.sessionId ?? "",
    cwd: Option.match(workspace, { onNone: () => "", onSome: (w) => w.cwd })
  })
  yield* HookRun.preCompact(hooks, "manual", options.instructions)
  const model = options.model ?? llm.model
  const info = Option.getOrUndefined(Option.map(catalog, (c) => c.lookup(model)))
  const maxTokens =
    options.maxTokens ?? Math.min(DEFAULT_SUMMARY_TOKENS, info?.maxOutputTokens ?? DEFAULT_SUMMARY_TOKENS)
  const budget = info === undefined ? undefined : (info.maxInputTokens ?? info.contextWindow) - maxTokens
  const maxRequestTokens = options.maxRequestTokens ?? budget
  const price = Option.match(catalog, {
    onNone: () => undefined,
    onSome: (c) => (usage: Usage) => c.costUsd(model, usage)
  })
  return yield* compactWith(
    llm,
    messages,
    { keepRecentTokens: 0, ...options, maxTokens, ...(maxRequestTokens === undefined ? {} : { maxRequestTokens }) },
    price
  )
})

// ---------------------------------------------------------------------------------------------------------------
// Automatic compaction inside a turn

/** Default fraction of the model's input budget at which a turn compacts its conversation. */
export const DEFAULT_THRESHOLD = 0.8

/** The `compaction` event of a result (stamp it with `AgentEvents.stamp` / an `Emit`). */
export const compactionEventBody = (
  result: CompactionResult,
  trigger: "auto" | "manual",
  turnId?: string
): AgentEventBodyOf<"compaction"> => ({
  type: "compaction",
  ...(turnId === undefined ? {} : { turnId }),
  trigger,
  summary: result.summary,
  messagesBefore: result.messagesBefore,
  messagesKept: result.messagesKept,
  tokensBefore: result.tokensBefore,
  tokensAfter: result.tokensAfter,
  usage: result.usage,
  ...(result.costUsd === undefined ? {} : { costUsd: result.costUsd })
})

/** The `compaction.failed` event of an error. */
export const compactionFailedBody = (
  error: CompactionError,
  trigger: "auto" | "manual",
  turnId?: string
): AgentEventBodyOf<"compaction.failed"> => ({
  type: "compaction.failed",
  ...(turnId === undefined ? {} : { turnId }),
  trigger,
  error: {
    // The provider error's tag when a request failed (what to act on), else `CompactionError`.
    tag: error.errorTag ?? error._tag,
    message: error.message,
    ...(error.retryable === undefined ? {} : { retryable: error.retryable })
  }
})

export interface AutoCompaction {
  readonly turnId: string
  readonly llm: LLMClient.Service
  /** The turn's request without its messages (model, system prompt, tools). */
  readonly request: Omit<LLMRequest, "messages">
  readonly transcript: Ref.Ref<TurnTranscript>
  readonly emit: Emit
  /** Input tokens a request may carry (the model's input limit, else its context window). */
  readonly inputBudget: number
  /** Compact when the conversation reaches this fraction of `inputBudget`. */
  readonly threshold: number
  /** The model's output limit (the summary's is the smaller of it and 8,192). */
  readonly maxOutputTokens: number
  readonly cost: (usage: Usage) => number | undefined
  /** Runs just before a compaction starts (the PreCompact hooks). */
  readonly beforeCompact?: Effect.Effect<void>
}

/** Tokens of the turn's request besides its messages (system prompt, tool definitions), estimated. */
const requestOverhead = (request: Omit<LLMRequest, "messages">): number =>
  Math.ceil(((request.system ?? "").length + (JSON.stringify(request.tools ?? []) ?? "").length) / 4)

const promptTokens = (usage: Usage): number => usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens

/**
 * The size of the next request, in tokens: what the provider reported for the last response (its input and
 * output), plus an estimate of the messages appended after it (tool results, steering). Without a report (the first
 * step, or a provider that reports no usage) everything is estimated.
 */
export const nextRequestTokens = (
  messages: ReadonlyArray<Message>,
  last: Usage | undefined,
  overhead: number
): number => {
  let after = messages.length
  while (after > 0 && messages[after - 1]?.role !== "assistant") after--
  if (last === undefined || promptTokens(last) === 0 || after === 0) return overhead + estimateTokens(messages)
  return promptTokens(last) + last.outputTokens + estimateTokens(messages.slice(after))
}

/**
 * A step-boundary hook for a turn: before each model request, it measures the conversation and, when it has
 * reached `threshold` of the input budget, compacts it (a `compaction` event; the turn's transcript and usage are
 * updated together). A failed compaction emits `compaction.failed`, leaves the conversation as it was and turns
 * automatic compaction off for the rest of the turn; so does a compaction that could not get under the threshold.
 */
export const makeAutoCompactor = (context: AutoCompaction): Effect.Effect<Effect.Effect<void>> =>
  Effect.gen(function* () {
    const state = yield* Ref.make<{ readonly seen: Usage | undefined; readonly off: boolean }>({
      seen: undefined,
      off: false
    })
    const overhead = requestOverhead(context.request)
    const limit = context.threshold * context.inputBudget
    const summaryTokens = Math.min(DEFAULT_SUMMARY_TOKENS, context.maxOutputTokens)
    return Effect.gen(function* () {
      const { seen, off } = yield* Ref.get(state)
      const transcript = yield* Ref.get(context.transcript)
      // The last step's usage: the turn's total less what it was at the previous boundary.
      const last =
        seen === undefined
          ? undefined
          : new Usage({
              inputTokens: transcript.usage.inputTokens - seen.inputTokens,
              outputTokens: transcript.usage.outputTokens - seen.outputTokens,
              cacheReadTokens: transcript.usage.cacheReadTokens - seen.cacheReadTokens,
              cacheWriteTokens: transcript.usage.cacheWriteTokens - seen.cacheWriteTokens,
              reasoningTokens: transcript.usage.reasoningTokens - seen.reasoningTokens
            })
      yield* Ref.set(state, { seen: transcript.usage, off })
      if (off) return
      const tokens = nextRequestTokens(transcript.messages, last, overhead)
      if (tokens < limit) return
      if (context.beforeCompact !== undefined) yield* context.beforeCompact
      const attempt = yield* Effect.result(
        compactWith(
          context.llm,
          transcript.messages,
          {
            ...(context.request.model === undefined ? {} : { model: context.request.model }),
            ...(context.request.system === undefined ? {} : { system: context.request.system }),
            ...(context.request.tools === undefined ? {} : { tools: context.request.tools }),
            keepRecentTokens: Math.min(DEFAULT_KEEP_RECENT_TOKENS, Math.floor(context.inputBudget / 4)),
            maxTokens: summaryTokens,
            maxRequestTokens: context.inputBudget - summaryTokens - overhead
          },
          context.cost
        )
      )
      if (Result.isFailure(attempt)) {
        yield* Ref.set(state, { seen: transcript.usage, off: true })
        yield* context.emit(compactionFailedBody(attempt.failure, "auto", context.turnId))
        return
      }
      const result = { ...attempt.success, tokensBefore: tokens }
      yield* Effect.uninterruptible(
        Effect.gen(function* () {
          // Messages appended while the summary was written (none today: the loop waits) are kept after it.
          const now = yield* Ref.get(context.transcript)
          const added = now.messages.slice(transcript.messages.length)
          const usage = now.usage.add(result.usage)
          yield* Ref.set(context.transcript, { ...now, messages: [...result.messages, ...added], usage })
          yield* Ref.set(state, { seen: usage, off: overhead + result.tokensAfter >= limit })
          yield* context.emit(compactionEventBody(result, "auto", context.turnId))
        })
      )
    })
  })
