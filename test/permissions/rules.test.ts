import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import { matchPathPattern, parsePathPattern, realpathLoose } from "../../src/permissions/PathRule.js"
import {
  matchCommand,
  matchDomain,
  parseRule,
  type Rule,
  ruleAppliesTo,
  splitRuleWords
} from "../../src/permissions/Rule.js"
import type { Word } from "../../src/permissions/ShellCommand.js"

const rule = (text: string, behavior: Rule["behavior"] = "allow"): Rule => {
  const parsed = parseRule(text, behavior, "test")
  if (Result.isFailure(parsed)) throw new Error(parsed.failure)
  return parsed.success
}

const words = (...texts: ReadonlyArray<string>): ReadonlyArray<Word> =>
  texts.map((t) => (t.startsWith("$") ? { text: t, literal: false } : { text: t, literal: true }))

const bases = { roots: ["/p"], homes: ["/h"] }
const pathMatches = (pattern: string, target: string, conservative = false) => {
  const parsed = parsePathPattern(pattern)
  if (typeof parsed === "string") throw new Error(parsed)
  return matchPathPattern(parsed, target, bases, { conservative })
}

describe("rule parsing", () => {
  it("parses every rule form", () => {
    expect(rule("Bash").content).toEqual({ _tag: "Any" })
    expect(rule("Bash(*)").content).toEqual({ _tag: "Any" })
    expect(rule("Bash(npm test:*)").content).toEqual({ _tag: "Command", words: ["npm", "test"], prefix: true })
    expect(rule("Bash(npm test *)").content).toEqual({ _tag: "Command", words: ["npm", "test"], prefix: true })
    expect(rule("Bash(git commit -m 'a b' \\x)").content).toEqual({
      _tag: "Command",
      words: ["git", "commit", "-m", "a b", "x"],
      prefix: false
    })
    expect(rule("Edit(src/**)").content).toMatchObject({ _tag: "Path", pattern: { base: "root", anchored: true } })
    expect(rule("WebFetch(domain:Example.COM.)").content).toEqual({
      _tag: "Domain",
      domain: "example.com",
      subdomains: false
    })
    expect(rule("WebFetch(domain:*.example.com)").content).toMatchObject({ subdomains: true })
    expect(rule("mcp__srv__tool(x)").content).toEqual({ _tag: "Raw", text: "x" })
    expect(rule("  Read  ").text).toBe("Read")
  })

  it("rejects malformed rules with a reason", () => {
    for (const [text, reason] of [
      ["", "not a tool name"],
      ["Bash(npm", 'missing ")"'],
      ["Bash()", "empty pattern"],
      ["Ba sh", "not a tool name"],
      ["(x)", "not a tool name"],
      ["Bash(:*)", "empty command pattern"],
      ["Bash(a:* b)", "may only end"],
      ["Bash('a)", "unterminated"],
      ["Bash(a\\)", "trailing backslash"],
      ["WebFetch(https://x.com)", "domain:host"],
      ["WebFetch(domain:.x)", "invalid domain"],
      ["Edit( x)", "space-padded"],
      ["Edit(src/*/../x)", "after a wildcard"]
    ] as const) {
      const parsed = parseRule(text, "deny", "test")
      expect(Result.isFailure(parsed) && parsed.failure).toContain(reason)
    }
    expect(splitRuleWords("a 'b c' \"d\"")).toEqual(Result.succeed(["a", "b c", "d"]))
  })

  it("applies rules to tools by name, family and MCP server", () => {
    const id = (name: string, kind: "read" | "edit" | "execute" | "other", hasPath = true, isShell = false) => ({
      name,
      kind,
      hasPath,
      isShell
    })
    expect(ruleAppliesTo(rule("Edit"), id("Write", "edit"))).toBe(true)
    expect(ruleAppliesTo(rule("Read"), id("Grep", "read"))).toBe(true)
    expect(ruleAppliesTo(rule("Read"), id("Glob", "read", false))).toBe(false)
    expect(ruleAppliesTo(rule("Bash"), id("Shell", "execute", false, true))).toBe(true)
    expect(ruleAppliesTo(rule("mcp__a"), id("mcp__a__x", "other"))).toBe(true)
    expect(ruleAppliesTo(rule("mcp__a__*"), id("mcp__a__x", "other"))).toBe(true)
    expect(ruleAppliesTo(rule("mcp__a"), id("mcp__ab__x", "other"))).toBe(false)
    expect(ruleAppliesTo(rule("mcp__a__x"), id("mcp__a__xy", "other"))).toBe(false)
    expect(ruleAppliesTo(rule("MCP__A", "deny"), id("mcp__a__x", "other"))).toBe(true)
    expect(ruleAppliesTo(rule("MCP__A"), id("mcp__a__x", "other"))).toBe(false)
    expect(ruleAppliesTo(rule("task"), id("Task", "other"))).toBe(false)
    expect(ruleAppliesTo(rule("task", "deny"), id("Task", "other"))).toBe(true)
  })
})

describe("command matching", () => {
  const prefix = { words: ["npm", "test"], prefix: true }
  const exact = { words: ["git", "status"], prefix: false }
  it("allow rules need literal, exactly equal words on word boundaries", () => {
    expect(matchCommand(prefix, "allow", words("npm", "test"))).toBe("match")
    expect(matchCommand(prefix, "allow", words("npm", "test", "$X"))).toBe("match")
    expect(matchCommand(prefix, "allow", words("npm", "testx"))).toBe("none")
    expect(matchCommand(prefix, "allow", words("npm"))).toBe("none")
    expect(matchCommand(prefix, "allow", words("/tmp/npm", "test"))).toBe("none")
    expect(matchCommand(exact, "allow", words("git", "status"))).toBe("match")
    expect(matchCommand(exact, "allow", words("git", "status", "-s"))).toBe("none")
    expect(matchCommand(exact, "allow", words("git", "$X"))).toBe("none")
  })
  it("deny rules compare basenames and case, match exact rules as prefixes, and say maybe for expansions", () => {
    expect(matchCommand(exact, "deny", words("/usr/bin/GIT", "Status", "-s"))).toBe("match")
    expect(matchCommand(exact, "deny", words("git", "$X"))).toBe("maybe")
    expect(matchCommand(exact, "deny", words("$X", "status"))).toBe("maybe")
    expect(matchCommand(exact, "deny", words("git", "log"))).toBe("none")
    expect(matchCommand(exact, "deny", words("git"))).toBe("none")
  })
})

describe("domain matching", () => {
  const exact = { domain: "example.com", subdomains: false }
  const subs = { domain: "example.com", subdomains: true }
  it("matches hosts, not strings", () => {
    expect(matchDomain(exact, "allow", "https://example.com/x")).toBe("match")
    expect(matchDomain(exact, "allow", "http://EXAMPLE.com./x")).toBe("match")
    expect(matchDomain(exact, "allow", "https://a.example.com/")).toBe("none")
    expect(matchDomain(subs, "allow", "https://a.example.com/")).toBe("match")
    expect(matchDomain(subs, "allow", "https://example.com/")).toBe("none")
    expect(matchDomain(exact, "allow", "https://example.com.evil.net/")).toBe("none")
    expect(matchDomain(exact, "allow", 42)).toBe("none")
    expect(matchDomain(exact, "deny", 42)).toBe("maybe")
    expect(matchDomain(exact, "deny", "::")).toBe("maybe")
    expect(matchDomain(exact, "deny", "file:///etc/passwd")).toBe("maybe")
    expect(matchDomain(exact, "deny", "https://a.example.com")).toBe("match")
    expect(matchDomain(exact, "deny", "https://xexample.com")).toBe("none")
  })
})

describe("path patterns", () => {
  it("anchors patterns with a slash to the project, others match at any depth", () => {
    expect(pathMatches("src/**", "/p/src/a/b.ts")).toBe(true)
    expect(pathMatches("src/**", "/p/lib/src/a.ts")).toBe(false)
    expect(pathMatches("src", "/p/src/a.ts")).toBe(true)
    expect(pathMatches("/src/*.ts", "/p/src/a.ts")).toBe(true)
    expect(pathMatches("/src/*.ts", "/p/src/sub/a.ts")).toBe(false)
    expect(pathMatches("./.env", "/p/.env")).toBe(true)
    expect(pathMatches("./.env", "/p/sub/.env")).toBe(false)
    expect(pathMatches(".env", "/p/sub/.env")).toBe(true)
    expect(pathMatches("*.pem", "/p/a/b/key.pem")).toBe(true)
    expect(pathMatches("**/test/*.ts", "/p/a/test/x.ts")).toBe(true)
    expect(pathMatches("src/[ab].ts", "/p/src/b.ts")).toBe(true)
    expect(pathMatches("src/[!ab].ts", "/p/src/b.ts")).toBe(false)
    expect(pathMatches("src/?.ts", "/p/src/c.ts")).toBe(true)
    expect(pathMatches("src/\\*.ts", "/p/src/a.ts")).toBe(false)
    expect(pathMatches("src/[x.ts", "/p/src/[x.ts")).toBe(true)
    expect(pathMatches("docs/../src/**", "/p/src/a.ts")).toBe(true)
    // Punctuation in names is literal (a `-` once made the rule's regex invalid and the check die).
    expect(pathMatches("my-dir/**", "/p/my-dir/secret.txt")).toBe(true)
    expect(pathMatches("my-dir/**", "/p/mydir/secret.txt")).toBe(false)
    expect(pathMatches("a+b,c=d~e/**", "/p/a+b,c=d~e/x")).toBe(true)
  })
  it("never matches outside its base unless deny-matching an unanchored name", () => {
    expect(pathMatches("src/**", "/elsewhere/src/a.ts")).toBe(false)
    expect(pathMatches("**", "/elsewhere/x")).toBe(false)
    expect(pathMatches(".env", "/elsewhere/.env")).toBe(false)
    expect(pathMatches(".env", "/elsewhere/.env", true)).toBe(true)
    expect(pathMatches(".env", "/p/.ENV")).toBe(false)
    expect(pathMatches(".env", "/p/.ENV", true)).toBe(true)
    expect(pathMatches("../shared/**", "/shared/x")).toBe(true)
  })
  it("supports absolute and home bases", () => {
    expect(pathMatches("//etc/**", "/etc/passwd")).toBe(true)
    expect(pathMatches("//etc/**", "/p/etc/passwd")).toBe(false)
    expect(pathMatches("~/.ssh/**", "/h/.ssh/id_rsa")).toBe(true)
    expect(pathMatches("~", "/h/anything")).toBe(true)
    expect(pathMatches("~/.ssh/**", "/p/.ssh/id_rsa")).toBe(false)
  })
  it("resolves real paths through symlinks, also for files that do not exist yet", () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-real-")))
    try {
      fs.mkdirSync(path.join(dir, "target"))
      fs.symlinkSync(path.join(dir, "target"), path.join(dir, "link"))
      expect(realpathLoose(path.join(dir, "link", "new", "file.txt"))).toBe(path.join(dir, "target", "new", "file.txt"))
      expect(realpathLoose(path.join(dir, "link"))).toBe(path.join(dir, "target"))
      // a dangling symlink is followed to its target (the file tools do the same), chains and loops included
      fs.symlinkSync(path.join(dir, "elsewhere", "new.txt"), path.join(dir, "dangling"))
      expect(realpathLoose(path.join(dir, "dangling"))).toBe(path.join(dir, "elsewhere", "new.txt"))
      fs.symlinkSync(path.join(dir, "dangling"), path.join(dir, "chain"))
      expect(realpathLoose(path.join(dir, "chain"))).toBe(path.join(dir, "elsewhere", "new.txt"))
      fs.symlinkSync(path.join(dir, "loop-b"), path.join(dir, "loop-a"))
      fs.symlinkSync(path.join(dir, "loop-a"), path.join(dir, "loop-b"))
      expect(typeof realpathLoose(path.join(dir, "loop-a", "x"))).toBe("string")
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
