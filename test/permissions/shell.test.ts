// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell source
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { analyzeShell, type ShellAnalysis, shellParser } from "../../src/permissions/ShellParser.js"
import { commandBase, isSafeEnvName, normalizeGit } from "../../src/permissions/ShellCommand.js"

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
      expect((yield* analyze("find . -fprint out")).writes).toEqual(["out"])
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
        ["awk '{print}' f", true],
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
        ["declare -i x=1", "unsupported declaration"],
        ["export PATH", "changes PATH"],
        ["export HOME=/tmp", "assignment to HOME"],
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
        ["echo > $OUT", "not literal"],
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

  it("knows which environment names are safe and which programs it may unwrap", () => {
    expect(["NODE_ENV", "LC_ALL", "my_var"].every(isSafeEnvName)).toBe(true)
    expect(
      ["PATH", "LD_PRELOAD", "GIT_SSH_COMMAND", "npm_config_script_shell", "http_proxy", "HOME"].some(isSafeEnvName)
    ).toBe(false)
    expect(commandBase("/usr/local/bin/env")).toBe("env")
    expect(commandBase("/tmp/evil/env")).toBeUndefined()
    expect(normalizeGit([{ text: "git", literal: true }]).words).toHaveLength(1)
  })
})
