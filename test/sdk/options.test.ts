import { describe, expect, it } from "@effect/vitest"
import { ConfigError } from "../../src/errors/ConfigError.js"
import { PROVIDERS } from "../../src/providers/registry.js"
import { validateCallOptions, validateOptions } from "../../src/sdk/options.js"
import type { CustomTool } from "../../src/sdk/types.js"

/** The ConfigError `validateOptions` throws for `input` (fails the test when it accepts it). */
const rejection = (input: unknown, validate: (input: unknown) => unknown = validateOptions): ConfigError => {
  try {
    validate(input)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error(`accepted: ${JSON.stringify(input)}`)
}

const tool: CustomTool = {
  name: "t",
  description: "d",
  inputSchema: { type: "object" },
  execute: async () => "x"
}

describe("SageAgentSDK options", () => {
  it("accepts every valid option and returns the caller's object itself", () => {
    const options = {
      provider: "openai",
      model: "gpt-test",
      apiKey: "sk-test",
      baseURL: "http://127.0.0.1:9",
      cwd: "/tmp",
      additionalDirectories: ["/var"],
      permissionMode: "acceptEdits",
      allowedTools: ["Bash(npm test:*)"],
      disallowedTools: ["WebFetch"],
      canUseTool: async () => ({ behavior: "allow" as const }),
      tools: [tool, { ...tool, name: "u", readOnly: true, kind: "network" as const }],
      maxSteps: 1,
      maxConcurrency: 4,
      maxTokens: 100,
      systemPrompt: "You are terse.",
      appendSystemPrompt: "Answer in French.",
      sandbox: "off",
      sandboxNetwork: false,
      webFetch: { allowPrivate: true, allowedHosts: ["localhost"] },
      env: { PATH: "/bin", UNSET: undefined }
    } as const
    expect(validateOptions(options)).toBe(options)
    // A tool may be a class instance whose `execute` is a method on its prototype.
    class Echo implements CustomTool {
      readonly name = "echo"
      readonly description = "Echoes"
      readonly inputSchema = { type: "object" }
      async execute(input: unknown) {
        return JSON.stringify(input)
      }
    }
    const withClass = { tools: [new Echo()] }
    expect(validateOptions(withClass)).toBe(withClass)
    const withProcessEnv = { env: process.env }
    expect(validateOptions(withProcessEnv)).toBe(withProcessEnv)
    expect(validateOptions(undefined)).toEqual({})
    expect(validateOptions({})).toEqual({})
  })

  it("an unknown provider or permission mode names the option, the value and the accepted values", () => {
    const provider = rejection({ provider: "nope" })
    expect(provider.source).toBe("provider")
    expect(provider.message).toBe(
      `Invalid SageAgentSDK options: provider is "nope"; expected ${PROVIDERS.map((p) => `"${p}"`).join(" or ")}`
    )
    const mode = rejection({ permissionMode: "yolo" })
    expect(mode.source).toBe("permissionMode")
    expect(mode.message).toContain('permissionMode is "yolo"')
    expect(mode.message).toContain('"default", "acceptEdits", "plan", "bypassPermissions"')
    expect(rejection({ sandbox: "maybe" }).message).toContain('sandbox is "maybe"; expected "auto", "require" or "off"')
  })

  it("maxSteps, maxConcurrency and maxTokens must be integers >= 1: 0, -1, 1.5 and strings are refused", () => {
    for (const [value, shown] of [
      [0, "0"],
      [-1, "-1"],
      [1.5, "1.5"],
      ["3", '"3"'],
      [Number.NaN, "NaN"]
    ] as const) {
      const error = rejection({ maxSteps: value })
      expect(error.source).toBe("maxSteps")
      expect(error.message).toBe(`Invalid SageAgentSDK options: maxSteps is ${shown}; expected an integer >= 1`)
    }
    expect(rejection({ maxConcurrency: 0 }).source).toBe("maxConcurrency")
    expect(rejection({ maxTokens: -5 }).message).toContain("maxTokens is -5")
  })

  it("wrong types are refused, nested ones with their path", () => {
    expect(rejection({ cwd: 42 }).message).toContain("cwd is 42; expected a directory path")
    expect(rejection({ cwd: "" }).source).toBe("cwd")
    expect(rejection({ sandboxNetwork: "yes" }).message).toContain('sandboxNetwork is "yes"; expected true or false')
    expect(rejection({ baseURL: "localhost:8080" }).message).toContain("expected an absolute URL")
    expect(rejection({ allowedTools: "Bash" }).source).toBe("allowedTools")
    const nested = rejection({ additionalDirectories: ["/a", 3] })
    expect(nested.source).toBe("additionalDirectories[1]")
    expect(nested.message).toContain("additionalDirectories[1] is 3")
    const execute = rejection({ tools: [{ ...tool, execute: "run" }] })
    expect(execute.source).toBe("tools[0].execute")
    expect(execute.message).toContain('tools[0].execute is "run"; expected a function')
    expect(rejection({ tools: [{ ...tool, kind: "write" }] }).source).toBe("tools[0].kind")
    expect(rejection({ canUseTool: true }).message).toContain("canUseTool is true; expected an async function")
    expect(rejection({ env: { PATH: 1 } }).source).toBe("env.PATH")
    expect(rejection({ webFetch: { allowPrivate: "yes" } }).source).toBe("webFetch.allowPrivate")
    expect(rejection("anthropic").message).toContain('expected an options object, got "anthropic"')
    expect(rejection([]).source).toBe("options")
  })

  it("an unknown option (a typo) is refused and the known ones are listed", () => {
    const typo = rejection({ permisionMode: "plan" })
    expect(typo.source).toBe("permisionMode")
    expect(typo.message).toContain('unknown option "permisionMode"')
    expect(typo.message).toContain("permissionMode")
    expect(rejection({ webFetch: { allowPrivate: true, allowHosts: [] } }).source).toBe("webFetch.allowHosts")
  })

  it("a bad API key is refused without showing it", () => {
    const error = rejection({ apiKey: "" })
    expect(error.source).toBe("apiKey")
    expect(error.message).toBe(
      "Invalid SageAgentSDK options: apiKey is a string of 0 characters; expected a non-empty API key string"
    )
    expect(rejection({ apiKey: 12345 }).message).not.toContain("12345")
  })

  it("the options of run() and stream() are checked too: signal, history, sessionId", () => {
    const call = (input: unknown) => validateCallOptions("run", input)
    const options = {
      signal: new AbortController().signal,
      history: [
        { role: "user", content: [{ type: "text", text: "hi" }] },
        { role: "assistant", content: [{ type: "tool_use", id: "t", name: "Read", input: { file_path: "a" } }] }
      ],
      sessionId: "s-1"
    } as const
    expect(call(options)).toBe(options)
    expect(call(undefined)).toEqual({})
    const signal = rejection({ signal: "abort" }, call)
    expect(signal).toMatchObject({ source: "signal" })
    expect(signal.message).toBe('Invalid run() options: signal is "abort"; expected an AbortSignal')
    const role = rejection({ history: [{ role: "bot", content: [] }] }, call)
    expect(role.source).toBe("history[0].role")
    expect(role.message).toContain('history[0].role is "bot"')
    expect(rejection({ history: "earlier" }, call).message).toContain("expected an array of messages")
    expect(rejection({ sessionID: "x" }, (input) => validateCallOptions("stream", input)).message).toBe(
      'Invalid stream() options: unknown option "sessionID"; the options are signal, history, sessionId, resume, continue, forkSession, maxBudgetUsd, steering, outputSchema'
    )
  })
})
