/**
 * Translation between Sage and the Gemini `generateContent` wire format (Gemini API and Vertex AI speak the same
 * JSON). Pure: no I/O and no SDK runtime import (types only; the two enums the request needs are passed in).
 *
 * Decisions:
 * - Candidate 0 only.
 * - `thoughtSignature`: kept on the block it arrived with and sent back on the same part: thought parts become a
 *   `thinking` block with `signature` (a `reasoning-signature` part), text parts a `text` block with `signature`
 *   (the `text-delta` that carries it closes the text streamed so far), function calls a `tool_use` with `signature`.
 *   Unsigned thoughts are not sent back (the API ignores them).
 * - Function calls have no ids on the Gemini API: each call gets `<prefix>_<n>` (the prefix holds the response id),
 *   and such generated ids are never sent back; responses are matched by name and order. An id the server did send
 *   is kept and sent back.
 * - Streamed arguments (Vertex `streamFunctionCallArguments`, Gemini 3): `{name, willContinue}` opens a call,
 *   `partialArgs` fill it (by JSON path; strings continue across chunks while `willContinue`), and an empty
 *   `functionCall` (or the end of the stream) closes it. The JSON arguments are sent as one delta when the call
 *   completes (partial JSON paths cannot be rendered as a prefix of the final JSON).
 * - Usage: `inputTokens` = `promptTokenCount - cachedContentTokenCount`, `cacheReadTokens` the cached part;
 *   `outputTokens` = `candidatesTokenCount + thoughtsTokenCount` (like OpenAI, output includes reasoning);
 *   `reasoningTokens` = `thoughtsTokenCount`. Sent once, at the end (the last `usageMetadata` wins).
 * - Finish: STOP -> end_turn (tool_use when calls were made), MAX_TOKENS -> max_tokens, SAFETY / RECITATION /
 *   BLOCKLIST / PROHIBITED_CONTENT / SPII / IMAGE_SAFETY and a blocked prompt -> content_filter, others -> other.
 * - Gemini 3: a model turn with function calls but no signature (not from Gemini) gets Google's documented dummy
 *   signature on its first call, which Gemini 3 otherwise rejects.
 * - Tool results: a `functionResponse` per result (`{output}` or `{error}`), images of results as `inlineData`
 *   parts after them in the same user turn.
 */
import type {
  Content,
  FunctionCallingConfigMode,
  FunctionDeclaration,
  GenerateContentConfig,
  GenerateContentParameters,
  Part,
  ThinkingConfig,
  ThinkingLevel
} from "@google/genai"
import type { LLMRequest, ReasoningEffort, ToolChoice } from "../../services/LLMClient.js"
import type { ContentBlock, ImageSource, Message } from "../../streams/Message.js"
import { completeToolCall, type StreamPart } from "../../streams/StreamPart.js"
import { type StopReason, Usage } from "../../streams/Usage.js"
import { requestBudget, requestEffort } from "../Reasoning.js"

// ---------------------------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------------------------

/** The SDK enums the request uses (runtime values come from the lazily loaded SDK). */
export interface GeminiEnums {
  readonly FunctionCallingConfigMode: typeof FunctionCallingConfigMode
  readonly ThinkingLevel: typeof ThinkingLevel
}

export interface RequestOptions {
  readonly model: string
  readonly enums: GeminiEnums
  /** Ask Vertex to stream function-call arguments (Gemini 3 on Vertex only). */
  readonly streamFunctionCallArguments?: boolean
}

/** Prefix of the tool-call ids Sage makes up; ids with it are never sent to the API. */
export const GENERATED_ID_PREFIX = "gemini_"

const isGeneratedId = (id: string): boolean => id.startsWith(GENERATED_ID_PREFIX)

const MIME_BY_EXTENSION: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  heic: "image/heic",
  heif: "image/heif"
}

const imagePart = (source: ImageSource): Part =>
  source.type === "base64"
    ? { inlineData: { mimeType: source.mediaType, data: source.data } }
    : {
        fileData: {
          fileUri: source.url,
          mimeType:
            MIME_BY_EXTENSION[(/\.([a-z0-9]+)(?:[?#].*)?$/i.exec(source.url)?.[1] ?? "").toLowerCase()] ?? "image/jpeg"
        }
      }

const signed = (part: Part, signature: string | undefined): Part =>
  signature === undefined ? part : { ...part, thoughtSignature: signature }

const modelParts = (blocks: ReadonlyArray<ContentBlock>): Array<Part> =>
  blocks.flatMap((b): Array<Part> => {
    switch (b.type) {
      case "thinking":
        return b.signature === undefined ? [] : [{ text: b.thinking, thought: true, thoughtSignature: b.signature }]
      case "text":
        return b.text === "" && b.signature === undefined ? [] : [signed({ text: b.text }, b.signature)]
      case "tool_use":
        return [
          signed(
            {
              functionCall: {
                ...(isGeneratedId(b.id) ? {} : { id: b.id }),
                name: b.name,
                args: typeof b.input === "object" && b.input !== null && !Array.isArray(b.input) ? { ...b.input } : {}
              }
            },
            b.signature
          )
        ]
      case "image":
        return [imagePart(b.source)]
      default:
        return []
    }
  })

/**
 * Gemini 3 rejects a function call of the current turn without its signature. A model turn with calls but no
 * signature at all did not come from Gemini (another provider, or an edited transcript): its first call gets the
 * dummy signature Google documents for that case.
 */
export const DUMMY_SIGNATURE = "skip_thought_signature_validator"

const withDummySignature = (parts: Array<Part>, model: string): Array<Part> => {
  if (!isGemini3(model) || parts.some((p) => p.thoughtSignature !== undefined)) return parts
  const first = parts.findIndex((p) => p.functionCall !== undefined)
  return first < 0 ? parts : parts.map((p, i) => (i === first ? { ...p, thoughtSignature: DUMMY_SIGNATURE } : p))
}

const userParts = (blocks: ReadonlyArray<ContentBlock>, callNames: ReadonlyMap<string, string>): Array<Part> => {
  const responses: Array<Part> = []
  const images: Array<Part> = []
  const rest: Array<Part> = []
  for (const b of blocks) {
    if (b.type === "tool_result") {
      const text = b.content.flatMap((c) => (c.type === "text" ? [c.text] : [])).join("\n")
      const name = callNames.get(b.toolUseId) ?? b.toolUseId
      responses.push({
        functionResponse: {
          ...(isGeneratedId(b.toolUseId) ? {} : { id: b.toolUseId }),
          name,
          response: b.isError ? { error: text } : { output: text }
        }
      })
      for (const c of b.content) if (c.type === "image") images.push(imagePart(c.source))
    } else if (b.type === "text") {
      if (b.text !== "") rest.push({ text: b.text })
    } else if (b.type === "image") {
      rest.push(imagePart(b.source))
    }
  }
  return [...responses, ...images, ...rest]
}

const textOf = (blocks: ReadonlyArray<ContentBlock>): string =>
  blocks.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("")

/** The conversation as `contents` (consecutive turns of one role merged) and the system messages' text. */
export const toContents = (
  messages: ReadonlyArray<Message>,
  model = ""
): { readonly contents: Array<Content>; readonly system: Array<string> } => {
  const callNames = new Map<string, string>()
  const contents: Array<Content> = []
  const system: Array<string> = []
  for (const message of messages) {
    if (message.role === "system") {
      const text = textOf(message.content)
      if (text !== "") system.push(text)
      continue
    }
    for (const b of message.content) if (b.type === "tool_use") callNames.set(b.id, b.name)
    const role = message.role === "assistant" ? "model" : "user"
    const parts =
      role === "model" ? withDummySignature(modelParts(message.content), model) : userParts(message.content, callNames)
    if (parts.length === 0) continue
    const last = contents[contents.length - 1]
    if (last !== undefined && last.role === role) last.parts = [...(last.parts ?? []), ...parts]
    else contents.push({ role, parts })
  }
  return { contents, system }
}

const functionCallingConfig = (choice: ToolChoice, enums: GeminiEnums) => {
  const mode = enums.FunctionCallingConfigMode
  switch (choice.type) {
    case "auto":
      return { mode: mode.AUTO }
    case "none":
      return { mode: mode.NONE }
    case "required":
      return { mode: mode.ANY }
    case "tool":
      return { mode: mode.ANY, allowedFunctionNames: [choice.name] }
  }
}

const isGemini3 = (model: string): boolean => /gemini-3/i.test(model)

const thinkingLevel = (effort: ReasoningEffort, enums: GeminiEnums): ThinkingLevel => {
  switch (effort) {
    case "minimal":
      return enums.ThinkingLevel.MINIMAL
    case "low":
      return enums.ThinkingLevel.LOW
    case "medium":
      return enums.ThinkingLevel.MEDIUM
    case "high":
      return enums.ThinkingLevel.HIGH
  }
}

/**
 * Thoughts are asked for (`includeThoughts`) when the request asks for thinking: Gemini 3 models take a
 * `thinkingLevel` (from the effort), earlier ones a `thinkingBudget` (from the budget).
 */
export const thinkingConfig = (request: LLMRequest, model: string, enums: GeminiEnums): ThinkingConfig | undefined => {
  const effort = requestEffort(request)
  const budget = requestBudget(request)
  if (effort === undefined || budget === undefined) return undefined
  return isGemini3(model)
    ? { includeThoughts: true, thinkingLevel: thinkingLevel(effort, enums) }
    : { includeThoughts: true, thinkingBudget: budget }
}

/** The `generateContentStream` parameters for an `LLMRequest` (without the abort signal and HTTP options). */
export const toGenerateRequest = (request: LLMRequest, options: RequestOptions): GenerateContentParameters => {
  const model = request.model ?? options.model
  const { contents, system } = toContents(request.messages, model)
  const systemText = [...(request.system === undefined || request.system === "" ? [] : [request.system]), ...system]
  const declarations: Array<FunctionDeclaration> = (request.tools ?? []).map((t) => ({
    name: t.name,
    description: t.description,
    parametersJsonSchema: { ...t.inputSchema }
  }))
  const thinking = thinkingConfig(request, model, options.enums)
  const hasTools = declarations.length > 0
  const config: GenerateContentConfig = {
    automaticFunctionCalling: { disable: true },
    automaticContinuation: false,
    ...(systemText.length === 0 ? {} : { systemInstruction: systemText.join("\n\n") }),
    ...(hasTools ? { tools: [{ functionDeclarations: declarations }] } : {}),
    ...(hasTools && (request.toolChoice !== undefined || options.streamFunctionCallArguments === true)
      ? {
          toolConfig: {
            functionCallingConfig: {
              ...(request.toolChoice === undefined ? {} : functionCallingConfig(request.toolChoice, options.enums)),
              ...(options.streamFunctionCallArguments === true ? { streamFunctionCallArguments: true } : {})
            }
          }
        }
      : {}),
    ...(request.maxTokens === undefined ? {} : { maxOutputTokens: request.maxTokens }),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.stopSequences === undefined || request.stopSequences.length === 0
      ? {}
      : { stopSequences: [...request.stopSequences] }),
    ...(thinking === undefined ? {} : { thinkingConfig: thinking }),
    ...(request.responseFormat === undefined
      ? {}
      : { responseMimeType: "application/json", responseJsonSchema: { ...request.responseFormat.schema } })
  }
  return { model, contents, config }
}

// ---------------------------------------------------------------------------------------------------------------
// Response stream
// ---------------------------------------------------------------------------------------------------------------

/** The parts of a chunk Sage reads; every field is checked at runtime. */
export interface WirePartialArg {
  readonly jsonPath?: string
  readonly stringValue?: string
  readonly numberValue?: number
  readonly boolValue?: boolean
  readonly nullValue?: string
  readonly willContinue?: boolean
}
export interface WireFunctionCall {
  readonly id?: string
  readonly name?: string
  readonly args?: Record<string, unknown>
  readonly partialArgs?: ReadonlyArray<WirePartialArg>
  readonly willContinue?: boolean
}
export interface WirePart {
  readonly text?: string
  readonly thought?: boolean
  readonly thoughtSignature?: string
  readonly functionCall?: WireFunctionCall
}
export interface WireCandidate {
  readonly content?: { readonly parts?: ReadonlyArray<WirePart> }
  readonly finishReason?: string
  readonly index?: number
}
export interface WireUsage {
  readonly promptTokenCount?: number
  readonly candidatesTokenCount?: number
  readonly cachedContentTokenCount?: number
  readonly thoughtsTokenCount?: number
}
export interface WireChunk {
  readonly candidates?: ReadonlyArray<WireCandidate>
  readonly usageMetadata?: WireUsage
  readonly modelVersion?: string
  readonly responseId?: string
  readonly promptFeedback?: { readonly blockReason?: string }
}

const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0)
const str = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined)
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

export const toUsage = (usage: WireUsage): Usage => {
  const cached = num(usage.cachedContentTokenCount)
  const thoughts = num(usage.thoughtsTokenCount)
  return new Usage({
    inputTokens: Math.max(0, num(usage.promptTokenCount) - cached),
    outputTokens: num(usage.candidatesTokenCount) + thoughts,
    cacheReadTokens: cached,
    reasoningTokens: thoughts
  })
}

export const toStopReason = (raw: string): StopReason => {
  switch (raw) {
    case "STOP":
      return "end_turn"
    case "MAX_TOKENS":
      return "max_tokens"
    case "SAFETY":
    case "RECITATION":
    case "BLOCKLIST":
    case "PROHIBITED_CONTENT":
    case "SPII":
    case "IMAGE_SAFETY":
    case "IMAGE_PROHIBITED_CONTENT":
      return "content_filter"
    default:
      return "other"
  }
}

/** One step of a JSON path such as `$.a.b[0]["c d"]`. */
type PathStep = string | number

const parsePath = (path: string): ReadonlyArray<PathStep> | undefined => {
  if (!path.startsWith("$")) return undefined
  const steps: Array<PathStep> = []
  const re = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]/y
  re.lastIndex = 1
  while (re.lastIndex < path.length) {
    const m = re.exec(path)
    if (m === null) return undefined
    steps.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (m[3] ?? m[4] ?? "")))
  }
  return steps
}

/** Set `value` at `steps` in `root` (objects and arrays made as needed); strings continue when `append`. */
const setPath = (root: Record<string, unknown>, steps: ReadonlyArray<PathStep>, value: unknown, append: boolean) => {
  let node: Record<string, unknown> | Array<unknown> = root
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] ?? ""
    const last = i === steps.length - 1
    const get = (): unknown => (Array.isArray(node) ? node[Number(step)] : node[String(step)])
    const put = (v: unknown) => {
      if (Array.isArray(node)) node[Number(step)] = v
      else node[String(step)] = v
    }
    if (last) {
      const current = get()
      put(append && typeof current === "string" && typeof value === "string" ? current + value : value)
      return
    }
    const next = get()
    if (Array.isArray(next) || isObject(next)) node = next
    else {
      const made: Record<string, unknown> | Array<unknown> = typeof steps[i + 1] === "number" ? [] : {}
      put(made)
      node = made
    }
  }
}

interface OpenCall {
  readonly id: string
  readonly name: string
  readonly signature: string | undefined
  readonly args: Record<string, unknown>
  /** JSON path whose string value continues in the next partial arg. */
  continuing: string | undefined
}

export interface ChunkMapper {
  readonly onChunk: (chunk: WireChunk) => ReadonlyArray<StreamPart>
  readonly onEnd: () => ReadonlyArray<StreamPart>
}

/** A stateful mapper for one response: chunks in, `StreamPart`s out. `fallbackId` names calls without a response id. */
export const makeChunkMapper = (fallbackId: string): ChunkMapper => {
  let metadataSent = false
  let responseId: string | undefined
  let usage: WireUsage | undefined
  let finishRaw: string | undefined
  let blocked = false
  let callCount = 0
  let open: OpenCall | undefined

  const nextId = (serverId: string | undefined): string =>
    serverId ?? `${GENERATED_ID_PREFIX}${responseId ?? fallbackId}_${callCount}`

  const closeOpen = (): Array<StreamPart> => {
    if (open === undefined) return []
    const call = open
    open = undefined
    const raw = JSON.stringify(call.args)
    const complete = completeToolCall(call.id, call.name, raw)
    return [
      { type: "tool-call-delta", id: call.id, argumentsDelta: raw },
      call.signature === undefined ? complete : { ...complete, signature: call.signature }
    ]
  }

  const onPartialArgs = (call: OpenCall, partials: ReadonlyArray<WirePartialArg>) => {
    for (const p of partials) {
      if (!isObject(p)) continue
      const path = typeof p.jsonPath === "string" ? p.jsonPath : undefined
      const steps = path === undefined ? undefined : parsePath(path)
      if (path === undefined || steps === undefined || steps.length === 0) continue
      const value =
        typeof p.stringValue === "string"
          ? p.stringValue
          : typeof p.numberValue === "number"
            ? p.numberValue
            : typeof p.boolValue === "boolean"
              ? p.boolValue
              : p.nullValue !== undefined
                ? null
                : undefined
      if (value === undefined) continue
      setPath(call.args, steps, value, call.continuing === path)
      call.continuing = p.willContinue === true && typeof value === "string" ? path : undefined
    }
  }

  const onFunctionCall = (fc: WireFunctionCall, signature: string | undefined, out: Array<StreamPart>) => {
    const name = str(fc.name)
    const partials = Array.isArray(fc.partialArgs) ? fc.partialArgs : undefined
    if (name === undefined) {
      // A continuation of the open streamed call; an empty `functionCall` (no more to come) closes it.
      if (open === undefined) return
      if (partials !== undefined) onPartialArgs(open, partials)
      if (fc.willContinue !== true) out.push(...closeOpen())
      return
    }
    out.push(...closeOpen())
    const id = nextId(str(fc.id))
    out.push({ type: "tool-call-start", id, name, index: callCount })
    callCount++
    const call: OpenCall = {
      id,
      name,
      signature,
      args: isObject(fc.args) ? { ...fc.args } : {},
      continuing: undefined
    }
    open = call
    if (partials !== undefined) onPartialArgs(call, partials)
    if (fc.willContinue !== true) out.push(...closeOpen())
  }

  const onPart = (part: WirePart, out: Array<StreamPart>) => {
    const signature = str(part.thoughtSignature)
    if (isObject(part.functionCall)) {
      onFunctionCall(part.functionCall, signature, out)
      return
    }
    if (typeof part.text !== "string") {
      if (signature !== undefined) out.push(...closeOpen(), { type: "text-delta", text: "", signature })
      return
    }
    out.push(...closeOpen())
    if (part.thought === true) {
      if (part.text !== "") out.push({ type: "reasoning-delta", text: part.text })
      if (signature !== undefined) out.push({ type: "reasoning-signature", signature })
      return
    }
    if (signature !== undefined) out.push({ type: "text-delta", text: part.text, signature })
    else if (part.text !== "") out.push({ type: "text-delta", text: part.text })
  }

  return {
    onChunk: (chunk) => {
      const out: Array<StreamPart> = []
      if (responseId === undefined) responseId = str(chunk.responseId)
      if (!metadataSent) {
        const model = str(chunk.modelVersion)
        if (responseId !== undefined || model !== undefined) {
          metadataSent = true
          out.push({
            type: "metadata",
            ...(responseId === undefined ? {} : { responseId }),
            ...(model === undefined ? {} : { model })
          })
        }
      }
      if (isObject(chunk.usageMetadata)) usage = chunk.usageMetadata
      if (isObject(chunk.promptFeedback) && str(chunk.promptFeedback.blockReason) !== undefined) blocked = true
      const candidate = Array.isArray(chunk.candidates)
        ? chunk.candidates.find((c) => isObject(c) && (c.index ?? 0) === 0)
        : undefined
      if (candidate !== undefined) {
        const parts = candidate.content?.parts
        if (Array.isArray(parts)) for (const part of parts) if (isObject(part)) onPart(part, out)
        const finish = str(candidate.finishReason)
        if (finish !== undefined) finishRaw = finish
      }
      return out
    },
    onEnd: () => {
      const out: Array<StreamPart> = closeOpen()
      if (usage !== undefined) out.push({ type: "usage", usage: toUsage(usage) })
      if (finishRaw !== undefined) {
        const mapped = toStopReason(finishRaw)
        out.push({
          type: "finish",
          stopReason: mapped === "end_turn" && callCount > 0 ? "tool_use" : mapped,
          raw: finishRaw
        })
      } else if (blocked) {
        out.push({ type: "finish", stopReason: "content_filter" })
      }
      return out
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The JSON-array stream

/**
 * `streamGenerateContent` without `alt=sse` (what some proxies and gateways return) streams one JSON array, element by
 * element (`[{...}\n,\r\n{...}\n]`). The SDK reads only SSE, so the provider re-frames such a body: `push` takes the
 * text as it arrives and returns each complete top-level element as one SSE `data:` event.
 */
export const makeJsonArrayReframer = (): { readonly push: (text: string) => string } => {
  let element = ""
  let depth = 0
  let inString = false
  let escaped = false
  return {
    push: (text) => {
      let out = ""
      for (const char of text) {
        if (depth === 0) {
          // Between elements: the array's brackets, commas and whitespace are framing.
          if (char !== "{") continue
          element = ""
        }
        element += char
        if (inString) {
          if (escaped) escaped = false
          else if (char === "\\") escaped = true
          else if (char === '"') inString = false
        } else if (char === '"') inString = true
        else if (char === "{" || char === "[") depth++
        else if (char === "}" || char === "]") {
          depth--
          if (depth === 0) out += `data: ${element}\r\n\r\n`
        }
      }
      return out
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/** What a Google error body (`{"error": {code, message, status, details}}`) tells us. */
export interface WireErrorInfo {
  readonly code?: number
  /** `RESOURCE_EXHAUSTED`, `UNAVAILABLE`, `INVALID_ARGUMENT`, ... */
  readonly status?: string
  readonly message?: string
  /** From a `google.rpc.RetryInfo` detail (`"30s"`, `"1.5s"`). */
  readonly retryDelayMs?: number
  /** A `google.rpc.QuotaFailure` detail names a daily (or other non-per-minute) quota. */
  readonly dailyQuota?: boolean
  /** A `google.rpc.ErrorInfo` reason, e.g. `API_KEY_INVALID`. */
  readonly reason?: string
}

const parseDelay = (value: unknown): number | undefined => {
  if (typeof value !== "string") return undefined
  const m = /^(\d+(?:\.\d+)?)s$/.exec(value.trim())
  return m === null ? undefined : Math.round(Number(m[1]) * 1000)
}

/** The error object inside a body, or inside a text that holds one after a prefix (`got status: X. {...}`). */
export const errorInfo = (body: unknown): WireErrorInfo | undefined => {
  let value = body
  if (typeof value === "string") {
    const start = value.indexOf("{")
    if (start < 0) return undefined
    try {
      value = JSON.parse(value.slice(start))
    } catch {
      return undefined
    }
  }
  if (Array.isArray(value)) value = value[0]
  if (!isObject(value)) return undefined
  const error = value.error
  if (!isObject(error)) return undefined
  let retryDelayMs: number | undefined
  let dailyQuota = false
  let reason: string | undefined
  for (const detail of Array.isArray(error.details) ? error.details : []) {
    if (!isObject(detail)) continue
    const type = typeof detail["@type"] === "string" ? detail["@type"] : ""
    if (type.endsWith("google.rpc.RetryInfo")) retryDelayMs = parseDelay(detail.retryDelay)
    if (type.endsWith("google.rpc.QuotaFailure") && Array.isArray(detail.violations)) {
      for (const v of detail.violations)
        if (isObject(v) && typeof v.quotaId === "string" && /per ?day/i.test(v.quotaId)) dailyQuota = true
    }
    if (type.endsWith("google.rpc.ErrorInfo") && typeof detail.reason === "string") reason = detail.reason
  }
  const code = typeof error.code === "number" ? error.code : undefined
  const status = str(error.status)
  const message = typeof error.message === "string" ? error.message : undefined
  return {
    ...(code === undefined ? {} : { code }),
    ...(status === undefined ? {} : { status }),
    ...(message === undefined ? {} : { message }),
    ...(retryDelayMs === undefined ? {} : { retryDelayMs }),
    ...(dailyQuota ? { dailyQuota } : {}),
    ...(reason === undefined ? {} : { reason })
  }
}

/** The `errorType` understood by `httpError` for a Google error. */
export const errorType = (info: WireErrorInfo): string | undefined => {
  const message = info.message ?? ""
  if (info.reason === "API_KEY_INVALID" || /API key not valid/i.test(message)) return "authentication_error"
  if (info.status === "RESOURCE_EXHAUSTED" || info.code === 429) {
    // A daily quota, or an exhausted plan with no retry hint: waiting a minute will not help.
    if (info.dailyQuota === true || (/billing|quota/i.test(message) && info.retryDelayMs === undefined))
      return "insufficient_quota"
    return "rate_limit_exceeded"
  }
  if (info.status === "UNAVAILABLE") return "overloaded_error"
  if (/exceeds the maximum number of tokens/i.test(message)) return "context_length_exceeded"
  if (info.status === "UNAUTHENTICATED") return "authentication_error"
  if (info.status === "PERMISSION_DENIED") return "permission_error"
  if (info.status === "NOT_FOUND") return "not_found_error"
  if (info.status === "INTERNAL") return "server_error"
  return undefined
}

/**
 * A bare JSON error object at the end of a streamed body (not SSE-framed: the API does this when it fails
 * mid-stream), from the text that followed the last complete event.
 */
export const trailingError = (tail: string): WireErrorInfo | undefined => {
  const trimmed = tail.trim()
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return undefined
  return errorInfo(trimmed)
}
