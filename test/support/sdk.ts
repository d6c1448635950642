/** A `SageAgentSDK` talking to the scripted model server, closed with the test's scope. */
import * as Effect from "effect/Effect"
import { SageAgentSDK, type SageAgentSDKOptions } from "../../src/sdk/index.js"
import type * as WireServer from "./WireServer.js"

export const sdkFor = (wire: WireServer.WireServer, cwd: string, extra: Partial<SageAgentSDKOptions> = {}) =>
  Effect.acquireRelease(
    Effect.sync(
      () =>
        new SageAgentSDK({
          provider: "anthropic",
          apiKey: "sk-ant-sdk-test",
          baseURL: wire.url,
          model: "claude-test",
          cwd,
          env: { PATH: process.env.PATH },
          ...extra
        })
    ),
    (sdk) => Effect.promise(() => sdk.close())
  )
