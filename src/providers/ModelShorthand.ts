/**
 * `provider/model` shorthand (`openai/gpt-5`, `anthropic/claude-sonnet-4-6`): when no provider was chosen and the part
 * before the first `/` is a known provider id (`registry.ts`), it picks the provider and the rest is the model. When a
 * provider was chosen, the model id is taken whole, so ids that contain `/` themselves (OpenRouter's `openai/gpt-4o`
 * with `--provider openai` and an OpenRouter base URL) keep working.
 */
import { isProviderId, type ProviderId } from "./registry.js"

export interface ModelChoice {
  readonly provider: ProviderId | undefined
  readonly model: string | undefined
}

/** Split `model` when `provider` is undefined and its prefix names a provider; otherwise both unchanged. */
export const splitModel = (provider: ProviderId | undefined, model: string | undefined): ModelChoice => {
  if (provider !== undefined || model === undefined) return { provider, model }
  const slash = model.indexOf("/")
  if (slash <= 0 || slash === model.length - 1) return { provider, model }
  const prefix = model.slice(0, slash)
  return isProviderId(prefix) ? { provider: prefix, model: model.slice(slash + 1) } : { provider, model }
}
