// (e) tools, through the built library (dist/): Grep and Glob on a generated 20,000-file tree side by side with
// ripgrep and find on the same tree, and permission checks per second against a 200-rule settings file.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { NodeServices } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { Permissions, PermissionsLive, Settings, Tool, WorkspaceLive } from "../dist/index.js"
import { findExecutable } from "../dist/process/Executable.js"
import { makeGlobTool } from "../dist/tools/Glob.js"
import { makeGrepTool } from "../dist/tools/Grep.js"
import { fmt, stats, target } from "./support.mjs"

/** Run `effect` (a tool constructor) on the workspace rooted at `cwd` and Node's platform services. */
const onWorkspace = (cwd, effect) =>
  Effect.runPromise(
    effect.pipe(Effect.provide(WorkspaceLive.layer({ cwd }).pipe(Layer.provideMerge(NodeServices.layer))))
  )

const DIRS_TOP = 10
const DIRS_PER_TOP = 20
const FILES_PER_DIR = 100
const IGNORED_TOP = 9 // pkg9/ is listed in .gitignore: 20 directories, 2,000 files
const EXTENSIONS = [".ts", ".js", ".md", ".json"]
const PATTERN = "handle[A-Z]\\w+Request"

// ---------------------------------------------------------------------------------------------------------------
// The tree

const fileContent = (ext, d, i) => {
  const id = d * FILES_PER_DIR + i
  const hit = id % 10 === 0 // about one file in ten has matching lines
  if (ext === ".json") {
    return `${JSON.stringify(
      {
        name: `pkg-${d}-${i}`,
        version: `1.${i}.0`,
        scripts: { build: "tsc -p .", test: "vitest run" },
        handler: hit ? `handleUserRequest${id}` : `process${id}`,
        dependencies: { effect: "^3.22.0", left: `^${i % 7}.0.0` }
      },
      null,
      2
    )}\n`
  }
  if (ext === ".md") {
    return [
      `# Module ${d}/${i}`,
      "",
      "This module computes things and returns them. It is documented here for the benefit of readers.",
      "",
      "## Usage",
      "",
      "```ts",
      hit ? `const result = await handleOrderRequest(input${id})` : `const result = await compute(input${id})`,
      "```",
      "",
      `See also module ${(i + 1) % FILES_PER_DIR}.`,
      ""
    ].join("\n")
  }
  const typed = ext === ".ts"
  const lines = [
    `// module ${d}/${i}`,
    `import { helper${i % 7} } from "./helper${i % 7}${ext}"`,
    "",
    typed ? `export interface Options${id} {\n  readonly name: string\n  readonly size: number\n}` : "",
    "",
    `export function compute${id}(input${typed ? ": number" : ""})${typed ? ": number" : ""} {`,
    `  const scaled = input * ${(i % 13) + 1}`,
    `  return helper${i % 7}(scaled) + ${id}`,
    "}",
    ""
  ]
  if (hit) {
    lines.push(
      `export const handleUserRequest${id} = (request${typed ? ": Request" : ""}) => respond(request)`,
      `export const handleAdminRequest${id} = (request${typed ? ": Request" : ""}) => respond(request, { admin: true })`
    )
  }
  for (let k = 0; k < 8; k++) lines.push(`export const value${k} = compute${id}(${k}) // line ${k}`)
  return `${lines.join("\n")}\n`
}

/** 200 directories x 100 files under `root`, `pkg9/` gitignored; returns counts for the sanity checks. */
export const generateTree = (root) => {
  fs.writeFileSync(path.join(root, ".gitignore"), `pkg${IGNORED_TOP}/\n*.log\n!keep.log\n`)
  let files = 0
  let visibleTs = 0
  let allTs = 0
  for (let top = 0; top < DIRS_TOP; top++) {
    for (let sub = 0; sub < DIRS_PER_TOP; sub++) {
      const d = top * DIRS_PER_TOP + sub
      const dir = path.join(root, `pkg${top}`, "src", `mod${sub}`)
      fs.mkdirSync(dir, { recursive: true })
      for (let i = 0; i < FILES_PER_DIR; i++) {
        const ext = EXTENSIONS[i % EXTENSIONS.length]
        fs.writeFileSync(path.join(dir, `file${i}${ext}`), fileContent(ext, d, i))
        files++
        if (ext === ".ts") {
          allTs++
          if (top !== IGNORED_TOP) visibleTs++
        }
      }
    }
  }
  return { files, visibleTs, allTs }
}

// ---------------------------------------------------------------------------------------------------------------
// Timing helpers

/** Spawn `command`, drain its stdout, and resolve with the wall time and the number of output records. */
const timeProcess = (command, args, separator = 0x0a) =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "ignore"] })
    let records = 0
    child.stdout.on("data", (chunk) => {
      for (let i = chunk.indexOf(separator); i !== -1; i = chunk.indexOf(separator, i + 1)) records++
    })
    child.on("error", reject)
    child.on("close", () => resolve({ ms: performance.now() - t0, records }))
  })

let callCounter = 0
const context = (cwd) => ({ callId: "bench", sessionId: "bench", cwd, progress: () => Effect.void })

/** Run one tool call the way the agent loop does; resolve with the wall time and the output text. */
const timeTool = async (tool, input, cwd) => {
  const t0 = performance.now()
  const result = await Effect.runPromise(
    Tool.run(tool, { id: `bench-${++callCounter}`, name: tool.name, input }, context(cwd), {
      defaultTimeout: "120 seconds"
    })
  )
  const ms = performance.now() - t0
  const text = result.output.map((o) => (o.type === "text" ? o.text : "")).join("")
  if (result.status !== "success") throw new Error(`${tool.name} ${result.status}: ${text.slice(0, 300)}`)
  return { ms, text }
}

/**
 * Interleaved rounds: every contender runs once per round (a warm-up round first, unless `warmup` is false) until
 * it has `runs` samples. Returns the statistics and the last outcome per contender.
 */
const interleaved = async (contenders) => {
  const samples = contenders.map(() => [])
  const last = contenders.map(() => undefined)
  const rounds = Math.max(...contenders.map((c) => c.runs + (c.warmup === false ? 0 : 1)))
  for (let round = 0; round < rounds; round++) {
    for (let c = 0; c < contenders.length; c++) {
      const { runs, warmup = true, run } = contenders[c]
      const measured = warmup ? round - 1 : round
      if (measured >= runs) continue
      const outcome = await run()
      last[c] = outcome
      if (measured >= 0) samples[c].push(outcome.ms)
    }
  }
  return { samples: samples.map(stats), last }
}

const LABEL = 40
const row = (label, s, note = "") =>
  console.log("    %s median %s  p95 %s%s", label.padEnd(LABEL), fmt(s.median), fmt(s.p95), note ? `   ${note}` : "")
const ratio = (a, b) => `${(a / b).toFixed(2)}x`
const count = (n) => n.toLocaleString("en-US")

// ---------------------------------------------------------------------------------------------------------------
// Grep and Glob

const foundFiles = (text) => Number(/^Found (\d+) files?/.exec(text)?.[1] ?? 0)

/** The row that compares `sage` with its floor `base` against `limit` (a ratio of medians). */
const targetRow = (what, sage, base, limit) =>
  console.log(
    "    %s ratio %s   %s",
    `=> ${what}`.padEnd(LABEL),
    ratio(sage.median, base.median).padStart(6),
    target(`<= ${limit}x`, sage.median <= limit * base.median)
  )

export async function grepBench(tree, rg, runs, builtinRuns) {
  // No output cap and a head_limit above the number of results: Sage does the whole search, as rg does.
  const unbounded = { maxOutputChars: 1e9, timeout: "5 minutes" }
  const withRg = rg === undefined ? undefined : await onWorkspace(tree, makeGrepTool({ ...unbounded, rgPath: rg }))
  const builtin = await onWorkspace(tree, makeGrepTool({ ...unbounded, rgPath: null }))
  const modes = [
    { mode: "files_with_matches", rgArgs: ["--files-with-matches"], records: foundFiles },
    { mode: "content", rgArgs: ["--line-number"], records: (text) => text.split("\n").length }
  ]
  for (const { mode, rgArgs, records } of modes) {
    const input = { pattern: PATTERN, output_mode: mode, head_limit: 1_000_000 }
    const contenders = []
    if (rg !== undefined) {
      // The floor. --no-require-git: honour the .gitignore outside a git repository, as Sage does.
      const args = ["--no-require-git", "--no-config", ...rgArgs, "--", PATTERN, tree]
      contenders.push({ label: `floor: rg ${rgArgs.join(" ")}`, runs, run: () => timeProcess(rg, args) })
      contenders.push({ label: `Sage Grep ${mode} (rg)`, runs, run: () => timeTool(withRg, input, tree) })
    }
    // The built-in search is slow: fewer runs, and the rg runs before it have warmed the page cache.
    const label = `Sage Grep ${mode} (built-in)`
    contenders.push({ label, runs: builtinRuns, warmup: false, run: () => timeTool(builtin, input, tree) })
    const { samples, last } = await interleaved(contenders)
    contenders.forEach((c, i) => {
      const isRg = rg !== undefined && i === 0
      const results = isRg ? last[i].records : records(last[i].text)
      const vs = rg !== undefined && !isRg ? `  Sage/rg ${ratio(samples[i].median, samples[0].median)}` : ""
      row(c.label, samples[i], `${count(results).padStart(6)} ${mode === "content" ? "lines" : "files"}${vs}`)
    })
    if (rg !== undefined) {
      targetRow(`Grep ${mode} vs rg`, samples[1], samples[0], 1.2)
      const sage = records(last[1].text)
      if (sage !== last[0].records) console.log("    !! Sage Grep found %d, rg %d", sage, last[0].records)
    }
  }
}

export async function globBench(tree, rg, runs, expected) {
  const glob = await onWorkspace(tree, makeGlobTool({ maxResults: 1_000_000 }))
  const contenders = []
  if (rg !== undefined) {
    const args = ["--no-require-git", "--no-config", "--files", "--glob", "*.ts", tree]
    contenders.push({ label: "floor: rg --files --glob '*.ts'", runs, run: () => timeProcess(rg, args) })
  }
  contenders.push({ label: "Sage Glob **/*.ts", runs, run: () => timeTool(glob, { pattern: "**/*.ts" }, tree) })
  if (rg !== undefined) {
    const args = ["--no-require-git", "--no-config", "--files", "--glob", "*.ts", "--sortr=modified", tree]
    contenders.push({ label: "rg --files --glob '*.ts' --sortr=modified", runs, run: () => timeProcess(rg, args) })
  }
  contenders.push({ label: "find <dir> -name '*.ts'", runs, run: () => timeProcess("find", [tree, "-name", "*.ts"]) })
  const { samples, last } = await interleaved(contenders)
  const sage = rg === undefined ? 0 : 1
  const sageCount = last[sage].text.split("\n").filter((l) => l.endsWith(".ts")).length
  contenders.forEach((c, i) => {
    const n = i === sage ? sageCount : last[i].records
    const note =
      i === sage
        ? `(gitignored pkg${IGNORED_TOP}/ skipped; newest first)`
        : c.label.startsWith("find")
          ? "(no ignore files)"
          : ""
    const vs = i !== sage ? `  Sage/this ${ratio(samples[sage].median, samples[i].median)}` : ""
    row(c.label, samples[i], `${count(n).padStart(6)} files ${note}${vs}`)
  })
  if (rg !== undefined) targetRow("Glob vs rg --files", samples[1], samples[0], 1.5)
  if (sageCount !== expected.visibleTs) {
    console.log("    !! Sage Glob returned %d files, expected %d", sageCount, expected.visibleTs)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Permission checks

/** 200 rules: allow/ask/deny over Bash, Edit, Read and WebFetch. */
const ruleLists = () => {
  const allow = []
  const ask = []
  const deny = []
  const tools = ["npm", "pnpm", "yarn", "cargo", "make", "go", "python", "node", "docker", "kubectl"]
  for (let i = 0; i < 40; i++) allow.push(`Bash(${tools[i % tools.length]} run task${i}:*)`)
  allow.push("Bash(git status)", "Bash(git log:*)", "Bash(ls:*)", "Bash(cat:*)", "Bash(grep:*)", "Bash(wc:*)")
  for (let i = 0; i < 10; i++) ask.push(`Bash(${tools[i]} publish:*)`)
  allow.push("Bash(git diff:*)", "Bash(npm test)")
  ask.push("Bash(git push:*)")
  deny.push("Bash(rm -rf:*)", "Bash(curl:*)", "Bash(wget:*)", "Bash(sudo:*)", "Bash(git push --force:*)")
  for (let i = 0; i < 36; i++) allow.push(`Edit(src/module${i}/**)`)
  for (let i = 0; i < 8; i++) ask.push(`Edit(config/env${i}/**)`)
  deny.push("Edit(secrets/**)", "Edit(**/*.pem)", "Edit(.env*)")
  for (let i = 0; i < 30; i++) allow.push(`Read(docs/section${i}/**)`)
  for (let i = 0; i < 6; i++) ask.push(`Read(private/area${i}/**)`)
  ask.push("Read(**/*.sqlite)")
  deny.push("Read(./.env)", "Read(~/.ssh/**)", "Read(//etc/shadow)", "Read(**/*.key)")
  for (let i = 0; i < 40; i++) allow.push(`WebFetch(domain:docs${i}.example.com)`)
  for (let i = 0; i < 4; i++) ask.push(`WebFetch(domain:*.partner${i}.org)`)
  for (let i = 0; i < 4; i++) deny.push(`WebFetch(domain:*.tracker${i}.net)`)
  return { allow, ask, deny }
}

const bashCalls = [
  "git status && npm run task0 --watch=false",
  "cat src/module3/a.ts | grep -n handle | wc -l",
  "ls -la src && echo done; git log --oneline -5",
  "rm -rf build && make run task4",
  "find . -name '*.ts' | xargs wc -l > /tmp/count.txt",
  "cargo run task3 --release 2>&1 | tail -20",
  "cd src && ls module1 | sort | uniq -c",
  "curl -s https://docs1.example.com | grep title"
]

const permissionCalls = (project) => {
  const bash = bashCalls.map((command) => ({
    call: { id: "p", name: "Bash", input: { command } },
    tool: { name: "Bash", readOnly: false, kind: "execute" }
  }))
  const other = []
  for (let i = 0; i < 8; i++) {
    other.push({
      call: {
        id: "p",
        name: "Edit",
        input: { file_path: `src/module${i * 5}/file${i}.ts`, old_string: "a", new_string: "b" }
      },
      tool: { name: "Edit", readOnly: false, kind: "edit" }
    })
    other.push({
      call: {
        id: "p",
        name: "Read",
        input: { file_path: i % 2 === 0 ? `docs/section${i}/intro.md` : path.join(project, ".env") }
      },
      tool: { name: "Read", readOnly: true, kind: "read" }
    })
    other.push({
      call: {
        id: "p",
        name: "WebFetch",
        input: { url: `https://docs${i * 3}.example.com/page${i}`, prompt: "summarize" }
      },
      tool: { name: "WebFetch", readOnly: true, kind: "network" }
    })
  }
  return { bash, other }
}

async function permissionBench(dir, rounds) {
  const project = path.join(dir, "project")
  const home = path.join(dir, "home")
  fs.mkdirSync(path.join(project, ".sage"), { recursive: true })
  fs.mkdirSync(home, { recursive: true })
  const lists = ruleLists()
  const ruleCount = lists.allow.length + lists.ask.length + lists.deny.length
  fs.writeFileSync(path.join(project, ".sage", "settings.json"), JSON.stringify({ permissions: lists }, null, 2))
  const { permissions, settings } = await Effect.runPromise(
    Effect.gen(function* () {
      return { permissions: yield* Permissions, settings: yield* Settings }
    }).pipe(Effect.provide(PermissionsLive.layerWithSettings({ cwd: project, homeDir: home })))
  )
  const loaded = (await Effect.runPromise(settings.ruleSet)).rules.length
  const { bash, other } = permissionCalls(project)
  const checks = (calls, n) =>
    Effect.forEach(
      Array.from({ length: n }, (_, i) => calls[i % calls.length]),
      ({ call, tool }) => permissions.check(call, { tool, cwd: project, mode: "default" }),
      { discard: true }
    )
  const timed = async (program) => {
    const t0 = performance.now()
    await Effect.runPromise(program)
    return performance.now() - t0
  }
  /** Rounds of about `roundMs` each (sized by a calibration run after a warm-up); checks per second per round. */
  const measure = async (calls, roundMs) => {
    await Effect.runPromise(checks(calls, calls.length * 4)) // warm-up (loads the bash parser once)
    const calibration = calls.length * 20
    const perCheck = (await timed(checks(calls, calibration))) / calibration
    const n = Math.max(1, Math.round(roundMs / perCheck / calls.length)) * calls.length
    const program = checks(calls, n)
    const rates = []
    for (let r = 0; r < rounds; r++) rates.push((n / (await timed(program))) * 1000)
    return { ...stats(rates), n }
  }
  const decisions = {}
  for (const { call, tool } of [...bash, ...other]) {
    const d = await Effect.runPromise(permissions.check(call, { tool, cwd: project, mode: "default" }))
    decisions[d.type] = (decisions[d.type] ?? 0) + 1
  }
  const b = await measure(bash, 600)
  const o = await measure(other, 600)
  console.log(
    "    permission rules loaded: %d of %d (.sage/settings.json); sample decisions %s",
    loaded,
    ruleCount,
    Object.entries(decisions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")
  )
  const rate = (label, s) =>
    console.log(
      "    %s median %s checks/s  (min %s, max %s; %d checks per round, %d rounds)",
      label.padEnd(LABEL),
      Math.round(s.median).toLocaleString("en-US").padStart(9),
      Math.round(s.min).toLocaleString("en-US"),
      Math.round(s.max).toLocaleString("en-US"),
      s.n,
      rounds
    )
  rate("Bash calls (tree-sitter, pipes, &&)", b)
  rate("Edit / Read / WebFetch calls", o)
}

// ---------------------------------------------------------------------------------------------------------------

export async function toolBenches() {
  const started = performance.now()
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-bench-tools-")))
  try {
    const tree = path.join(dir, "tree")
    fs.mkdirSync(tree)
    const t0 = performance.now()
    const expected = generateTree(tree)
    const generated = performance.now() - t0
    const rg = await Effect.runPromise(findExecutable("rg", process.env.PATH ?? ""))
    console.log(
      "\n(e) tools: %s files (%d dirs x %d, pkg%d/ gitignored: %s files), no .git; pattern /%s/; generated in %s",
      count(expected.files),
      DIRS_TOP * DIRS_PER_TOP,
      FILES_PER_DIR,
      IGNORED_TOP,
      count(DIRS_PER_TOP * FILES_PER_DIR),
      PATTERN,
      fmt(generated).trim()
    )
    if (rg === undefined) console.log("    rg is not on PATH: the rg rows and ratios are skipped")
    else console.log("    rg: %s (run with --no-require-git so that it reads the same .gitignore)", rg)
    const runs = 9
    const builtinRuns = 2
    console.log(
      "  Grep, %d interleaved runs each after a warm-up (built-in: %d runs); no head_limit or output cap",
      runs,
      builtinRuns
    )
    await grepBench(tree, rg, runs, builtinRuns)
    const globRuns = 15 // a Glob takes tens of milliseconds: more runs for a steadier median
    console.log("  Glob, %d interleaved runs each after a warm-up", globRuns)
    await globBench(tree, rg, globRuns, expected)
    console.log("  Permissions.check, 200-rule settings file")
    await permissionBench(dir, 5)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  console.log("  (tools bench took %s s)", ((performance.now() - started) / 1000).toFixed(1))
}
