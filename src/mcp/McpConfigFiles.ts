/**
 * Reading and writing the MCP configuration files (see `Config.ts` for the sources and their order), and the
 * approvals of project servers.
 *
 * Approvals live in `~/.sage/mcp-approvals.json`, a file only the user writes (a repository cannot approve its
 * own servers): `{"projects": {"<project root>": {"<server>": "<fingerprint>"}}}`. The fingerprint is a hash of
 * the server's configuration as written, so a repository that changes an approved server's command needs a new
 * approval.
 */
import { randomUUID } from "node:crypto"
import * as fsp from "node:fs/promises"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { applyEdits, modify } from "jsonc-parser"
import { McpConfigError } from "../errors/McpError.js"
import {
  APPROVAL_SCOPES,
  configFingerprint,
  type McpScope,
  type McpServerConfig,
  type McpServerEntry,
  mergeEntries,
  parseMcpJson,
  parseServers
} from "./Config.js"

export interface McpSources {
  /** The project root (`.mcp.json`, `.sage/settings*.json`). */
  readonly cwd: string
  readonly homeDir: string
  /** `--mcp-config FILE` (each may also be inline JSON, starting with `{`). */
  readonly configFiles?: ReadonlyArray<string>
  /** The `mcpServers` option of the SDK / Effect API. */
  readonly servers?: Readonly<Record<string, unknown>>
}

export const mcpPaths = (cwd: string, homeDir: string) => ({
  user: path.join(homeDir, ".sage", "settings.json"),
  projectSettings: path.join(cwd, ".sage", "settings.json"),
  project: path.join(cwd, ".mcp.json"),
  local: path.join(cwd, ".sage", "settings.local.json"),
  approvals: path.join(homeDir, ".sage", "mcp-approvals.json")
})

const errorCode = (error: unknown): unknown =>
  typeof error === "object" && error !== null && "code" in error ? error.code : undefined

/** The file's text, or `undefined` when it does not exist. */
export const readOptional = (file: string): Effect.Effect<string | undefined, McpConfigError> =>
  Effect.tryPromise({ try: () => fsp.readFile(file, "utf8"), catch: (error) => error }).pipe(
    Effect.catch((error) =>
      errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR"
        ? Effect.succeed(undefined)
        : Effect.fail(new McpConfigError({ message: `cannot read ${file}: ${String(error)}`, source: file }))
    )
  )

const fromResult = <A>(result: Result.Result<A, string>, source: string): Effect.Effect<A, McpConfigError> =>
  Result.isSuccess(result)
    ? Effect.succeed(result.success)
    : Effect.fail(new McpConfigError({ message: result.failure, source }))

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The `mcpServers` of a settings file (the file itself is validated by the settings loader). */
const settingsServers = (file: string, scope: McpScope): Effect.Effect<ReadonlyArray<McpServerEntry>, McpConfigError> =>
  Effect.gen(function* () {
    const text = yield* readOptional(file)
    if (text === undefined) return []
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      return yield* new McpConfigError({ message: `${file}: invalid JSON: ${String(error)}`, source: file })
    }
    if (!isRecord(json) || json.mcpServers === undefined) return []
    const servers = yield* fromResult(
      Result.mapError(parseServers(json.mcpServers), (m) => `${file}: ${m}`),
      file
    )
    return servers.map(([name, config]) => ({ name, config, scope, source: file }))
  })

const mcpJsonServers = (
  file: string,
  scope: McpScope,
  text: string
): Effect.Effect<ReadonlyArray<McpServerEntry>, McpConfigError> =>
  Effect.map(fromResult(parseMcpJson(file, text), file), (servers) =>
    servers.map(([name, config]) => ({ name, config, scope, source: file }))
  )

/** Every configured server, merged (a later source replaces an earlier one of the same name). */
export const loadMcpEntries = (sources: McpSources): Effect.Effect<ReadonlyArray<McpServerEntry>, McpConfigError> =>
  Effect.gen(function* () {
    const paths = mcpPaths(sources.cwd, sources.homeDir)
    const entries: Array<McpServerEntry> = []
    entries.push(...(yield* settingsServers(paths.user, "user")))
    if (paths.projectSettings !== paths.user)
      entries.push(...(yield* settingsServers(paths.projectSettings, "project-settings")))
    const project = yield* readOptional(paths.project)
    if (project !== undefined) entries.push(...(yield* mcpJsonServers(paths.project, "project", project)))
    entries.push(...(yield* settingsServers(paths.local, "local")))
    for (const file of sources.configFiles ?? []) {
      const inline = file.trimStart().startsWith("{")
      const text = inline ? file : yield* readOptional(path.resolve(sources.cwd, file))
      if (text === undefined) {
        return yield* new McpConfigError({ message: `--mcp-config ${file}: no such file`, source: file })
      }
      entries.push(...(yield* mcpJsonServers(inline ? "--mcp-config" : path.resolve(sources.cwd, file), "flag", text)))
    }
    if (sources.servers !== undefined) {
      const servers = yield* fromResult(parseServers(sources.servers, "options.mcpServers"), "options.mcpServers")
      entries.push(...servers.map(([name, config]) => ({ name, config, scope: "options" as const, source: "options" })))
    }
    return mergeEntries(entries)
  })

/** Approved project servers: name -> fingerprint, for `projectRoot`. */
export const loadApprovals = (
  homeDir: string,
  projectRoot: string
): Effect.Effect<ReadonlyMap<string, string>, McpConfigError> =>
  Effect.gen(function* () {
    const file = mcpPaths(projectRoot, homeDir).approvals
    const text = yield* readOptional(file)
    if (text === undefined) return new Map()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      return yield* new McpConfigError({ message: `${file}: invalid JSON: ${String(error)}`, source: file })
    }
    const projects = isRecord(json) && isRecord(json.projects) ? json.projects : {}
    const approved = projects[path.resolve(projectRoot)]
    if (!isRecord(approved)) return new Map()
    return new Map(Object.entries(approved).filter((e): e is [string, string] => typeof e[1] === "string"))
  })

/** Whether a server may start: servers of a repository's files need an approval of this exact configuration. */
export const isApproved = (entry: McpServerEntry, approvals: ReadonlyMap<string, string>): boolean =>
  !APPROVAL_SCOPES.has(entry.scope) || approvals.get(entry.name) === configFingerprint(entry.config)

const FORMATTING = { formattingOptions: { insertSpaces: true, tabSize: 2, eol: "\n" } }

/** Writes `text` atomically (a temporary file renamed over the target). */
const writeAtomic = (file: string, text: string): Effect.Effect<void, McpConfigError> => {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.tmp`)
  const fail = (error: unknown) =>
    new McpConfigError({ message: `cannot write ${file}: ${String(error)}`, source: file })
  return Effect.tryPromise({ try: () => fsp.mkdir(path.dirname(file), { recursive: true }), catch: fail }).pipe(
    Effect.andThen(Effect.tryPromise({ try: () => fsp.writeFile(temp, text, { mode: 0o600 }), catch: fail })),
    Effect.andThen(Effect.tryPromise({ try: () => fsp.rename(temp, file), catch: fail })),
    Effect.tapError(() => Effect.ignore(Effect.tryPromise(() => fsp.rm(temp, { force: true }))))
  )
}

/** Sets (or with `undefined`, removes) `value` at `at` in a JSON file, keeping the rest of its text. */
export const editJsonFile = (
  file: string,
  at: ReadonlyArray<string>,
  value: unknown
): Effect.Effect<void, McpConfigError> =>
  Effect.gen(function* () {
    const existing = (yield* readOptional(file)) ?? "{}\n"
    try {
      JSON.parse(existing)
    } catch (error) {
      return yield* new McpConfigError({
        message: `${file}: invalid JSON, not changed: ${String(error)}`,
        source: file
      })
    }
    const updated = applyEdits(existing, modify(existing, [...at], value, FORMATTING))
    yield* writeAtomic(file, updated.endsWith("\n") ? updated : `${updated}\n`)
  })

/** Records the user's approval of a project server's current configuration. */
export const approveServer = (
  homeDir: string,
  projectRoot: string,
  entry: McpServerEntry
): Effect.Effect<void, McpConfigError> =>
  editJsonFile(
    mcpPaths(projectRoot, homeDir).approvals,
    ["projects", path.resolve(projectRoot), entry.name],
    configFingerprint(entry.config)
  )

/** Forgets an approval. */
export const revokeServer = (homeDir: string, projectRoot: string, name: string): Effect.Effect<void, McpConfigError> =>
  Effect.gen(function* () {
    const file = mcpPaths(projectRoot, homeDir).approvals
    if ((yield* readOptional(file)) === undefined) return
    yield* editJsonFile(file, ["projects", path.resolve(projectRoot), name], undefined)
  })

/** A configuration as written to a file (`type` omitted for stdio, as Claude Code writes it). */
export const configJson = (config: McpServerConfig): Record<string, unknown> => {
  if (config.type === "stdio") {
    const { type: _type, ...rest } = config
    return { ...rest }
  }
  return { ...config }
}
