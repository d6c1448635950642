/**
 * Slash commands: parsing a typed line, the built-in commands, and custom commands from Markdown files
 * (`<project>/.sage/commands/NAME.md` and `~/.sage/commands/NAME.md`; the project's win). A custom command's file
 * body is the prompt, with `$ARGUMENTS` replaced by what followed the command (without `$ARGUMENTS`, the
 * arguments are appended after a blank line); optional front matter (`---` lines) may give a `description`.
 */
import * as fs from "node:fs"
import * as path from "node:path"

export interface BuiltinCommand {
  readonly name: string
  readonly args?: string
  readonly description: string
}

export const BUILTIN_COMMANDS: ReadonlyArray<BuiltinCommand> = [
  { name: "help", description: "this list, and the keys" },
  { name: "clear", description: "start a new conversation" },
  { name: "compact", args: "[instructions]", description: "summarize the conversation to free context" },
  { name: "cost", description: "tokens and cost of this session" },
  { name: "model", args: "[name]", description: "show or change the model" },
  { name: "resume", args: "[id]", description: "list sessions, or continue one" },
  { name: "permissions", args: "[mode]", description: "show the permission mode and rules, or change the mode" },
  { name: "reasoning", args: "[on|off]", description: "show or hide the model's reasoning" },
  { name: "status", description: "model, session, directory and mode" },
  { name: "exit", description: "leave Sage (also Ctrl-D)" }
]

export interface CustomCommand {
  readonly name: string
  readonly description: string | undefined
  readonly body: string
  /** The file it came from. */
  readonly file: string
}

/** A typed line that is a command: `/name args...`. A line starting with `//` or `/ ` is not a command. */
export const parseCommand = (line: string): { readonly name: string; readonly args: string } | undefined => {
  const match = /^\/([A-Za-z0-9][\w:.-]*)(?:\s+([\s\S]*))?$/.exec(line.trim())
  if (match === null) return undefined
  return { name: (match[1] ?? "").toLowerCase(), args: (match[2] ?? "").trim() }
}

/** Splits optional front matter off a command file. */
export const parseCommandFile = (text: string): { readonly description: string | undefined; readonly body: string } => {
  const normalized = text.replace(/\r\n/g, "\n")
  const front = /^---\n([\s\S]*?)\n---\n?/.exec(normalized)
  if (front === null) return { description: undefined, body: normalized.trim() }
  const description = /^description:\s*(.*)$/m
    .exec(front[1] ?? "")?.[1]
    ?.trim()
    .replace(/^(["'])(.*)\1$/, "$2")
  return { description: description === "" ? undefined : description, body: normalized.slice(front[0].length).trim() }
}

/** The prompt of a custom command run with `args`. */
export const expandCommand = (body: string, args: string): string =>
  body.includes("$ARGUMENTS") ? body.replaceAll("$ARGUMENTS", args) : args === "" ? body : `${body}\n\n${args}`

const readDir = (dir: string): ReadonlyArray<CustomCommand> => {
  let names: Array<string>
  try {
    names = fs.readdirSync(dir)
  } catch {
    return []
  }
  return names
    .filter((name) => name.endsWith(".md"))
    .sort()
    .flatMap((name) => {
      const file = path.join(dir, name)
      try {
        const parsed = parseCommandFile(fs.readFileSync(file, "utf8"))
        return [{ name: name.slice(0, -3).toLowerCase(), description: parsed.description, body: parsed.body, file }]
      } catch {
        return []
      }
    })
}

/**
 * The custom commands of a project (`cwd`) and a user (`home`, the directory holding `.sage`): a project command
 * replaces a user command of the same name; a built-in name cannot be replaced.
 */
export const loadCustomCommands = (cwd: string, home: string | undefined): ReadonlyArray<CustomCommand> => {
  const builtin = new Set(BUILTIN_COMMANDS.map((c) => c.name))
  const byName = new Map<string, CustomCommand>()
  const user = home === undefined ? [] : readDir(path.join(home, ".sage", "commands"))
  const project = readDir(path.join(cwd, ".sage", "commands"))
  for (const command of [...user, ...project]) {
    if (!builtin.has(command.name) && /^[a-z0-9][\w:.-]*$/.test(command.name)) byName.set(command.name, command)
  }
  return Array.from(byName.values()).sort((a, b) => a.name.localeCompare(b.name))
}

/** The closest known names (for "unknown command" messages). */
export const suggest = (name: string, known: ReadonlyArray<string>): ReadonlyArray<string> =>
  known.filter((k) => k.startsWith(name.slice(0, 2)) || distance(k, name) <= 2).slice(0, 3)

const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length] ?? 0
}
