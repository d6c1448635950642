import * as Schema from "effect/Schema"
import { ConfigError } from "./ConfigError.js"
import { InputError } from "./InputError.js"
import { LLMError } from "./LLMError.js"
import { PermissionError } from "./PermissionError.js"
import { SessionError } from "./SessionError.js"
import { StructuredOutputError } from "./StructuredOutputError.js"

/** Everything that can end an agent run with a failure (tool failures never do: they become results). */
export const AgentError = Schema.Union([
  LLMError,
  ConfigError,
  PermissionError,
  SessionError,
  StructuredOutputError,
  InputError
])
export type AgentError = typeof AgentError.Type
