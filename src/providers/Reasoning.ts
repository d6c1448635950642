/** One mapping between a reasoning budget (tokens) and a reasoning effort, for every provider. */
import type { LLMRequest, ReasoningEffort } from "../services/LLMClient.js"

/** A thinking budget as an effort: < 4096 tokens `low`, < 16384 `medium`, else `high`. */
export const effortFromBudget = (budgetTokens: number): ReasoningEffort =>
  budgetTokens < 4096 ? "low" : budgetTokens < 16384 ? "medium" : "high"

const BUDGETS: Record<ReasoningEffort, number> = { minimal: 1024, low: 2048, medium: 8192, high: 24_576 }

/** An effort as a thinking budget in tokens. */
export const budgetFromEffort = (effort: ReasoningEffort): number => BUDGETS[effort]

/** The request's effort: given, else mapped from its budget, else none. */
export const requestEffort = (request: LLMRequest): ReasoningEffort | undefined =>
  request.reasoningEffort ??
  (request.thinking === undefined ? undefined : effortFromBudget(request.thinking.budgetTokens))

/** The request's budget: given, else mapped from its effort, else none. */
export const requestBudget = (request: LLMRequest): number | undefined =>
  request.thinking?.budgetTokens ??
  (request.reasoningEffort === undefined ? undefined : budgetFromEffort(request.reasoningEffort))
