/**
 * Splits a shell command into every simple command it would run, with a real bash parser (tree-sitter-bash
 * compiled to WASM, driven by web-tree-sitter). The walk is a whitelist: any construct it does not fully
 * understand is reported in `unknown`, and the permission check turns that into a question.
 */
import * as fsp from "node:fs/promises"
import { posix } from "node:path"
import { fileURLToPath } from "node:url"
import * as Effect from "effect/Effect"
import type { Node, Parser } from "web-tree-sitter"
import { PermissionError } from "../errors/PermissionError.js"
import type { WriteTarget } from "./Programs.js"
import { declarationExpansions, type Expansion, expandCommand, isSafeShellName, type Word } from "./ShellCommand.js"

/** One simple command that runs. `opaque`: it runs code the analysis cannot see (see `Expansion`). */
export interface ParsedCommand {
  readonly words: ReadonlyArray<Word>
  readonly opaque: boolean
  /** The program has a spec in `Programs.ts` (known wrappers, read-only programs, writers). */
  readonly known: boolean
  /** Read-only by its spec: only safe options, changes nothing, runs nothing else (its reads still need checking). */
  readonly readOnly: boolean
  /** File operands it reads (`cat f`, `grep x f`). */
  readonly reads: ReadonlyArray<Word>
  /** Those of `reads` whose whole tree it reads (`grep -r x dir`, `rg x dir`). */
  readonly recursiveReads: ReadonlyArray<Word>
  /** Files it writes through its arguments (`tee f`, `cp a f`, `sed -i f`, `git log --output=f`). */
  readonly writes: ReadonlyArray<WriteTarget>
  /** Directories it runs in, relative to the shell's directory (`git -C dir`). */
  readonly chdir: ReadonlyArray<Word>
}

/** Everything a command line would do, as far as permissions are concerned. */
export interface ShellAnalysis {
  /** Every simple command that runs, after unwrapping (`env X=1 rm` is `rm`) and git option normalization. */
  readonly commands: ReadonlyArray<ParsedCommand>
  /** Files written through redirections (`> file`, `>> file`, `&> file`), `/dev/null` and friends excluded. */
  readonly writes: ReadonlyArray<string>
  /** Files read through input redirections (`< file`, `$(< file)`), when literal. */
  readonly reads: ReadonlyArray<string>
  /** Why the analysis cannot vouch for the command (parse errors, `$CMD`, functions, ...). Empty when fully understood. */
  readonly unknown: ReadonlyArray<string>
  /**
   * Why the command needs a question in every mode, even when rules or the mode would allow it: a change of
   * privilege (`sudo`, `su`, `chroot`, ...), a write to a path the checker cannot resolve (`> $F`, `tee .s*`,
   * archive extraction). Deny rules still deny.
   */
  readonly alwaysAsk: ReadonlyArray<string>
  /** Every variable the command line assigns, by any syntax (`for X in`, `read X`, `export X=`, `X=1 cmd`, ...). */
  readonly assigned: ReadonlyArray<string>
  /** Input redirections whose target the checker cannot resolve (`cat < .e*`, `$(< $F)`). */
  readonly unresolvedReads: ReadonlyArray<string>
  /**
   * Redirections that open a network connection: bash connects for `/dev/tcp/HOST/PORT` and `/dev/udp/HOST/PORT`
   * (in any direction, `cat < /dev/tcp/h/80` included), and a target built by an expansion (`< $F`,
   * `< /dev/tcp/$(cat .env)/80`) may spell one. The targets as written; they are also in `reads` / `writes` /
   * `unresolvedReads` as files.
   */
  readonly network: ReadonlyArray<NetworkTarget>
}

/** The connection a redirection to `target` opens (bash's `/dev/tcp/HOST/PORT`, `/dev/udp/HOST/PORT`). */
export interface NetworkTarget {
  /** The redirection's target as written. */
  readonly target: string
  readonly protocol: "tcp" | "udp"
  /** `undefined` when an expansion builds the target. */
  readonly host: string | undefined
  readonly port: string | undefined
}

const NETWORK_PATH = /^\/dev\/(tcp|udp)(?:\/([^/]*)(?:\/([^/]*))?)?/

/**
 * Whether a redirection to `word` may open a network connection, and to where. bash matches the target as written
 * against `/dev/tcp/*\/*` and `/dev/udp/*\/*`; other spellings of it (`/dev//tcp/...`, `/dev/./tcp/...`) count too.
 * A target built by a parameter or command expansion may expand to one; a glob cannot (there are no such files).
 */
export const networkTarget = (word: Word): NetworkTarget | undefined => {
  if (!word.literal) {
    if (!/[$`]/.test(word.text)) return undefined
    const found = NETWORK_PATH.exec(word.text)
    return { target: word.text, protocol: found?.[1] === "udp" ? "udp" : "tcp", host: undefined, port: undefined }
  }
  const found = NETWORK_PATH.exec(posix.normalize(word.text))
  if (found === null) return undefined
  return {
    target: word.text,
    protocol: found[1] === "udp" ? "udp" : "tcp",
    host: found[2] || undefined,
    port: found[3] || undefined
  }
}

let loading: Promise<Parser> | undefined

/**
 * Where the grammar may sit beside this code: `tree-sitter-bash.wasm` is shipped next to this module
 * (`src/permissions/`, `dist/permissions/`); in the bundled CLI this code lives in `dist/bin.js` or
 * `dist/chunks/*.js`, which find it in `dist/permissions/` too.
 */
export const GRAMMAR_CANDIDATES: ReadonlyArray<string> = [
  "./tree-sitter-bash.wasm",
  "./permissions/tree-sitter-bash.wasm",
  "../permissions/tree-sitter-bash.wasm"
]

/** The first existing grammar file among the candidates, resolved against `base` (a module URL). */
export const findGrammar = async (base: string | URL = import.meta.url): Promise<Uint8Array> => {
  const tried: Array<string> = []
  for (const candidate of GRAMMAR_CANDIDATES) {
    const file = fileURLToPath(new URL(candidate, base))
    tried.push(file)
    try {
      return await fsp.readFile(file)
    } catch (error) {
      const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined
      if (code !== "ENOENT" && code !== "ENOTDIR") throw error
    }
  }
  throw new Error(`tree-sitter-bash.wasm not found (looked at ${tried.join(", ")})`)
}

/** web-tree-sitter itself is imported here, on the first parse: start-up never loads it. */
const loadParser = async (): Promise<Parser> => {
  const { Language, Parser } = await import("web-tree-sitter")
  const [, grammar] = await Promise.all([Parser.init(), findGrammar()])
  const language = await Language.load(grammar)
  const parser = new Parser()
  parser.setLanguage(language)
  return parser
}

/** The bash parser, loaded on first use and shared afterwards (a failed load is retried next time). */
export const shellParser: Effect.Effect<Parser, PermissionError> = Effect.suspend(() =>
  Effect.tryPromise({
    try: () => {
      if (loading === undefined) {
        loading = loadParser().catch((error: unknown) => {
          loading = undefined
          throw error
        })
      }
      return loading
    },
    catch: (error) =>
      new PermissionError({ message: `cannot load the bash parser: ${String(error)}`, source: "tree-sitter-bash" })
  })
)

const MAX_DEPTH = 12
const EXEMPT_WRITES = new Set(["/dev/null", "/dev/stdout", "/dev/stderr"])
const REDIRECTS = new Set(["file_redirect", "heredoc_redirect", "herestring_redirect"])
const CONTAINERS = new Set([
  "program",
  "list",
  "pipeline",
  "subshell",
  "compound_statement",
  "do_group",
  "if_statement",
  "elif_clause",
  "else_clause",
  "while_statement",
  "negated_command"
])
const COMMAND_NODES = ["command", "declaration_command", "unset_command"]
const STATEMENTS = new Set([
  ...CONTAINERS,
  ...REDIRECTS,
  ...COMMAND_NODES,
  "for_statement",
  "case_statement",
  "redirected_statement",
  "variable_assignment",
  "variable_assignments",
  "function_definition",
  "test_command",
  "c_style_for_statement"
])

interface Collector {
  readonly parser: Parser
  readonly commands: Array<ParsedCommand>
  readonly writes: Array<string>
  readonly reads: Array<string>
  readonly unknown: Set<string>
  readonly alwaysAsk: Set<string>
  readonly assigned: Set<string>
  readonly unresolvedReads: Array<string>
  readonly network: Array<NetworkTarget>
}

const named = (node: Node): Array<Node> => node.namedChildren.filter((n): n is Node => n !== null)
const all = (node: Node): Array<Node> => node.children.filter((n): n is Node => n !== null)

/** Removes shell quoting from an unquoted word; globs, braces and a leading `~` make it non-literal. */
const unquotedWord = (raw: string): Word => {
  let text = ""
  let literal = true
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!
    if (ch === "\\") {
      const next = raw[i + 1]
      i++
      if (next === undefined || next === "\n") continue
      text += next
      continue
    }
    if ("*?[]{}()$`'\"!".includes(ch) || (ch === "~" && i === 0)) literal = false
    text += ch
  }
  return { text, literal }
}

/** Backslash escapes inside double quotes: only `$`, backtick, `"`, `\` and newline are special. */
const unescapeDoubleQuoted = (raw: string): string =>
  raw.replace(/\\([$`"\\\n])/g, (_, c: string) => (c === "\n" ? "" : c))

const analyzeSource = (source: string, depth: number, c: Collector): void => {
  if (depth > MAX_DEPTH) {
    c.unknown.add("commands nested too deeply")
    return
  }
  // tree-sitter treats backslash-newline as whitespace; bash joins the words around it (`r\<newline>m` is `rm`).
  if (/\S\\\r?\n\S/.test(source) || /\\\r/.test(source)) c.unknown.add("a line continuation joins words")
  const tree = c.parser.parse(source)
  if (tree === null) {
    c.unknown.add("the command could not be parsed")
    return
  }
  try {
    const root = tree.rootNode
    if (root.hasError) c.unknown.add("the command could not be parsed completely")
    const visited = new Set<number>()
    const walker = makeWalker(source, depth, c, visited)
    walker.statement(root)
    for (const node of root.descendantsOfType(COMMAND_NODES)) {
      if (node !== null && !visited.has(node.id)) c.unknown.add(`a command was not analyzed: ${node.text}`)
    }
    checkCoverage(source, root, c)
  } finally {
    tree.delete()
  }
}

/** Nodes whose inner text is data that the walk reads itself (gaps inside them are not skipped syntax). */
const ATOMIC = new Set(["string", "raw_string", "heredoc_body", "ansi_c_string", "translated_string", "comment"])

/**
 * Every character of the source must belong to a token of the tree: tree-sitter's error recovery can drop
 * text silently (`- 2>/dev/null` loses the command `-`), and dropped text is text we did not check.
 */
const checkCoverage = (source: string, root: Node, c: Collector): void => {
  let pos = 0
  const gap = (end: number) => {
    const text = source.slice(pos, end).replace(/\\\r?\n/g, "")
    if (/\S/.test(text)) c.unknown.add(`text the parser skipped: ${text.trim()}`)
  }
  const visit = (node: Node) => {
    if (node.childCount === 0 || ATOMIC.has(node.type)) {
      gap(node.startIndex)
      pos = Math.max(pos, node.endIndex)
      return
    }
    for (const child of all(node)) visit(child)
  }
  visit(root)
  gap(source.length)
}

const makeWalker = (source: string, depth: number, c: Collector, visited: Set<number>) => {
  const unknown = (reason: string) => c.unknown.add(reason)

  const write = (word: Word) => {
    if (!word.literal) c.alwaysAsk.add(`a write to a path the checker cannot resolve: ${word.text}`)
    else if (!EXEMPT_WRITES.has(word.text)) c.writes.push(word.text)
  }

  const expansions = (list: ReadonlyArray<Expansion>) => {
    for (const e of list) {
      if (e._tag === "Command") {
        const facts = e.facts
        c.commands.push({
          words: e.words,
          opaque: e.opaque,
          known: facts?.known ?? true,
          readOnly: facts?.readOnly ?? false,
          reads: facts?.reads ?? [],
          recursiveReads: facts?.recursiveReads ?? [],
          writes: facts?.writes ?? [],
          chdir: facts?.chdir ?? []
        })
      } else if (e._tag === "Unknown") unknown(e.reason)
      else if (e._tag === "AlwaysAsk") c.alwaysAsk.add(e.reason)
      else if (e._tag === "Assign") c.assigned.add(e.name)
      else if (e._tag === "Write") write(e.path)
      else {
        if (!e.trusted) unknown(`${e.via}: not bash syntax, cannot be checked exactly`)
        analyzeSource(e.source, depth + 1, c)
      }
    }
  }

  /** Visits what we do not understand anyway, so that deny rules still see the commands inside. */
  const loose = (node: Node): void => {
    for (const child of named(node)) {
      if (STATEMENTS.has(child.type)) statement(child)
      else if (child.type === "command_substitution") substitution(child)
      else if (child.type === "process_substitution") for (const s of named(child)) statement(s)
      else loose(child)
    }
  }

  const markVisited = (node: Node) => {
    for (const d of node.descendantsOfType(COMMAND_NODES)) if (d !== null) visited.add(d.id)
  }

  const substitution = (node: Node): void => {
    if (node.text.startsWith("`")) {
      // Inside backticks bash removes one level of backslashes and parses again (nested backticks run too).
      markVisited(node)
      const inString = node.parent?.type === "string"
      const inner = node.text
        .slice(1, node.text.endsWith("`") ? -1 : undefined)
        .replace(inString ? /\\([\\`$"])/g : /\\([\\`$])/g, "$1")
      analyzeSource(inner, depth + 1, c)
      return
    }
    for (const child of named(node)) statement(child)
  }

  const string = (node: Node): Word => {
    let text = ""
    let literal = true
    const children = all(node)
    let pos = node.startIndex + 1
    for (const [i, child] of children.entries()) {
      if ((i === 0 || i === children.length - 1) && child.type === '"') continue
      text += unescapeDoubleQuoted(source.slice(pos, child.startIndex))
      if (child.type === "string_content") text += unescapeDoubleQuoted(child.text)
      else if (!child.isNamed) text += child.text
      else {
        const w = word(child)
        text += w.text
        literal = false
      }
      pos = child.endIndex
    }
    text += unescapeDoubleQuoted(source.slice(pos, Math.max(pos, node.endIndex - 1)))
    return { text, literal }
  }

  const word = (node: Node): Word => {
    switch (node.type) {
      case "word":
        // tree-sitter gives expansions their own nodes; one left inside a word was not understood.
        if (/(?:^|[^\\])(?:\\\\)*(?:\$[({[]|`)/.test(node.text)) unknown(`an expansion inside a word: ${node.text}`)
        return unquotedWord(node.text)
      case "number":
        return unquotedWord(node.text)
      case "raw_string":
        return { text: node.text.slice(1, -1), literal: true }
      case "string":
        return string(node)
      case "concatenation": {
        const parts = all(node).map((child) => (child.isNamed ? word(child) : unquotedWord(child.text)))
        return { text: parts.map((p) => p.text).join(""), literal: parts.every((p) => p.literal) }
      }
      case "simple_expansion":
        return { text: node.text, literal: false }
      case "expansion":
        if (!/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(node.text)) {
          unknown(`a parameter expansion with operators: ${node.text}`)
          loose(node)
        }
        return { text: node.text, literal: false }
      case "command_substitution":
        substitution(node)
        return { text: node.text, literal: false }
      case "process_substitution":
        for (const child of named(node)) statement(child)
        return { text: node.text, literal: false }
      case "ansi_c_string":
      case "brace_expression":
        return { text: node.text, literal: false }
      default:
        unknown(`unsupported shell syntax in a word: ${node.type}`)
        loose(node)
        return { text: node.text, literal: false }
    }
  }

  /** A `NAME=value` assignment; returns the name. Array element assignments evaluate arithmetic: unknown. */
  const assignment = (node: Node, standalone: boolean): string => {
    const name = node.childForFieldName("name")
    const value = node.childForFieldName("value")
    if (value !== null) {
      if (value.type === "array") for (const item of named(value)) word(item)
      else word(value)
    }
    if (name === null || name.type !== "variable_name") {
      unknown(`an assignment to an array element: ${node.text}`)
      if (name !== null) loose(name)
      return name?.text ?? ""
    }
    if (standalone) {
      c.assigned.add(name.text)
      if (!isSafeShellName(name.text)) unknown(`assignment to ${name.text}`)
    }
    return name.text
  }

  const redirect = (node: Node): void => {
    if (node.type === "herestring_redirect") {
      for (const child of named(node)) word(child)
      return
    }
    if (node.type === "heredoc_redirect") {
      const start = all(node).find((n) => n.type === "heredoc_start")
      const quoted = start === undefined || /['"\\]/.test(start.text)
      for (const child of named(node)) {
        if (child.type === "heredoc_start" || child.type === "heredoc_end") continue
        if (child.type === "heredoc_body") {
          if (quoted) continue
          if (/`|\$[({[]/.test(child.text)) unknown("a here-document expands commands or parameters")
          for (const part of named(child)) if (part.type !== "heredoc_content") word(part)
        } else if (REDIRECTS.has(child.type)) redirect(child)
        else statement(child)
      }
      return
    }
    const operator = all(node)
      .filter((n) => !n.isNamed)
      .map((n) => n.text)
      .join("")
    const targets = named(node).filter((n) => n.type !== "file_descriptor")
    if (targets.length === 0 && /^[<>]&-$/.test(operator)) return
    if (targets.length !== 1) {
      unknown(`an unsupported redirection: ${node.text}`)
      loose(node)
      return
    }
    const target = targets[0]!
    const w = word(target)
    const connection = networkTarget(w)
    if (connection !== undefined) c.network.push(connection)
    switch (operator) {
      case "<":
        if (w.literal) c.reads.push(w.text)
        else c.unresolvedReads.push(w.text)
        return
      case ">":
      case ">>":
      case ">|":
      case "&>":
      case "&>>":
        write(w)
        return
      case ">&":
      case "<&":
        if (/^\d+-?$/.test(w.text) || w.text === "-") return
        if (operator === ">&") {
          write(w)
          return
        }
        unknown(`an unsupported redirection: ${node.text}`)
        return
      default:
        unknown(`an unsupported redirection: ${node.text}`)
    }
  }

  const command = (node: Node): void => {
    visited.add(node.id)
    for (const token of all(node)) if (!token.isNamed) unknown(`an unexpected token in a command: ${token.text}`)
    const words: Array<Word> = []
    const assignments: Array<string> = []
    for (const child of named(node)) {
      if (child.type === "variable_assignment") assignments.push(assignment(child, false))
      else if (child.type === "command_name") {
        const parts = named(child)
        if (parts.length !== 1) unknown(`an unsupported command name: ${child.text}`)
        words.push(parts.length === 1 ? word(parts[0]!) : { text: child.text, literal: false })
      } else if (REDIRECTS.has(child.type)) redirect(child)
      else words.push(word(child))
    }
    expansions(expandCommand(words, assignments))
  }

  const declaration = (node: Node): void => {
    visited.add(node.id)
    const builtin = all(node)[0]?.text ?? "declare"
    const flags: Array<Word> = []
    const names: Array<string> = []
    for (const child of named(node)) {
      if (child.type === "variable_assignment") names.push(assignment(child, false))
      else if (child.type === "variable_name") names.push(child.text)
      else if (child.type === "word" && /^[-+]/.test(child.text)) flags.push(unquotedWord(child.text))
      else if (child.type === "word" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(child.text)) names.push(child.text)
      else {
        unknown(`an unsupported declaration: ${node.text}`)
        loose(child)
      }
    }
    expansions(declarationExpansions(builtin, flags, names))
  }

  const unset = (node: Node): void => {
    visited.add(node.id)
    const functions = named(node).some((n) => n.type === "word" && /^-[^-]*f/.test(n.text))
    for (const child of named(node)) {
      if (child.type === "word" && /^-[fvn]+$/.test(child.text)) continue
      if (child.type === "variable_name" || (child.type === "word" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(child.text))) {
        if (functions) continue
        c.assigned.add(child.text)
        if (!isSafeShellName(child.text)) unknown(`unset ${child.text}`)
        continue
      }
      unknown(`an unsupported unset: ${node.text}`)
      loose(child)
    }
  }

  const statement = (node: Node): void => {
    if (CONTAINERS.has(node.type)) {
      for (const child of named(node)) statement(child)
      return
    }
    switch (node.type) {
      case "command":
        command(node)
        return
      case "declaration_command":
        declaration(node)
        return
      case "unset_command":
        unset(node)
        return
      case "redirected_statement":
        for (const child of named(node)) {
          if (REDIRECTS.has(child.type)) redirect(child)
          else statement(child)
        }
        return
      case "file_redirect":
      case "heredoc_redirect":
      case "herestring_redirect":
        redirect(node)
        return
      case "variable_assignment":
        assignment(node, true)
        return
      case "variable_assignments":
        for (const child of named(node)) assignment(child, true)
        return
      case "for_statement":
        for (const child of named(node)) {
          if (child.type === "variable_name") {
            // `for X in ...` and `select X in ...` assign X.
            c.assigned.add(child.text)
            if (!isSafeShellName(child.text)) unknown(`a loop assigns ${child.text}`)
            continue
          }
          if (child.type === "do_group") statement(child)
          else word(child)
        }
        return
      case "case_statement":
        for (const child of named(node)) {
          if (child.type !== "case_item") {
            word(child)
            continue
          }
          const items = named(child)
          for (const [i, item] of items.entries()) {
            if (child.fieldNameForNamedChild(i) === "value") word(item)
            else statement(item)
          }
        }
        return
      case "comment":
        return
      default:
        unknown(`unsupported shell syntax: ${node.type}`)
        loose(node)
    }
  }

  return { statement }
}

/** Analyzes a command line with a loaded parser. Synchronous; every tree is freed before returning. */
export const analyzeWith = (parser: Parser, source: string): ShellAnalysis => {
  const c: Collector = {
    parser,
    commands: [],
    writes: [],
    reads: [],
    unknown: new Set(),
    alwaysAsk: new Set(),
    assigned: new Set(),
    unresolvedReads: [],
    network: []
  }
  analyzeSource(source, 0, c)
  return {
    commands: c.commands,
    writes: c.writes,
    reads: c.reads,
    unknown: [...c.unknown],
    alwaysAsk: [...c.alwaysAsk],
    assigned: [...c.assigned],
    unresolvedReads: c.unresolvedReads,
    network: c.network
  }
}

/** Analyzes a command line, loading the parser on first use. */
export const analyzeShell = (source: string): Effect.Effect<ShellAnalysis, PermissionError> =>
  Effect.flatMap(shellParser, (parser) =>
    Effect.try({
      try: () => analyzeWith(parser, source),
      catch: (error) =>
        new PermissionError({ message: `the bash parser failed: ${String(error)}`, source: "tree-sitter-bash" })
    })
  )
