/** The plain-Promise SDK: `import { SageAgentSDK } from "sage-agent/sdk"`. No Effect types in its API. */
export * from "./SageAgentSDK.js"
