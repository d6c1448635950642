/**
 * `sage mcp serve`: Sage's built-in tools and an `agent` tool as an MCP server, over stdio (default) or Streamable
 * HTTP on 127.0.0.1 (`--http PORT`, bearer token). Tool calls pass the same permission check, workspace confinement
 * and sandbox as a run (`layerNode` with the run options); nobody can approve a call, so an `ask` is a deny.
 *
 * The server and the agent's services are one scope: stdin's end (stdio), SIGINT, SIGTERM or SIGHUP close it,
 * interrupting running calls (their commands killed) before the services close. A second signal kills every process
 * group at once. In stdio mode stdout carries JSON-RPC only; everything else goes to stderr.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import type { McpCallResult } from "../mcp/server/ToolHost.js"
import { LLMClient } from "../services/LLMClient.js"
import { sanitizeForTerminal } from "../streams/Sanitize.js"
import { parseArgs, type RunArgs, UsageError } from "./Args.js"
import { mcpServeHelp, useColor } from "./Help.js"
import type { CliIO } from "./main.js"
import { sageOptions } from "./options.js"
import { VERSION } from "./version.js"

export interface ServeArgs {
  readonly _tag: "Serve"
  readonly run: RunArgs
  /** `--http PORT` (0: any free port); absent: stdio. */
  readonly http: number | undefined
  /** `--token` or `SAGE_MCP_TOKEN`; absent with `--http`: a random one is made and printed on stderr. */
  readonly token: string | undefined
}

/** camelCase spellings (as in Claude Code) of the run flags. */
const ALIASES: Readonly<Record<string, string>> = {
  "--allowedTools": "--allowed-tools",
  "--disallowedTools": "--disallowed-tools",
  "--permissionMode": "--permission-mode",
  "--addDir": "--add-dir"
}

/** Run flags that make no sense for a server. */
const NOT_FOR_SERVE = [
  "-p",
  "--print",
  "-c",
  "--continue",
  "-r",
  "--resume",
  "--fork-session",
  "--session-id",
  "--no-session-persistence",
  "--output-format"
]

/** Parses the arguments after `mcp serve`: its own flags, then the run options (`Args.parseArgs`). */
export const parseServeArgs = (
  argv: ReadonlyArray<string>,
  context: { readonly cwd: string; readonly env: Readonly<Record<string, string | undefined>> }
): ServeArgs | { readonly _tag: "Help" } | UsageError => {
  const rest: Array<string> = []
  let http: string | undefined
  let token: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const token_ = argv[i] ?? ""
    const eq = token_.startsWith("--") ? token_.indexOf("=") : -1
    const name = eq === -1 ? token_ : token_.slice(0, eq)
    const inline = eq === -1 ? undefined : token_.slice(eq + 1)
    if (name === "--") {
      if (i + 1 < argv.length) return new UsageError(`unexpected argument ${JSON.stringify(argv[i + 1])}`)
      break
    }
    if (name === "--help" || name === "-h") return { _tag: "Help" }
    if (name === "--http" || name === "--token") {
      const value = inline ?? argv[i + 1]
      if (value === undefined || (inline === undefined && value.startsWith("--"))) {
        return new UsageError(`option ${name} needs a value`)
      }
      if (inline === undefined) i++
      if ((name === "--http" ? http : token) !== undefined) return new UsageError(`option ${name} was given twice`)
      if (name === "--http") http = value
      else token = value
      continue
    }
    if (NOT_FOR_SERVE.includes(name))
      return new UsageError(`option ${name} is not for mcp serve (see sage mcp serve --help)`)
    const alias = ALIASES[name]
    rest.push(alias === undefined ? token_ : inline === undefined ? alias : `${alias}=${inline}`)
  }
  const parsed = parseArgs(rest, {
    cwd: context.cwd,
    env: context.env,
    isDirectory: (dir) => {
      try {
        return fs.statSync(dir).isDirectory()
      } catch {
        return false
      }
    }
  })
  if (parsed instanceof UsageError)
    return new UsageError(parsed.message.replace("sage --help", "sage mcp serve --help"))
  if (parsed._tag !== "Run") return new UsageError("unexpected arguments after mcp serve (see sage mcp serve --help)")
  if (parsed.prompt !== undefined) return new UsageError(`unexpected argument ${JSON.stringify(parsed.prompt)}`)
  let port: number | undefined
  if (http !== undefined) {
    port = Number(http)
    if (!/^\d+$/.test(http) || port > 65535) {
      return new UsageError(`invalid value for --http: ${JSON.stringify(http)} (expected a port 0-65535; 0 picks one)`)
    }
  }
  const envToken = context.env.SAGE_MCP_TOKEN === "" ? undefined : context.env.SAGE_MCP_TOKEN
  const chosen = token ?? envToken
  if (chosen !== undefined && !/^[\x21-\x7e]{16,}$/.test(chosen)) {
    return new UsageError("the MCP token must be at least 16 printable characters without spaces")
  }
  if (chosen !== undefined && port === undefined) return new UsageError("--token is for --http (stdio needs none)")
  return { _tag: "Serve", run: parsed, http: port, token: chosen }
}

const definedEnv = (env: CliIO["env"]): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))

/** Logs on stderr (never stdout: in stdio mode it carries JSON-RPC): warnings and errors, one line each. */
const stderrLogger = (stderr: CliIO["stderr"]) =>
  Logger.layer([
    Logger.make(({ logLevel, message }) => {
      if (!LogLevel.isGreaterThanOrEqualTo(logLevel, "Warn")) return
      const parts = Array.isArray(message) ? message : [message]
      const text = parts.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" ")
      stderr.write(`sage mcp: ${logLevel.toLowerCase()}: ${sanitizeForTerminal(text)}\n`)
    })
  ])

type Stop = "signal" | "eof"

const serve = (args: ServeArgs, io: CliIO) =>
  Effect.gen(function* () {
    const say = (text: string) => Effect.sync(() => io.stderr.write(`sage mcp: ${text}\n`))
    const [{ layerNode, providerLayer }, ToolHost, sdk, HttpServer, UnavailableModel] = yield* Effect.promise(() =>
      Promise.all([
        import("./agentModules.js"),
        import("../mcp/server/ToolHost.js"),
        import("../mcp/server/sdk.js"),
        import("../mcp/server/HttpServer.js"),
        import("../mcp/server/UnavailableModel.js")
      ])
    )
    io.onLoaded?.()
    // A long-lived process with no start-up race to win.
    io.compactHeap?.()
    const stop = yield* Deferred.make<Stop>()
    let signals = 0
    const unsubscribe = io.onSignal(() => {
      signals++
      if (signals === 1) Effect.runSync(Deferred.succeed(stop, "signal"))
      else io.forceExit(130)
    })
    yield* Effect.addFinalizer(() => Effect.sync(unsubscribe))

    const options = sageOptions(args.run, io.env)
    // The tools need no model: without a usable provider (no key) the server starts, and the agent tool says why.
    const llm = yield* Layer.build(providerLayer(options)).pipe(
      Effect.map((context) => Context.get(context, LLMClient)),
      Effect.catchTag("ConfigError", (error) =>
        Effect.as(
          say(`warning: the agent tool is unavailable: ${sanitizeForTerminal(error.message)}`),
          UnavailableModel.make(options.provider, options.model ?? "unknown", error.message)
        )
      )
    )
    const services = layerNode(options).pipe(Layer.provide(Layer.succeed(LLMClient, llm)))
    return yield* Effect.gen(function* () {
      const host = yield* ToolHost.make(
        args.run.permissionMode === undefined ? {} : { permissionMode: args.run.permissionMode }
      )
      // Calls run in this set: closing the scope interrupts the ones still running (before the services close).
      const runCall = yield* FiberSet.makeRuntimePromise<never, McpCallResult, never>()
      const onError = (error: unknown) => {
        io.stderr.write(
          `sage mcp: error: ${sanitizeForTerminal(error instanceof Error ? error.message : String(error))}\n`
        )
      }
      const handlers = {
        name: "sage",
        version: VERSION,
        tools: host.tools,
        call: (name: string, input: unknown, options: import("../mcp/server/sdk.js").CallOptions) =>
          runCall(
            host.call(name, input, (message) => Effect.promise(() => options.progress(message))),
            { signal: options.signal }
          ),
        onError
      }
      if (args.http === undefined) {
        const handle = sdk.serveOnStdio(handlers, io.stdin, io.stdout)
        yield* Effect.addFinalizer(() => Effect.promise(() => handle.close().catch(() => undefined)))
        const onEnd = () => Effect.runSync(Deferred.succeed(stop, "eof"))
        io.stdin.once("end", onEnd)
        io.stdin.once("close", onEnd)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            io.stdin.off("end", onEnd)
            io.stdin.off("close", onEnd)
          })
        )
        yield* say(`serving ${host.tools.length} tools on stdio (workspace ${args.run.cwd})`)
      } else {
        const token = args.token ?? randomBytes(32).toString("base64url")
        const { url } = yield* HttpServer.serve(sdk.httpHandler(handlers, token), args.http, onError)
        yield* say(`serving ${host.tools.length} tools at ${url} (workspace ${args.run.cwd})`)
        if (args.token === undefined) yield* say(`token: ${token}   (send: Authorization: Bearer <token>)`)
      }
      // Exit codes as for a run: 0 when the client is done (stdin's end), 130 when stopped by a signal.
      return (yield* Deferred.await(stop)) === "signal" ? 130 : 0
      // Its own scope: the server and the running calls end before the services they use close.
    }).pipe(Effect.scoped, Effect.provide(services))
  }).pipe(
    Effect.scoped,
    Effect.provide(
      Layer.mergeAll(stderrLogger(io.stderr), ConfigProvider.layer(ConfigProvider.fromEnv({ env: definedEnv(io.env) })))
    )
  )

/** Runs the MCP server until stdin closes (stdio) or a signal arrives; the exit code is the result. Never fails. */
export const runMcpServe = (argv: ReadonlyArray<string>, io: CliIO): Effect.Effect<number> =>
  Effect.suspend(() => {
    const parsed = parseServeArgs(argv, io)
    if (parsed instanceof UsageError) {
      return Effect.sync(() => {
        io.stderr.write(`sage: ${parsed.message}\n`)
        return 2
      })
    }
    if (parsed._tag === "Help") {
      return Effect.sync(() => {
        io.stdout.write(mcpServeHelp({ color: useColor(io.stdout.isTTY, io.env) }))
        return 0
      })
    }
    // Uninterruptible: a signal ends the server through `stop` (so the exit is clean); calls are separate fibers.
    return Effect.uninterruptible(serve(parsed, io)).pipe(
      Effect.catchCause((cause) =>
        Effect.sync(() => {
          const error = Cause.squash(cause)
          const text = error instanceof Error ? error.message : String(error)
          io.stderr.write(`sage: ${sanitizeForTerminal(text).split("\n")[0] ?? ""}\n`)
          return 1
        })
      )
    )
  })
