/** `sage mcp serve` arguments: its own flags, the run options it shares with `sage -p`, and clear usage errors. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { UsageError } from "../../src/cli/Args.js"
import { parseServeArgs } from "../../src/cli/mcpServe.js"
import { runInProcess } from "../cli/support.js"

const context = { cwd: os.tmpdir(), env: {} }

const usage = (argv: ReadonlyArray<string>, env: Record<string, string> = {}): string => {
  const parsed = parseServeArgs(argv, { ...context, env })
  if (!(parsed instanceof UsageError)) throw new Error(`expected a usage error, got ${JSON.stringify(parsed)}`)
  return parsed.message
}

describe("sage mcp serve arguments", () => {
  it("takes the run options (camelCase spellings too), --http and the token", () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-mcp-args-")))
    try {
      const parsed = parseServeArgs(
        [
          "--cwd",
          dir,
          "--http=0",
          "--allowedTools",
          "Bash(npm test:*)",
          "--disallowed-tools",
          "Bash(rm:*)",
          "--permissionMode",
          "acceptEdits",
          "--sandbox",
          "require",
          "--model",
          "m1"
        ],
        { ...context, env: { SAGE_MCP_TOKEN: "0123456789abcdef-token" } }
      )
      if (parsed instanceof UsageError || parsed._tag !== "Serve") throw new Error(JSON.stringify(parsed))
      expect(parsed.http).toBe(0)
      expect(parsed.token).toBe("0123456789abcdef-token")
      expect(parsed.run.cwd).toBe(dir)
      expect(parsed.run.allowedTools).toEqual(["Bash(npm test:*)"])
      expect(parsed.run.disallowedTools).toEqual(["Bash(rm:*)"])
      expect(parsed.run.permissionMode).toBe("acceptEdits")
      expect(parsed.run.sandbox).toBe("require")
      expect(parsed.run.model).toBe("m1")
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("stdio by default; --token wins over SAGE_MCP_TOKEN", () => {
    const stdio = parseServeArgs([], context)
    expect(stdio).toMatchObject({ _tag: "Serve", http: undefined, token: undefined })
    const flag = parseServeArgs(["--http", "8765", "--token", "flag-token-0123456789"], {
      ...context,
      env: { SAGE_MCP_TOKEN: "env-token-0123456789" }
    })
    expect(flag).toMatchObject({ http: 8765, token: "flag-token-0123456789" })
  })

  it("rejects bad values and options that are not for a server, naming them", () => {
    expect(usage(["--http", "abc"])).toBe('invalid value for --http: "abc" (expected a port 0-65535; 0 picks one)')
    expect(usage(["--http", "70000"])).toContain("--http")
    expect(usage(["--http"])).toBe("option --http needs a value")
    expect(usage(["--http", "1", "--token", "short"])).toContain("at least 16")
    expect(usage(["--token", "0123456789abcdef0"])).toBe("--token is for --http (stdio needs none)")
    expect(usage(["-p"])).toContain("-p is not for mcp serve")
    expect(usage(["--resume", "abc"])).toContain("--resume is not for mcp serve")
    expect(usage(["--output-format", "json"])).toContain("--output-format is not for mcp serve")
    expect(usage(["a prompt"])).toBe('unexpected argument "a prompt"')
    expect(usage(["--permission-mode", "yolo"])).toContain("--permission-mode")
    expect(usage(["--cwd", "/does/not/exist"])).toContain("an existing directory")
    expect(usage(["--bogus"])).toContain("sage mcp serve --help")
  })

  it.effect("--help prints the help (exit 0); a usage error exits 2 with one line on stderr", () =>
    Effect.gen(function* () {
      const help = yield* runInProcess(["mcp", "serve", "--help"], {})
      expect(help.code).toBe(0)
      expect(help.stdout).toContain("sage mcp serve --http PORT")
      expect(help.stdout).toContain("SAGE_MCP_TOKEN")
      const bad = yield* runInProcess(["mcp", "serve", "--http", "x"], {})
      expect(bad.code).toBe(2)
      expect(bad.stderr).toBe('sage: invalid value for --http: "x" (expected a port 0-65535; 0 picks one)\n')
      expect(bad.stdout).toBe("")
    })
  )
})
