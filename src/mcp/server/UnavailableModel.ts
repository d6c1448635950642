/**
 * The model client of a server whose provider cannot be set up (no API key, say): the built-in tools need no
 * model, so the server still starts; every model request (the `agent` tool's) fails with the setup's message.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { AuthenticationError } from "../../errors/LLMError.js"
import type { LLMClient } from "../../services/LLMClient.js"

export const make = (provider: string, model: string, message: string): LLMClient.Service => {
  const error = () => new AuthenticationError({ provider, message })
  return {
    provider,
    model,
    capabilities: { streaming: true, tools: true, vision: false, thinking: false, contextWindow: 200_000 },
    stream: () => Stream.fail(error()),
    generate: () => Effect.fail(error())
  }
}
