/**
 * Sage: the Effect API. Services are `Context.Service` tags (the contracts), implementations are Layers, and
 * `layerNode(options)` composes a complete agent for Node from them (any piece can be replaced with
 * `Layer.provide`). Tools are made with `Tool.make`. Internals (wire mappers, limiters, engines' helpers) are not
 * exported.
 */
export * from "./errors/index.js"

// Contracts
export {
  Agent,
  type AgentExecution,
  type OutputSchema,
  type Prompt,
  type RunOptions,
  type RunResult
} from "./services/Agent.js"
// Structured output (`StructuredOutput.run(schema)(prompt)`, `fromSchema`, `fromJsonSchema`) and images in prompts
export * as PromptImages from "./agent/PromptImages.js"
export * as StructuredOutput from "./agent/StructuredOutput.js"
export { splitModel } from "./providers/ModelShorthand.js"
export {
  BackgroundShells,
  type ShellCommand,
  type ShellInfo,
  type ShellOutput,
  type ShellStatus
} from "./services/BackgroundShells.js"
export { EventBus } from "./services/EventBus.js"
export { type FileRecord, FileState } from "./services/FileState.js"
export {
  type Capabilities,
  LLMClient,
  type LLMProvider,
  type LLMRequest,
  type ToolChoice
} from "./services/LLMClient.js"
export {
  ModelCatalog,
  type ModelCapabilities,
  type ModelInfo,
  type ModelOverride,
  type ModelOverrides,
  type ModelPricing
} from "./services/ModelCatalog.js"
export {
  type ApprovalAnswer,
  Approver,
  PERMISSION_MODES,
  type PermissionContext,
  type PermissionDecision,
  type PermissionMode,
  Permissions
} from "./services/Permissions.js"
export { Sandbox, type SandboxPolicy } from "./services/Sandbox.js"
export {
  type McpCallResult,
  type McpPromptInfo,
  type McpPromptMessage,
  type McpResourceInfo,
  McpServers,
  type McpServerState,
  type McpServerStatus,
  type McpToolInfo
} from "./services/McpServers.js"
export { McpConfigError, McpError } from "./errors/McpError.js"
export type { McpServerConfig, McpServerOption } from "./mcp/Config.js"
export {
  type LoadedSession,
  type LogRecord,
  type NewSession,
  type PermissionGranted,
  SESSION_FORMAT,
  type SessionHeader,
  type SessionRecord,
  type SessionRepaired,
  SessionStore,
  type SessionSummary,
  type SessionWriter,
  type TodoItem as SessionTodoItem
} from "./services/SessionStore.js"
export { type Rule, type RuleBehavior, type RuleLists, type RuleSet, Settings } from "./services/Settings.js"
export {
  HOOK_EVENTS,
  type HookCallback,
  type HookEventName,
  type HookHandler,
  type HookInput,
  type HookMatcher,
  type HookOutcome,
  type HookOutput,
  type HookReport,
  Hooks,
  type HooksConfig
} from "./services/Hooks.js"
/** Hook points for code that runs agents outside the loop (e.g. `runSubagentStop`). */
export * as HookRun from "./hooks/Run.js"
export type { ToolConcurrency, ToolContext, ToolEmittedEvent, ToolKind, ToolReturn } from "./services/Tool.js"
export { ToolRegistry } from "./services/ToolRegistry.js"
export { Todos } from "./services/Todos.js"
export { compactHeapFlags, useCompactHeap } from "./process/Heap.js"
export type {
  AgentDefinition,
  AgentSource,
  SubAgentRequest,
  SubAgentResult,
  SubAgentRunner
} from "./services/SubAgents.js"
export { DEFAULT_MAX_SUBAGENTS, makeTaskTool, TASK_TOOL_NAME, type TaskToolOptions } from "./tools/Task.js"
export { type AgentOption, BUILTIN_AGENTS, loadAgents, parseAgentFile } from "./agents/AgentDefinitions.js"
export { Workspace } from "./services/Workspace.js"

// Data and the event protocol
export * from "./streams/AgentEvent.js"
export { toJsonl, toSse } from "./streams/Codec.js"
export * from "./streams/Message.js"
export type { LLMResponse } from "./streams/Response.js"
export * from "./streams/StreamPart.js"
export * from "./streams/ToolCall.js"
export * from "./streams/Usage.js"

// Tools
export { type MakeOptions, type MakeTypedOptions, Tool } from "./tools/Tool.js"
export { type BuiltinToolsOptions, builtinTools, makeBuiltinTools } from "./tools/index.js"

// Sessions: a conversation of turns recorded in a session (resume, continue, fork)
export * as Conversation from "./session/Conversation.js"

// Layers
export * as AgentLive from "./layers/AgentLive.js"
export * as BackgroundShellsLive from "./layers/BackgroundShellsLive.js"
export * as EventBusLive from "./layers/EventBusLive.js"
export * as FileStateLive from "./layers/FileStateLive.js"
export * as HooksLive from "./layers/HooksLive.js"
export * as McpLive from "./layers/McpLive.js"
export * as ModelCatalogLive from "./layers/ModelCatalogLive.js"
export * as PermissionsLive from "./layers/PermissionsLive.js"
export * as SandboxLive from "./layers/SandboxLive.js"
export * as SessionStoreLive from "./layers/SessionStoreLive.js"
export * as SettingsLive from "./layers/SettingsLive.js"
export * as SubAgentsLive from "./layers/SubAgentsLive.js"
export * as TodosLive from "./layers/TodosLive.js"
export * as ToolRegistryLive from "./layers/ToolRegistryLive.js"
export * as WorkspaceLive from "./layers/WorkspaceLive.js"
export {
  layerNode,
  pieces,
  providerLayer,
  PROVIDERS,
  type ProviderId,
  type ProviderOptions,
  type SageError,
  type SageOptions,
  type SageServices
} from "./layers/SageLive.js"

// Compaction (a manual `/compact`: `compactConversation(messages, { instructions })`)
export {
  COMPACTION_PROMPT,
  type CompactOptions,
  type CompactionResult,
  compactConversation,
  compactionEventBody,
  rebuild as rebuildCompacted,
  summaryMessage
} from "./agent/Compaction.js"

// Providers
export { BUILTIN_MODELS, costOf, lookupModel } from "./providers/ModelCatalog.js"
export { type AnthropicOptions, AnthropicProvider } from "./providers/anthropic/AnthropicProvider.js"
export { type OpenAIOptions, OpenAIProvider } from "./providers/openai/OpenAIProvider.js"
export { type ResponsesOptions, ResponsesProvider } from "./providers/openai-responses/ResponsesProvider.js"
export { type AzureOptions, AzureProvider } from "./providers/azure/AzureProvider.js"
export { type BedrockOptions, BedrockProvider } from "./providers/bedrock/BedrockProvider.js"
export { type GeminiOptions, GeminiProvider, VertexProvider } from "./providers/gemini/GeminiProvider.js"
export { type OllamaOptions, OllamaProvider } from "./providers/ollama/OllamaProvider.js"
export {
  layerRecord,
  layerReplay,
  makeReplay,
  type ReplayOptions,
  withRecording
} from "./providers/record/RecordProvider.js"
export { makeLLMClient } from "./providers/ProviderSupport.js"
export { defaultRetryPolicy, type RetryPolicy } from "./providers/Retry.js"
