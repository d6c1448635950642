/** The one mapping from the CLI's parsed arguments to the agent's options, for `sage -p` and the REPL. */
import type { SageOptions } from "../layers/SageLive.js"
import type { Approver } from "../services/Permissions.js"
import type { RunArgs } from "./Args.js"

/** `approver`: who answers permission questions (none: an ask is a deny, as with no terminal). */
export const sageOptions = (
  args: RunArgs,
  env: Readonly<Record<string, string | undefined>>,
  approver?: Approver.Service
): SageOptions => ({
  provider: args.provider,
  cwd: args.cwd,
  additionalDirectories: args.addDirs,
  allowedTools: args.allowedTools,
  disallowedTools: args.disallowedTools,
  env,
  sandbox: args.sandbox,
  ...(env.HOME === undefined ? {} : { homeDir: env.HOME }),
  ...(args.permissionMode === undefined ? {} : { permissionMode: args.permissionMode }),
  ...(args.model === undefined ? {} : { model: args.model }),
  ...(args.record === undefined ? {} : { record: args.record }),
  ...(args.replay === undefined ? {} : { replay: args.replay }),
  ...(args.maxSteps === undefined ? {} : { maxSteps: args.maxSteps }),
  ...(args.maxBudgetUsd === undefined ? {} : { maxBudgetUsd: args.maxBudgetUsd }),
  ...(args.agents === undefined ? {} : { agents: args.agents }),
  ...(args.maxSubagents === undefined ? {} : { maxSubagents: args.maxSubagents }),
  ...(args.baseURL === undefined ? {} : { baseURL: args.baseURL }),
  ...(args.thinkingBudget === undefined ? {} : { thinkingBudget: args.thinkingBudget }),
  ...(args.reasoningEffort === undefined ? {} : { reasoningEffort: args.reasoningEffort }),
  systemPrompt: args.systemPrompt,
  appendSystemPrompt: args.appendSystemPrompt,
  ...(args.mcpConfig.length === 0 ? {} : { mcpConfig: args.mcpConfig }),
  ...(approver === undefined ? {} : { approver })
})
