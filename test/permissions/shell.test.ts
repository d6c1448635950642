// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell source
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { analyzeShell, type ShellAnalysis, shellParser } from "../../src/permissions/ShellParser.js"
import { commandBase, isSafeEnvName, isSafeShellName, normalizeGit } from "../../src/permissions/ShellCommand.js"
import { awkProgramActs, isSafeSedScript } from "../../src/permissions/Programs.js"

/** Commands as strings; non-literal words in angle brackets. */
const show = (a: ShellAnalysis) =>
  a.commands.map((c) => c.words.map((w) => (w.literal ? w.text : `<${w.text}>`)).join(" "))

const analyze = (source: string) => analyzeShell(source)

describe("shell analysis", () => {
  it.effect("loads the parser once and shares it", () =>
    Effect.gen(function* () {
      const a = yield* shellParser
      const b = yield* shellParser
      expect(a).toBe(b)
    })
  )

  it.effect("splits every simple command and removes quoting", () =>
    Effect.gen(function* () {
      const a = yield* analyze(`a 'b c' "d\\"e" f\\ g && (h) | { i; } ; j & k || l`)
      expect(show(a)).toEqual(['a b c d"e f g', "h", "i", "j", "k", "l"])
      expect(a.unknown).toEqual([])
    })
  )

  it.effect("keeps double-quoted text exactly, including multi-byte characters and lone dollars", () =>
    Effect.gen(function* () {
      const a = yield* analyze('echo "é😀 \\$HOME a$" "$" "x\\y"')
      expect(show(a)).toEqual(["echo é😀 $HOME a$ $ x\\y"])
    })
  )

  it.effect("collects redirection targets as writes and reads", () =>
    Effect.gen(function* () {
      const a = yield* analyze("cmd > out 2>> err < in &> both >| clobber 2>&1 >&- > /dev/null; exec 3> fd; x >& file")
      expect(a.writes).toEqual(["out", "err", "both", "clobber", "fd", "file"])
      expect(a.reads).toEqual(["in"])
      const b = yield* analyze("cat <<EOF > out.txt\nhello $USER\nEOF")
      expect(b.writes).toEqual(["out.txt"])
      expect(b.unknown).toEqual([])
    })
  )

  it.effect("unwraps wrappers and normalizes git", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
        ["env -u HOME -C /tmp A=1 b=2 rm x", ["rm x"]],
        ["env", ["env"]],
        ["command -v rm", ["command -v rm"]],
        ["exec -a name -cl rm x", ["rm x"]],
        ["nice -10 rm x; nice --adjustment=3 rm y", ["rm x", "rm y"]],
        ["timeout --signal=KILL -k 5 10s rm x", ["rm x"]],
        ["time -p rm x", ["rm x"]],
        ["stdbuf -oL -e 0 rm x", ["rm x"]],
        ["setsid -f ionice -c 3 rm x", ["rm x"]],
        ["busybox rm x", ["rm x"]],
        ["sudo -n -u root -- rm x", ["rm x"]],
        ["sudo -l", ["sudo -l"]],
        ["doas -u root rm x", ["rm x"]],
        ["xargs -n1 -P 4 --max-args=2 rm", ["rm <<stdin>>"]],
        ["xargs", ["echo <<stdin>>"]],
        ["xargs -I % mv % dst", ["mv <%> dst"]],
        ["watch -n 5 'ls | wc -l'", ["ls", "wc -l"]],
        ["watch -x rm x", ["rm x"]],
        ["bash -o pipefail -c 'rm x' arg0", ["rm x"]],
        ["bash --norc --rcfile f -c 'rm x'", ["rm x"]],
        ["bash script.sh", ["bash script.sh"]],
        ["git --version", ["git --version"]],
        ["git -P --work-tree w --no-optional-locks log", ["git log"]],
        [
          "find . -name x -fprint out -execdir mv {} y +",
          ["mv <{}> y", "find . -name x -fprint out -execdir mv <{}> y +"]
        ]
      ]
      for (const [source, expected] of cases) {
        const a = yield* analyze(source)
        expect({ source, commands: show(a) }).toEqual({ source, commands: expected })
      }
      expect((yield* analyze("time -o t.txt ls")).writes).toEqual(["t.txt"])
      expect((yield* analyze("find . -fprint out")).commands[0]!.writes.map((w) => w.path.text)).toEqual(["out"])
    })
  )

  it.effect("marks commands that run code it cannot see as opaque", () =>
    Effect.gen(function* () {
      for (const [source, expected] of [
        ["sh", true],
        ["bash -s arg", true],
        ["bash -", true],
        ["source x.sh", true],
        [". x.sh", true],
        ["awk '{print}' f", false],
        ["python3 -c 'x'", true],
        ["python3 script.py", false],
        ["node -e 'x'", true],
        ["node app.js", false],
        ["perl -ne 'x'", true],
        ["php -r 'x'", true],
        ["deno eval 'x'", true],
        ["ls", false]
      ] as const) {
        const a = yield* analyze(source)
        expect({ source, opaque: a.commands[0]!.opaque }).toEqual({ source, opaque: expected })
      }
    })
  )

  it.effect("reports what it cannot vouch for", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["ls 'unterminated", "could not be parsed"],
        ["echo $((1+2))", "arithmetic_expansion"],
        ["(( x++ ))", "unsupported shell syntax"],
        ["a[1]=x", "array element"],
        ["declare -i x=1", "evaluates values"],
        ["export PATH", "changes PATH"],
        ["export HOME=/tmp", "changes HOME"],
        ["local FOO", "changes FOO"],
        ["unset 'a[$(id)]'", "unsupported unset"],
        ["read 'a[$x]'", "computed variable name"],
        ["let x=1", "evaluates code"],
        ["env -P /x rm", "env: option -P"],
        ["env $X rm", "not literal"],
        ["env A=1 $CMD", "not literal"],
        ["timeout $T rm", "not literal"],
        ["timeout -- $T rm", "duration is not literal"],
        ["- 2>/dev/null", "parser skipped: -"],
        ["nice --bogus rm", "option --bogus"],
        ["nice --adjustment", "value of --adjustment"],
        ["nice -n", "value of -n"],
        ["timeout --verbose=x 5 rm", "option --verbose=x"],
        ["exec --clear=x rm", "option --clear=x"],
        ["sudo -i", "option -i"],
        ["bash -c -- $S", "non-literal script"],
        ["bash $F", "not literal"],
        ["watch $X", "not literal"],
        ["find . -exec ;", "without a command"],
        ["git -c a=b -ca=b status", "can run arbitrary commands"],
        ["git --exec-path=/x status", "can run arbitrary commands"],
        ["git $X status", "not literal"],
        ["echo $'x' ${#x}", "parameter expansion"],
        ["cat <<< x 3<&file", "unsupported redirection"],
        ['echo $"hello"', "unexpected token"],
        ["fish -c 'ls'", "not bash syntax"],
        ["case x in @(a)) ls;; esac", "extglob"],
        [`${"eval ".repeat(20)}ls`, "nested too deeply"]
      ]
      for (const [source, reason] of cases) {
        const a = yield* analyze(source)
        expect
          .soft({ source, unknown: a.unknown.join(" | ") })
          .toEqual({ source, unknown: expect.stringContaining(reason) })
      }
    })
  )

  it.effect("records every variable assignment, by any syntax, and asks for names off the allowlist", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, string, boolean]> = [
        ["for HOME in src; do ls; done", "HOME", true],
        ["select X in a; do ls; done", "X", true],
        ["for f in a; do ls; done", "f", false],
        ["read -r PATH rest", "PATH", true],
        ["read -a LD_PRELOAD", "LD_PRELOAD", true],
        ["read line", "line", false],
        ["read", "REPLY", false],
        ["printf -v GIT_DIR x", "GIT_DIR", true],
        ["printf -vHOME x", "HOME", true],
        ["mapfile -t BASH_ENV", "BASH_ENV", true],
        ["readarray lines", "lines", false],
        ["getopts ab PATH", "PATH", true],
        ["wait -n -p PATH", "PATH", true],
        ["declare -x GIT_PAGER=x", "GIT_PAGER", true],
        ["export NODE_ENV=test", "NODE_ENV", false],
        ["export x=1", "x", true],
        ["local HOME", "HOME", true],
        ["readonly PS4=x", "PS4", true],
        ["builtin export PATH=/x", "PATH", true],
        ["command declare HOME=/x", "HOME", true],
        ["IFS=: read -r a b", "IFS", false],
        ["IFS=: ls", "IFS", true],
        ["env NODE_OPTIONS=x ls", "NODE_OPTIONS", true],
        ["unset GIT_CONFIG_GLOBAL", "GIT_CONFIG_GLOBAL", true],
        ["ls {PATH}>/dev/null", "PATH", true],
        ["http_proxy=x; curl y", "http_proxy", true],
        ["x=1", "x", false]
      ]
      for (const [source, name, asks] of cases) {
        const a = yield* analyze(source)
        expect({ source, assigned: a.assigned.includes(name) }).toEqual({ source, assigned: true })
        expect({ source, asks: a.unknown.length > 0 }).toEqual({ source, asks })
      }
      for (const source of [
        "(( PATH=1 ))",
        "let x=1",
        "echo ${X:=1}",
        "declare -n r=PATH",
        "set -a",
        "set -o allexport",
        "shopt -s expand_aliases",
        "mapfile -C cb x"
      ]) {
        expect({ source, unknown: (yield* analyze(source)).unknown.length > 0 }).toEqual({ source, unknown: true })
      }
      for (const source of ["set -euo pipefail", "set -x", "shopt -s nullglob globstar", "IFS= read -r line"]) {
        expect({ source, unknown: (yield* analyze(source)).unknown }).toEqual({ source, unknown: [] })
      }
    })
  )

  it.effect("asks in every mode for privilege changes and writes it cannot resolve", () =>
    Effect.gen(function* () {
      for (const source of [
        "sudo ls",
        "su -c ls",
        "doas ls",
        "pkexec ls",
        "chroot / ls",
        "unshare -r ls",
        "nsenter -t 1 ls",
        "echo x > $F",
        "echo x >> .s*",
        "tee $F < x",
        "cp a $D",
        "tar xf a.tar",
        "unzip a.zip"
      ]) {
        expect({ source, always: (yield* analyze(source)).alwaysAsk.length > 0 }).toEqual({ source, always: true })
      }
      for (const source of ["nice ls", "timeout 5 ls", "echo x > out", "cp a b", "tar cf a.tar src"]) {
        expect({ source, always: (yield* analyze(source)).alwaysAsk }).toEqual({ source, always: [] })
      }
      expect((yield* analyze("cat < .e*; cat < x")).unresolvedReads).toEqual([".e*"])
    })
  )

  it.effect("knows what programs read and write through their arguments, and which calls are read-only", () =>
    Effect.gen(function* () {
      const facts = (source: string) =>
        Effect.map(analyze(source), (a) => {
          const c = a.commands[a.commands.length - 1]!
          return {
            readOnly: c.readOnly,
            reads: c.reads.map((w) => w.text),
            writes: c.writes.map((w) => `${w.path.text}${w.recursive ? "/**" : ""}`)
          }
        })
      expect(yield* facts("cat -n a b")).toEqual({ readOnly: true, reads: ["a", "b"], writes: [] })
      expect(yield* facts("grep -e x -r src")).toEqual({ readOnly: true, reads: ["src"], writes: [] })
      expect(yield* facts("grep x a")).toEqual({ readOnly: true, reads: ["a"], writes: [] })
      expect(yield* facts("rg x")).toEqual({ readOnly: true, reads: ["."], writes: [] })
      expect(yield* facts("head -20 a")).toEqual({ readOnly: true, reads: ["a"], writes: [] })
      expect(yield* facts("tail -f a")).toMatchObject({ readOnly: false })
      expect(yield* facts("ls --hyperlink=auto -la d")).toEqual({ readOnly: true, reads: ["d"], writes: [] })
      expect(yield* facts("tee -a x y")).toEqual({ readOnly: false, reads: [], writes: ["x", "y"] })
      expect(yield* facts("cp -r a b dir")).toEqual({ readOnly: false, reads: ["a", "b"], writes: ["dir/**"] })
      expect(yield* facts("cp -t dir a")).toEqual({ readOnly: false, reads: ["a"], writes: ["dir/**"] })
      expect(yield* facts("mv a b")).toEqual({ readOnly: false, reads: [], writes: ["b", "a/**"] })
      // A link's source counts as written (through the link); a symbolic one is read from the link's directory.
      expect(yield* facts("ln -s t link")).toEqual({
        readOnly: false,
        reads: [],
        writes: ["link", "t/**", "link/t/**"]
      })
      expect(yield* facts("ln -s ../.git src/g")).toEqual({
        readOnly: false,
        reads: [],
        writes: ["src/g", ".git/**", "src/.git/**"]
      })
      expect(yield* facts("ln -sr src/a b")).toEqual({ readOnly: false, reads: [], writes: ["b", "src/a/**"] })
      expect(yield* facts("ln /etc/passwd p")).toEqual({ readOnly: false, reads: [], writes: ["p", "/etc/passwd/**"] })
      expect(yield* facts("ln -s -t dir ../x")).toEqual({ readOnly: false, reads: [], writes: ["dir/**", "x/**"] })
      expect(yield* facts("cp -s a b")).toEqual({ readOnly: false, reads: [], writes: ["b", "a/**", "b/a/**"] })
      expect(yield* facts("cp -l /x/a b")).toEqual({ readOnly: false, reads: [], writes: ["b", "/x/a/**"] })
      expect(yield* facts("cp a b")).toEqual({ readOnly: false, reads: ["a"], writes: ["b"] })
      expect(yield* facts("rm -rf a")).toEqual({ readOnly: false, reads: [], writes: ["a/**"] })
      expect(yield* facts("dd if=a of=b")).toEqual({ readOnly: false, reads: ["a"], writes: ["b"] })
      expect(yield* facts("sed -i.bak s/a/b/ f")).toEqual({ readOnly: false, reads: ["f"], writes: ["f"] })
      expect(yield* facts("sed -n 1p f")).toEqual({ readOnly: true, reads: ["f"], writes: [] })
      expect(yield* facts("find . -name x -delete")).toEqual({ readOnly: false, reads: ["."], writes: ["./**"] })
      expect(yield* facts("git log --output=o -p")).toMatchObject({ readOnly: false, writes: ["o"] })
      expect(yield* facts("git show HEAD:src/a.ts")).toEqual({ readOnly: true, reads: ["src/a.ts"], writes: [] })
      expect(yield* facts("git branch -d x")).toMatchObject({ readOnly: false })
      expect(yield* facts("git status -uno")).toMatchObject({ readOnly: true })
      expect(yield* facts("sort -o out in")).toMatchObject({ readOnly: false, writes: ["out"] })
      expect((yield* analyze("git -C sub status")).commands[0]!.chdir.map((w) => w.text)).toEqual(["sub"])
    })
  )

  it("tells safe sed scripts and awk programs from ones that run commands or write files", () => {
    for (const script of [
      "p",
      "1,5p",
      "s/a/b/g",
      "/x/d;s|a|b|2",
      "$!N;P;D",
      "1i header",
      "y/ab/cd/",
      "/a/,/b/{s/x/y/;p}"
    ])
      expect({ script, safe: isSafeSedScript(script) }).toEqual({ script, safe: true })
    for (const script of [
      "e id",
      "1e id",
      "s/a/b/e",
      "w out",
      "s/a/b/w out",
      "r /etc/passwd",
      "R x",
      "W x",
      "/x/{e id\n}"
    ])
      expect({ script, safe: isSafeSedScript(script) }).toEqual({ script, safe: false })
    for (const program of ["{print $1}", "$3 > 5 {print}", "NR==1", "{ s += $2 } END { print s }"])
      expect({ program, acts: awkProgramActs(program) }).toEqual({ program, acts: false })
    for (const program of [
      'BEGIN{system("id")}',
      '{print | "sh"}',
      '"id" | getline',
      '{print > "f"}',
      '{printf("%s", $0) >> "f"}',
      '@load "x"'
    ])
      expect({ program, acts: awkProgramActs(program) }).toEqual({ program, acts: true })
  })

  it("knows which environment names are safe and which programs it may unwrap", () => {
    expect(["NODE_ENV", "LC_ALL"].every(isSafeEnvName)).toBe(true)
    expect(["my_var", "f", "REPLY"].every(isSafeShellName)).toBe(true)
    expect(["my_var", "f"].some(isSafeEnvName)).toBe(false)
    expect(["PATH", "HOME", "IFS", "http_proxy", "npm_config_x", "BASH_ENV"].some(isSafeShellName)).toBe(false)
    expect(
      ["PATH", "LD_PRELOAD", "GIT_SSH_COMMAND", "npm_config_script_shell", "http_proxy", "HOME"].some(isSafeEnvName)
    ).toBe(false)
    expect(commandBase("/usr/local/bin/env")).toBe("env")
    expect(commandBase("/tmp/evil/env")).toBeUndefined()
    expect(normalizeGit([{ text: "git", literal: true }]).words).toHaveLength(1)
  })
})
