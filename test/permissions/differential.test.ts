/**
 * The differential test: generated command lines (plus hand-written ones from the escape classes) run under real
 * bash with logging stand-ins (`test/support/BashOracle.ts`), and what bash did (programs and their arguments and
 * environment, files the shell opened, variables set, builtins run) is compared with what the checker believes
 * (`analyzeShell`). A difference on a command the real decision function (`checkPermission`) would allow, under any
 * of the rule sets below, is a failure; commands that ask or are denied may differ.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type { RuleLists } from "../../src/permissions/Settings.js"
import { isSafeEnvName } from "../../src/permissions/ShellCommand.js"
import { analyzeShell, type ShellAnalysis } from "../../src/permissions/ShellParser.js"
import type { PermissionMode } from "../../src/services/Permissions.js"
import {
  makeOracle,
  type Observation,
  REAL_WRAPPERS,
  SCRIPT_WRAPPERS,
  SHELLS,
  WORKSPACE_FILES
} from "../support/BashOracle.js"
import { FIXED_COMMANDS, makeGenerator } from "../support/ShellGenerator.js"
import { decideWith, makeSandbox, rulesFor, TOOLS } from "./helpers.js"

const SEED = 20261203
const GENERATED = 520

interface Config {
  readonly name: string
  readonly mode: PermissionMode
  readonly rules: RuleLists
  /** Whether variables and environments are part of the checker's belief (not in bypassPermissions). */
  readonly strictEnv: boolean
}

/** The README's example settings. */
const README: RuleLists = {
  allow: ["Bash(npm test:*)", "Bash(git status)", "Edit(src/**)", "WebFetch(domain:docs.rs)"],
  ask: ["Bash(git push:*)"],
  deny: ["Read(./.env)", "Bash(rm:*)", "mcp__github"]
}

const READ_ONLY: RuleLists = {
  allow: [
    "Bash(ls:*)",
    "Bash(cat:*)",
    "Bash(echo:*)",
    "Bash(printf:*)",
    "Bash(grep:*)",
    "Bash(head:*)",
    "Bash(wc:*)",
    "Bash(sort:*)",
    "Bash(find:*)",
    "Bash(rg:*)",
    "Bash(date)",
    "Bash(true)",
    "Bash(git status:*)",
    "Bash(git log:*)",
    "Bash(git diff:*)",
    "Edit(out/**)"
  ],
  deny: ["Read(./.env)"]
}

const CONFIGS: ReadonlyArray<Config> = [
  { name: "default, no rules", mode: "default", rules: {}, strictEnv: true },
  { name: "default, README settings", mode: "default", rules: README, strictEnv: true },
  { name: "default, read-only allow list", mode: "default", rules: READ_ONLY, strictEnv: true },
  { name: "acceptEdits, Bash(echo:*)", mode: "acceptEdits", rules: { allow: ["Bash(echo:*)"] }, strictEnv: true },
  {
    name: "bypassPermissions, deny rm/curl",
    mode: "bypassPermissions",
    rules: { deny: ["Bash(rm:*)", "Bash(curl:*)", "Edit(.sage/**)"] },
    strictEnv: false
  }
]

/** Shell variables bash sets by itself for its builtins (`read` without a name sets REPLY). */
const BASH_BOOKKEEPING = new Set(["REPLY", "OPTIND", "OPTARG", "OPTERR", "BASH_REMATCH", "MAPFILE", "COPROC"])

/**
 * The test's own expectation, independent of the checker's lists: a program may be given a changed environment
 * variable only from the checker's allowlist, and a plain shell variable may change when it is lower-case (bash
 * reads none in a non-interactive shell) and not one that programs read (proxies, npm/yarn/git settings).
 */
const harmlessEnv = (name: string) => isSafeEnvName(name)
const harmlessShellVar = (name: string) =>
  isSafeEnvName(name) ||
  BASH_BOOKKEEPING.has(name) ||
  (/^[a-z_][a-z0-9_]*$/.test(name) && !/^(npm_|yarn_|pnpm_|bun_|git_)|proxy$/.test(name))

/** The variables the checker says the command line assigns (`ShellAnalysis.assigned`), when it says. */
const assignedBy = (belief: ShellAnalysis): ReadonlySet<string> | undefined => {
  const value: unknown = "assigned" in belief ? belief.assigned : undefined
  return Array.isArray(value) ? new Set(value.filter((v): v is string => typeof v === "string")) : undefined
}

/** Environment entries bash itself maintains. */
const SHELL_MANAGED_ENV = new Set(["_", "PWD", "OLDPWD", "SHLVL"])

/** Builtins that change the shell's state or run code: each one bash runs must be one the checker saw. */
const STATEFUL_BUILTINS = new Set([
  "cd",
  "pushd",
  "popd",
  "source",
  ".",
  "enable",
  "trap",
  "alias",
  "set",
  "shopt",
  "hash",
  "read",
  "mapfile",
  "readarray",
  "printf",
  "getopts",
  "let",
  "ulimit",
  "umask"
])

const NOT_LEAVES = new Set([...REAL_WRAPPERS, ...SCRIPT_WRAPPERS, ...SHELLS])

type Words = ReadonlyArray<{ readonly text: string; readonly literal: boolean }>

/** `git` global options that take a value (both spellings are stripped before comparing). */
const GIT_VALUE_OPTIONS = new Set([
  "-C",
  "-c",
  "--git-dir",
  "--work-tree",
  "--namespace",
  "--exec-path",
  "--config-env"
])

/** The words from git's subcommand on (global options are the checker's policy, not its parse). */
const gitTail = <A>(texts: ReadonlyArray<A>, text: (a: A) => string): ReadonlyArray<A> => {
  let i = 1
  while (i < texts.length) {
    const t = text(texts[i]!)
    if (!t.startsWith("-")) break
    const name = t.includes("=") ? t.slice(0, t.indexOf("=")) : t
    i += GIT_VALUE_OPTIONS.has(name) && !t.includes("=") && !/^-[Cc]./.test(t) ? 2 : 1
  }
  return texts.slice(i)
}

/** Whether believed words (non-literal ones stand for any number of arguments) can produce `argv`. */
const wordsMatch = (words: Words, argv: ReadonlyArray<string>): boolean => {
  const memo = new Map<string, boolean>()
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`
    const known = memo.get(key)
    if (known !== undefined) return known
    let result: boolean
    if (i === words.length) result = j === argv.length
    else if (words[i]!.literal) result = j < argv.length && argv[j] === words[i]!.text && go(i + 1, j + 1)
    else {
      result = false
      for (let k = j; k <= argv.length && !result; k++) result = go(i + 1, k)
    }
    memo.set(key, result)
    return result
  }
  return go(0, 0)
}

/**
 * The directories a relative path of the command line may be relative to, as the checker treats them: the
 * starting directory and every literal `cd`/`pushd` target (and `git -C`-like directories a command reports),
 * from any of those, a few levels deep. The checker decides a relative write for each of them.
 */
const directoriesOf = (belief: ShellAnalysis, obs: Observation, home: string): ReadonlyArray<string> => {
  const targets: Array<string> = []
  for (const c of belief.commands) {
    const name = c.words[0]?.text
    if (name === "cd" || name === "pushd") {
      const args = c.words.slice(1).filter((w) => w.literal && !w.text.startsWith("-"))
      if (args.length === 0) targets.push(home)
      for (const w of args)
        targets.push(w.text === "~" || w.text.startsWith("~/") ? path.join(home, w.text.slice(1)) : w.text)
    }
    const chdir: unknown = "chdir" in c ? c.chdir : undefined
    if (Array.isArray(chdir)) {
      for (const w of chdir)
        if (typeof w === "object" && w !== null && "text" in w && typeof w.text === "string") targets.push(w.text)
    }
  }
  const dirs = new Set([obs.cwd])
  for (let round = 0; round < 3; round++) {
    for (const base of [...dirs]) for (const t of targets) dirs.add(path.resolve(base, t))
  }
  return [...dirs]
}

const resolveBelieved = (text: string, dirs: ReadonlyArray<string>, home: string): ReadonlyArray<string> =>
  text === "~" || text.startsWith("~/")
    ? [path.join(home, text.slice(1))]
    : path.isAbsolute(text)
      ? [text]
      : dirs.map((d) => path.resolve(d, text))

const realpathOr = (p: string): string => {
  try {
    return fs.realpathSync(p)
  } catch {
    return path.join(realpathOrParent(path.dirname(p)), path.basename(p))
  }
}
const realpathOrParent = (p: string): string => (p === path.dirname(p) ? p : realpathOr(p))

/** A path pattern as a regular expression: glob characters match within a segment, expansions match anything. */
const globRegex = (pattern: string): RegExp => {
  let re = ""
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === "$" || c === "`") return /.*/
    if (c === "*") re += "[^/]*"
    else if (c === "?") re += "[^/]"
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1)
      if (end === -1) re += "\\["
      else {
        re += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`
        i = end
      }
    } else re += c.replace(/[.+^(){}|\\]/g, "\\$&")
  }
  return new RegExp(`^${re}$`)
}

/** The first word of `$BASH_COMMAND`, after assignments in front of it. */
const builtinName = (text: string): string | undefined => {
  const words = text.trim().split(/\s+/)
  const first = words.find((w) => !/^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/.test(w))
  return first
}

/** Everything bash did that the checker does not account for. */
const differences = (obs: Observation, belief: ShellAnalysis, bin: string, home: string, strictEnv: boolean) => {
  const out: Array<string> = []
  const commands = belief.commands.filter((c) => c.words.length > 0)
  const dirs = directoriesOf(belief, obs, home)
  for (const exec of obs.execs) {
    const inBin = path.dirname(exec.path) === bin
    const name = path.basename(exec.path)
    if (strictEnv) {
      const keys = new Set([...exec.env.keys(), ...obs.baseEnv.keys()])
      for (const key of keys) {
        if (SHELL_MANAGED_ENV.has(key) || exec.env.get(key) === obs.baseEnv.get(key)) continue
        // stdbuf runs its command with its own preload library.
        if (/^_STDBUF_/.test(key) || (key === "LD_PRELOAD" && /libstdbuf/.test(exec.env.get(key) ?? ""))) continue
        if (!harmlessEnv(key)) out.push(`\`${exec.argv.join(" ")}\` ran with ${key} changed`)
      }
    }
    if (inBin && NOT_LEAVES.has(name)) continue
    const matched = commands.some((c) => {
      const first = c.words[0]!
      if (!first.literal) return false
      const programs = first.text.includes("/")
        ? dirs.map((d) => realpathOr(path.resolve(d, first.text)))
        : [path.join(bin, first.text)]
      if (!programs.includes(exec.path) && !programs.includes(realpathOr(exec.path))) return false
      const words = first.text === "git" ? gitTail(c.words, (w) => w.text) : c.words.slice(1)
      const argv = first.text === "git" ? gitTail(exec.argv, (a) => a) : exec.argv.slice(1)
      return wordsMatch(words, argv)
    })
    if (!matched) out.push(`ran \`${exec.path}\` with argv ${JSON.stringify(exec.argv)}`)
  }
  const believedWrites = new Set(
    belief.writes.flatMap((w) => resolveBelieved(w, dirs, home).flatMap((p) => [p, realpathOr(p)]))
  )
  for (const w of obs.writes) {
    if (!believedWrites.has(w) && !believedWrites.has(realpathOr(w))) out.push(`wrote ${w}`)
  }
  const believedReads = new Set(
    [...belief.reads, ...commands.flatMap((c) => c.words.filter((w) => w.literal).map((w) => w.text))].flatMap((r) =>
      resolveBelieved(r, dirs, home).flatMap((p) => [p, realpathOr(p)])
    )
  )
  // Input redirections the checker reports as unresolved (`< .e*`) stand for whatever they match, as a
  // non-literal word does; the decision treats them by policy (deny/ask Read rules).
  const unresolved: unknown = "unresolvedReads" in belief ? belief.unresolvedReads : []
  const patterns = (Array.isArray(unresolved) ? unresolved : [])
    .filter((u): u is string => typeof u === "string")
    .flatMap((u) => resolveBelieved(u, dirs, home).map(globRegex))
  for (const r of obs.reads) {
    if (believedReads.has(r) || believedReads.has(realpathOr(r))) continue
    if (patterns.some((re) => re.test(r))) continue
    out.push(`read ${r}`)
  }
  const assigned = assignedBy(belief)
  for (const v of obs.vars) {
    if (assigned !== undefined && !assigned.has(v) && !BASH_BOOKKEEPING.has(v)) {
      out.push(`set the variable ${v}, which the checker did not see`)
    } else if (strictEnv && !harmlessShellVar(v)) out.push(`set the variable ${v}`)
  }
  const names = new Set(commands.map((c) => c.words[0]!.text))
  for (const text of obs.commands) {
    const name = builtinName(text)
    if (name !== undefined && STATEFUL_BUILTINS.has(name) && !names.has(name)) out.push(`ran the builtin \`${text}\``)
  }
  if (obs.timedOut) out.push("timed out")
  return [...new Set(out)]
}

describe("differential: real bash against the checker", () => {
  it.live(
    "on every allowed command, bash does nothing the checker did not see",
    () =>
      Effect.gen(function* () {
        const generator = makeGenerator(SEED)
        const generated = Array.from({ length: GENERATED }, () => generator.command())
        const commands = [...new Set([...FIXED_COMMANDS, ...generated])]
        const oracle = makeOracle()
        const sandbox = makeSandbox()
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            oracle.cleanup()
            sandbox.cleanup()
          })
        )
        // The decisions are taken in a copy of the workspace every command runs in.
        for (const [file, content] of Object.entries(WORKSPACE_FILES)) {
          const target = path.join(sandbox.root, file)
          if (file.endsWith("/")) fs.mkdirSync(target, { recursive: true })
          else {
            fs.mkdirSync(path.dirname(target), { recursive: true })
            fs.writeFileSync(target, content)
          }
        }
        fs.mkdirSync(path.join(sandbox.base, "outside"))
        fs.symlinkSync("../outside", path.join(sandbox.root, "link-out"))

        const observations = yield* Effect.promise(() => oracle.run(commands, 2))
        const ruleSets = yield* Effect.forEach(CONFIGS, (config) => rulesFor(sandbox, config.rules))
        const failures: Array<string> = []
        const checkerErrors: Array<string> = []
        const allowedCounts = CONFIGS.map(() => 0)
        let comparedAllowed = 0
        for (const obs of observations) {
          const analyzed = yield* Effect.result(analyzeShell(obs.command))
          if (analyzed._tag === "Failure") {
            // The check fails too (the call never runs): not a difference, but reported.
            checkerErrors.push(`${JSON.stringify(obs.command)}: ${analyzed.failure.message}`)
            continue
          }
          const belief = analyzed.success
          let anyAllowed = false
          for (const [i, config] of CONFIGS.entries()) {
            const decision = yield* decideWith(
              ruleSets[i]!,
              TOOLS.Bash,
              { command: obs.command },
              config.mode,
              sandbox.root
            )
            if (decision.type !== "allow") continue
            anyAllowed = true
            allowedCounts[i]!++
            const diffs = differences(obs, belief, oracle.bin, oracle.home, config.strictEnv)
            if (diffs.length > 0) {
              failures.push(`[${config.name}] ${JSON.stringify(obs.command)} is allowed, but bash ${diffs.join("; ")}`)
            }
          }
          if (anyAllowed) comparedAllowed++
        }
        const summary = [
          `${observations.length} commands run under real bash and compared with the checker (network namespace: ${oracle.isolated ? "yes" : "no"})`,
          `${comparedAllowed} allowed under at least one rule set`,
          ...CONFIGS.map((c, i) => `  ${c.name}: ${allowedCounts[i]} allowed`),
          `${failures.length} differences on allowed commands`,
          `${checkerErrors.length} commands the checker failed on (their calls never run)`,
          ...checkerErrors.map((e) => `  ${e}`)
        ].join("\n")
        if (process.env.SAGE_DIFFERENTIAL_REPORT !== undefined) {
          fs.writeFileSync(process.env.SAGE_DIFFERENTIAL_REPORT, `${summary}\n${failures.join("\n")}\n`)
        }
        expect(observations.length).toBeGreaterThanOrEqual(500)
        // The oracle sees what bash runs: a plain command must show up as exactly one execution.
        const plain = observations.find((o) => o.command === "wc -l src/a.ts src/b.ts")
        expect(plain?.execs.map((e) => e.argv)).toEqual([["wc", "-l", "src/a.ts", "src/b.ts"]])
        const redirect = observations.find((o) => o.command === "echo hi > out/o.txt")
        expect(redirect?.writes).toEqual([path.join(redirect?.cwd ?? "", "out/o.txt")])
        const loop = observations.find((o) => o.command === "for HOME in src; do git status; done")
        expect(loop?.vars).toContain("HOME")
        // The comparison catches what a checker misses: checked against a belief that is too small, the
        // observations of two known escapes show their differences.
        const flock = observations.find((o) => o.command === "flock out/l rm x")
        if (loop === undefined || flock === undefined) throw new Error("the known escapes did not run")
        const staleLoop = differences(loop, yield* analyzeShell("git status"), oracle.bin, oracle.home, true)
        expect(staleLoop).toContain("set the variable HOME, which the checker did not see")
        expect(staleLoop).toContain("`git status` ran with HOME changed")
        const staleFlock = differences(flock, yield* analyzeShell("flock out/l"), oracle.bin, oracle.home, false)
        expect(staleFlock).toContain(`ran \`${path.join(oracle.bin, "rm")}\` with argv ["rm","x"]`)
        expect(failures, summary).toEqual([])
      }).pipe(Effect.scoped),
    180_000
  )
})
