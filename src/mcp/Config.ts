/**
 * MCP server configuration, in the format Claude Code users already have:
 *
 * ```json
 * { "mcpServers": {
 *     "files": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "."], "env": { "X": "${X}" } },
 *     "remote": { "type": "http", "url": "https://example.com/mcp", "headers": { "Authorization": "Bearer ${TOKEN}" } },
 *     "legacy": { "type": "sse", "url": "http://127.0.0.1:3001/sse" } } }
 * ```
 *
 * Sources (later ones win on a name clash): `~/.sage/settings.json` (`user`), `<project>/.sage/settings.json`
 * (`project-settings`, needs approval), `<project>/.mcp.json` (`project`, needs approval),
 * `<project>/.sage/settings.local.json` (`local`), `--mcp-config FILE` (`flag`) and the `mcpServers` option
 * (`options`). `${VAR}` and `${VAR:-default}` are expanded from the environment in `command`, `args`, `env`,
 * `cwd`, `url` and `headers`. Pure: no I/O here.
 */
import { createHash } from "node:crypto"
import * as Result from "effect/Result"

/** Optional timeouts of any server. */
export interface McpTimeouts {
  /** Connecting and listing its tools, in ms (default 10 000, or `MCP_TIMEOUT`). */
  readonly startupTimeoutMs?: number
  /** One tool call, in ms (default 60 000, or `MCP_TOOL_TIMEOUT`). */
  readonly toolTimeoutMs?: number
}

export interface McpStdioConfig extends McpTimeouts {
  readonly type: "stdio"
  readonly command: string
  readonly args?: ReadonlyArray<string>
  /** Passed to the server on top of the scrubbed environment (the only way to give it a credential). */
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
}

export interface McpRemoteConfig extends McpTimeouts {
  readonly type: "http" | "sse"
  readonly url: string
  readonly headers?: Readonly<Record<string, string>>
}

export type McpServerConfig = McpStdioConfig | McpRemoteConfig

/** A server as the `mcpServers` option takes it (as in `.mcp.json`: `type` may be left out for stdio). */
export type McpServerOption = (Omit<McpStdioConfig, "type"> & { readonly type?: "stdio" }) | McpRemoteConfig

/** Where a server's configuration came from. */
export type McpScope = "user" | "project-settings" | "project" | "local" | "flag" | "options"

/** Scopes a repository can write: their servers start only after the user approved them. */
export const APPROVAL_SCOPES: ReadonlySet<McpScope> = new Set<McpScope>(["project", "project-settings"])

export interface McpServerEntry {
  readonly name: string
  readonly config: McpServerConfig
  readonly scope: McpScope
  /** The file (or `--mcp-config`, `options`) it was read from. */
  readonly source: string
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const STDIO_KEYS = ["type", "command", "args", "env", "cwd", "startupTimeoutMs", "toolTimeoutMs"]
const REMOTE_KEYS = ["type", "url", "headers", "startupTimeoutMs", "toolTimeoutMs"]

/** A server name: what the tool names are built from. */
export const SERVER_NAME = /^[A-Za-z0-9_.-]{1,64}$/

const stringRecord = (value: unknown, at: string): Result.Result<Record<string, string>, string> => {
  if (!isRecord(value)) return Result.fail(`${at}: expected an object of strings`)
  const out: Record<string, string> = {}
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") return Result.fail(`${at}.${key}: expected a string, found ${JSON.stringify(v)}`)
    out[key] = v
  }
  return Result.succeed(out)
}

const timeouts = (value: Record<string, unknown>, at: string): Result.Result<McpTimeouts, string> => {
  const out: { startupTimeoutMs?: number; toolTimeoutMs?: number } = {}
  for (const key of ["startupTimeoutMs", "toolTimeoutMs"] as const) {
    const v = value[key]
    if (v === undefined) continue
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
      return Result.fail(`${at}.${key}: expected a whole number of milliseconds >= 1, found ${JSON.stringify(v)}`)
    }
    out[key] = v
  }
  return Result.succeed(out)
}

/** Checks one server's configuration (`at` names it in messages, e.g. `mcpServers.files`). */
export const parseServerConfig = (value: unknown, at: string): Result.Result<McpServerConfig, string> => {
  if (!isRecord(value)) return Result.fail(`${at}: expected an object with "command" or "url"`)
  const type = value.type ?? (value.url !== undefined && value.command === undefined ? "http" : "stdio")
  if (type !== "stdio" && type !== "http" && type !== "sse" && type !== "streamable-http") {
    return Result.fail(`${at}.type: expected "stdio", "http" or "sse", found ${JSON.stringify(value.type)}`)
  }
  const known = type === "stdio" ? STDIO_KEYS : REMOTE_KEYS
  const unknown = Object.keys(value).find((key) => !known.includes(key))
  if (unknown !== undefined) {
    return Result.fail(
      `${at}: unknown key ${JSON.stringify(unknown)} for a ${type} server; expected one of: ${known.join(", ")}`
    )
  }
  const times = timeouts(value, at)
  if (Result.isFailure(times)) return Result.fail(times.failure)
  if (type === "stdio") {
    if (typeof value.command !== "string" || value.command.trim() === "") {
      return Result.fail(`${at}.command: expected the program to run (a non-empty string)`)
    }
    const args = value.args ?? []
    if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) {
      return Result.fail(`${at}.args: expected an array of strings`)
    }
    const env = value.env === undefined ? Result.succeed(undefined) : stringRecord(value.env, `${at}.env`)
    if (Result.isFailure(env)) return Result.fail(env.failure)
    if (value.cwd !== undefined && typeof value.cwd !== "string") return Result.fail(`${at}.cwd: expected a string`)
    return Result.succeed({
      type: "stdio",
      command: value.command,
      args: args.filter((a): a is string => typeof a === "string"),
      ...(env.success === undefined ? {} : { env: env.success }),
      ...(typeof value.cwd === "string" ? { cwd: value.cwd } : {}),
      ...times.success
    })
  }
  if (typeof value.url !== "string" || value.url === "") return Result.fail(`${at}.url: expected a URL`)
  const headers = value.headers === undefined ? Result.succeed(undefined) : stringRecord(value.headers, `${at}.headers`)
  if (Result.isFailure(headers)) return Result.fail(headers.failure)
  return Result.succeed({
    type: type === "sse" ? "sse" : "http",
    url: value.url,
    ...(headers.success === undefined ? {} : { headers: headers.success }),
    ...times.success
  })
}

/** Checks an `mcpServers` object (the value of the key, not the file). */
export const parseServers = (
  value: unknown,
  at = "mcpServers"
): Result.Result<ReadonlyArray<readonly [string, McpServerConfig]>, string> => {
  if (!isRecord(value)) return Result.fail(`${at}: expected an object of servers by name`)
  const out: Array<readonly [string, McpServerConfig]> = []
  for (const [name, config] of Object.entries(value)) {
    if (!SERVER_NAME.test(name)) {
      return Result.fail(`${at}: invalid server name ${JSON.stringify(name)}: use 1-64 of A-Z a-z 0-9 _ . -`)
    }
    const parsed = parseServerConfig(config, `${at}.${name}`)
    if (Result.isFailure(parsed)) return Result.fail(parsed.failure)
    out.push([name, parsed.success])
  }
  return Result.succeed(out)
}

/** Parses the text of a `.mcp.json` / `--mcp-config` file: `{"mcpServers": {...}}`. */
export const parseMcpJson = (
  file: string,
  text: string
): Result.Result<ReadonlyArray<readonly [string, McpServerConfig]>, string> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return Result.fail(`${file}: invalid JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (!isRecord(json)) return Result.fail(`${file}: expected an object with "mcpServers"`)
  const unknown = Object.keys(json).find((key) => key !== "mcpServers" && key !== "$schema")
  if (unknown !== undefined)
    return Result.fail(`${file}: unknown key ${JSON.stringify(unknown)}; expected "mcpServers"`)
  return Result.mapError(parseServers(json.mcpServers ?? {}), (message) => `${file}: ${message}`)
}

/** `${VAR}` and `${VAR:-default}`. */
const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/** Expands `${VAR}` / `${VAR:-default}`; names without a value and without a default are reported. */
export const expandVars = (
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  missing: Array<string>
): string =>
  text.replace(VARIABLE, (_all, name: string, fallback: string | undefined) => {
    const value = env[name]
    if (value !== undefined && value !== "") return value
    if (fallback !== undefined) return fallback
    if (!missing.includes(name)) missing.push(name)
    return ""
  })

const expandRecord = (
  record: Readonly<Record<string, string>> | undefined,
  env: Readonly<Record<string, string | undefined>>,
  missing: Array<string>
): Record<string, string> | undefined =>
  record === undefined
    ? undefined
    : Object.fromEntries(Object.entries(record).map(([k, v]) => [k, expandVars(v, env, missing)]))

/** The configuration with every variable expanded; fails naming the variables that are not set. */
export const expandConfig = (
  config: McpServerConfig,
  env: Readonly<Record<string, string | undefined>>
): Result.Result<McpServerConfig, string> => {
  const missing: Array<string> = []
  let expanded: McpServerConfig
  if (config.type === "stdio") {
    const vars = expandRecord(config.env, env, missing)
    expanded = {
      ...config,
      command: expandVars(config.command, env, missing),
      args: (config.args ?? []).map((a) => expandVars(a, env, missing)),
      ...(vars === undefined ? {} : { env: vars }),
      ...(config.cwd === undefined ? {} : { cwd: expandVars(config.cwd, env, missing) })
    }
  } else {
    const headers = expandRecord(config.headers, env, missing)
    expanded = {
      ...config,
      url: expandVars(config.url, env, missing),
      ...(headers === undefined ? {} : { headers })
    }
  }
  return missing.length === 0
    ? Result.succeed(expanded)
    : Result.fail(
        `environment variable${missing.length === 1 ? "" : "s"} ${missing.join(", ")} not set (use \${VAR:-default} for a default)`
      )
}

/** Merges the sources, lowest precedence first: a later entry of the same name replaces an earlier one. */
export const mergeEntries = (entries: ReadonlyArray<McpServerEntry>): ReadonlyArray<McpServerEntry> => {
  const byName = new Map<string, McpServerEntry>()
  for (const entry of entries) {
    byName.delete(entry.name)
    byName.set(entry.name, entry)
  }
  return [...byName.values()]
}

/** A stable fingerprint of a configuration as written (approvals are bound to it: a changed server asks again). */
export const configFingerprint = (config: McpServerConfig): string => {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : isRecord(value)
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, canonical(value[k])])
          )
        : value
  return createHash("sha256")
    .update(JSON.stringify(canonical(config)))
    .digest("hex")
    .slice(0, 32)
}

/** `[A-Za-z0-9_-]` only (anything else becomes `_`). */
export const sanitizeName = (text: string): string => text.replace(/[^A-Za-z0-9_-]/g, "_")

/** The registry name of an MCP tool: `mcp__<server>__<tool>`, sanitized and at most 64 characters. */
export const mcpToolName = (server: string, tool: string): string => {
  const full = `mcp__${sanitizeName(server)}__${sanitizeName(tool)}`
  if (full.length <= 64) return full
  const hash = createHash("sha256").update(`${server}\u0000${tool}`).digest("hex").slice(0, 8)
  return `${full.slice(0, 64 - 9)}_${hash}`
}

/** A short description of where a server runs: `node server.js a b` or `http https://...`. */
export const describeTarget = (config: McpServerConfig): string =>
  config.type === "stdio"
    ? [config.command, ...(config.args ?? [])].map((w) => (/\s/.test(w) ? JSON.stringify(w) : w)).join(" ")
    : `${config.type} ${config.url}`
