/**
 * What a turn starts from: the prompt (text, or text and image blocks) as the user message, its text for events and
 * hooks, the check that a model without vision gets no images (before any request), and the per-request options a
 * user sets for every model request (reasoning, the prompt-cache key).
 */
import * as Effect from "effect/Effect"
import { InputError } from "../errors/InputError.js"
import type { Prompt } from "../services/Agent.js"
import type { LLMClient, LLMRequest, ReasoningEffort } from "../services/LLMClient.js"
import type { ModelInfo } from "../services/ModelCatalog.js"
import type { Message } from "../streams/Message.js"

/** The prompt as the turn's user message. */
export const promptMessage = (prompt: Prompt): Message => ({
  role: "user",
  content: typeof prompt === "string" ? [{ type: "text", text: prompt }] : [...prompt]
})

/** The prompt's text (for `turn.started` and hooks): its text blocks, an `[image]` marker for each image. */
export const promptText = (prompt: Prompt): string =>
  typeof prompt === "string"
    ? prompt
    : prompt.map((block) => (block.type === "text" ? block.text : "[image]")).join("\n")

const hasImages = (prompt: Prompt): boolean => typeof prompt !== "string" && prompt.some((b) => b.type === "image")

/**
 * Images for a model that cannot see them fail with `InputError` (`vision_unsupported`): the client says it has no
 * vision, or the model catalog knows the model and says so (a catalog override can turn it off or on).
 */
export const checkVision = (
  prompt: Prompt,
  llm: LLMClient.Service,
  model: string,
  info: ModelInfo | undefined
): Effect.Effect<void, InputError> => {
  if (!hasImages(prompt)) return Effect.void
  const catalogSays = info?.known === true ? info.capabilities.vision : undefined
  const vision = catalogSays ?? llm.capabilities.vision
  return vision
    ? Effect.void
    : Effect.fail(
        new InputError({
          message: `model ${model} (${llm.provider}) does not accept images; use a model with vision, or send text only`,
          reason: "vision_unsupported",
          model
        })
      )
}

/** The reasoning options of every request of a turn (`thinking` / `reasoningEffort`) and its cache key. */
export const requestOptions = (options: {
  readonly thinkingBudget?: number | undefined
  readonly reasoningEffort?: ReasoningEffort | undefined
  readonly cacheKey: string
}): Pick<LLMRequest, "thinking" | "reasoningEffort" | "cacheKey"> => ({
  cacheKey: options.cacheKey,
  ...(options.thinkingBudget === undefined ? {} : { thinking: { budgetTokens: options.thinkingBudget } }),
  ...(options.reasoningEffort === undefined ? {} : { reasoningEffort: options.reasoningEffort })
})
