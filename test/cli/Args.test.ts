import { describe, expect, it } from "@effect/vitest"
import { listChoices, PROVIDERS, type Parsed, parseArgs, UsageError } from "../../src/cli/Args.js"

const context = {
  cwd: "/work",
  env: {},
  isDirectory: (dir: string) => ["/work", "/work/sub", "/other"].includes(dir)
}
const parse = (argv: ReadonlyArray<string>, env: Record<string, string> = {}) => parseArgs(argv, { ...context, env })
const error = (argv: ReadonlyArray<string>, env: Record<string, string> = {}): string => {
  const parsed = parse(argv, env)
  if (!(parsed instanceof UsageError)) throw new Error(`expected a usage error, got ${JSON.stringify(parsed)}`)
  return parsed.message
}
const run = (argv: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const parsed: Parsed | UsageError = parse(argv, env)
  if (parsed instanceof UsageError || parsed._tag !== "Run")
    throw new Error(`expected a run, got ${JSON.stringify(parsed)}`)
  return parsed
}

describe("sage arguments", () => {
  it("parses every run flag, in any order, with = or a separate value", () => {
    const args = run([
      "--provider=openai",
      "hello there",
      "-p",
      "--model",
      "gpt-x",
      "--output-format",
      "stream-json",
      "--max-steps",
      "3",
      "--permission-mode",
      "acceptEdits",
      "--allowed-tools",
      "Read,Bash(npm test:*)",
      "--allowed-tools=Edit",
      "--disallowed-tools",
      "Bash(rm:*)",
      "--cwd",
      "sub",
      "--add-dir",
      "/other",
      "--sandbox",
      "off",
      "--system-prompt",
      "-be terse",
      "--append-system-prompt",
      "Answer in French.",
      "--mcp-config",
      "a.json",
      "--mcp-config={}"
    ])
    expect(args).toEqual({
      _tag: "Run",
      prompt: "hello there",
      provider: "openai",
      model: "gpt-x",
      outputFormat: "stream-json",
      maxSteps: 3,
      permissionMode: "acceptEdits",
      allowedTools: ["Read,Bash(npm test:*)", "Edit"],
      disallowedTools: ["Bash(rm:*)"],
      cwd: "/work/sub",
      addDirs: ["/other"],
      sandbox: "off",
      systemPrompt: "-be terse",
      appendSystemPrompt: "Answer in French.",
      print: true,
      continue: false,
      resume: undefined,
      forkSession: false,
      sessionId: undefined,
      persistSession: true,
      mcpConfig: ["a.json", "{}"]
    })
  })

  it("defaults, and SAGE_PROVIDER / SAGE_MODEL when the flags are absent", () => {
    expect(run([])).toMatchObject({
      prompt: undefined,
      provider: "anthropic",
      model: undefined,
      outputFormat: "text",
      maxSteps: undefined,
      permissionMode: undefined,
      cwd: "/work",
      sandbox: "auto"
    })
    expect(run(["x"], { SAGE_PROVIDER: "openai", SAGE_MODEL: "m1" })).toMatchObject({ provider: "openai", model: "m1" })
    expect(
      run(["x", "--provider", "anthropic", "--model", "m2"], { SAGE_PROVIDER: "openai", SAGE_MODEL: "m1" })
    ).toMatchObject({
      provider: "anthropic",
      model: "m2"
    })
    expect(run(["--", "--not-a-flag"]).prompt).toBe("--not-a-flag")
  })

  it("help and version win over bad values", () => {
    expect(parse(["--help", "--max-steps", "0"])).toEqual({ _tag: "Help", topic: "main" })
    expect(parse(["-p", "x", "-h"])).toEqual({ _tag: "Help", topic: "main" })
    expect(parse(["-v"])).toEqual({ _tag: "Version" })
    expect(parse(["permissions"])).toEqual({ _tag: "Help", topic: "permissions" })
    expect(parse(["permissions", "check", "--help"])).toEqual({ _tag: "Help", topic: "permissions" })
  })

  it("a bad value names the flag, the value and what is accepted", () => {
    expect(error(["--output-format", "yaml"])).toBe(
      'invalid value for --output-format: "yaml" (expected text, json or stream-json)'
    )
    const providers = listChoices(PROVIDERS)
    expect(error(["--provider", "nope"])).toBe(`invalid value for --provider: "nope" (expected ${providers})`)
    expect(error(["x"], { SAGE_PROVIDER: "nope" })).toBe(
      `invalid value for SAGE_PROVIDER: "nope" (expected ${providers})`
    )
    expect(error(["--permission-mode", "yolo"])).toBe(
      'invalid value for --permission-mode: "yolo" (expected default, acceptEdits, plan or bypassPermissions)'
    )
    expect(error(["--sandbox", "maybe"])).toBe('invalid value for --sandbox: "maybe" (expected auto, require or off)')
    expect(error(["--cwd", "/nope"])).toBe('invalid value for --cwd: "/nope" (expected an existing directory)')
    expect(error(["--add-dir", "nope"])).toBe('invalid value for --add-dir: "nope" (expected an existing directory)')
    expect(error(["--model="])).toBe('invalid value for --model: "" (expected a model id)')
  })

  it("--max-steps must be a whole number of at least 1", () => {
    for (const bad of ["0", "-1", "1.5", "two", "", "99999999999999999999"]) {
      expect(error(["--max-steps", bad])).toBe(
        `invalid value for --max-steps: ${JSON.stringify(bad)} (expected a whole number of at least 1)`
      )
    }
    expect(error(["--max-steps=-1"])).toContain("--max-steps")
    expect(run(["--max-steps", "1"]).maxSteps).toBe(1)
  })

  it("unknown options, missing values, repeated single flags and extra arguments", () => {
    expect(error(["--x"])).toBe("unknown option --x (see sage --help)")
    expect(error(["--wizard"])).toBe("unknown option --wizard (see sage --help)")
    expect(error(["--completions", "bash"])).toBe("unknown option --completions (see sage --help)")
    expect(error(["-z"])).toBe("unknown option -z (see sage --help)")
    expect(error(["--model"])).toBe("option --model needs a value")
    expect(error(["--model", "--print"])).toBe("option --model needs a value")
    expect(error(["--model", "-p"])).toBe("option --model needs a value")
    expect(error(["--print=yes"])).toBe('option --print takes no value (got "yes")')
    expect(error(["--model", "a", "--model", "b"])).toBe("option --model was given 2 times (give it once)")
    expect(error(["fix", "the", "bug"])).toBe('unexpected argument "the": give the prompt as one argument (quote it)')
  })

  it("permissions check", () => {
    expect(
      parse(["permissions", "check", "Bash", '{"command":"ls"}', "--cwd", "sub", "--permission-mode", "plan"])
    ).toEqual({
      _tag: "Check",
      tool: "Bash",
      input: '{"command":"ls"}',
      cwd: "/work/sub",
      permissionMode: "plan",
      allowedTools: [],
      disallowedTools: []
    })
    expect(parse(["permissions", "check", "Read"])).toMatchObject({
      input: "{}",
      permissionMode: "default",
      cwd: "/work"
    })
    expect(error(["permissions", "show"])).toBe(
      'unknown command "show" after "permissions" (expected check; see sage --help)'
    )
    expect(error(["permissions", "check"])).toContain("needs a tool name")
    expect(error(["permissions", "check", "Bash", "{}", "extra"])).toBe(
      'unexpected argument "extra" after the input JSON'
    )
    expect(error(["permissions", "check", "Bash", "--print"])).toBe("unknown option --print (see sage --help)")
    expect(error(["permissions", "check", "Bash", "--permission-mode", "x"])).toContain("--permission-mode")
    expect(error(["permissions", "check", "Bash", "--cwd", "/nope"])).toContain("--cwd")
    expect(error(["permissions", "check", "Bash", "--cwd", "a", "--cwd", "b"])).toContain("2 times")
    expect(error(["permissions", "check", "Bash", "--permission-mode", "a", "--permission-mode", "b"])).toContain(
      "2 times"
    )
  })

  it("lists choices in words", () => {
    expect(listChoices([])).toBe("")
    expect(listChoices(["a"])).toBe("a")
    expect(listChoices(["a", "b"])).toBe("a or b")
  })
})
