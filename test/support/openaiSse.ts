/**
 * Builders for OpenAI Chat Completions SSE bodies (`data: <chunk>` frames), for scripted WireServer replies.
 *
 *   openaiSse([{ text: "Hel" }, { text: "lo" }, { finish: "stop" }, { usage: { prompt_tokens: 3, completion_tokens: 2 } }])
 *
 * returns one string per frame (ending with `data: [DONE]`), ready for `{ kind: "stream", chunks }`.
 */

export interface SseScriptOptions {
  readonly id?: string
  readonly model?: string
  /** Append `data: [DONE]` (default true). */
  readonly done?: boolean
}

export type SseStep =
  | { readonly text: string; readonly choice?: number }
  | { readonly reasoning: string; readonly field?: "reasoning_content" | "reasoning" }
  | { readonly refusal: string }
  | {
      readonly toolCall: {
        readonly index: number
        readonly id?: string
        readonly name?: string
        readonly args?: string
      }
    }
  | { readonly finish: string; readonly choice?: number }
  | { readonly usage: Record<string, unknown> }
  /** A top-level `error` object inside the stream (OpenRouter style). */
  | { readonly error: Record<string, unknown> }
  /** A raw data line payload, written verbatim (e.g. malformed JSON). */
  | { readonly raw: string }

/** One SSE frame carrying `payload` as JSON. */
export const sseData = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`

export const DONE = "data: [DONE]\n\n"

export const chunkOf = (step: SseStep, options: SseScriptOptions = {}): string => {
  const base = {
    id: options.id ?? "chatcmpl-test",
    object: "chat.completion.chunk",
    created: 1727346168,
    model: options.model ?? "gpt-4o-test"
  }
  const choice = (index: number, delta: Record<string, unknown>, finish: string | null = null) => ({
    ...base,
    choices: [{ index, delta, logprobs: null, finish_reason: finish }]
  })
  if ("text" in step) return sseData(choice(step.choice ?? 0, { content: step.text }))
  if ("reasoning" in step) return sseData(choice(0, { [step.field ?? "reasoning_content"]: step.reasoning }))
  if ("refusal" in step) return sseData(choice(0, { refusal: step.refusal }))
  if ("toolCall" in step) {
    const { index, id, name, args } = step.toolCall
    const fn = { ...(name === undefined ? {} : { name }), ...(args === undefined ? {} : { arguments: args }) }
    const call = { index, ...(id === undefined ? {} : { id, type: "function" }), function: fn }
    return sseData(choice(0, { tool_calls: [call] }))
  }
  if ("finish" in step) return sseData(choice(step.choice ?? 0, {}, step.finish))
  if ("usage" in step) return sseData({ ...base, choices: [], usage: step.usage })
  if ("error" in step) return sseData({ ...base, error: step.error, choices: [] })
  return `data: ${step.raw}\n\n`
}

/** The frames of a scripted stream. */
export const openaiSse = (steps: ReadonlyArray<SseStep>, options: SseScriptOptions = {}): ReadonlyArray<string> => [
  ...steps.map((step) => chunkOf(step, options)),
  ...(options.done === false ? [] : [DONE])
]
