// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the fragments are shell source, not templates
/**
 * A seeded generator of bash command lines built from real-world fragments: pipelines, `&&`/`||`/`;`, subshells,
 * groups, `$(...)` and backticks, redirections (fd duplication, `&>`, here-strings, here-documents), quoting and
 * escapes (ANSI-C `$'..'`), assignments in front of commands, `for`/`while`/`case`/`if`, functions, wrappers
 * (`env`, `timeout`, `nice`, `xargs`, `flock`, `sudo`, `sh -c`, `eval`, ...), brace expansion, arrays, `declare`,
 * `read`, `printf -v`, `mapfile`, `cd`. Every program it names is a stand-in of `BashOracle` (or a builtin), and
 * every path stays inside the case's directory, so the commands are safe to run for real.
 */

/** mulberry32: a small deterministic PRNG. */
export const prng = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ARGS = [
  "README.md",
  "notes.txt",
  "src/a.ts",
  "'a b.txt'",
  '"a b.txt"',
  "a\\ b.txt",
  ".env",
  "src",
  "-la",
  "-n",
  "-r",
  "--",
  "x",
  "'it''s'",
  '"q\\"uote"',
  "$'tab\\there'",
  "$'\\x72m'",
  "src/*.ts",
  "*.md",
  "{a,b}.txt",
  "src/{a,b}.ts",
  "~",
  "~/x",
  "$HOME",
  '"$HOME"',
  "$x",
  '"$x"',
  "${x:-def}",
  '"${arr[@]}"',
  "$(echo sub)",
  '"$(printf %s in)"',
  "`echo tick`",
  "$((1 + 2))",
  "<(cat notes.txt)",
  "'$(not expanded)'",
  '"\\$x"',
  "\\$x",
  "-",
  "@",
  "%s",
  "'%s\\n'",
  "line",
  "status",
  "http://127.0.0.1:9/x"
]

const PROGRAMS = [
  "ls",
  "cat",
  "grep",
  "head",
  "wc",
  "rm",
  "curl",
  "sed",
  "echo",
  "printf",
  "touch",
  "tee",
  "cp",
  "mv",
  "find",
  "rg",
  "npm",
  "node",
  "sort",
  "jq",
  "make",
  "date",
  "true",
  ":",
  "/bin/echo",
  "command ls",
  "builtin echo",
  "\\rm",
  "r\\m",
  "'rm'",
  '"ls"'
]

const GIT = [
  "git status",
  "git status --short",
  "git log --oneline -5",
  "git diff",
  "git diff HEAD~1",
  "git -C src status",
  "git --git-dir=src/r --work-tree=. status",
  "git -c core.fsmonitor=./x status",
  "git --no-pager log",
  "git show HEAD",
  "git branch -a",
  "git push origin main"
]

const ASSIGN_NAMES = ["x", "f", "line", "HOME", "PATH", "GIT_DIR", "LD_PRELOAD", "IFS", "NODE_ENV", "BASH_ENV", "PS4"]
const VALUES = ["1", "src", "'a b'", "test", ":", "$PWD", "''", "$(echo v)"]

const REDIRECTS = [
  "> out/o.txt",
  ">> out/log.txt",
  "2>&1",
  "2>/dev/null",
  ">/dev/null 2>&1",
  "&> out/all.txt",
  ">| out/clob.txt",
  "1>&2",
  "3> out/fd3.txt",
  "< notes.txt",
  "<<< 'here string'",
  '<<< "$x"',
  "> .sage/settings.local.json",
  "> .git/config",
  "> link-out/escape.txt",
  "> ../outside/o.txt",
  '> "$f"',
  "> out/$x.txt",
  "> out/*.txt",
  "< .e*",
  ">&-",
  "2> out/err.txt"
]

const WRAPPERS = [
  "env",
  "env NODE_ENV=test",
  "env HOME=src",
  "env -u PATH",
  "env -i",
  "timeout 5",
  "nice -n 1",
  "nohup",
  "stdbuf -oL",
  "setsid",
  "flock out/l",
  "ionice -c 3",
  "taskset -c 0",
  "sudo",
  "sudo -u root",
  "doas",
  "command",
  "builtin",
  "exec",
  "time",
  "xargs",
  "xargs -0",
  "xargs -I{}"
]

export interface Generator {
  readonly command: () => string
}

export const makeGenerator = (seed: number): Generator => {
  const random = prng(seed)
  const pick = <A>(items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)]!
  const chance = (p: number) => random() < p
  const args = (max: number) => Array.from({ length: Math.floor(random() * (max + 1)) }, () => pick(ARGS)).join(" ")

  const simple = (): string => {
    const parts: Array<string> = []
    if (chance(0.15)) parts.push(`${pick(ASSIGN_NAMES)}=${pick(VALUES)}`)
    if (chance(0.15)) parts.push(pick(WRAPPERS))
    if (chance(0.2)) parts.push(pick(GIT))
    else parts.push(pick(PROGRAMS))
    const a = args(3)
    if (a !== "") parts.push(a)
    if (chance(0.25)) parts.push(pick(REDIRECTS))
    return parts.join(" ")
  }

  const statement = (depth: number): string => {
    const roll = random()
    if (depth > 2 || roll < 0.35) return simple()
    const inner = () => statement(depth + 1)
    const name = pick(ASSIGN_NAMES)
    const choices: ReadonlyArray<() => string> = [
      () => `${inner()} | ${inner()}`,
      () => `${inner()} && ${inner()}`,
      () => `${inner()} || ${inner()}`,
      () => `${inner()}; ${inner()}`,
      () => `(${inner()})`,
      () => `{ ${inner()}; }`,
      () => `echo "$(${inner()})"`,
      () => `x=$(${inner()}); ${inner()}`,
      () => `for ${name} in ${pick(VALUES)} src; do ${inner()}; done`,
      () => `for ((i = 0; i < 2; i++)); do ${inner()}; done`,
      () => `while read -r ${name}; do ${inner()}; done < notes.txt`,
      () => `if ${inner()}; then ${inner()}; else ${inner()}; fi`,
      () => `case ${pick(ARGS)} in a*) ${inner()} ;; *) ${inner()} ;; esac`,
      () => `f() { ${inner()}; }; f`,
      () => `read -r ${name} < notes.txt; ${inner()}`,
      () => `printf -v ${name} '%s' ${pick(VALUES)}; ${inner()}`,
      () => `declare ${chance(0.5) ? "-x " : ""}${name}=${pick(VALUES)}; ${inner()}`,
      () => `export ${name}=${pick(VALUES)}; ${inner()}`,
      () => `mapfile -t ${name} < notes.txt; ${inner()}`,
      () => `arr=(${args(3)}); ${inner()}`,
      () => `${name}=${pick(VALUES)}; ${inner()}`,
      () => `cd ${pick(["src", "..", "out", "link-out"])} && ${inner()}`,
      () => `[[ -f notes.txt ]] && ${inner()}`,
      () => `(( x = 1 )); ${inner()}`,
      () => `sh -c '${simple().replace(/'/g, "")}'`,
      () => `bash -c "${simple().replace(/["\\$`]/g, "")}"`,
      () => `eval '${simple().replace(/'/g, "")}'`,
      () => `${inner()} <<'EOF'\nbody $x\nEOF`,
      () => `cat <<EOF | ${inner()}\nbody $x\nEOF`,
      () => `${simple()} &\nwait`,
      () => `! ${inner()}`,
      () => `${inner()} | xargs ${pick(PROGRAMS)}`,
      () => `cat <<EOF\n$(${simple()})\nEOF`,
      () => `typeset -x ${name}=${pick(VALUES)}; ${inner()}`,
      () => `readonly ${name}=${pick(VALUES)}; ${inner()}`,
      () => `g() { local ${name}=${pick(VALUES)}; ${inner()}; }; g`,
      () => `getopts ab ${name} -a; ${inner()}`,
      () => `select ${name} in a src; do ${inner()}; break; done <<< 1`,
      () => `${name}+=${pick(VALUES)}; ${inner()}`,
      () => `unset ${name}; ${inner()}`,
      () => `exec 3> out/fd.txt; ${inner()} >&3`,
      () => `time (${inner()})`,
      () => `${inner()} &> out/both.txt`,
      () => `${inner()} &>> out/both.txt`,
      () => `${inner()} 2>&1 > out/order.txt`
    ]
    return pick(choices)()
  }

  return { command: () => statement(0) }
}

/** Hand-written commands from the classes of the escape issue, run beside the generated ones. */
export const FIXED_COMMANDS: ReadonlyArray<string> = [
  "for HOME in src; do git status; done",
  "for PATH in src; do git status; done",
  "HOME=src git status",
  "git --git-dir=src/r --work-tree=. status",
  "cd src && git status",
  "git -c core.fsmonitor=./x status",
  'echo \'{"permissions":{"allow":["Bash"]}}\' > .sage/settings.local.json',
  "echo x | tee .sage/settings.local.json",
  "cp notes.txt .sage/settings.local.json",
  "flock out/l rm x",
  "flock out/l sh -c 'rm x'",
  "timeout 5 rm x",
  "nice rm x",
  "xargs rm < notes.txt",
  "env -S 'rm x'",
  "sudo ls",
  "env -i git status",
  "env -u GIT_CONFIG_COUNT git status",
  "cd src && env -u GIT_CONFIG_GLOBAL git status",
  "unset GIT_CONFIG_COUNT; git status",
  "read -r PATH < notes.txt; ls",
  "printf -v PATH '%s' src; git status",
  "mapfile -t LD_PRELOAD < notes.txt; ls",
  "declare -x GIT_DIR=src; git status",
  "export HOME=src; git status",
  "IFS=/ read -r a b <<< 'x/y'; ls $a",
  "cat < .e*",
  "x=$(< .env); echo $x",
  "echo hi > link-out/x.txt",
  "ls -la",
  "ls src",
  "git status",
  "git diff",
  "git log --oneline -5",
  "cat README.md | head -n 5",
  "wc -l src/a.ts src/b.ts",
  "grep -rn line notes.txt",
  "echo hi > out/o.txt",
  "echo hi >> out/log.txt 2>&1",
  "ls > /dev/null 2>&1 && echo ok",
  'f=out/z.txt; echo hi > "$f"',
  'a=(ls -la); "${a[@]}"',
  "c=rm; $c x",
  'set -- rm x; "$@"',
  'eval "$(echo rm x)"',
  "source notes.txt",
  ". ./notes.txt",
  "bash notes.txt",
  "alias ls=rm; ls",
  "shopt -s expand_aliases; alias ls=rm\nls",
  "trap 'rm x' EXIT; ls",
  "let 'x[$(rm y)]=1'",
  "declare -n r=PATH; r=src; ls",
  "getopts PATH opt -x; ls",
  "select PATH in src; do ls; break; done <<< 1",
  "coproc rm x",
  "exec rm x",
  "command -v rm",
  "time rm x",
  "x='rm y'; $x",
  "echo $'\\x72m'",
  "$'\\x72m' x",
  "r\\\nm x",
  "PS4='$(rm z)' bash -xc ls",
  "BASH_ENV=notes.txt bash -c ls",
  "cd .. && echo hi > ws-escape.txt",
  "cd .sage && echo '{}' > settings.local.json",
  "cd .git && echo x > config",
  "cd src; cd ..; cd .sage && echo x >> settings.local.json",
  "pushd .sage > /dev/null && echo x > settings.local.json",
  "cd -P link-out && echo x > o.txt",
  "pushd src > /dev/null; echo hi > p.txt",
  "ls {,-la}",
  "echo {a..c}",
  "ls ${x:=src}",
  "echo ${PATH:=src}; ls",
  ": ${HOME:=src}; git status",
  "(( PATH = 1 )); ls",
  "printf '%s' x > out/$(echo p).txt",
  "echo hi >& out/dup.txt",
  "echo hi 1>out/one.txt 2>out/two.txt",
  "tee out/t.txt < notes.txt",
  "find . -name '*.ts' -exec rm {} \\;",
  "find . -fprint out/list.txt",
  "xargs -I{} sh -c 'rm {}' < notes.txt"
]
