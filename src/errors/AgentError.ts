import * as Schema from "effect/Schema"
import { ConfigError } from "./ConfigError.js"
import { LLMError } from "./LLMError.js"
import { PermissionError } from "./PermissionError.js"
import { SessionError } from "./SessionError.js"

/** Everything that can end an agent run with a failure (tool failures never do: they become results). */
export const AgentError = Schema.Union([LLMError, ConfigError, PermissionError, SessionError])
export type AgentError = typeof AgentError.Type
