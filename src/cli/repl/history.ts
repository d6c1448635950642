/**
 * The REPL's input history, persisted in `<sage home>/history` (`$SAGE_HOME`, else `~/.sage`): one JSON string per
 * line (so an entry may hold newlines), oldest first, at most `limit` entries (older ones are dropped when the file
 * is rewritten). A line that does not parse is skipped; a file that cannot be read or written is no history, never
 * an error (the REPL works without it).
 */
import * as fs from "node:fs"
import * as path from "node:path"

export const HISTORY_LIMIT = 1000

/** Where Sage keeps its own files: `$SAGE_HOME`, else `$HOME/.sage`; undefined when neither is known. */
export const sageHome = (env: Readonly<Record<string, string | undefined>>): string | undefined => {
  const explicit = env.SAGE_HOME
  if (explicit !== undefined && explicit !== "") return explicit
  const home = env.HOME
  return home === undefined || home === "" ? undefined : path.join(home, ".sage")
}

export interface History {
  /** Entries, oldest first. */
  readonly entries: () => ReadonlyArray<string>
  /** Adds an entry (not a blank one, nor a repeat of the last) and appends it to the file. */
  readonly add: (entry: string) => void
}

export const parseHistory = (text: string): Array<string> =>
  text.split("\n").flatMap((line) => {
    if (line.trim() === "") return []
    try {
      const value: unknown = JSON.parse(line)
      return typeof value === "string" && value.trim() !== "" ? [value] : []
    } catch {
      return []
    }
  })

/** The history kept in `file` (in memory only when `file` is undefined). */
export const openHistory = (file: string | undefined, limit = HISTORY_LIMIT): History => {
  let entries: Array<string> = []
  if (file !== undefined) {
    try {
      entries = parseHistory(fs.readFileSync(file, "utf8")).slice(-limit)
    } catch {
      entries = []
    }
  }
  // Appends since the file was last rewritten: past `limit` extra lines, the file is rewritten with the last `limit`.
  let appended = 0
  const persist = (entry: string) => {
    if (file === undefined) return
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true })
      if (appended >= limit) {
        const tmp = `${file}.${process.pid}.tmp`
        fs.writeFileSync(tmp, entries.map((e) => `${JSON.stringify(e)}\n`).join(""), { mode: 0o600 })
        fs.renameSync(tmp, file)
        appended = 0
      } else {
        fs.appendFileSync(file, `${JSON.stringify(entry)}\n`, { mode: 0o600 })
        appended++
      }
    } catch {
      // No history on disk this time; the session goes on.
    }
  }
  return {
    entries: () => entries,
    add: (entry) => {
      if (entry.trim() === "" || entries[entries.length - 1] === entry) return
      entries.push(entry)
      if (entries.length > limit) entries = entries.slice(-limit)
      persist(entry)
    }
  }
}
