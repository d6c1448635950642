/**
 * Azure OpenAI over its real wire format: the same Responses SSE frames and error bodies as api.openai.com (Azure
 * serves the OpenAI API), requested at Azure's paths with the `api-key` header. The contract layer uses the default
 * API (Responses) on the v1 path: `<endpoint>/openai/v1/responses`, the deployment as `model`.
 */
import * as Redacted from "effect/Redacted"
import * as AzureProvider from "../../../src/providers/azure/AzureProvider.js"
import { failure, scriptFrames, sentText, stream } from "./openai-responses.js"
import type { ProviderWire } from "./types.js"

export const DEPLOYMENT = "my-gpt5-deployment"
export const API_KEY = "azure-key-test"

export const wire: ProviderWire = {
  id: "azure",
  model: DEPLOYMENT,
  reply: (script) => stream(scriptFrames(script)),
  failure,
  layer: (baseURL) =>
    AzureProvider.layerConfig({
      apiKey: Redacted.make(API_KEY),
      baseURL,
      model: DEPLOYMENT,
      api: "responses",
      retry: { maxRetries: 0 }
    }),
  sentText
}
