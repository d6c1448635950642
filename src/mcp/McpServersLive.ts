/**
 * The engine of the session's MCP servers (`McpServers`; wired by `layers/McpLive.ts`): reads the configuration (`mcp/McpConfigFiles.ts`), starts the servers
 * that may start (project servers need the user's approval) in parallel, at most `maxConcurrentStarts` at a time,
 * each within its startup timeout, and closes them all (killing stdio servers' process groups) when the layer's
 * scope closes. A server that fails to start is `failed` with the reason and tried again in the background; one that
 * dies later is reconnected; both with exponential backoff. Nothing a server does can stall the session: every request has a timeout and is cancelled
 * (`notifications/cancelled`) when the calling fiber is interrupted.
 */
import * as fsp from "node:fs/promises"
import * as path from "node:path"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SynchronizedRef from "effect/SynchronizedRef"
import { type McpConfigError, McpError } from "../errors/McpError.js"
import { describeTarget, expandConfig, type McpServerEntry, mcpToolName } from "./Config.js"
import { isApproved, loadApprovals, loadMcpEntries, type McpSources } from "./McpConfigFiles.js"
import type { McpConnection, SdkTool } from "./Sdk.js"
import { commandEnv } from "../process/CommandEnv.js"
import type { McpPromptInfo, McpServers, McpServerStatus, McpToolInfo } from "../services/McpServers.js"

export interface McpLiveOptions extends McpSources {
  /** The host environment: `${VAR}` expansion, and (scrubbed) the base of stdio servers' environment. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Names passed to stdio servers unchanged although they look like credentials (settings `sandbox.envPassthrough`). */
  readonly envPassthrough?: ReadonlyArray<string>
  /** Where stdio servers' stderr is appended (`mcp-<server>.log`); default `$SAGE_HOME/logs`, else `~/.sage/logs`. */
  readonly logDir?: string
  /** Default 10 000 (`MCP_TIMEOUT` in `env` overrides it). */
  readonly startupTimeoutMs?: number
  /** Default 60 000 (`MCP_TOOL_TIMEOUT` in `env` overrides it). */
  readonly toolTimeoutMs?: number
  /** Servers started at once at most (default 8). */
  readonly maxConcurrentStarts?: number
  /** Reconnection attempts after a server dies (default 4, first after `reconnectDelayMs` = 500, doubling). */
  readonly reconnectAttempts?: number
  readonly reconnectDelayMs?: number
  readonly clientVersion?: string
}

interface ServerState {
  readonly entry: McpServerEntry
  readonly status: McpServerStatus
  readonly connection?: McpConnection
  readonly tools: ReadonlyArray<McpToolInfo>
  readonly prompts: ReadonlyArray<McpPromptInfo>
  readonly toolTimeoutMs: number
}

const positiveInt = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined
  const n = Number(text)
  return Number.isInteger(n) && n > 0 ? n : undefined
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const seconds = (ms: number): string => `${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(1)} s`

/** Builds the service; the caller's scope owns the servers. */
export const make = (options: McpLiveOptions): Effect.Effect<McpServers.Service, McpConfigError, Scope.Scope> =>
  Effect.gen(function* () {
    const entries = yield* loadMcpEntries(options)
    const approvals = yield* loadApprovals(options.homeDir, options.cwd)
    const sageHome = yield* Config.option(Config.String("SAGE_HOME")).pipe(Effect.orElseSucceed(() => undefined))
    const home =
      sageHome !== undefined && sageHome._tag === "Some" ? sageHome.value : path.join(options.homeDir, ".sage")
    const logDir = options.logDir ?? path.join(home, "logs")
    const startupDefault = positiveInt(options.env.MCP_TIMEOUT) ?? options.startupTimeoutMs ?? 10_000
    const toolDefault = positiveInt(options.env.MCP_TOOL_TIMEOUT) ?? options.toolTimeoutMs ?? 60_000
    const baseEnv = commandEnv(options.env, { passthrough: options.envPassthrough ?? [] })

    const initial = new Map<string, ServerState>()
    for (const entry of entries) {
      const approved = isApproved(entry, approvals)
      initial.set(entry.name, {
        entry,
        tools: [],
        prompts: [],
        toolTimeoutMs: entry.config.toolTimeoutMs ?? toolDefault,
        status: {
          name: entry.name,
          scope: entry.scope,
          source: entry.source,
          transport: entry.config.type,
          target: describeTarget(entry.config),
          state: approved ? "connecting" : "needs-approval",
          ...(approved ? {} : { reason: `project server: approve it with \`sage mcp approve ${entry.name}\`` }),
          tools: 0,
          prompts: 0,
          resources: 0,
          ...(entry.config.type === "stdio" ? { logFile: path.join(logDir, `mcp-${entry.name}.log`) } : {})
        }
      })
    }
    const state = yield* SynchronizedRef.make<ReadonlyMap<string, ServerState>>(initial)
    const changes = yield* PubSub.unbounded<McpServerStatus>()
    const lost = yield* Queue.unbounded<{
      readonly name: string
      readonly reason: string
      readonly connection: McpConnection
    }>()

    const toolChanges = yield* Queue.unbounded<{
      readonly name: string
      readonly tools: ReadonlyArray<SdkTool>
      readonly connection: McpConnection
    }>()
    const toolInfos = (server: string, list: ReadonlyArray<SdkTool>, timeoutMs: number): ReadonlyArray<McpToolInfo> =>
      list.map((tool) => ({
        server,
        name: tool.name,
        registryName: mcpToolName(server, tool.name),
        description: tool.description,
        inputSchema: tool.inputSchema,
        readOnlyHint: tool.readOnlyHint,
        timeoutMs
      }))

    const update = (name: string, f: (s: ServerState) => ServerState) =>
      Effect.flatMap(
        SynchronizedRef.modify(state, (map) => {
          const current = map.get(name)
          if (current === undefined) return [undefined, map] as const
          const next = f(current)
          return [next.status, new Map([...map, [name, next]])] as const
        }),
        (status) => (status === undefined ? Effect.void : PubSub.publish(changes, status))
      )

    /** Connects one server (within its startup timeout) and records the outcome. */
    const connectOnce = (entry: McpServerEntry): Effect.Effect<McpConnection, McpError> =>
      Effect.gen(function* () {
        const expanded = expandConfig(entry.config, options.env)
        if (Result.isFailure(expanded)) return yield* new McpError({ server: entry.name, message: expanded.failure })
        const config = expanded.success
        const timeoutMs = config.startupTimeoutMs ?? startupDefault
        const stderrFile = config.type === "stdio" ? path.join(logDir, `mcp-${entry.name}.log`) : undefined
        if (stderrFile !== undefined) {
          yield* Effect.promise(() => fsp.mkdir(logDir, { recursive: true }).catch(() => undefined))
        }
        const sdk = yield* Effect.tryPromise({
          try: () => import("./Sdk.js"),
          catch: (error) =>
            new McpError({ server: entry.name, message: `cannot load the MCP client SDK: ${errorText(error)}` })
        })
        return yield* Effect.tryPromise({
          try: (signal) =>
            sdk.connect(
              {
                server: entry.name,
                config,
                env: config.type === "stdio" ? { ...baseEnv, ...(config.env ?? {}) } : {},
                cwd: options.cwd,
                stderrFile,
                timeoutMs,
                clientVersion: options.clientVersion ?? "0.1.0"
              },
              signal
            ),
          catch: (error) => new McpError({ server: entry.name, message: errorText(error) })
        }).pipe(
          Effect.timeoutOrElse({
            duration: timeoutMs,
            orElse: () =>
              Effect.fail(
                new McpError({
                  server: entry.name,
                  message: `did not start within ${seconds(timeoutMs)} (startupTimeoutMs / MCP_TIMEOUT)`
                })
              )
          })
        )
      })

    const connected = (entry: McpServerEntry, connection: McpConnection) =>
      Effect.gen(function* () {
        connection.onLost = (reason) => {
          Queue.offerUnsafe(lost, { name: entry.name, reason, connection })
        }
        connection.onToolsChanged = (list) => {
          Queue.offerUnsafe(toolChanges, { name: entry.name, tools: list, connection })
        }
        const current = (yield* SynchronizedRef.get(state)).get(entry.name)
        const toolTimeoutMs = current?.toolTimeoutMs ?? toolDefault
        const tools = toolInfos(entry.name, connection.tools, toolTimeoutMs)
        const prompts: ReadonlyArray<McpPromptInfo> = connection.prompts.map((p) => ({ server: entry.name, ...p }))
        yield* update(entry.name, (s) => {
          const { reason: _reason, ...status } = s.status
          return {
            ...s,
            connection,
            tools,
            prompts,
            status: {
              ...status,
              state: "connected",
              ...(connection.protocolVersion === undefined ? {} : { protocolVersion: connection.protocolVersion }),
              ...(connection.serverName === undefined ? {} : { serverName: connection.serverName }),
              ...(connection.serverVersion === undefined ? {} : { serverVersion: connection.serverVersion }),
              tools: tools.length,
              prompts: prompts.length,
              resources: connection.resources.length
            }
          }
        })
      })

    const failed = (name: string, reason: string) =>
      update(name, (s) => {
        const { connection: _connection, ...rest } = s
        return { ...rest, status: { ...s.status, state: "failed", reason } }
      })

    // Closing the layer closes every connection (stdio servers: their whole process group).
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(SynchronizedRef.get(state), (map) =>
        Effect.forEach(
          [...map.values()].flatMap((s) => (s.connection === undefined ? [] : [s.connection])),
          (connection) => Effect.promise(() => connection.close()),
          { concurrency: "unbounded", discard: true }
        )
      )
    )

    const attempts = options.reconnectAttempts ?? 4
    const backoff = Schedule.exponential(options.reconnectDelayMs ?? 500, 2).pipe(
      Schedule.upTo({ times: Math.max(0, attempts - 1) })
    )

    // Start every approved server, in parallel (bounded). One that fails to start is `failed` at once (the session
    // does not wait for it) and is tried again in the background with the same backoff as a reconnection.
    const retryStart = (entry: (typeof entries)[number], reason: string) =>
      connectOnce(entry).pipe(
        Effect.retry(backoff),
        Effect.delay(options.reconnectDelayMs ?? 500),
        Effect.matchEffect({
          onFailure: () => failed(entry.name, reason),
          onSuccess: (connection) => connected(entry, connection)
        })
      )
    yield* Effect.forEach(
      entries.filter((entry) => isApproved(entry, approvals)),
      (entry) =>
        connectOnce(entry).pipe(
          Effect.matchEffect({
            onFailure: (error) =>
              attempts < 1
                ? failed(entry.name, error.message)
                : Effect.andThen(
                    failed(entry.name, `${error.message}; retrying`),
                    Effect.forkScoped(retryStart(entry, error.message))
                  ),
            onSuccess: (connection) => connected(entry, connection)
          })
        ),
      { concurrency: options.maxConcurrentStarts ?? 8, discard: true }
    )

    // A server that dies is marked failed, then reconnected with exponential backoff.
    const reconnect = (name: string, reason: string, connection: McpConnection) =>
      Effect.gen(function* () {
        const current = (yield* SynchronizedRef.get(state)).get(name)
        if (current === undefined || current.connection !== connection) return
        yield* Effect.promise(() => connection.close())
        yield* failed(name, `${reason}; reconnecting`)
        if (attempts < 1) {
          yield* failed(name, reason)
          return
        }
        yield* connectOnce(current.entry).pipe(
          Effect.retry(backoff),
          Effect.delay(options.reconnectDelayMs ?? 500),
          Effect.matchEffect({
            onFailure: (error) => failed(name, `${reason}; reconnecting failed: ${error.message}`),
            onSuccess: (next) => connected(current.entry, next)
          })
        )
      })
    yield* Queue.take(lost).pipe(
      Effect.flatMap(({ name, reason, connection }) => Effect.forkScoped(reconnect(name, reason, connection))),
      Effect.forever,
      Effect.forkScoped
    )

    // A server's new tool list (`notifications/tools/list_changed`) replaces the old one; the status change lets
    // the registry add the new tools.
    yield* Queue.take(toolChanges).pipe(
      Effect.flatMap(({ name, tools, connection }) =>
        update(name, (s) => {
          if (s.connection !== connection) return s
          const infos = toolInfos(name, tools, s.toolTimeoutMs)
          return { ...s, tools: infos, status: { ...s.status, tools: infos.length } }
        })
      ),
      Effect.forever,
      Effect.forkScoped
    )

    const connectionOf = (name: string) =>
      Effect.flatMap(SynchronizedRef.get(state), (map) => {
        const server = map.get(name)
        if (server === undefined) {
          return Effect.fail(
            new McpError({
              server: name,
              message: `no MCP server named "${name}"${map.size === 0 ? "" : `; configured: ${[...map.keys()].join(", ")}`}`
            })
          )
        }
        if (server.connection === undefined) {
          return Effect.fail(
            new McpError({
              server: name,
              message: `MCP server "${name}" is not connected (${server.status.state}${server.status.reason === undefined ? "" : `: ${server.status.reason}`})`
            })
          )
        }
        return Effect.succeed({ connection: server.connection, toolTimeoutMs: server.toolTimeoutMs })
      })

    const request = <A>(
      server: string,
      timeoutMs: number,
      what: string,
      run: (connection: McpConnection, signal: AbortSignal) => Promise<A>
    ): Effect.Effect<A, McpError> =>
      Effect.flatMap(connectionOf(server), ({ connection }) =>
        Effect.tryPromise({
          try: (signal) => run(connection, signal),
          catch: (error) => new McpError({ server, message: `${what} failed: ${errorText(error)}` })
        }).pipe(
          Effect.timeoutOrElse({
            duration: timeoutMs,
            orElse: () =>
              Effect.fail(
                new McpError({
                  server,
                  message: `${what} did not answer within ${seconds(timeoutMs)} and was cancelled (toolTimeoutMs / MCP_TOOL_TIMEOUT)`
                })
              )
          })
        )
      )

    const all = Effect.map(SynchronizedRef.get(state), (map) => [...map.values()])

    const service: McpServers.Service = {
      statuses: Effect.map(all, (list) => list.map((s) => s.status)),
      changes: Stream.fromPubSub(changes),
      tools: Effect.map(all, (list) => list.flatMap((s) => (s.connection === undefined ? [] : s.tools))),
      prompts: Effect.map(all, (list) => list.flatMap((s) => (s.connection === undefined ? [] : s.prompts))),
      listResources: Effect.fn("McpServers.listResources")(function* (server?: string) {
        const names =
          server === undefined
            ? (yield* all).filter((s) => s.connection !== undefined).map((s) => s.entry.name)
            : [server]
        const lists = yield* Effect.forEach(
          names,
          (name) =>
            Effect.map(
              request(name, startupDefault, `resources/list on ${name}`, (c, signal) => c.listResources(signal)),
              (list) => list.map((r) => ({ server: name, ...r }))
            ),
          { concurrency: 4 }
        )
        return lists.flat()
      }),
      readResource: Effect.fn("McpServers.readResource")(function* (server: string, uri: string) {
        const { toolTimeoutMs } = yield* connectionOf(server)
        return yield* request(server, toolTimeoutMs, `resources/read ${uri}`, (c, signal) =>
          c.readResource(uri, signal)
        )
      }),
      callTool: Effect.fn("McpServers.callTool")(function* (
        server: string,
        tool: string,
        args: Record<string, unknown>
      ) {
        const { toolTimeoutMs } = yield* connectionOf(server)
        return yield* request(server, toolTimeoutMs, `tool ${tool}`, (c, signal) =>
          // The SDK's own timeout is a backstop: ours fires first and cancels the request.
          c.callTool(tool, args, signal, toolTimeoutMs + 5_000)
        )
      }),
      getPrompt: Effect.fn("McpServers.getPrompt")(function* (
        server: string,
        prompt: string,
        args: Readonly<Record<string, string>>
      ) {
        const { toolTimeoutMs } = yield* connectionOf(server)
        return yield* request(server, toolTimeoutMs, `prompt ${prompt}`, (c, signal) =>
          c.getPrompt(prompt, args, signal)
        )
      })
    }
    return service
  })
