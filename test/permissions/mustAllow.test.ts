/**
 * Default mode must stay usable: read-only commands that cannot escape are allowed without a rule and without a
 * question, decided on the parsed command and its arguments (a false denial is a defect). Each command below is
 * checked in default mode with no rules, with the README's example settings, and in plan mode; a control list
 * shows that the same programs with an option or a path that can escape are not allowed.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type { RuleLists } from "../../src/permissions/Settings.js"
import type { PermissionMode } from "../../src/services/Permissions.js"
import { decideWith, makeSandbox, rulesFor, type Sandbox, TOOLS } from "./helpers.js"

/** The README's example settings (README.md, "Settings files"). */
const README_RULES: RuleLists = {
  allow: ["Bash(npm test:*)", "Bash(git status)", "Edit(src/**)", "WebFetch(domain:docs.rs)"],
  ask: ["Bash(git push:*)"],
  deny: ["Read(./.env)", "Bash(rm:*)", "mcp__github"]
}

/** Commands that must be allowed in default mode with no rules. */
const MUST_ALLOW: ReadonlyArray<string> = [
  "ls",
  "ls -la",
  "ls -lah src",
  "ls -1 src docs",
  "ls --color=never -R",
  "pwd",
  "pwd -P",
  "git status",
  "git status --short",
  "git status -sb",
  "git status --porcelain",
  "git diff",
  "git diff --stat",
  "git diff --cached",
  "git diff HEAD~1 -- src/a.ts",
  "git diff --name-only main",
  "git log",
  "git log --oneline",
  "git log --oneline -n 10",
  "git log -5 --stat",
  "git log --graph --decorate --all --oneline",
  "git log --format=%H%x09%s --since=2.weeks",
  "git log -p -- src/a.ts",
  "git show",
  "git show HEAD",
  "git show --stat HEAD~2",
  "git show HEAD:README.md",
  "git branch",
  "git branch -a",
  "git branch -vv",
  "git branch --show-current",
  "git branch --list 'feat*'",
  "git rev-parse HEAD",
  "git rev-parse --show-toplevel",
  "git ls-files",
  "git blame src/a.ts",
  "git remote -v",
  "git tag",
  "git stash list",
  "git --no-pager log -3",
  "git -C src status",
  "cat README.md",
  "cat -n src/a.ts",
  "head README.md",
  "head -n 20 README.md",
  "head -5 src/a.ts",
  "tail README.md",
  "tail -n 5 src/a.ts",
  "wc -l README.md",
  "wc src/a.ts README.md",
  "file README.md",
  "stat src/a.ts",
  "stat -c %s README.md",
  "rg TODO",
  "rg -n TODO src",
  "rg -i --type ts 'export const' src",
  "rg --files",
  "grep -rn foo src",
  "grep -r foo .",
  "grep -c x README.md",
  "grep -E 'a|b' README.md",
  "find .",
  "find . -name '*.ts'",
  "find src -type f -name '*.ts' -newer README.md",
  "find . -maxdepth 2 -type d",
  "find src -iname '*.md' -print0",
  "echo hello",
  "echo -n 'a b'",
  'echo "$HOME"',
  "printf '%s\\n' a b",
  "which node",
  "which -a git",
  "type ls",
  "command -v git",
  "date",
  "date +%Y-%m-%d",
  "date -u",
  "tree",
  "tree -L 2 src",
  "du -sh src",
  "du -h --max-depth=1 .",
  "df -h",
  "df .",
  "uname -a",
  "whoami",
  "id",
  "true",
  "sort README.md",
  "uniq -c README.md",
  "cut -d: -f1 README.md",
  "diff README.md src/a.ts",
  "sha256sum README.md",
  "basename src/a.ts",
  "dirname src/a.ts",
  "realpath src",
  "sed -n 1,5p README.md",
  "sed 's/a/b/g' README.md",
  "awk '{print $1}' README.md",
  "ls | wc -l",
  "git log --oneline | head -20",
  "cat README.md | grep x | sort | uniq",
  "cd src && ls",
  "cd src && cat a.ts",
  "ls src && pwd",
  "ls 2>/dev/null",
  "git status; git diff --stat",
  "set -euo pipefail; ls",
  "for f in a b; do echo $f; done",
  "x=1; echo $x"
]

/** The same programs where an option or a path can escape: never allowed without a rule or an answer. */
const NOT_WITHOUT_A_RULE: ReadonlyArray<readonly [string, "ask" | "deny"]> = [
  ["ls /etc", "ask"],
  ["cat /etc/hostname", "ask"],
  ["cat ../outside.txt", "ask"],
  ["cat $F", "ask"],
  ["ls *.ts", "ask"],
  ["git branch new-branch", "ask"],
  ["git log --output=out.txt", "ask"],
  ["git diff --no-index /etc/passwd README.md", "ask"],
  ["git -c core.pager=sh log", "ask"],
  ["git --git-dir=src/r status", "ask"],
  ["git config core.pager sh", "ask"],
  ["git tag v1", "ask"],
  ["rg --pre ./x TODO", "ask"],
  ["find . -delete", "ask"],
  ["find . -exec cat {} ;", "ask"],
  ["find . -fprint out.txt", "ask"],
  ["sed -i s/a/b/ README.md", "ask"],
  ["sed 'w out' README.md", "ask"],
  ["awk '{ print > \"out\" }' README.md", "ask"],
  ["sort -o out README.md", "ask"],
  ["tail -f README.md", "ask"],
  ["tree -o out.txt", "ask"],
  ["date -s 2020-01-01", "ask"],
  ["hostname evil", "ask"],
  ["uniq README.md out.txt", "ask"],
  ["echo x > out.txt", "ask"],
  ["cd /etc && ls", "ask"],
  ["sudo ls", "ask"],
  ["env PATH=/tmp ls", "ask"],
  ["PATH=/tmp ls", "ask"],
  ["for PATH in src; do ls; done", "ask"],
  ["printf -v PATH x", "ask"]
]

/**
 * Searches of the whole workspace read every file under it, `.env` included: with the README's `Read(./.env)`
 * deny rule they ask (the rule's path lies under the searched directory); with no rules they are allowed.
 */
const SEARCHES_THE_ROOT = new Set(["rg TODO", "grep -r foo ."])

let sandbox: Sandbox

beforeAll(() => {
  sandbox = makeSandbox()
  fs.mkdirSync(path.join(sandbox.root, "src"), { recursive: true })
  fs.mkdirSync(path.join(sandbox.root, "docs"), { recursive: true })
  fs.writeFileSync(path.join(sandbox.root, "README.md"), "hello\n")
  fs.writeFileSync(path.join(sandbox.root, "src", "a.ts"), "export const a = 1\n")
  fs.writeFileSync(path.join(sandbox.base, "outside.txt"), "outside\n")
  execFileSync("git", ["init", "-q", sandbox.root])
})

afterAll(() => sandbox.cleanup())

const decide = (command: string, rules: RuleLists, mode: PermissionMode) =>
  Effect.gen(function* () {
    const ruleSet = yield* rulesFor(sandbox, rules)
    return yield* decideWith(ruleSet, TOOLS.Bash, { command }, mode)
  })

describe("default mode must stay usable: read-only commands are allowed without a rule", () => {
  it("lists enough commands", () => {
    expect(MUST_ALLOW.length).toBeGreaterThanOrEqual(100)
  })
  for (const command of MUST_ALLOW) {
    it.effect(`allow: ${command}`, () =>
      Effect.gen(function* () {
        for (const [label, rules, mode] of [
          ["no rules, default", {}, "default"],
          ["README settings, default", README_RULES, "default"],
          ["no rules, acceptEdits", {}, "acceptEdits"],
          ["no rules, plan", {}, "plan"]
        ] as const) {
          if (rules === README_RULES && SEARCHES_THE_ROOT.has(command)) {
            expect((yield* decide(command, rules, mode)).type).toBe("ask")
            continue
          }
          const decision = yield* decide(command, rules, mode)
          const reason = decision.type === "allow" ? undefined : decision.reason
          expect({ command, label, decision: decision.type, reason }).toMatchObject({
            command,
            label,
            decision: "allow"
          })
        }
      })
    )
  }
})

describe("the same programs with an escaping option or path are not allowed without a rule", () => {
  for (const [command, expected] of NOT_WITHOUT_A_RULE) {
    it.effect(`${expected}: ${command}`, () =>
      Effect.gen(function* () {
        const decision = yield* decide(command, {}, "default")
        expect({ command, decision: decision.type }).toEqual({ command, decision: expected })
        const plan = yield* decide(command, {}, "plan")
        expect({ command, plan: plan.type }).toEqual({ command, plan: expected === "ask" ? "deny" : expected })
      })
    )
  }
})
