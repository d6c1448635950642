/** The `vertex` provider: Gemini on Vertex AI, through the same `@google/genai` client as `gemini` (GeminiProvider.ts). */
export { vertexLayerConfig as layerConfig } from "./GeminiProvider.js"
