import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "@effect/vitest"
import {
  expandCommand,
  loadCustomCommands,
  parseCommand,
  parseCommandFile,
  suggest
} from "../../../src/cli/repl/commands.js"

const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

describe("slash commands", () => {
  it("parses /name and its arguments; other text is a prompt", () => {
    expect(parseCommand("/help")).toEqual({ name: "help", args: "" })
    expect(parseCommand("  /Compact  keep the API\nnotes ")).toEqual({ name: "compact", args: "keep the API\nnotes" })
    expect(parseCommand("/review:deep x")).toEqual({ name: "review:deep", args: "x" })
    expect(parseCommand("/ not")).toBeUndefined()
    expect(parseCommand("//comment")).toBeUndefined()
    expect(parseCommand("/usr/bin is a path")).toBeUndefined()
    expect(parseCommand("hello /help")).toBeUndefined()
  })

  it("reads front matter and substitutes $ARGUMENTS", () => {
    expect(parseCommandFile("---\ndescription: 'Review a file'\nother: x\n---\nReview $ARGUMENTS\n")).toEqual({
      description: "Review a file",
      body: "Review $ARGUMENTS"
    })
    expect(parseCommandFile("Just a body\r\n")).toEqual({ description: undefined, body: "Just a body" })
    expect(parseCommandFile("---\nx: y\n---\nbody")).toEqual({ description: undefined, body: "body" })
    expect(expandCommand("Review $ARGUMENTS now; $ARGUMENTS", "a.ts")).toBe("Review a.ts now; a.ts")
    expect(expandCommand("Summarize", "")).toBe("Summarize")
    expect(expandCommand("Summarize", "briefly")).toBe("Summarize\n\nbriefly")
  })

  it("loads user and project commands; the project's win, built-in names are kept", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "sage-commands-"))
    dirs.push(root)
    const home = path.join(root, "home")
    const cwd = path.join(root, "project")
    fs.mkdirSync(path.join(home, ".sage", "commands"), { recursive: true })
    fs.mkdirSync(path.join(cwd, ".sage", "commands"), { recursive: true })
    fs.writeFileSync(path.join(home, ".sage", "commands", "review.md"), "user review $ARGUMENTS")
    fs.writeFileSync(path.join(home, ".sage", "commands", "mine.md"), "---\ndescription: mine\n---\nuser only")
    fs.writeFileSync(path.join(cwd, ".sage", "commands", "review.md"), "project review")
    fs.writeFileSync(path.join(cwd, ".sage", "commands", "help.md"), "not allowed")
    fs.writeFileSync(path.join(cwd, ".sage", "commands", "notes.txt"), "ignored")
    fs.mkdirSync(path.join(cwd, ".sage", "commands", "dir.md"))
    const commands = loadCustomCommands(cwd, home)
    expect(commands.map((c) => [c.name, c.body, c.description])).toEqual([
      ["mine", "user only", "mine"],
      ["review", "project review", undefined]
    ])
    expect(loadCustomCommands(path.join(root, "none"), undefined)).toEqual([])
  })

  it("suggests close names", () => {
    expect(suggest("hlep", ["help", "clear", "exit"])).toEqual(["help"])
    expect(suggest("co", ["cost", "compact", "clear"])).toEqual(["cost", "compact"])
    expect(suggest("zzzzzz", ["help"])).toEqual([])
  })
})
