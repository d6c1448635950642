import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { descendants, killDescendants, parsePs, parseStat, processTable } from "../../src/cli/ProcessTree.js"
import { isAlive, waitFor } from "./support.js"

describe("process tree", () => {
  it("parses /proc stat lines, command names with spaces and parentheses included", () => {
    expect(parseStat("123 (my (odd) name) S 45 678 678 0 -1")).toEqual({ pid: 123, ppid: 45, pgid: 678 })
    expect(parseStat("garbage")).toBeUndefined()
    expect(parseStat("12 (x) S")).toBeUndefined()
  })

  it("reads the process table from /proc and from ps, both including this process", () => {
    for (const source of ["auto", "ps"] as const) {
      const self = processTable(source).find((e) => e.pid === process.pid)
      expect(self?.ppid).toBe(process.ppid)
    }
  })

  it("parses ps output and walks descendants", () => {
    const table = parsePs("  1   0   1\n 10   1  10\n 11  10  11\n 12  11  11\n 13   1  13\nbad line\n")
    expect(table).toHaveLength(5)
    expect(descendants(table, 10).map((e) => e.pid)).toEqual([11, 12])
    expect(descendants(table, 12)).toEqual([])
  })

  it.live("kills every descendant and their process groups, also ones that ignore SIGTERM", () =>
    Effect.gen(function* () {
      const pidFile = `${fs.mkdtempSync("/tmp/sage-tree-")}/pids`
      // A parent (its own group) with a child that ignores SIGTERM in yet another group.
      const parent = spawn(
        "sh",
        ["-c", `trap '' TERM; setsid sh -c 'trap "" TERM; echo $$ > ${pidFile}; sleep 60' & while :; do sleep 1; done`],
        { detached: true, stdio: "ignore" }
      )
      const parentPid = parent.pid ?? -1
      expect(yield* waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, "utf8").trim() !== "")).toBe(true)
      const grandchild = Number(fs.readFileSync(pidFile, "utf8"))
      // Kill as if `parent` were the CLI: everything under it goes, the parent itself stays.
      expect(killDescendants(parentPid)).toBeGreaterThan(0)
      expect(yield* waitFor(() => !isAlive(grandchild))).toBe(true)
      expect(isAlive(parentPid)).toBe(true)
      process.kill(-parentPid, "SIGKILL")
      expect(killDescendants(999_999_999, [])).toBe(0)
    })
  )
})
