/**
 * Sage: the Effect API. Services are `Context.Tag`s (src/services), implementations are layers
 * (src/layers, src/providers), tools are made with `Tool.make` (src/tools).
 */
export * from "./errors/index.js"
export * as AgentLive from "./agent/AgentLoop.js"
export * as EventBusLive from "./layers/EventBusLive.js"
export * as PermissionsLive from "./layers/PermissionsLive.js"
export {
  layerNode,
  providerLayer,
  PROVIDERS,
  type ProviderId,
  type ProviderOptions,
  type SageOptions,
  type SageServices
} from "./layers/SageLive.js"
export * as SandboxBubblewrap from "./process/SandboxBubblewrap.js"
export * as ToolRegistryLive from "./layers/ToolRegistryLive.js"
export * as Anthropic from "./providers/anthropic/AnthropicProvider.js"
export * as OpenAI from "./providers/openai/OpenAIProvider.js"
export { makeLLMClient } from "./providers/ProviderSupport.js"
export * from "./providers/Retry.js"
export * from "./services/Agent.js"
export * from "./services/EventBus.js"
export * from "./services/LLMClient.js"
export * from "./services/Permissions.js"
export * from "./services/Sandbox.js"
export type { ToolConcurrency, ToolContext, ToolEmittedEvent, ToolKind, ToolReturn } from "./services/Tool.js"
export * from "./services/ToolRegistry.js"
export * from "./streams/index.js"
export * from "./tools/index.js"
