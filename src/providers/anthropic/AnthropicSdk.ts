/**
 * What Sage uses of `@anthropic-ai/sdk`: the base client with only the Messages resource, and the SDK's error classes.
 * The `Anthropic` class would bring every resource (models, files, skills, beta, organization...); a bundler can leave
 * those out of this module, so the CLI loads a fraction of the SDK. Imported only with `import()`, on the first request.
 */
import { BaseAnthropic, type ClientOptions } from "@anthropic-ai/sdk/client"
import { Messages } from "@anthropic-ai/sdk/resources/messages/messages"

export {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError
} from "@anthropic-ai/sdk/core/error"

class MessagesClient extends BaseAnthropic {
  readonly messages: Messages = new Messages(this)
}

export type { MessagesClient }

export const makeClient = (options: ClientOptions): MessagesClient => new MessagesClient(options)
