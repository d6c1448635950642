/**
 * The CLI side of issue #11, in-process against the scripted model server: --json-schema, --image and @file
 * references, --thinking-budget / --reasoning-effort, --base-url and the provider/model shorthand.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { parseArgs, UsageError } from "../../src/cli/Args.js"
import { imageReferences } from "../../src/agent/PromptImages.js"
import { openaiSse } from "../support/openaiSse.js"
import * as WireServer from "../support/WireServer.js"
import { answer, anthropicEnv, baseEnv, runInProcess, tempDir } from "../cli/support.js"

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
const context = { cwd: "/work", env: {}, isDirectory: () => true }

const schema = {
  type: "object",
  properties: { name: { type: "string" }, count: { type: "integer" } },
  required: ["name", "count"],
  additionalProperties: false
}

type Body = Readonly<Record<string, unknown>>
const bodyOf = (wire: WireServer.WireServer, i: number): Body => {
  const body = wire.requests[i]?.body
  if (typeof body !== "object" || body === null) throw new Error(`no request ${i}`)
  return { ...body }
}

describe("sage CLI flags (issue #11)", () => {
  it("parses the new flags; the provider/model shorthand applies only when no provider was chosen", () => {
    expect(
      parseArgs(
        ["-p", "hi", "--base-url", "http://127.0.0.1:9/v1", "--thinking-budget", "4096", "--reasoning-effort", "low"],
        context
      )
    ).toMatchObject({ baseURL: "http://127.0.0.1:9/v1", thinkingBudget: 4096, reasoningEffort: "low" })
    expect(
      parseArgs(["-p", "hi", "--json-schema", "s.json", "--image", "a.png", "--image", "b.jpg"], context)
    ).toMatchObject({ jsonSchema: "/work/s.json", images: ["a.png", "b.jpg"] })
    expect(parseArgs(["-p", "hi", "--model", "openai/gpt-5"], context)).toMatchObject({
      provider: "openai",
      model: "gpt-5"
    })
    // an explicit provider (flag or SAGE_PROVIDER) keeps the id whole: OpenRouter-style ids work
    expect(parseArgs(["-p", "hi", "--provider", "openai", "--model", "openai/gpt-4o"], context)).toMatchObject({
      provider: "openai",
      model: "openai/gpt-4o"
    })
    expect(
      parseArgs(["-p", "hi", "--model", "openai/gpt-4o"], { ...context, env: { SAGE_PROVIDER: "openai" } })
    ).toMatchObject({ provider: "openai", model: "openai/gpt-4o" })
    // not a provider prefix: the id is left alone
    expect(parseArgs(["-p", "hi", "--model", "meta/llama"], context)).toMatchObject({
      provider: "anthropic",
      model: "meta/llama"
    })
    expect(parseArgs(["-p", "hi"], { ...context, env: { SAGE_MODEL: "openai/gpt-4o" } })).toMatchObject({
      provider: "openai",
      model: "gpt-4o"
    })
    for (const [flag, value, expected] of [
      ["--base-url", "ftp://x", "an absolute http(s) URL, e.g. http://127.0.0.1:11434/v1"],
      ["--thinking-budget", "100", "a whole number of tokens, at least 1024"],
      ["--reasoning-effort", "max", "minimal, low, medium or high"]
    ] as const) {
      const error = parseArgs(["-p", "hi", flag, value], context)
      expect(error).toBeInstanceOf(UsageError)
      if (error instanceof UsageError)
        expect(error.message).toBe(`invalid value for ${flag}: ${JSON.stringify(value)} (expected ${expected})`)
    }
  })

  it("@path references: image extensions only, in order, no repeats", () => {
    expect(imageReferences("look at @shot.png and @docs/b.JPG, then @shot.png again; mail a@b.png")).toEqual([
      "shot.png",
      "docs/b.JPG"
    ])
    expect(imageReferences("see @notes.md and @dir/")).toEqual([])
  })

  it.live("--json-schema: the validated JSON is printed; --output-format json carries structuredOutput", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const file = path.join(cwd, "schema.json")
      fs.writeFileSync(file, JSON.stringify(schema))
      const reply = () => ({
        kind: "stream" as const,
        chunks: openaiSse([{ text: '{"name":"sage",' }, { text: '"count":4}' }, { finish: "stop" }])
      })
      // --model provider/model and --base-url (no OPENAI_BASE_URL in the environment)
      const env = { ...baseEnv(), HOME: cwd, OPENAI_API_KEY: "sk-cli" }
      const args = [
        "-p",
        "count",
        "--model",
        "openai/gpt-4o",
        "--base-url",
        wire.url,
        "--cwd",
        cwd,
        "--json-schema",
        file
      ]
      wire.enqueue(reply())
      const text = yield* runInProcess(args, env)
      expect(text.code).toBe(0)
      expect(JSON.parse(text.stdout)).toEqual({ name: "sage", count: 4 })
      expect(bodyOf(wire, 0).model).toBe("gpt-4o")
      expect(bodyOf(wire, 0).response_format).toMatchObject({ type: "json_schema", json_schema: { schema } })

      wire.enqueue(reply())
      const json = yield* runInProcess([...args, "--output-format", "json"], env)
      expect(json.code).toBe(0)
      expect(JSON.parse(json.stdout)).toMatchObject({ status: "done", structuredOutput: { name: "sage", count: 4 } })
    })
  )

  it.live("--json-schema with a missing, non-JSON or invalid schema file: a clear error, no request", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      fs.writeFileSync(path.join(cwd, "bad.json"), "{ not json")
      fs.writeFileSync(path.join(cwd, "wrong.json"), JSON.stringify({ type: "object", properties: { a: { type: 5 } } }))
      const run = (file: string) =>
        runInProcess(["-p", "x", "--cwd", cwd, "--json-schema", path.join(cwd, file)], anthropicEnv(wire.url, cwd))
      const missing = yield* run("none.json")
      expect(missing.code).toBe(1)
      expect(missing.stderr).toContain(`sage: ConfigError: --json-schema ${path.join(cwd, "none.json")}: ENOENT`)
      const bad = yield* run("bad.json")
      expect(bad.code).toBe(1)
      expect(bad.stderr).toContain("not valid JSON")
      const wrong = yield* run("wrong.json")
      expect(wrong.code).toBe(1)
      expect(wrong.stderr).toContain("sage: ConfigError: invalid JSON Schema:")
      expect(wire.requests).toHaveLength(0)
    })
  )

  it.live("--image and @file references reach the request; reasoning flags are on it; a file outside is refused", () =>
    Effect.gen(function* () {
      const wire = yield* WireServer.make
      const cwd = yield* tempDir
      const outside = yield* tempDir
      fs.writeFileSync(path.join(cwd, "a.png"), Buffer.from(PNG, "base64"))
      fs.writeFileSync(path.join(cwd, "b.png"), Buffer.from(PNG, "base64"))
      fs.writeFileSync(path.join(outside, "c.png"), Buffer.from(PNG, "base64"))
      wire.enqueue(answer("two pixels"))
      const run = yield* runInProcess(
        ["-p", "compare with @b.png", "--image", "a.png", "--cwd", cwd, "--thinking-budget", "2048"],
        anthropicEnv(wire.url, cwd)
      )
      expect(run.code).toBe(0)
      const body = bodyOf(wire, 0)
      expect(body.thinking).toEqual({ type: "enabled", budget_tokens: 2048 })
      const messages = body.messages as ReadonlyArray<{ content: ReadonlyArray<Body> }>
      const content = messages[0]?.content ?? []
      expect(content.map((b) => b.type)).toEqual(["text", "image", "image"])
      expect(content[0]?.text).toBe("compare with @b.png")
      expect(content[1]?.source).toEqual({ type: "base64", media_type: "image/png", data: PNG })

      const refused = yield* runInProcess(
        ["-p", "look", "--image", path.join(outside, "c.png"), "--cwd", cwd, "--reasoning-effort", "high"],
        anthropicEnv(wire.url, cwd)
      )
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(/^sage: InputError: image .*c\.png: /m)
      expect(wire.requests).toHaveLength(1)

      wire.enqueue(answer("ok"))
      const effort = yield* runInProcess(
        ["-p", "think", "--cwd", cwd, "--reasoning-effort", "high"],
        anthropicEnv(wire.url, cwd)
      )
      expect(effort.code).toBe(0)
      expect(bodyOf(wire, 1).thinking).toEqual({ type: "enabled", budget_tokens: 24_576 })
    })
  )
})
