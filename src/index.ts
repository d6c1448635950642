/** Sage: the Effect API. */
export * from "./errors/index.js"
export * from "./services/LLMClient.js"
export * from "./streams/index.js"
