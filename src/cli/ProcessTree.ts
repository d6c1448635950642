/**
 * The last resort of a second Ctrl-C: kill, at once and synchronously, every process this CLI started and the
 * process groups they lead (commands run in their own groups), without waiting for the kill grace. The process
 * table comes from `/proc` where it exists, else from `ps`.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"

export interface ProcessEntry {
  readonly pid: number
  readonly ppid: number
  readonly pgid: number
}

/** Parse one `/proc/<pid>/stat` line: the command name (field 2) may contain spaces and parentheses. */
export const parseStat = (line: string): ProcessEntry | undefined => {
  const close = line.lastIndexOf(")")
  const pid = Number.parseInt(line, 10)
  if (close === -1 || Number.isNaN(pid)) return undefined
  const fields = line
    .slice(close + 2)
    .trim()
    .split(/\s+/)
  const ppid = Number(fields[1])
  const pgid = Number(fields[2])
  return Number.isInteger(ppid) && Number.isInteger(pgid) ? { pid, ppid, pgid } : undefined
}

const fromProc = (): ReadonlyArray<ProcessEntry> | undefined => {
  let entries: Array<string>
  try {
    entries = fs.readdirSync("/proc")
  } catch {
    return undefined
  }
  return entries.flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return []
    try {
      const parsed = parseStat(fs.readFileSync(`/proc/${entry}/stat`, "utf8"))
      return parsed === undefined ? [] : [parsed]
    } catch {
      return []
    }
  })
}

/** `ps -A -o pid=,ppid=,pgid=` output. */
export const parsePs = (text: string): ReadonlyArray<ProcessEntry> =>
  text.split("\n").flatMap((line) => {
    const [pid, ppid, pgid] = line.trim().split(/\s+/).map(Number)
    return pid !== undefined && ppid !== undefined && pgid !== undefined && [pid, ppid, pgid].every(Number.isInteger)
      ? [{ pid, ppid, pgid }]
      : []
  })

const fromPs = (): ReadonlyArray<ProcessEntry> => {
  const ps = spawnSync("ps", ["-A", "-o", "pid=,ppid=,pgid="], { encoding: "utf8", timeout: 2000 })
  return typeof ps.stdout === "string" ? parsePs(ps.stdout) : []
}

/** The process table: from `/proc` where it exists (unless `ps` is asked for), else from `ps`. */
export const processTable = (source: "auto" | "ps" = "auto"): ReadonlyArray<ProcessEntry> =>
  (source === "auto" ? fromProc() : undefined) ?? fromPs()

/** Every descendant of `root` in the table. */
export const descendants = (table: ReadonlyArray<ProcessEntry>, root: number): ReadonlyArray<ProcessEntry> => {
  const out: Array<ProcessEntry> = []
  const seen = new Set<number>([root])
  let frontier = [root]
  while (frontier.length > 0) {
    const next: Array<number> = []
    for (const entry of table) {
      if (frontier.includes(entry.ppid) && !seen.has(entry.pid)) {
        seen.add(entry.pid)
        out.push(entry)
        next.push(entry.pid)
      }
    }
    frontier = next
  }
  return out
}

/**
 * SIGKILL every descendant of this process and every process group one of them is in (other than ours).
 * Returns how many signals were delivered.
 */
export const killDescendants = (
  self: number = process.pid,
  table: ReadonlyArray<ProcessEntry> = processTable()
): number => {
  const own = table.find((e) => e.pid === self)?.pgid
  const found = descendants(table, self)
  let sent = 0
  const send = (target: number) => {
    try {
      process.kill(target, "SIGKILL")
      sent++
    } catch {
      // already gone
    }
  }
  for (const pgid of new Set(found.map((e) => e.pgid))) if (pgid !== own && pgid > 1) send(-pgid)
  for (const entry of found) send(entry.pid)
  return sent
}
