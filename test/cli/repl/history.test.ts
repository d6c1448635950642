import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { openHistory, parseHistory, sageHome } from "../../../src/cli/repl/history.js"

const dirs: Array<string> = []
const tmp = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sage-history-"))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

describe("input history", () => {
  it("lives under SAGE_HOME, else ~/.sage", () => {
    expect(sageHome({ SAGE_HOME: "/s", HOME: "/h" })).toBe("/s")
    expect(sageHome({ SAGE_HOME: "", HOME: "/h" })).toBe("/h/.sage")
    expect(sageHome({})).toBeUndefined()
  })

  it("persists entries (multi-line ones too) across sessions, skipping blanks and repeats", () => {
    const file = path.join(tmp(), "nested", "history")
    const first = openHistory(file)
    first.add("one")
    first.add("one")
    first.add("   ")
    first.add("two\nlines")
    expect(first.entries()).toEqual(["one", "two\nlines"])
    expect(openHistory(file).entries()).toEqual(["one", "two\nlines"])
  })

  it("is bounded: the file is rewritten with the newest entries", () => {
    const file = path.join(tmp(), "history")
    const history = openHistory(file, 3)
    for (let i = 0; i < 8; i++) history.add(`e${i}`)
    expect(history.entries()).toEqual(["e5", "e6", "e7"])
    expect(fs.readFileSync(file, "utf8").trim().split("\n").length).toBeLessThanOrEqual(6)
    expect(openHistory(file, 3).entries()).toEqual(["e5", "e6", "e7"])
  })

  it("skips lines it cannot read, and works without a file", () => {
    expect(parseHistory('"a"\nnot json\n42\n""\n"b"\n')).toEqual(["a", "b"])
    const memory = openHistory(undefined)
    memory.add("x")
    expect(memory.entries()).toEqual(["x"])
    // A path that cannot be written (a file where the directory should be): still no error.
    const blocked = path.join(tmp(), "file")
    fs.writeFileSync(blocked, "")
    const history = openHistory(path.join(blocked, "history"))
    history.add("y")
    expect(history.entries()).toEqual(["y"])
  })
})
