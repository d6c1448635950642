/**
 * The Amazon Bedrock ConverseStream wire format, without I/O: `LLMRequest` to `ConverseStreamCommandInput`, a decoder
 * that turns the SDK's decoded stream events into Sage `StreamPart`s, and the mapping of Bedrock exceptions (HTTP or
 * in-stream) to `LLMError`s. Only types are imported from the SDK, so loading this module costs nothing.
 *
 * Decisions:
 * - Reasoning: `reasoningContent` text + signature become a `ThinkingBlock` with its signature; `redactedContent` (bytes)
 *   becomes a `RedactedThinkingBlock` whose `data` is the bytes in base64. Both are sent back exactly as they came
 *   (reasoning without a signature cannot be verified by the model and is left out, as on Anthropic).
 * - Claude models (`anthropic.claude-...`, with or without an inference-profile prefix such as `us.`): thinking goes in
 *   `additionalModelRequestFields.thinking` with the request's budget, and when the model catalog knows the Claude
 *   model, a `cachePoint` follows the system prompt and the tool list (Bedrock prompt caching).
 * - Tool choice `none` has no Bedrock equivalent: no `toolChoice` is sent (the tools stay available).
 * - Images given by URL cannot be sent (Bedrock takes bytes): a text placeholder goes instead.
 * - The `finish` part is emitted when the body ends (after the `metadata` event with the usage); a body that ends
 *   without `messageStop` is a connection cut short.
 * - Usage: Bedrock's `inputTokens` excludes cache reads and writes (reported as `cacheRead/WriteInputTokens`).
 */
import type {
  ContentBlock as WireContentBlock,
  ConverseStreamCommandInput,
  ConverseStreamOutput,
  ImageBlock as WireImageBlock,
  Message as WireMessage,
  SystemContentBlock,
  Tool,
  ToolChoice as WireToolChoice,
  ToolResultContentBlock
} from "@aws-sdk/client-bedrock-runtime"
import {
  AuthenticationError,
  ConnectionError,
  ContextLengthExceededError,
  InvalidRequestError,
  type LLMError,
  ModelNotFoundError,
  OverloadedError,
  ProviderPermissionError,
  RateLimitedError,
  ServerError
} from "../../errors/LLMError.js"
import type { LLMRequest, ToolChoice } from "../../services/LLMClient.js"
import type { ContentBlock, ImageBlock, Message } from "../../streams/Message.js"
import { completeToolCall, type StreamPart } from "../../streams/StreamPart.js"
import { type StopReason, Usage } from "../../streams/Usage.js"
import { lookupModel } from "../ModelCatalog.js"
import {
  alternatingTurns,
  httpError,
  type HeaderSource,
  retryAfterFromHeaders,
  systemPrompt
} from "../ProviderSupport.js"
import { requestBudget } from "../Reasoning.js"

export const PROVIDER = "bedrock"
export const CREDENTIALS_HINT = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"

/** The SDK's JSON document type (tool schemas, tool inputs, additional fields). */
export type Document = ToolResultContentBlock.JsonMember["json"]

/** Any JSON-like value as a document (functions, symbols and `undefined` fields dropped, like `JSON.stringify`). */
export const toDocument = (value: unknown): Document => {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value
  if (typeof value === "number") return Number.isFinite(value) ? value : null
  if (Array.isArray(value)) return value.map(toDocument)
  if (typeof value === "object") {
    const out: Record<string, Document> = {}
    for (const [key, field] of Object.entries(value)) {
      if (field !== undefined && typeof field !== "function" && typeof field !== "symbol") out[key] = toDocument(field)
    }
    return out
  }
  return null
}

// ---------------------------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------------------------

/** Whether `model` is an Anthropic Claude model on Bedrock (`anthropic.claude-...`, `us.anthropic.claude-...`, ARNs). */
export const isClaude = (model: string): boolean => /anthropic\.claude|(^|[./])claude-/.test(model)

/** The Anthropic id of a Bedrock Claude model id: `us.anthropic.claude-sonnet-4-5-20250929-v1:0` -> `claude-sonnet-4-5-20250929`. */
export const anthropicId = (model: string): string =>
  model
    .replace(/^.*?anthropic\./, "")
    .replace(/^.*\//, "")
    .replace(/-v\d+(:\d+)?$/, "")

/** Prompt caching (`cachePoint`) for Claude models the catalog knows (Claude 3 Haiku, which lacks it, excepted). */
export const supportsCaching = (model: string): boolean => {
  if (!isClaude(model)) return false
  const info = lookupModel(anthropicId(model))
  return info.known && info.provider === "anthropic" && !/^claude-3-haiku/.test(anthropicId(model))
}

/** Extended thinking for Claude models the catalog marks as reasoning models. */
export const supportsThinking = (model: string): boolean =>
  isClaude(model) && lookupModel(anthropicId(model)).capabilities.reasoning

// ---------------------------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------------------------

export interface RequestDefaults {
  readonly model: string
  readonly maxTokens: number
}

const imageFormat = (mediaType: string): WireImageBlock["format"] | undefined => {
  switch (mediaType) {
    case "image/png":
      return "png"
    case "image/jpeg":
      return "jpeg"
    case "image/gif":
      return "gif"
    case "image/webp":
      return "webp"
    default:
      return undefined
  }
}

const imageBlock = (block: ImageBlock): { readonly image: WireImageBlock } | { readonly text: string } => {
  if (block.source.type === "url")
    return { text: `[image at ${block.source.url} omitted: Bedrock takes image bytes only]` }
  const format = imageFormat(block.source.mediaType)
  return format === undefined
    ? { text: `[image of unsupported type ${block.source.mediaType} omitted]` }
    : { image: { format, source: { bytes: Buffer.from(block.source.data, "base64") } } }
}

/** A tool call or result as text, for requests without tools (Bedrock refuses tool blocks without a toolConfig). */
const toolBlockText = (block: ContentBlock): string | undefined => {
  if (block.type === "tool_use") return `[tool call ${block.id}: ${block.name}(${JSON.stringify(block.input ?? {})})]`
  if (block.type === "tool_result")
    return `[tool result ${block.toolUseId}${block.isError ? " (error)" : ""}]\n${block.content
      .map((c) => (c.type === "text" ? c.text : "[image]"))
      .join("\n")}`
  return undefined
}

const blockParams = (block: ContentBlock, withTools: boolean): ReadonlyArray<WireContentBlock> => {
  const asText = withTools ? undefined : toolBlockText(block)
  if (asText !== undefined) return [{ text: asText }]
  switch (block.type) {
    case "text":
      return block.text === "" ? [] : [{ text: block.text }]
    case "image":
      return [imageBlock(block)]
    case "tool_use":
      return [{ toolUse: { toolUseId: block.id, name: block.name, input: toDocument(block.input ?? {}) } }]
    case "tool_result": {
      const content: Array<ToolResultContentBlock> = block.content.flatMap(
        (c): ReadonlyArray<ToolResultContentBlock> =>
          c.type === "text" ? (c.text === "" ? [] : [{ text: c.text }]) : [imageBlock(c)]
      )
      return [
        {
          toolResult: {
            toolUseId: block.toolUseId,
            content: content.length === 0 ? [{ text: "(no output)" }] : content,
            status: block.isError ? "error" : "success"
          }
        }
      ]
    }
    case "thinking":
      return block.signature === undefined
        ? []
        : [{ reasoningContent: { reasoningText: { text: block.thinking, signature: block.signature } } }]
    case "redacted_thinking":
      return [{ reasoningContent: { redactedContent: Buffer.from(block.data, "base64") } }]
  }
}

/**
 * Conversation messages as Bedrock messages: `system` messages go to the system prompt, `tool` messages become user
 * messages of toolResult blocks, empty messages are dropped and consecutive same-role messages merged. Without
 * `withTools` (a request that offers no tools), tool calls and results are sent as text: Bedrock refuses toolUse and
 * toolResult blocks in a request without a toolConfig.
 */
export const toMessages = (messages: ReadonlyArray<Message>, withTools = true): Array<WireMessage> =>
  alternatingTurns(messages, (block) => blockParams(block, withTools))

const toToolChoice = (choice: ToolChoice): WireToolChoice | undefined => {
  switch (choice.type) {
    case "auto":
      return { auto: {} }
    case "required":
      return { any: {} }
    case "tool":
      return { tool: { name: choice.name } }
    case "none":
      return undefined
  }
}

const CACHE_POINT = { cachePoint: { type: "default" } } as const

/** The ConverseStream input for a request. */
export const toConverseInput = (request: LLMRequest, defaults: RequestDefaults): ConverseStreamCommandInput => {
  const modelId = request.model ?? defaults.model
  const claude = isClaude(modelId)
  const caching = supportsCaching(modelId)
  const systemText = systemPrompt(request)
  const system: Array<SystemContentBlock> =
    systemText === undefined ? [] : [{ text: systemText }, ...(caching ? [CACHE_POINT] : [])]
  const tools: Array<Tool> = (request.tools ?? []).map((tool) => ({
    toolSpec: {
      name: tool.name,
      description: tool.description,
      inputSchema: { json: toDocument({ ...tool.inputSchema, type: "object" }) }
    }
  }))
  if (tools.length > 0 && caching) tools.push(CACHE_POINT)
  const choice = request.toolChoice === undefined ? undefined : toToolChoice(request.toolChoice)
  const budget = claude ? requestBudget(request) : undefined
  const maxTokens = request.maxTokens ?? defaults.maxTokens
  const stop = request.stopSequences ?? []
  return {
    modelId,
    messages: toMessages(request.messages, (request.tools ?? []).length > 0),
    ...(system.length === 0 ? {} : { system }),
    inferenceConfig: {
      maxTokens: budget !== undefined && maxTokens <= budget ? budget + maxTokens : maxTokens,
      ...(request.temperature === undefined || budget !== undefined ? {} : { temperature: request.temperature }),
      ...(stop.length === 0 ? {} : { stopSequences: [...stop] })
    },
    ...(tools.length === 0 ? {} : { toolConfig: { tools, ...(choice === undefined ? {} : { toolChoice: choice }) } }),
    ...(budget === undefined
      ? {}
      : { additionalModelRequestFields: { thinking: { type: "enabled", budget_tokens: budget } } })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Response stream
// ---------------------------------------------------------------------------------------------------------------

export const mapStopReason = (raw: string | undefined): StopReason => {
  switch (raw) {
    case "end_turn":
    case "tool_use":
    case "max_tokens":
    case "stop_sequence":
      return raw
    case "model_context_window_exceeded":
      return "max_tokens"
    case "guardrail_intervened":
    case "content_filtered":
      return "content_filter"
    default:
      return "other"
  }
}

/** An exception inside the stream or a failed request, by its Bedrock name. */
export interface WireException {
  readonly name: string
  readonly message: string
}

export type DecodeStep =
  | { readonly _tag: "parts"; readonly parts: ReadonlyArray<StreamPart> }
  | { readonly _tag: "exception"; readonly exception: WireException }

const parts = (value: ReadonlyArray<StreamPart>): DecodeStep => ({ _tag: "parts", parts: value })

const EXCEPTION_EVENTS = [
  "internalServerException",
  "modelStreamErrorException",
  "validationException",
  "throttlingException",
  "serviceUnavailableException"
] as const

interface OpenTool {
  readonly id: string
  readonly name: string
  json: string
}

/**
 * The state of one streamed response: feed it every decoded event with `event`, then call `end` when the stream ends.
 * Unknown events and unknown delta kinds are skipped (forward compatibility).
 */
export class BedrockStreamDecoder {
  private readonly tools = new Map<number, OpenTool>()
  private toolCalls = 0
  private stopReason: string | undefined
  private stopped = false
  private usage: Usage | undefined

  constructor(private readonly metadata: { readonly requestId?: string; readonly model: string }) {}

  /** The parts that open the response (metadata: the request id and model). */
  start(): ReadonlyArray<StreamPart> {
    return [
      {
        type: "metadata",
        model: this.metadata.model,
        ...(this.metadata.requestId === undefined ? {} : { responseId: this.metadata.requestId })
      }
    ]
  }

  event(event: ConverseStreamOutput): DecodeStep {
    for (const name of EXCEPTION_EVENTS) {
      const exception = event[name]
      if (exception !== undefined)
        return {
          _tag: "exception",
          exception: { name: name.charAt(0).toUpperCase() + name.slice(1), message: exception.message ?? "" }
        }
    }
    if (event.contentBlockStart !== undefined) {
      const index = event.contentBlockStart.contentBlockIndex ?? 0
      const toolUse = event.contentBlockStart.start?.toolUse
      if (toolUse === undefined) return parts([])
      const id = toolUse.toolUseId ?? `tooluse_${index}`
      const name = toolUse.name ?? ""
      this.tools.set(index, { id, name, json: "" })
      return parts([{ type: "tool-call-start", id, name, index: this.toolCalls++ }])
    }
    if (event.contentBlockDelta !== undefined) {
      const index = event.contentBlockDelta.contentBlockIndex ?? 0
      const delta = event.contentBlockDelta.delta
      if (delta === undefined) return parts([])
      if (delta.text !== undefined) return parts(delta.text === "" ? [] : [{ type: "text-delta", text: delta.text }])
      if (delta.toolUse !== undefined) {
        const tool = this.tools.get(index)
        const input = delta.toolUse.input ?? ""
        if (tool === undefined || input === "") return parts([])
        tool.json += input
        return parts([{ type: "tool-call-delta", id: tool.id, argumentsDelta: input }])
      }
      const reasoning = delta.reasoningContent
      if (reasoning !== undefined) {
        if (reasoning.text !== undefined)
          return parts(reasoning.text === "" ? [] : [{ type: "reasoning-delta", text: reasoning.text }])
        if (reasoning.signature !== undefined)
          return parts([{ type: "reasoning-signature", signature: reasoning.signature }])
        if (reasoning.redactedContent !== undefined)
          return parts([
            { type: "reasoning-redacted", data: Buffer.from(reasoning.redactedContent).toString("base64") }
          ])
      }
      return parts([])
    }
    if (event.contentBlockStop !== undefined) {
      const index = event.contentBlockStop.contentBlockIndex ?? 0
      const tool = this.tools.get(index)
      if (tool === undefined) return parts([])
      this.tools.delete(index)
      return parts([completeToolCall(tool.id, tool.name, tool.json)])
    }
    if (event.messageStop !== undefined) {
      this.stopped = true
      this.stopReason = event.messageStop.stopReason
      return parts([])
    }
    if (event.metadata !== undefined) {
      const usage = event.metadata.usage
      if (usage === undefined) return parts([])
      this.usage = new Usage({
        inputTokens: usage.inputTokens ?? 0,
        outputTokens: usage.outputTokens ?? 0,
        cacheReadTokens: usage.cacheReadInputTokens ?? 0,
        cacheWriteTokens: usage.cacheWriteInputTokens ?? 0
      })
      return parts([{ type: "usage", usage: this.usage }])
    }
    return parts([])
  }

  /** The stream ended: the finish part after `messageStop`, otherwise `undefined` (the response was cut short). */
  end(): ReadonlyArray<StreamPart> | undefined {
    if (!this.stopped) return undefined
    const open = [...this.tools.values()].map((tool) => completeToolCall(tool.id, tool.name, tool.json))
    this.tools.clear()
    const raw = this.stopReason
    const stopReason = mapStopReason(raw)
    return [...open, raw === undefined ? { type: "finish", stopReason } : { type: "finish", stopReason, raw }]
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

export interface FailureContext {
  readonly model: string
  readonly endpoint: string
  readonly status?: number
  readonly headers?: HeaderSource
  readonly requestId?: string
  readonly now: number
}

const CONTEXT_LENGTH = [
  /input is too long/i,
  /too many (input )?tokens/i,
  /context (length|window)/i,
  /prompt is too long/i,
  /exceeds? the maximum (number of )?(input )?tokens/i
]

/** The Bedrock exception name of an error, without the `:http://internal...` suffix of `x-amzn-errortype`. */
export const exceptionName = (raw: string): string => raw.split(":")[0]?.trim() ?? ""

/** A Bedrock exception (from the HTTP response or an exception event inside the stream) as a typed `LLMError`. */
export const exceptionError = (exception: WireException, ctx: FailureContext): LLMError => {
  const name = exceptionName(exception.name)
  const base = {
    provider: PROVIDER,
    ...(ctx.status === undefined ? {} : { status: ctx.status }),
    ...(ctx.requestId === undefined ? {} : { requestId: ctx.requestId })
  }
  const retryAfterMs = retryAfterFromHeaders(ctx.headers, ctx.now)
  const retry = retryAfterMs === undefined ? {} : { retryAfterMs }
  const detail = exception.message.trim() === "" ? "" : `: ${exception.message}`
  switch (name) {
    case "ThrottlingException":
      return new RateLimitedError({
        ...base,
        ...retry,
        message: `${PROVIDER} throttled the request; wait and retry, or lower the request rate${detail}`
      })
    case "ServiceQuotaExceededException":
      return new ProviderPermissionError({
        ...base,
        message: `the request exceeds this AWS account's Bedrock service quota; request a quota increase (retrying will not help)${detail}`
      })
    case "ModelNotReadyException":
    case "ServiceUnavailableException":
      return new OverloadedError({
        ...base,
        ...retry,
        message: `${PROVIDER} is not ready or overloaded; retry later${detail}`
      })
    case "InternalServerException":
    case "ModelStreamErrorException":
    case "ModelErrorException":
      return new ServerError({ ...base, ...retry, message: `${PROVIDER} failed (${name})${detail}` })
    case "ModelTimeoutException":
      return new ConnectionError({ ...base, timeout: true, message: `${PROVIDER} model timed out${detail}` })
    case "ValidationException":
      return CONTEXT_LENGTH.some((p) => p.test(exception.message))
        ? new ContextLengthExceededError({
            ...base,
            message: `the conversation no longer fits model ${ctx.model}'s context window; start a new session or compact it${detail}`
          })
        : new InvalidRequestError({ ...base, message: `${PROVIDER} rejected the request${detail}` })
    case "AccessDeniedException":
      return new ProviderPermissionError({
        ...base,
        message: `${PROVIDER} denied access to model ${ctx.model}; enable model access in the Bedrock console and check the IAM policy${detail}`
      })
    case "ResourceNotFoundException":
      return new ModelNotFoundError({
        ...base,
        model: ctx.model,
        message: `model ${ctx.model} not found at ${PROVIDER}; check --model / SAGE_MODEL and the region${detail}`
      })
    case "UnrecognizedClientException":
    case "InvalidSignatureException":
    case "ExpiredTokenException":
    case "IncompleteSignatureException":
    case "MissingAuthenticationTokenException":
    case "CredentialsProviderError":
      return new AuthenticationError({
        ...base,
        message: `${PROVIDER} rejected the AWS credentials (${name}); ${CREDENTIALS_HINT}${detail}`
      })
    default:
      return httpError({
        provider: PROVIDER,
        apiKeyVar: "AWS_ACCESS_KEY_ID",
        model: ctx.model,
        status: ctx.status,
        message: exception.message,
        ...(name === "" ? {} : { errorType: name }),
        ...(ctx.headers === undefined ? {} : { headers: ctx.headers }),
        ...(ctx.requestId === undefined ? {} : { requestId: ctx.requestId }),
        now: ctx.now
      })
  }
}
