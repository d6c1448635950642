/**
 * The Vertex AI wire for tests: the same SSE body and errors as the Gemini API (see gemini.ts), at
 * `/v1beta1/projects/<project>/locations/<location>/publishers/google/models/<model>:streamGenerateContent`, reached
 * with an API key (the `x-goog-api-key` header) so no Google credentials are needed.
 */
import * as Redacted from "effect/Redacted"
import { layer } from "../../../src/providers/gemini/GeminiProvider.js"
import type { ProviderWire } from "./types.js"
import { failureReply, geminiSse, MODEL, scriptChunks, sentText } from "./gemini.js"

export const PROJECT = "sage-test-project"
export const LOCATION = "us-central1"

export const wire: ProviderWire = {
  id: "vertex",
  model: MODEL,
  reply: (script) => ({ kind: "stream", chunks: geminiSse(scriptChunks(script)) }),
  failure: failureReply,
  layer: (baseURL) =>
    layer({
      apiKey: Redacted.make("vertex-test-key"),
      baseURL,
      model: MODEL,
      vertex: { project: PROJECT, location: LOCATION },
      retry: { maxRetries: 0 }
    }),
  sentText
}

export default wire
