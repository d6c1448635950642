/**
 * `sage mcp list|get|add|remove|approve`: the MCP servers of a project.
 *
 * - `list` starts every server (as a session would) and shows its status: `connected` with its tool count,
 *   `failed: reason`, or `needs approval` (a project server the user has not approved yet).
 * - `get NAME` shows one server: where it is configured, its status, the protocol version it negotiated, its
 *   tools and prompts.
 * - `add NAME COMMAND [ARGS...]` or `add --transport http|sse NAME URL` writes it to `<project>/.mcp.json` (scope
 *   `project`, the default: shared with the repository, and approved for you), `~/.sage/settings.json` (`user`) or
 *   `<project>/.sage/settings.local.json` (`local`).
 * - `remove NAME` deletes it from the file it is in (or from `--scope`'s file).
 * - `approve NAME` lets a project server (`.mcp.json`, `.sage/settings.json`) start; the approval is kept in
 *   `~/.sage/mcp-approvals.json`, bound to the server's configuration (a changed server needs a new approval).
 */
import * as os from "node:os"
import * as path from "node:path"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { McpConfigError } from "../errors/McpError.js"
import * as McpLive from "../layers/McpLive.js"
import { APPROVAL_SCOPES, describeTarget, type McpServerConfig, parseServerConfig, SERVER_NAME } from "../mcp/Config.js"
import {
  approveServer,
  configJson,
  editJsonFile,
  loadMcpEntries,
  mcpPaths,
  readOptional,
  revokeServer
} from "../mcp/McpConfigFiles.js"
import type { McpServerStatus } from "../services/McpServers.js"
import type { McpArgs } from "./Args.js"
import type { CliIO } from "./main.js"

type Write = (text: string) => Effect.Effect<void>

export const mcpHelp = `Usage:
  sage mcp list [--json]                   every server and its status (starts them to find out)
  sage mcp get NAME [--json]               one server: configuration, status, protocol version, tools, prompts
  sage mcp add [options] NAME COMMAND [ARGS...]     add a stdio server
  sage mcp add --transport http|sse [options] NAME URL   add a remote server
  sage mcp remove NAME [--scope SCOPE]     remove a server
  sage mcp approve NAME                    let a project server (.mcp.json) start
  sage mcp serve ...                       Sage itself as an MCP server (see sage mcp serve --help)

Options:
  --scope project|user|local   where add writes (default project: <project>/.mcp.json; user: ~/.sage/settings.json;
                               local: <project>/.sage/settings.local.json)
  --transport stdio|http|sse   (default stdio)
  -e, --env KEY=VALUE          an environment variable for a stdio server (repeatable; \${VAR} is expanded at start)
  -H, --header "Name: value"   an HTTP header for a remote server (repeatable)
  --cwd DIR                    the project (default: the current directory)
  --mcp-config FILE            also read this configuration (list, get)

Servers from a project's files (.mcp.json, .sage/settings.json) start only once approved (sage mcp approve NAME;
servers you add with sage mcp add are approved). A stdio server's stderr goes to $SAGE_HOME/logs/mcp-NAME.log.
`

interface McpFlags {
  readonly positionals: ReadonlyArray<string>
  readonly scope: string | undefined
  readonly transport: string | undefined
  readonly env: ReadonlyArray<string>
  readonly headers: ReadonlyArray<string>
  readonly cwd: string | undefined
  readonly mcpConfig: ReadonlyArray<string>
  readonly json: boolean
  readonly help: boolean
}

const VALUE_FLAGS: Readonly<Record<string, string>> = {
  "--scope": "scope",
  "-s": "scope",
  "--transport": "transport",
  "-t": "transport",
  "--env": "env",
  "-e": "env",
  "--header": "headers",
  "-H": "headers",
  "--cwd": "cwd",
  "--mcp-config": "mcpConfig"
}

/** Flags come before the positionals of `add` (after NAME COMMAND everything is the server's own arguments). */
const parseFlags = (argv: ReadonlyArray<string>): McpFlags | string => {
  const values: Record<string, Array<string>> = {
    scope: [],
    transport: [],
    env: [],
    headers: [],
    cwd: [],
    mcpConfig: []
  }
  const positionals: Array<string> = []
  let json = false
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? ""
    if (positionals.length >= 2 || word === "--") {
      positionals.push(...argv.slice(word === "--" ? i + 1 : i))
      break
    }
    const eq = word.indexOf("=")
    const name = word.startsWith("--") && eq > 0 ? word.slice(0, eq) : word
    const key = VALUE_FLAGS[name]
    if (key !== undefined) {
      const value = name !== word ? word.slice(eq + 1) : argv[++i]
      if (value === undefined) return `option ${name} needs a value`
      values[key]?.push(value)
    } else if (word === "--json") json = true
    else if (word === "--help" || word === "-h") help = true
    else if (word.startsWith("-") && word !== "-") return `unknown option ${word} (see sage mcp --help)`
    else positionals.push(word)
  }
  const last = (list: ReadonlyArray<string> | undefined) => (list === undefined ? undefined : list[list.length - 1])
  return {
    positionals,
    scope: last(values.scope),
    transport: last(values.transport),
    env: values.env ?? [],
    headers: values.headers ?? [],
    cwd: last(values.cwd),
    mcpConfig: values.mcpConfig ?? [],
    json,
    help
  }
}

const statusText = (status: McpServerStatus): string => {
  switch (status.state) {
    case "connected":
      return `connected (${status.tools} tool${status.tools === 1 ? "" : "s"})`
    case "needs-approval":
      return "needs approval"
    case "failed":
      return `failed: ${status.reason ?? "unknown"}`
    case "connecting":
      return "connecting"
  }
}

const definedEnv = (env: Readonly<Record<string, string | undefined>>): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined))

/** The file a scope's servers are written to. */
const scopeFile = (scope: string, cwd: string, homeDir: string): string | undefined => {
  const paths = mcpPaths(cwd, homeDir)
  return scope === "project"
    ? paths.project
    : scope === "user"
      ? paths.user
      : scope === "local"
        ? paths.local
        : undefined
}

export const runMcp = (args: McpArgs, io: CliIO, out: Write, err: Write): Effect.Effect<number> =>
  Effect.gen(function* () {
    const flags = parseFlags(args.argv)
    if (typeof flags === "string") {
      yield* err(`sage: ${flags}\n`)
      return 2
    }
    if (args.action === "help" || args.action === "--help" || args.action === "-h" || flags.help) {
      yield* out(mcpHelp)
      return 0
    }
    const homeDir = io.env.HOME ?? os.homedir()
    const cwd = path.resolve(io.cwd, flags.cwd ?? ".")
    const usage = (message: string) => Effect.as(err(`sage: ${message}\n`), 2)
    const sources = { cwd, homeDir, configFiles: flags.mcpConfig }

    switch (args.action) {
      case "list":
      case "get": {
        const name = flags.positionals[0]
        if (args.action === "get" && name === undefined) return yield* usage("sage mcp get NAME: which server?")
        const statuses = yield* Effect.scoped(
          Effect.flatMap(McpLive.make({ ...sources, env: io.env }), (mcp) =>
            Effect.all([mcp.statuses, mcp.tools, mcp.prompts])
          )
        )
        const [list, tools, prompts] = statuses
        if (args.action === "list") {
          if (flags.json) {
            yield* out(`${JSON.stringify(list, null, 2)}\n`)
            return 0
          }
          if (list.length === 0) {
            yield* out("No MCP servers configured (add one with sage mcp add, or a .mcp.json file).\n")
            return 0
          }
          for (const s of list) yield* out(`${s.name}: ${s.target} (${s.transport}, ${s.scope}) - ${statusText(s)}\n`)
          return 0
        }
        const status = list.find((s) => s.name === name)
        if (status === undefined) {
          return yield* Effect.as(
            err(
              `sage: no MCP server named "${name}"${list.length === 0 ? "" : `; configured: ${list.map((s) => s.name).join(", ")}`}\n`
            ),
            1
          )
        }
        const own = tools.filter((t) => t.server === status.name)
        const ownPrompts = prompts.filter((p) => p.server === status.name)
        if (flags.json) {
          yield* out(
            `${JSON.stringify({ ...status, toolNames: own.map((t) => t.registryName), promptNames: ownPrompts.map((p) => p.name) }, null, 2)}\n`
          )
          return 0
        }
        const lines = [
          `${status.name}`,
          `  Scope: ${status.scope} (${status.source})`,
          `  Transport: ${status.transport}`,
          `  ${status.transport === "stdio" ? "Command" : "URL"}: ${status.target}`,
          `  Status: ${statusText(status)}`,
          ...(status.protocolVersion === undefined ? [] : [`  Protocol version: ${status.protocolVersion}`]),
          ...(status.serverName === undefined
            ? []
            : [
                `  Server: ${status.serverName}${status.serverVersion === undefined ? "" : ` ${status.serverVersion}`}`
              ]),
          ...(status.logFile === undefined ? [] : [`  Log: ${status.logFile}`]),
          ...(own.length === 0 ? [] : [`  Tools: ${own.map((t) => t.registryName).join(", ")}`]),
          ...(ownPrompts.length === 0
            ? []
            : [`  Prompts: ${ownPrompts.map((p) => `/mcp__${status.name}__${p.name}`).join(", ")}`]),
          ...(status.state === "connected" ? [`  Resources: ${status.resources}`] : [])
        ]
        yield* out(`${lines.join("\n")}\n`)
        return 0
      }
      case "add": {
        const [name, target, ...rest] = flags.positionals
        if (name === undefined || target === undefined) {
          return yield* usage("sage mcp add NAME COMMAND [ARGS...] (or --transport http|sse NAME URL)")
        }
        if (!SERVER_NAME.test(name)) return yield* usage(`invalid server name "${name}": use 1-64 of A-Z a-z 0-9 _ . -`)
        const scope = flags.scope ?? "project"
        const file = scopeFile(scope, cwd, homeDir)
        if (file === undefined) return yield* usage(`invalid --scope "${scope}"; expected project, user or local`)
        const transport = flags.transport ?? "stdio"
        if (transport !== "stdio" && transport !== "http" && transport !== "sse") {
          return yield* usage(`invalid --transport "${transport}"; expected stdio, http or sse`)
        }
        const pairs = (list: ReadonlyArray<string>, separator: string, flag: string) => {
          const out: Record<string, string> = {}
          for (const item of list) {
            const at = item.indexOf(separator)
            if (at <= 0) return `${flag} ${JSON.stringify(item)}: expected NAME${separator}VALUE`
            out[item.slice(0, at).trim()] = item.slice(at + 1).trim()
          }
          return out
        }
        const env = pairs(flags.env, "=", "--env")
        if (typeof env === "string") return yield* usage(env)
        const headers = pairs(flags.headers, ":", "--header")
        if (typeof headers === "string") return yield* usage(headers)
        const raw =
          transport === "stdio"
            ? { command: target, args: rest, ...(Object.keys(env).length === 0 ? {} : { env }) }
            : { type: transport, url: target, ...(Object.keys(headers).length === 0 ? {} : { headers }) }
        const checked = parseServerConfig(raw, name)
        if (Result.isFailure(checked)) return yield* usage(checked.failure)
        const config: McpServerConfig = checked.success
        const exists = yield* loadMcpEntries({ cwd, homeDir }).pipe(
          Effect.map((entries) => entries.find((e) => e.name === name && e.source === file)),
          Effect.orElseSucceed(() => undefined)
        )
        if (exists !== undefined) {
          return yield* usage(
            `a server named "${name}" is already in ${file}; remove it first (sage mcp remove ${name})`
          )
        }
        yield* editJsonFile(file, ["mcpServers", name], configJson(config))
        if (scope === "project") {
          yield* approveServer(homeDir, cwd, { name, config, scope: "project", source: file })
        }
        yield* out(`Added ${transport} server ${name} (${describeTarget(config)}) to ${file}\n`)
        return 0
      }
      case "remove": {
        const name = flags.positionals[0]
        if (name === undefined) return yield* usage("sage mcp remove NAME: which server?")
        const entries = yield* loadMcpEntries({ cwd, homeDir })
        const files =
          flags.scope === undefined
            ? [mcpPaths(cwd, homeDir).project, mcpPaths(cwd, homeDir).local, mcpPaths(cwd, homeDir).user]
            : [scopeFile(flags.scope, cwd, homeDir)]
        for (const file of files) {
          if (file === undefined)
            return yield* usage(`invalid --scope "${flags.scope}"; expected project, user or local`)
          const text = yield* readOptional(file)
          if (text === undefined) continue
          const json: unknown = JSON.parse(text)
          const servers =
            typeof json === "object" && json !== null && "mcpServers" in json ? json.mcpServers : undefined
          if (typeof servers !== "object" || servers === null || !(name in servers)) continue
          yield* editJsonFile(file, ["mcpServers", name], undefined)
          yield* revokeServer(homeDir, cwd, name)
          yield* out(`Removed ${name} from ${file}\n`)
          return 0
        }
        return yield* Effect.as(
          err(
            `sage: no MCP server named "${name}" in ${files.join(", ")}${entries.length === 0 ? "" : `; configured: ${entries.map((e) => e.name).join(", ")}`}\n`
          ),
          1
        )
      }
      case "approve": {
        const name = flags.positionals[0]
        if (name === undefined) return yield* usage("sage mcp approve NAME: which server?")
        const entries = yield* loadMcpEntries({ cwd, homeDir })
        const entry = entries.find((e) => e.name === name)
        if (entry === undefined) return yield* usage(`no MCP server named "${name}" in this project`)
        if (!APPROVAL_SCOPES.has(entry.scope)) {
          yield* out(`${name} is configured in ${entry.source}: it needs no approval\n`)
          return 0
        }
        yield* approveServer(homeDir, cwd, entry)
        yield* out(`Approved ${name} (${describeTarget(entry.config)}) for ${cwd}\n`)
        return 0
      }
      default:
        return yield* usage(
          `unknown command "sage mcp ${args.action}"; expected list, get, add, remove, approve or serve`
        )
    }
  }).pipe(
    Effect.catch((error: McpConfigError) => Effect.as(err(`sage: ${error.message}\n`), 1)),
    Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: definedEnv(io.env) })))
  )

export { McpConfigError }
