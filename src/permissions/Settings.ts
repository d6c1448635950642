/**
 * Settings files with permission rules, lowest to highest precedence: `~/.sage/settings.json`,
 * `<project>/.sage/settings.json`, `<project>/.sage/settings.local.json`, then CLI flags. A malformed file is
 * a `PermissionError` naming the file and line; it is never ignored and never overwritten.
 */
import { randomUUID } from "node:crypto"
import * as fsp from "node:fs/promises"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { PermissionError } from "../errors/PermissionError.js"
import { PERMISSION_MODES, type PermissionMode } from "../services/Permissions.js"
import { parseRule, type Rule, type RuleBehavior } from "./Rule.js"

const RuleList = Schema.Array(Schema.String)

const PermissionsSection = Schema.Struct({
  allow: Schema.optional(RuleList),
  ask: Schema.optional(RuleList),
  deny: Schema.optional(RuleList),
  additionalDirectories: Schema.optional(RuleList),
  defaultMode: Schema.optional(Schema.Literal(...PERMISSION_MODES))
})

/** The part of a settings file the permission system reads (other keys are kept and ignored). */
export const SettingsFile = Schema.Struct({ permissions: Schema.optional(PermissionsSection) })
export type SettingsFile = typeof SettingsFile.Type

/** Rules from one settings file, already parsed. */
export interface SettingsRules {
  readonly file: string
  readonly rules: ReadonlyArray<Rule>
  readonly additionalDirectories: ReadonlyArray<string>
  readonly defaultMode?: PermissionMode
}

/** Everything the permission check needs. */
export interface RuleSet {
  /** The project root: relative path patterns and `./` are relative to it. */
  readonly projectRoot: string
  readonly homeDir: string
  /** All rules from all sources (order does not matter: deny beats ask beats allow). */
  readonly rules: ReadonlyArray<Rule>
  /** Extra workspace roots (absolute). */
  readonly additionalDirectories: ReadonlyArray<string>
  /** `defaultMode` from the highest-precedence settings file that sets one. */
  readonly defaultMode?: PermissionMode
  /** The settings files that were found and loaded, lowest precedence first. */
  readonly files: ReadonlyArray<string>
}

export interface RuleLists {
  readonly allow?: ReadonlyArray<string>
  readonly ask?: ReadonlyArray<string>
  readonly deny?: ReadonlyArray<string>
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
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 }
}

/** The offset of the value at `target` in a valid JSON text (or of the deepest enclosing value found). */
export const locateJsonPath = (text: string, target: ReadonlyArray<PropertyKey>): number => {
  let i = 0
  let best = 0
  let bestDepth = -1
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++
  }
  const str = (): string => {
    const start = i
    i++
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1
    i++
    return JSON.parse(text.slice(start, i)) as string
  }
  const value = (p: ReadonlyArray<PropertyKey>): void => {
    ws()
    const matches = p.length <= target.length && p.every((k, n) => String(k) === String(target[n]))
    if (matches && p.length > bestDepth) {
      best = i
      bestDepth = p.length
    }
    const ch = text[i]
    if (ch === "{") {
      i++
      ws()
      while (i < text.length && text[i] !== "}") {
        const key = str()
        ws()
        i++ // :
        value([...p, key])
        ws()
        if (text[i] === ",") i++
        ws()
      }
      i++
    } else if (ch === "[") {
      i++
      ws()
      let n = 0
      while (i < text.length && text[i] !== "]") {
        value([...p, n++])
        ws()
        if (text[i] === ",") i++
        ws()
      }
      i++
    } else if (ch === '"') {
      str()
    } else {
      while (i < text.length && !/[\s,\]}]/.test(text[i]!)) i++
    }
  }
  value([])
  return best
}

/**
 * The offset of the first syntax error in a JSON text (Node's `JSON.parse` messages do not always carry a
 * position). Returns the text length for a truncated text.
 */
export const jsonErrorOffset = (text: string): number => {
  let i = 0
  const fail = (): never => {
    throw i
  }
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++
  }
  const expect = (ch: string) => {
    if (text[i] !== ch) fail()
    i++
  }
  const string = () => {
    expect('"')
    while (i < text.length && text[i] !== '"') {
      const code = text.charCodeAt(i)
      if (code < 0x20) fail()
      if (text[i] === "\\") {
        i++
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail()
          i += 4
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) fail()
      }
      i++
    }
    expect('"')
  }
  const value = (): void => {
    ws()
    const ch = text[i]
    if (ch === "{") {
      i++
      ws()
      if (text[i] === "}") {
        i++
        return
      }
      for (;;) {
        ws()
        string()
        ws()
        expect(":")
        value()
        ws()
        if (text[i] === ",") i++
        else {
          expect("}")
          return
        }
      }
    }
    if (ch === "[") {
      i++
      ws()
      if (text[i] === "]") {
        i++
        return
      }
      for (;;) {
        value()
        ws()
        if (text[i] === ",") i++
        else {
          expect("]")
          return
        }
      }
    }
    if (ch === '"') {
      string()
      return
    }
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i))
    if (literal === null) fail()
    i += literal![0].length
  }
  try {
    value()
    ws()
    if (i < text.length) fail()
    return text.length
  } catch (offset) {
    return typeof offset === "number" ? Math.min(offset, text.length) : text.length
  }
}

const fileError = (file: string, text: string, offset: number, message: string) => {
  const { line, column } = lineColumn(text, offset)
  return new PermissionError({ message: `${file}:${line}:${column}: ${message}`, source: file })
}

/** Parses and validates one settings file's text. */
export const parseSettings = (
  file: string,
  text: string,
  bases: { readonly projectRoot: string; readonly homeDir: string }
): Either.Either<SettingsRules, PermissionError> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const offset = jsonErrorOffset(text)
    return Either.left(fileError(file, text, offset, `invalid JSON: ${message}`))
  }
  const decoded = Schema.decodeUnknownEither(SettingsFile)(json, { errors: "first" })
  if (Either.isLeft(decoded)) {
    const issue = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)[0]
    const where = issue?.path ?? []
    const message = issue === undefined ? "invalid settings" : issue.message
    const at = where.length === 0 ? "" : ` at ${where.map(String).join(".")}`
    return Either.left(fileError(file, text, locateJsonPath(text, where), `invalid settings${at}: ${message}`))
  }
  const section = decoded.right.permissions ?? {}
  const rules: Array<Rule> = []
  for (const behavior of ["allow", "ask", "deny"] as const) {
    for (const [n, ruleText] of (section[behavior] ?? []).entries()) {
      const parsed = parseRule(ruleText, behavior, file)
      if (Either.isLeft(parsed)) {
        return Either.left(fileError(file, text, locateJsonPath(text, ["permissions", behavior, n]), parsed.left))
      }
      rules.push(parsed.right)
    }
  }
  const additionalDirectories = (section.additionalDirectories ?? []).map((dir) =>
    dir === "~" || dir.startsWith("~/") ? path.join(bases.homeDir, dir.slice(1)) : path.resolve(bases.projectRoot, dir)
  )
  return Either.right({
    file,
    rules,
    additionalDirectories,
    ...(section.defaultMode === undefined ? {} : { defaultMode: section.defaultMode })
  })
}

const readOptional = (file: string): Effect.Effect<Option.Option<string>, PermissionError> =>
  Effect.tryPromise({
    try: () => fsp.readFile(file, "utf8"),
    catch: (error) => error
  }).pipe(
    Effect.map(Option.some),
    Effect.catchAll((error) => {
      const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined
      return code === "ENOENT" || code === "ENOTDIR"
        ? Effect.succeed(Option.none<string>())
        : Effect.fail(new PermissionError({ message: `cannot read ${file}: ${String(error)}`, source: file }))
    })
  )

/** Loads one settings file; a missing file is `None`. */
export const loadSettingsFile = (
  file: string,
  bases: { readonly projectRoot: string; readonly homeDir: string }
): Effect.Effect<Option.Option<SettingsRules>, PermissionError> =>
  Effect.flatMap(readOptional(file), (text) =>
    Option.match(text, {
      onNone: () => Effect.succeed(Option.none()),
      onSome: (t) => Effect.map(parseSettings(file, t, bases), Option.some)
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
  split: boolean
): Either.Either<ReadonlyArray<Rule>, PermissionError> =>
  Either.all(
    entries
      .flatMap((entry) => (split ? splitRuleList(entry) : [entry]))
      .map((text) =>
        Either.mapLeft(
          parseRule(text, behavior, source),
          (message) => new PermissionError({ message: `${source}: ${message}`, source })
        )
      )
  )

/** Loads every settings file and the flags into one rule set. */
export const loadRuleSet = (options: LoadOptions): Effect.Effect<RuleSet, PermissionError> =>
  Effect.gen(function* () {
    const projectRoot = path.resolve(options.cwd)
    const bases = { projectRoot, homeDir: options.homeDir }
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
    const flagRules = yield* Either.all([
      parseList(options.flags?.allowed ?? [], "allow", "--allowed-tools", true),
      parseList(options.flags?.disallowed ?? [], "deny", "--disallowed-tools", true),
      parseList(extra.allow ?? [], "allow", "options", false),
      parseList(extra.ask ?? [], "ask", "options", false),
      parseList(extra.deny ?? [], "deny", "options", false)
    ])
    const defaultMode = [...loaded].reverse().find((s) => s.defaultMode !== undefined)?.defaultMode
    return {
      projectRoot,
      homeDir: options.homeDir,
      rules: [...loaded.flatMap((s) => s.rules), ...flagRules.flat()],
      additionalDirectories: [
        ...loaded.flatMap((s) => s.additionalDirectories),
        ...(options.additionalDirectories ?? []).map((dir) => path.resolve(projectRoot, dir))
      ],
      files: loaded.map((s) => s.file),
      ...(defaultMode === undefined ? {} : { defaultMode })
    }
  })

/**
 * Appends an allow rule to a settings file (normally `<project>/.sage/settings.local.json`), keeping the
 * rest of its content. Creates the directory; writes a temporary file and renames it over the original.
 */
export const appendAllowRule = (
  file: string,
  rule: string,
  bases: { readonly projectRoot: string; readonly homeDir: string }
): Effect.Effect<Rule, PermissionError> =>
  Effect.gen(function* () {
    const parsed = parseRule(rule, "allow", file)
    if (Either.isLeft(parsed)) return yield* Effect.fail(new PermissionError({ message: parsed.left, source: file }))
    const existing = yield* readOptional(file)
    let content: Record<string, unknown> = {}
    if (Option.isSome(existing)) {
      yield* parseSettings(file, existing.value, bases)
      content = JSON.parse(existing.value) as Record<string, unknown>
    }
    const permissions = (content.permissions ?? {}) as Record<string, unknown>
    const allow = (permissions.allow ?? []) as ReadonlyArray<string>
    if (allow.includes(parsed.right.text)) return parsed.right
    const updated = { ...content, permissions: { ...permissions, allow: [...allow, parsed.right.text] } }
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.tmp`)
    const fail = (error: unknown) =>
      new PermissionError({ message: `cannot write ${file}: ${String(error)}`, source: file })
    yield* Effect.tryPromise({
      try: async () => {
        await fsp.mkdir(path.dirname(file), { recursive: true })
        await fsp.writeFile(temp, `${JSON.stringify(updated, null, 2)}\n`, { mode: 0o600 })
        await fsp.rename(temp, file)
      },
      catch: fail
    }).pipe(Effect.tapError(() => Effect.ignore(Effect.tryPromise(() => fsp.rm(temp, { force: true })))))
    return parsed.right
  })
