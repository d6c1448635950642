/**
 * The modules every agent run needs (the wiring, the session handling, the run's input), as one dynamic import:
 * one entry for the bundler, so fewer and larger chunks load on the way to the first model request.
 */
export { layerNode, providerLayer } from "../layers/SageLive.js"
export * as runInput from "./runInput.js"
export * as sessions from "./sessions.js"
