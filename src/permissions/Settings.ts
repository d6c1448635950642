/**
 * Settings files with permission rules, lowest to highest precedence: `~/.sage/settings.json`,
 * `<project>/.sage/settings.json`, `<project>/.sage/settings.local.json`, then rules given in code and the CLI
 * flags. A file is strict JSON, parsed with positions (`jsonc-parser`): a syntax error, an unknown key (`permisions`,
 * `alow`), a value of the wrong type or a rule naming an unknown tool (`Raed(...)`) is a `PermissionError` whose
 * message starts with `file:line:column:` and says what was found and what was expected. A malformed file is
 * never ignored and never overwritten.
 */
import { randomUUID } from "node:crypto"
import * as fsp from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import * as Semaphore from "effect/Semaphore"
import {
  applyEdits,
  findNodeAtLocation,
  getNodeValue,
  type Node as JsonNode,
  modify,
  type ParseError,
  parseTree,
  printParseErrorCode
} from "jsonc-parser"
import { PermissionError } from "../errors/PermissionError.js"
import { mergeHooks, parseHooks } from "../hooks/HookSettings.js"
import type { HooksConfig } from "../services/Hooks.js"
import type { ModelOverrides } from "../services/ModelCatalog.js"
import { PERMISSION_MODES, type PermissionMode } from "../services/Permissions.js"
import type {
  CompactionSettings,
  Rule,
  RuleBehavior,
  RuleLists,
  RuleSet,
  SandboxSettings,
  Settings
} from "../services/Settings.js"
import { parseServers } from "../mcp/Config.js"
import { mergeOverrides, parseCompaction, parseModels } from "./ModelSettings.js"
import { parseRule } from "./Rule.js"
import { parseSandbox } from "./SandboxSettings.js"
import { describeNode, properties } from "./SettingsNodes.js"
import { didYouMean } from "./ToolNames.js"

export type { RuleLists, RuleSet }

/**
 * The keys a settings file may have at the top level (`model` and `env` are accepted and not used by Sage; `models`
 * and `compaction` are checked in `ModelSettings.ts`, `sandbox` in `SandboxSettings.ts`).
 */
export const SETTINGS_KEYS: ReadonlyArray<string> = [
  "$schema",
  "permissions",
  "model",
  "env",
  "models",
  "compaction",
  "sandbox",
  "hooks",
  "mcpServers"
]

/** The keys of the `permissions` section. */
export const PERMISSIONS_KEYS: ReadonlyArray<string> = ["allow", "ask", "deny", "additionalDirectories", "defaultMode"]

/** Rules from one settings file, already parsed. */
export interface SettingsRules {
  readonly file: string
  readonly rules: ReadonlyArray<Rule>
  readonly additionalDirectories: ReadonlyArray<string>
  readonly defaultMode?: PermissionMode
  readonly models?: ModelOverrides
  readonly compaction?: CompactionSettings
  readonly sandbox?: SandboxSettings
  readonly hooks?: HooksConfig
}

/** Where relative paths in a settings file start, and the tool names its rules may use beside the built-ins. */
export interface SettingsBases {
  readonly projectRoot: string
  readonly homeDir: string
  /** Names of the session's custom tools (rules may name them beside the built-in and MCP tools). */
  readonly toolNames?: ReadonlyArray<string>
}

export interface LoadOptions {
  readonly cwd: string
  readonly homeDir: string
  /** `--allowed-tools` / `--disallowed-tools` (each entry may hold several rules separated by commas or spaces). */
  readonly flags?: { readonly allowed: ReadonlyArray<string>; readonly disallowed: ReadonlyArray<string> }
  /** Rules given programmatically (source `options`). */
  readonly additionalRules?: RuleLists
  /** Extra workspace roots from flags (`--add-dir`), beside the settings files' `additionalDirectories`. */
  readonly additionalDirectories?: ReadonlyArray<string>
  /** Names of the session's custom tools, which rules may name beside the built-in and MCP tools. */
  readonly toolNames?: ReadonlyArray<string>
}

/** The settings files, lowest precedence first. */
export const settingsPaths = (cwd: string, homeDir: string) => ({
  user: path.join(homeDir, ".sage", "settings.json"),
  project: path.join(cwd, ".sage", "settings.json"),
  local: path.join(cwd, ".sage", "settings.local.json")
})

/** 1-based line and column of a character offset. */
export const lineColumn = (text: string, offset: number): { readonly line: number; readonly column: number } => {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)))
  const lines = before.split("\n")
  return { line: lines.length, column: (lines[lines.length - 1] ?? "").length + 1 }
}

const PARSE_OPTIONS = { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false }

/** The offset of the value at `target` in a JSON text (or of the deepest enclosing value found). */
export const locateJsonPath = (text: string, target: ReadonlyArray<string | number>): number => {
  const root = parseTree(text, [], PARSE_OPTIONS)
  if (root === undefined) return 0
  let best = root.offset
  for (let depth = 1; depth <= target.length; depth++) {
    const node = findNodeAtLocation(root, target.slice(0, depth))
    if (node === undefined) break
    best = node.offset
  }
  return best
}

const PARSE_ERRORS: Readonly<Record<string, string>> = {
  InvalidSymbol: "an invalid symbol",
  InvalidNumberFormat: "an invalid number",
  PropertyNameExpected: "expected a property name in double quotes",
  ValueExpected: "expected a value (a trailing comma, or nothing where a value belongs?)",
  ColonExpected: "expected a colon",
  CommaExpected: "expected a comma",
  CloseBraceExpected: "expected a closing brace }",
  CloseBracketExpected: "expected a closing bracket ]",
  EndOfFileExpected: "expected the end of the file",
  InvalidCommentToken: "comments are not allowed in JSON",
  UnexpectedEndOfComment: "an unterminated comment",
  UnexpectedEndOfString: "an unterminated string",
  UnexpectedEndOfNumber: "an unterminated number",
  InvalidUnicode: "an invalid unicode escape",
  InvalidEscapeCharacter: "an invalid escape character",
  InvalidCharacter: "an invalid character in a string"
}

const fileError = (file: string, text: string, offset: number, message: string) => {
  const { line, column } = lineColumn(text, offset)
  return new PermissionError({ message: `${file}:${line}:${column}: ${message}`, source: file })
}

const joinPath = (at: ReadonlyArray<string | number>) =>
  at.reduce<string>((acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc === "" ? key : `${acc}.${key}`), "")

/**
 * Parses and validates one settings file's text: strict JSON, known keys only, values of the right type, rules
 * that parse and name known tools.
 */
export const parseSettings = (
  file: string,
  text: string,
  bases: SettingsBases
): Result.Result<SettingsRules, PermissionError> => {
  const errors: Array<ParseError> = []
  const root = parseTree(text, errors, PARSE_OPTIONS)
  const syntax = errors[0]
  if (syntax !== undefined || root === undefined) {
    const code = syntax === undefined ? "ValueExpected" : printParseErrorCode(syntax.error)
    return Result.fail(
      fileError(file, text, syntax?.offset ?? text.length, `invalid JSON: ${PARSE_ERRORS[code] ?? code}`)
    )
  }
  const fail = (node: JsonNode, message: string) => Result.fail(fileError(file, text, node.offset, message))
  const wrongType = (node: JsonNode, at: ReadonlyArray<string | number>, expected: string) =>
    fail(node, `invalid settings at ${joinPath(at)}: expected ${expected}, found ${describeNode(node)}`)
  const unknownKey = (key: JsonNode, where: string, known: ReadonlyArray<string>) => {
    const name = String(key.value)
    return fail(
      key,
      `unknown key ${JSON.stringify(name)} ${where}; expected one of: ${known.join(", ")}${didYouMean(name, known)}`
    )
  }
  if (root.type !== "object") return wrongType(root, [], "an object at the top level")
  let section: JsonNode | undefined
  let models: ModelOverrides | undefined
  let compaction: CompactionSettings | undefined
  let sandbox: SandboxSettings | undefined
  let hooks: HooksConfig | undefined
  for (const [key, value] of properties(root)) {
    if (!SETTINGS_KEYS.includes(String(key.value))) return unknownKey(key, "at the top level", SETTINGS_KEYS)
    if (key.value === "permissions") section = value
    if (key.value === "models") {
      const checked = parseModels(value)
      if (Result.isFailure(checked)) return fail(checked.failure.node, checked.failure.message)
      models = checked.success
    }
    if (key.value === "compaction") {
      const checked = parseCompaction(value)
      if (Result.isFailure(checked)) return fail(checked.failure.node, checked.failure.message)
      compaction = checked.success
    }
    if (key.value === "sandbox") {
      const checked = parseSandbox(value)
      if (Result.isFailure(checked)) return fail(checked.failure.node, checked.failure.message)
      sandbox = checked.success
    }
    if (key.value === "mcpServers") {
      // MCP servers (read by `mcp/McpConfigFiles.ts`); checked here so that a mistake names its line.
      const checked = parseServers(getNodeValue(value))
      if (Result.isFailure(checked)) return fail(value, `invalid settings at ${checked.failure}`)
    }
    if (key.value === "hooks") {
      const checked = parseHooks(value)
      if (Result.isFailure(checked)) return fail(checked.failure.node, checked.failure.message)
      hooks = checked.success
    }
  }
  const rules: Array<Rule> = []
  const additionalDirectories: Array<string> = []
  let defaultMode: PermissionMode | undefined
  if (section !== undefined) {
    if (section.type !== "object") return wrongType(section, ["permissions"], "an object")
    for (const [key, value] of properties(section)) {
      const name = String(key.value)
      const at = ["permissions", name]
      if (!PERMISSIONS_KEYS.includes(name)) return unknownKey(key, "in permissions", PERMISSIONS_KEYS)
      if (name === "defaultMode") {
        const mode = PERMISSION_MODES.find((m) => m === value.value)
        if (value.type !== "string" || mode === undefined) {
          const hint = value.type === "string" ? didYouMean(String(value.value), PERMISSION_MODES) : ""
          return wrongType(value, at, `one of ${PERMISSION_MODES.join(", ")}${hint}`)
        }
        defaultMode = mode
        continue
      }
      const expected = name === "additionalDirectories" ? "an array of directory paths" : "an array of rule strings"
      if (value.type !== "array") return wrongType(value, at, expected)
      for (const [n, item] of (value.children ?? []).entries()) {
        if (item.type !== "string") return wrongType(item, [...at, n], "a string")
        const entry = String(item.value)
        if (name === "additionalDirectories") {
          additionalDirectories.push(
            entry === "~" || entry.startsWith("~/")
              ? path.join(bases.homeDir, entry.slice(1))
              : path.resolve(bases.projectRoot, entry)
          )
          continue
        }
        const behavior: RuleBehavior = name === "allow" ? "allow" : name === "ask" ? "ask" : "deny"
        const parsed = parseRule(entry, behavior, file, { custom: bases.toolNames ?? [] })
        if (Result.isFailure(parsed)) return fail(item, `${parsed.failure} (in ${joinPath([...at, n])})`)
        rules.push(parsed.success)
      }
    }
  }
  return Result.succeed({
    file,
    rules,
    additionalDirectories,
    ...(defaultMode === undefined ? {} : { defaultMode }),
    ...(models === undefined ? {} : { models }),
    ...(compaction === undefined ? {} : { compaction }),
    ...(sandbox === undefined ? {} : { sandbox }),
    ...(hooks === undefined ? {} : { hooks })
  })
}

const errorCode = (error: unknown): unknown =>
  typeof error === "object" && error !== null && "code" in error ? error.code : undefined

const readOptional = (file: string): Effect.Effect<Option.Option<string>, PermissionError> =>
  Effect.tryPromise({
    try: () => fsp.readFile(file, "utf8"),
    catch: (error) => error
  }).pipe(
    Effect.map(Option.some),
    Effect.catch((error) => {
      const code = errorCode(error)
      return code === "ENOENT" || code === "ENOTDIR"
        ? Effect.succeed(Option.none<string>())
        : Effect.fail(new PermissionError({ message: `cannot read ${file}: ${String(error)}`, source: file }))
    })
  )

/** Loads one settings file; a missing file is `None`. */
export const loadSettingsFile = (
  file: string,
  bases: SettingsBases
): Effect.Effect<Option.Option<SettingsRules>, PermissionError> =>
  Effect.flatMap(readOptional(file), (text) =>
    Option.match(text, {
      onNone: () => Effect.succeed(Option.none<SettingsRules>()),
      onSome: (t) => Effect.map(Effect.fromResult(parseSettings(file, t, bases)), Option.some)
    })
  )

/** Splits a flag value like `Read,Bash(git log:*) Edit` into rules (commas and spaces inside parentheses stay). */
export const splitRuleList = (value: string): ReadonlyArray<string> => {
  const out: Array<string> = []
  let depth = 0
  let current = ""
  for (const ch of value) {
    if (ch === "(") depth++
    if (ch === ")") depth = Math.max(0, depth - 1)
    if (depth === 0 && (ch === "," || /\s/.test(ch))) {
      if (current.trim() !== "") out.push(current.trim())
      current = ""
    } else {
      current += ch
    }
  }
  if (current.trim() !== "") out.push(current.trim())
  return out
}

const parseList = (
  entries: ReadonlyArray<string>,
  behavior: RuleBehavior,
  source: string,
  split: boolean,
  toolNames: ReadonlyArray<string>
): Result.Result<ReadonlyArray<Rule>, PermissionError> =>
  Result.all(
    entries
      .flatMap((entry) => (split ? splitRuleList(entry) : [entry]))
      .map((text) =>
        Result.mapError(
          parseRule(text, behavior, source, { custom: toolNames }),
          (message) => new PermissionError({ message: `${source}: ${message}`, source })
        )
      )
  )

/** The `compaction` keys of the loaded files, the highest precedence winning field by field. */
const mergeCompaction = (loaded: ReadonlyArray<SettingsRules>): CompactionSettings => {
  const latest = [...loaded].reverse()
  const auto = latest.find((s) => s.compaction?.auto !== undefined)?.compaction?.auto
  const threshold = latest.find((s) => s.compaction?.threshold !== undefined)?.compaction?.threshold
  return { ...(auto === undefined ? {} : { auto }), ...(threshold === undefined ? {} : { threshold }) }
}

/** Loads every settings file, the rules given in code and the flags into one rule set. */
export const loadRuleSet = (options: LoadOptions): Effect.Effect<RuleSet, PermissionError> =>
  Effect.gen(function* () {
    const projectRoot = path.resolve(options.cwd)
    const toolNames = options.toolNames ?? []
    const bases: SettingsBases = { projectRoot, homeDir: options.homeDir, toolNames }
    const paths = settingsPaths(projectRoot, options.homeDir)
    const candidates = [paths.user, paths.project, paths.local].filter(
      (file, i, list) => list.indexOf(file) === i // home == project: load once
    )
    const loaded: Array<SettingsRules> = []
    for (const file of candidates) {
      const settings = yield* loadSettingsFile(file, bases)
      if (Option.isSome(settings)) loaded.push(settings.value)
    }
    const extra = options.additionalRules ?? {}
    const lists = [
      parseList(options.flags?.allowed ?? [], "allow", "--allowed-tools", true, toolNames),
      parseList(options.flags?.disallowed ?? [], "deny", "--disallowed-tools", true, toolNames),
      parseList(extra.allow ?? [], "allow", "options", false, toolNames),
      parseList(extra.ask ?? [], "ask", "options", false, toolNames),
      parseList(extra.deny ?? [], "deny", "options", false, toolNames)
    ]
    const codeRules: Array<Rule> = []
    for (const list of lists) codeRules.push(...(yield* Effect.fromResult(list)))
    const defaultMode = [...loaded].reverse().find((s) => s.defaultMode !== undefined)?.defaultMode
    return {
      projectRoot,
      homeDir: options.homeDir,
      rules: [...loaded.flatMap((s) => s.rules), ...codeRules],
      additionalDirectories: [
        ...loaded.flatMap((s) => s.additionalDirectories),
        ...(options.additionalDirectories ?? []).map((dir) => path.resolve(projectRoot, dir))
      ],
      files: loaded.map((s) => s.file),
      ...(defaultMode === undefined ? {} : { defaultMode }),
      ...(loaded.some((s) => s.models !== undefined) ? { models: mergeOverrides(...loaded.map((s) => s.models)) } : {}),
      ...(loaded.some((s) => s.compaction !== undefined) ? { compaction: mergeCompaction(loaded) } : {}),
      ...(loaded.some((s) => s.sandbox !== undefined)
        ? { sandbox: { envPassthrough: loaded.flatMap((s) => s.sandbox?.envPassthrough ?? []) } }
        : {}),
      ...(loaded.some((s) => s.hooks !== undefined) ? { hooks: mergeHooks(...loaded.map((s) => s.hooks)) } : {})
    }
  })

const FORMATTING = { formattingOptions: { insertSpaces: true, tabSize: 2, eol: "\n" } }

/**
 * Appends an allow rule to a settings file (normally `<project>/.sage/settings.local.json`), keeping the rest of
 * its content and layout. Creates the directory; writes a temporary file and renames it over the original.
 */
export const appendAllowRule = (
  file: string,
  rule: string,
  bases: SettingsBases
): Effect.Effect<Rule, PermissionError> =>
  Effect.gen(function* () {
    const parsed = parseRule(rule, "allow", file, { custom: bases.toolNames ?? [] })
    if (Result.isFailure(parsed)) return yield* new PermissionError({ message: parsed.failure, source: file })
    const saved = parsed.success
    const existing = yield* readOptional(file)
    let updated: string
    if (Option.isSome(existing)) {
      const current = yield* Effect.fromResult(parseSettings(file, existing.value, bases))
      if (current.rules.some((r) => r.behavior === "allow" && r.text === saved.text)) return saved
      const root = parseTree(existing.value, [], PARSE_OPTIONS)
      const allow = root === undefined ? undefined : findNodeAtLocation(root, ["permissions", "allow"])
      const list: ReadonlyArray<unknown> = allow === undefined ? [] : getNodeValue(allow)
      const edits =
        allow === undefined
          ? modify(existing.value, ["permissions", "allow"], [saved.text], FORMATTING)
          : modify(existing.value, ["permissions", "allow", list.length], saved.text, {
              ...FORMATTING,
              isArrayInsertion: true
            })
      updated = applyEdits(existing.value, edits)
    } else {
      updated = `${JSON.stringify({ permissions: { allow: [saved.text] } }, null, 2)}\n`
    }
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.tmp`)
    const fail = (error: unknown) =>
      new PermissionError({ message: `cannot write ${file}: ${String(error)}`, source: file })
    // Atomic: write a temporary file beside it, then rename over it.
    yield* Effect.tryPromise({ try: () => fsp.mkdir(path.dirname(file), { recursive: true }), catch: fail }).pipe(
      Effect.andThen(Effect.tryPromise({ try: () => fsp.writeFile(temp, updated, { mode: 0o600 }), catch: fail })),
      Effect.andThen(Effect.tryPromise({ try: () => fsp.rename(temp, file), catch: fail })),
      Effect.tapError(() => Effect.ignore(Effect.tryPromise(() => fsp.rm(temp, { force: true }))))
    )
    return saved
  })

/** Options of the settings service. */
export interface SettingsOptions {
  /** The project root: `.sage/settings*.json` are read from here and path rules are relative to it. */
  readonly cwd: string
  /** Defaults to the OS home directory. */
  readonly homeDir?: string
  /** `--allowed-tools` (allow rules) and `--disallowed-tools` (deny rules). */
  readonly flags?: { readonly allowed: ReadonlyArray<string>; readonly disallowed: ReadonlyArray<string> }
  /** Rules given in code (SDK / library options), source `options`. */
  readonly additionalRules?: RuleLists
  /** Extra workspace roots (`--add-dir`). */
  readonly additionalDirectories?: ReadonlyArray<string>
  /** Names of the session's custom tools, which rules may name beside the built-in and MCP tools. */
  readonly toolNames?: ReadonlyArray<string>
}

/** Builds the settings service: loads every source now (a malformed one fails), saves "allow always" rules later. */
export const makeSettings = Effect.fn("Settings.make")(function* (options: SettingsOptions) {
  const homeDir = options.homeDir ?? os.homedir()
  const loaded = yield* loadRuleSet({ ...options, homeDir })
  const ref = yield* Ref.make(loaded)
  const lock = yield* Semaphore.make(1)
  const localFile = settingsPaths(loaded.projectRoot, homeDir).local
  const bases: SettingsBases = { projectRoot: loaded.projectRoot, homeDir, toolNames: options.toolNames ?? [] }

  const addAllowRule = Effect.fn("Settings.addAllowRule")(function* (rule: string) {
    return yield* lock.withPermits(1)(
      Effect.gen(function* () {
        const saved = yield* appendAllowRule(localFile, rule, bases)
        yield* Ref.update(ref, (current) =>
          current.rules.some((r) => r.behavior === "allow" && r.text === saved.text && r.source === saved.source)
            ? current
            : { ...current, rules: [...current.rules, saved] }
        )
        return saved
      })
    )
  })

  /** An allow rule for this session only ("allow for this session"; a resumed session adds its grants again). */
  const addSessionRule = Effect.fn("Settings.addSessionRule")(function* (rule: string) {
    const parsed = parseRule(rule, "allow", "session", { custom: bases.toolNames ?? [] })
    if (Result.isFailure(parsed)) return yield* new PermissionError({ message: parsed.failure, source: "session" })
    const added = parsed.success
    yield* Ref.update(ref, (current) =>
      current.rules.some((r) => r.behavior === "allow" && r.text === added.text && r.source === added.source)
        ? current
        : { ...current, rules: [...current.rules, added] }
    )
    return added
  })

  const service: Settings.Service = { ruleSet: Ref.get(ref), addAllowRule, addSessionRule }
  return service
})
