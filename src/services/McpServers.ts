/**
 * The contract of the session's MCP servers: their status, what they offer (tools, prompts, resources) and how
 * to use it. The implementation (`layers/McpLive.ts`) connects them when the layer is built and closes them (and
 * kills stdio servers) with the layer's scope. Plain data only: no SDK types cross this line.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { McpError } from "../errors/McpError.js"
import type { ToolOutput } from "../streams/ToolCall.js"

export type McpServerState = "connecting" | "connected" | "failed" | "needs-approval"

export interface McpServerStatus {
  readonly name: string
  /** Where its configuration came from: `user`, `project`, `project-settings`, `local`, `flag`, `options`. */
  readonly scope: string
  readonly source: string
  readonly transport: "stdio" | "http" | "sse"
  /** The command line or URL. */
  readonly target: string
  readonly state: McpServerState
  /** Why it failed or waits. */
  readonly reason?: string
  /** The MCP protocol version negotiated (`2025-11-25`, `2026-07-28`...). */
  readonly protocolVersion?: string
  readonly serverName?: string
  readonly serverVersion?: string
  readonly tools: number
  readonly prompts: number
  readonly resources: number
  /** Where a stdio server's stderr goes. */
  readonly logFile?: string
}

export interface McpToolInfo {
  readonly server: string
  /** The server's own name of the tool. */
  readonly name: string
  /** `mcp__<server>__<tool>` (sanitized, at most 64 characters): the name the model and rules use. */
  readonly registryName: string
  readonly description: string
  readonly inputSchema: Record<string, unknown>
  /** The server's `readOnlyHint` (a hint from the server: never a reason to skip a permission check). */
  readonly readOnlyHint: boolean
  /** Per-call timeout of the server, in ms. */
  readonly timeoutMs: number
}

export interface McpPromptInfo {
  readonly server: string
  readonly name: string
  readonly description?: string
  readonly arguments: ReadonlyArray<{
    readonly name: string
    readonly description?: string
    readonly required: boolean
  }>
}

export interface McpResourceInfo {
  readonly server: string
  readonly uri: string
  readonly name: string
  readonly description?: string
  readonly mimeType?: string
}

export interface McpCallResult {
  readonly output: ReadonlyArray<ToolOutput>
  /** The server said the call failed (`isError`). */
  readonly isError: boolean
}

export interface McpPromptMessage {
  readonly role: "user" | "assistant"
  readonly text: string
}

export declare namespace McpServers {
  interface Service {
    /** Every configured server, in configuration order. */
    readonly statuses: Effect.Effect<ReadonlyArray<McpServerStatus>>
    /** Status changes (connected, failed, reconnected), as they happen. */
    readonly changes: Stream.Stream<McpServerStatus>
    /** The tools of the connected servers (as listed when they connected). */
    readonly tools: Effect.Effect<ReadonlyArray<McpToolInfo>>
    readonly prompts: Effect.Effect<ReadonlyArray<McpPromptInfo>>
    /** The resources of one server, or of every connected server. */
    readonly listResources: (server?: string) => Effect.Effect<ReadonlyArray<McpResourceInfo>, McpError>
    readonly readResource: (server: string, uri: string) => Effect.Effect<ReadonlyArray<ToolOutput>, McpError>
    /** Interrupting the effect cancels the call (the server receives `notifications/cancelled`). */
    readonly callTool: (
      server: string,
      tool: string,
      args: Record<string, unknown>
    ) => Effect.Effect<McpCallResult, McpError>
    readonly getPrompt: (
      server: string,
      prompt: string,
      args: Readonly<Record<string, string>>
    ) => Effect.Effect<ReadonlyArray<McpPromptMessage>, McpError>
  }
}

export class McpServers extends Context.Service<McpServers, McpServers.Service>()("sage/McpServers") {}
