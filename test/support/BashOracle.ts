/**
 * What real bash does with a command line, observed from the outside: every program it executes (path, argv,
 * environment), every file the shell itself opens for writing or reading (redirections), every shell variable
 * whose value changes, and the builtins it runs. The differential test compares this with what the permission
 * checker believes (`analyzeShell`).
 *
 * How: each command runs as `bash --noprofile --norc -c COMMAND` under `strace -f` (execve, openat, clone) in a
 * fresh copy of a small workspace, with `PATH` pointing only at a directory of stand-ins: a do-nothing script per
 * program name (so nothing real runs), the real wrappers (`env`, `timeout`, `xargs`, `flock`, ...: they exec the
 * stand-in they are given) and the real shells. A `BASH_ENV` prelude, read by every bash before its command, sets a
 * DEBUG trap (inherited by subshells and functions with `set -T`) that logs `$BASH_COMMAND` and the names of the
 * variables whose values changed since the shell started. The prelude ends with a marker open
 * (`/dev/null/SAGE_STARTED`): opens before it are bash's own start-up.
 *
 * Test support: plain Node and promises (the test wraps them). No network: each command runs in a network
 * namespace of its own (`unshare -rn`) where user namespaces are allowed, and the stand-ins do nothing anyway. Every
 * command is killed after 10 s; everything lives under one temp dir that `cleanup` removes.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { hardenGitEnv } from "../../src/process/GitEnvironment.js"

/** Programs replaced by do-nothing stand-ins (they exit 0 and print nothing). */
export const STAND_INS: ReadonlyArray<string> = [
  "ls",
  "cat",
  "grep",
  "head",
  "tail",
  "wc",
  "git",
  "rm",
  "curl",
  "wget",
  "sed",
  "awk",
  "find",
  "rg",
  "npm",
  "node",
  "python3",
  "touch",
  "mkdir",
  "tee",
  "cp",
  "mv",
  "ln",
  "dd",
  "chmod",
  "sort",
  "uniq",
  "jq",
  "diff",
  "tr",
  "cut",
  "base64",
  "make",
  "less",
  "date",
  "whoami",
  "id",
  "ps",
  "kill",
  "sleep",
  "true",
  "false",
  "echo",
  "printf",
  "test"
]

/** Real programs that run another program: linked into the stand-in directory, so they exec stand-ins. */
export const REAL_WRAPPERS: ReadonlyArray<string> = [
  "env",
  "timeout",
  "nice",
  "nohup",
  "stdbuf",
  "setsid",
  "xargs",
  "flock",
  "ionice",
  "taskset",
  "chrt"
]

/** Privilege wrappers, as scripts that drop their options and exec the rest (never the real ones). */
export const SCRIPT_WRAPPERS: ReadonlyArray<string> = ["sudo", "doas"]

/** Shells linked into the stand-in directory (`sh` is the system's `sh`, as for the Bash tool). */
export const SHELLS: ReadonlyArray<string> = ["bash", "sh"]

/** The files of the workspace every command starts in (relative path → content; a trailing `/` is a directory). */
export const WORKSPACE_FILES: Readonly<Record<string, string>> = {
  "README.md": "# readme\n",
  "notes.txt": "line1\nline2\n",
  "a b.txt": "spaced\n",
  ".env": "SECRET=1\n",
  "src/a.ts": "export const a = 1\n",
  "src/b.ts": "export const b = 2\n",
  ".sage/settings.json": "{}\n",
  ".git/HEAD": "ref: refs/heads/main\n",
  "out/": ""
}

/** One program execution. */
export interface Exec {
  readonly path: string
  readonly argv: ReadonlyArray<string>
  readonly env: ReadonlyMap<string, string>
}

/** What bash did with one command line. */
export interface Observation {
  readonly command: string
  /** The directory the command started in (a fresh copy of the workspace). */
  readonly cwd: string
  /** The environment the top-level bash started with. */
  readonly baseEnv: ReadonlyMap<string, string>
  /** Every successful execve after the top-level bash, in trace order. */
  readonly execs: ReadonlyArray<Exec>
  /** Absolute (lexical) paths a shell process opened for writing, after its start-up. */
  readonly writes: ReadonlyArray<string>
  /** Absolute paths of regular files a shell process opened for reading, after its start-up. */
  readonly reads: ReadonlyArray<string>
  /** Names of shell variables whose value changed (logged by the DEBUG trap). */
  readonly vars: ReadonlyArray<string>
  /** `$BASH_COMMAND` before every simple command (unexpanded text). */
  readonly commands: ReadonlyArray<string>
  readonly timedOut: boolean
}

export interface Oracle {
  readonly root: string
  /** The stand-in directory (the only entry of `PATH`). */
  readonly bin: string
  readonly home: string
  /** Runs every command (in `parallel` batches), each in a fresh workspace. */
  readonly run: (commands: ReadonlyArray<string>, parallel?: number) => Promise<ReadonlyArray<Observation>>
  readonly cleanup: () => void
  /** Whether the commands run without network (in a network namespace of their own). */
  readonly isolated: boolean
}

const MARKER = "/dev/null/SAGE_STARTED"

/** Variables bash changes by itself, or that only the prelude uses. */
const DYNAMIC = [
  "__sage_*",
  "_",
  "BASH_COMMAND",
  "BASH_LINENO",
  "BASH_SOURCE",
  "BASH_ARGC",
  "BASH_ARGV",
  "BASH_ARGV0",
  "BASH_SUBSHELL",
  "BASHPID",
  "FUNCNAME",
  "LINENO",
  "PIPESTATUS",
  "RANDOM",
  "SRANDOM",
  "SECONDS",
  "EPOCHREALTIME",
  "EPOCHSECONDS",
  "HISTCMD",
  "PWD",
  "OLDPWD",
  "SHLVL",
  "COLUMNS",
  "LINES",
  "DIRSTACK",
  "GROUPS",
  "SHELLOPTS",
  "BASHOPTS",
  "BASH_ALIASES",
  "BASH_CMDS",
  "BASH_EXECUTION_STRING"
]

const LETTERS = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"]

const PRELUDE = `exec 9>>"$SAGE_TRACE_LOG"
declare -A __sage_base=()
__sage_snapshot() {
  local __sage_n
  for __sage_n in ${LETTERS.map((l) => `"\${!${l}@}"`).join(" ")}; do
    case $__sage_n in ${DYNAMIC.join("|")}) continue ;; esac
    if [[ -z \${__sage_base[$__sage_n]+x} || \${__sage_base[$__sage_n]} != "\${!__sage_n}" ]]; then
      __sage_base[$__sage_n]=\${!__sage_n}
      [[ $1 == init ]] || printf 'V:%s\\0' "$__sage_n" >&9
    fi
  done
  for __sage_n in "\${!__sage_base[@]}"; do
    if [[ ! -v $__sage_n ]] && [[ -n \${__sage_base[$__sage_n]+x} ]]; then
      unset "__sage_base[$__sage_n]"
      printf 'V:%s\\0' "$__sage_n" >&9
    fi
  done
}
__sage_snapshot init
{ : <${MARKER}; } 2>/dev/null
trap 'trap - DEBUG; __sage_snapshot' EXIT
set -T
trap '__sage_u=$_; printf "C:%s\\0" "$BASH_COMMAND" >&9; __sage_snapshot; : "$__sage_u"' DEBUG
`

const DRIVER = `T=$1; NET=$2; shift 2
for i in "$@"; do
  c=$T/cases/$i
  cd "$c/ws" || continue
  BASH_ENV=$T/prelude.sh SAGE_TRACE_LOG=$c/log /usr/bin/timeout -s KILL 10 $NET /usr/bin/strace -f -qq --seccomp-bpf \\
    -e trace=execve,openat,clone,clone3,fork,vfork -e signal=none -v -y -xx -s 65536 -o "$c/trace" \\
    /bin/bash --noprofile --norc -c "$(<"$c/cmd")" </dev/null >/dev/null 2>&1
  echo $? > "$c/rc"
done
`

const which = (name: string): string => {
  for (const dir of ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    const file = path.join(dir, name)
    if (fs.existsSync(file)) return file
  }
  throw new Error(`${name} is not installed`)
}

/** A temp dir with the stand-ins, the prelude and the driver. */
export const makeOracle = (): Oracle => {
  for (const tool of ["strace", "timeout"]) {
    if (!fs.existsSync(`/usr/bin/${tool}`)) throw new Error(`the bash oracle needs /usr/bin/${tool} (install ${tool})`)
  }
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-oracle-")))
  const bin = path.join(root, "bin")
  const home = path.join(root, "home")
  for (const dir of [bin, home, path.join(root, "tmp"), path.join(root, "cases")]) fs.mkdirSync(dir)
  for (const name of STAND_INS) fs.writeFileSync(path.join(bin, name), "#!/bin/sh\nexit 0\n", { mode: 0o755 })
  for (const name of [...REAL_WRAPPERS, ...SHELLS]) fs.symlinkSync(which(name), path.join(bin, name))
  const dropOptions = `#!/bin/sh
while [ $# -gt 0 ]; do case $1 in -u|-g|-C|-p|-h|-r|-t|-T|-U|-D|-R) shift 2 ;; --) shift; break ;; -*) shift ;; *) break ;; esac; done
[ $# -gt 0 ] && exec "$@"
exit 0
`
  for (const name of SCRIPT_WRAPPERS) fs.writeFileSync(path.join(bin, name), dropOptions, { mode: 0o755 })
  fs.writeFileSync(path.join(root, "prelude.sh"), PRELUDE)
  fs.writeFileSync(path.join(root, "driver.sh"), DRIVER)
  // What Sage's commands start with: a plain environment plus the git hardening (`GitEnvironment.ts`).
  const baseEnv = hardenGitEnv({ PATH: bin, HOME: home, TMPDIR: path.join(root, "tmp"), LANG: "C.UTF-8", USER: "sage" })
  // No network for the commands: a new network namespace (as an unprivileged user namespace) where it works.
  const net =
    spawnSync("/usr/bin/unshare", ["-rn", "true"], { stdio: "ignore" }).status === 0 ? "/usr/bin/unshare -rn" : ""
  let next = 0
  const run = async (commands: ReadonlyArray<string>, parallel = 2) => {
    const ids: Array<number> = []
    for (const command of commands) {
      const id = next++
      ids.push(id)
      const dir = path.join(root, "cases", String(id))
      const ws = path.join(dir, "ws")
      for (const [file, content] of Object.entries(WORKSPACE_FILES)) {
        const target = path.join(ws, file)
        if (file.endsWith("/")) fs.mkdirSync(target, { recursive: true })
        else {
          fs.mkdirSync(path.dirname(target), { recursive: true })
          fs.writeFileSync(target, content)
        }
      }
      // A program of the same name as a stand-in, where a changed PATH would find it.
      fs.writeFileSync(path.join(ws, "src", "git"), "#!/bin/sh\nexit 0\n", { mode: 0o755 })
      fs.mkdirSync(path.join(dir, "outside"))
      fs.symlinkSync("../outside", path.join(ws, "link-out"))
      fs.writeFileSync(path.join(dir, "cmd"), command)
    }
    const batches: Array<Array<number>> = Array.from({ length: parallel }, () => [])
    for (const [i, id] of ids.entries()) batches[i % parallel]!.push(id)
    await Promise.all(
      batches
        .filter((b) => b.length > 0)
        .map(
          (batch) =>
            new Promise<void>((resolve, reject) => {
              const child = spawn("/bin/bash", [path.join(root, "driver.sh"), root, net, ...batch.map(String)], {
                env: baseEnv,
                stdio: "ignore"
              })
              child.on("error", reject)
              child.on("exit", () => resolve())
            })
        )
    )
    return ids.map((id, i) => observe(path.join(root, "cases", String(id)), commands[i]!))
  }
  return {
    root,
    bin,
    home,
    run,
    isolated: net !== "",
    cleanup: () => fs.rmSync(root, { recursive: true, force: true })
  }
}

/** Decodes the `\xHH` escapes of an strace `-xx` string body. */
const decodeHex = (body: string): string => {
  const bytes: Array<number> = []
  for (let i = 0; i < body.length; i++) {
    if (body[i] === "\\" && body[i + 1] === "x") {
      bytes.push(Number.parseInt(body.slice(i + 2, i + 4), 16))
      i += 3
    } else if (body[i] === "\\") {
      const c = body[i + 1] ?? ""
      bytes.push(({ n: 10, t: 9, r: 13, v: 11, f: 12 } as Record<string, number>)[c] ?? c.charCodeAt(0))
      i++
    } else bytes.push(body.charCodeAt(i))
  }
  return Buffer.from(bytes).toString("utf8")
}

type Token =
  | { readonly t: "str"; readonly v: string }
  | { readonly t: "deco"; readonly v: string }
  | { readonly t: "open" }
  | { readonly t: "close" }
  | { readonly t: "word"; readonly v: string }

/** Tokens of a syscall's arguments: strings, `<...>` fd decorations, array brackets, other words. */
const tokenize = (text: string): Array<Token> => {
  const out: Array<Token> = []
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1
      out.push({ t: "str", v: decodeHex(text.slice(i + 1, j)) })
      i = j + 1
    } else if (c === "<") {
      const j = text.indexOf(">", i)
      out.push({ t: "deco", v: decodeHex(text.slice(i + 1, j === -1 ? text.length : j)) })
      i = j === -1 ? text.length : j + 1
    } else if (c === "[") {
      out.push({ t: "open" })
      i++
    } else if (c === "]") {
      out.push({ t: "close" })
      i++
    } else if (/[\s,(){}=|]/.test(c)) i++
    else {
      let j = i
      while (j < text.length && !/[\s,(){}[\]<"=|]/.test(text[j]!)) j++
      out.push({ t: "word", v: text.slice(i, j) })
      i = j
    }
  }
  return out
}

interface Event {
  readonly pid: number
  readonly name: string
  readonly args: string
  readonly result: string
}

/** strace -f lines, with `<unfinished ...>` / `<... resumed>` pairs joined. */
const events = (trace: string): Array<Event> => {
  const pending = new Map<number, string>()
  const out: Array<Event> = []
  for (const line of trace.split("\n")) {
    const m = /^(\d+)\s+(.*)$/.exec(line)
    if (m === null) continue
    const pid = Number(m[1])
    let rest = m[2]!
    if (rest.endsWith("<unfinished ...>")) {
      pending.set(pid, rest.slice(0, -"<unfinished ...>".length))
      continue
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(rest)
    if (resumed !== null) {
      rest = (pending.get(pid) ?? "") + resumed[1]
      pending.delete(pid)
    }
    const call = /^(\w+)\((.*)\)\s+=\s+(.*)$/.exec(rest)
    if (call === null) continue
    out.push({ pid, name: call[1]!, args: call[2]!, result: call[3]! })
  }
  return out
}

const stringArrays = (tokens: ReadonlyArray<Token>): Array<Array<string>> => {
  const arrays: Array<Array<string>> = []
  let current: Array<string> | undefined
  for (const token of tokens) {
    if (token.t === "open") current = []
    else if (token.t === "close" && current !== undefined) {
      arrays.push(current)
      current = undefined
    } else if (token.t === "str" && current !== undefined) current.push(token.v)
  }
  return arrays
}

const envMap = (entries: ReadonlyArray<string>): Map<string, string> =>
  new Map(
    entries.map((e) => {
      const eq = e.indexOf("=")
      return eq === -1 ? [e, ""] : [e.slice(0, eq), e.slice(eq + 1)]
    })
  )

const realShells = new Set(SHELLS.map((s) => fs.realpathSync(which(s))))
const realBash = fs.realpathSync(which("bash"))

const realpathOr = (p: string): string => {
  try {
    return fs.realpathSync(p)
  } catch {
    return p
  }
}

/** Files a shell reads for itself (libraries, locales, terminals): not reads of the command line. */
const SYSTEM_PREFIXES = ["/dev/", "/proc/", "/sys/", "/usr/", "/lib", "/etc/"]
/** Places a redirection may write to that are no file (as the checker's own exemptions). */
const SINKS = /^\/dev\/(null|stdout|stderr|tty|fd\/\d+)$|^\/proc\/self\/fd\/\d+$/

/** Reads what one case's trace and log say. */
const observe = (dir: string, command: string): Observation => {
  const cwd = path.join(dir, "ws")
  const read = (file: string) => {
    try {
      return fs.readFileSync(path.join(dir, file), "utf8")
    } catch {
      return ""
    }
  }
  const rc = read("rc").trim()
  const root = path.dirname(path.dirname(dir))
  interface State {
    exe: string
    shell: boolean
    started: boolean
  }
  const states = new Map<number, State>()
  const parents = new Map<number, number>()
  const all = events(read("trace"))
  for (const e of all) {
    if (["clone", "clone3", "fork", "vfork"].includes(e.name) && /^\d+$/.test(e.result)) {
      parents.set(Number(e.result), e.pid)
    }
  }
  const execs: Array<Exec> = []
  const writes: Array<string> = []
  const reads: Array<string> = []
  let baseEnv: ReadonlyMap<string, string> = new Map()
  let first = true
  const stateOf = (pid: number): State => {
    let state = states.get(pid)
    if (state === undefined) {
      const parent = parents.get(pid)
      const from = parent === undefined ? undefined : states.get(parent)
      state = from === undefined ? { exe: "", shell: false, started: false } : { ...from }
      states.set(pid, state)
    }
    return state
  }
  for (const e of all) {
    if (e.name === "execve") {
      if (!/^0\b/.test(e.result)) continue
      const tokens = tokenize(e.args)
      const file = tokens.find((t) => t.t === "str")
      const [argv = [], env = []] = stringArrays(tokens)
      const exe = file?.t === "str" ? file.v : ""
      const real = realpathOr(exe)
      const state = stateOf(e.pid)
      state.exe = exe
      state.shell = realShells.has(real)
      // bash reads the prelude first; other shells (sh) start at once.
      state.started = state.shell && real !== realBash
      if (first) {
        first = false
        baseEnv = envMap(env)
        continue
      }
      execs.push({ path: exe, argv, env: envMap(env) })
      continue
    }
    if (e.name !== "openat") continue
    const state = stateOf(e.pid)
    const tokens = tokenize(e.args)
    const dirfd = tokens[1]?.t === "deco" ? tokens[1].v : cwd
    const target = tokens.find((t) => t.t === "str")
    if (target?.t !== "str") continue
    if (target.v === MARKER) {
      state.started = true
      continue
    }
    if (!state.shell || !state.started) continue
    // The flags (`O_WRONLY|O_CREAT|O_TRUNC`) come as separate words: the tokenizer splits on `|`.
    const flags = tokens.flatMap((t) => (t.t === "word" && /^O_/.test(t.v) ? [t.v] : []))
    const absolute = path.resolve(dirfd, target.v)
    // bash's here-document files live in TMPDIR.
    if (absolute.startsWith(path.join(root, "tmp") + path.sep)) continue
    // No flags seen: count it as a write (the conservative side).
    const writing = flags.length === 0 || flags.some((f) => /^O_(WRONLY|RDWR|CREAT|TRUNC|APPEND)$/.test(f))
    if (writing) {
      if (!SINKS.test(absolute)) writes.push(absolute)
    } else if (!flags.includes("O_DIRECTORY") && !SYSTEM_PREFIXES.some((p) => absolute.startsWith(p))) {
      if (!absolute.startsWith(path.join(root, "bin") + path.sep)) reads.push(absolute)
    }
  }
  const log = read("log").split("\0")
  const vars = [...new Set(log.filter((l) => l.startsWith("V:")).map((l) => l.slice(2)))]
  const commands = log
    .filter((l) => l.startsWith("C:"))
    .map((l) => l.slice(2))
    .filter((l) => !l.startsWith("trap '__sage_u="))
  return {
    command,
    cwd,
    baseEnv,
    execs,
    writes: [...new Set(writes)],
    reads: [...new Set(reads)],
    vars,
    commands,
    timedOut: rc === "137" || rc === ""
  }
}
