/**
 * The `sandbox.envPassthrough` settings key: checked like every key (a typo or a bad entry is an error with the
 * file, line and column), joined across settings files, and wired into the environment commands receive.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { layerNode } from "../../src/layers/SageLive.js"
import { loadRuleSet, parseSettings } from "../../src/permissions/Settings.js"
import { hardenGitEnv } from "../../src/process/GitEnvironment.js"
import { Sandbox } from "../../src/services/Sandbox.js"

const bases = { projectRoot: "/p", homeDir: "/h" }

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sage-sandbox-settings-")))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

const errorOf = (text: string): string => {
  const result = parseSettings("/p/.sage/settings.json", text, bases)
  return Result.isFailure(result) ? result.failure.message : "parsed"
}

describe("sandbox settings", () => {
  it("accepts names and prefixes", () => {
    const result = parseSettings(
      "/p/.sage/settings.json",
      '{ "sandbox": { "envPassthrough": ["MY_TOKEN", "DEPLOY_*"] } }',
      bases
    )
    expect(Result.isSuccess(result) && result.success.sandbox).toEqual({ envPassthrough: ["MY_TOKEN", "DEPLOY_*"] })
  })

  it("a typo or a bad entry is an error at its line and column", () => {
    expect(errorOf('{\n  "sandbox": {\n    "envPasthrough": []\n  }\n}')).toBe(
      '/p/.sage/settings.json:3:5: unknown key "envPasthrough" in sandbox; expected one of: envPassthrough (did you mean "envPassthrough"?)'
    )
    expect(errorOf('{\n  "sandbox": { "envPassthrough": ["OK", "MY TOKEN"] }\n}')).toBe(
      '/p/.sage/settings.json:2:41: invalid settings at sandbox.envPassthrough[1]: expected an environment variable name ("MY_TOKEN") or a prefix ending in * ("DEPLOY_*"), found a string "MY TOKEN"'
    )
    expect(errorOf('{ "sandbox": { "envPassthrough": "MY_TOKEN" } }')).toMatch(
      /^\/p\/\.sage\/settings\.json:1:34: invalid settings at sandbox\.envPassthrough: expected an array of variable names, found a string "MY_TOKEN"$/
    )
    expect(errorOf('{ "sandbox": { "envPassthrough": ["*"] } }')).toMatch(/envPassthrough\[0\]: expected/)
    expect(errorOf('{ "sandbox": true }')).toMatch(/1:14: invalid settings at sandbox: expected an object, found true/)
    expect(errorOf('{ "sandbx": {} }')).toMatch(/unknown key "sandbx" at the top level/)
  })

  it.live("the lists of all settings files are joined, and commands receive what they pass", () =>
    Effect.gen(function* () {
      const project = yield* tempDir
      const home = yield* tempDir
      fs.mkdirSync(path.join(project, ".sage"))
      fs.mkdirSync(path.join(home, ".sage"))
      fs.writeFileSync(path.join(home, ".sage", "settings.json"), '{ "sandbox": { "envPassthrough": ["USER_TOKEN"] } }')
      fs.writeFileSync(
        path.join(project, ".sage", "settings.local.json"),
        '{ "sandbox": { "envPassthrough": ["LOCAL_*"] } }'
      )
      const rules = yield* loadRuleSet({ cwd: project, homeDir: home })
      expect(rules.sandbox?.envPassthrough).toEqual(["USER_TOKEN", "LOCAL_*"])
      const sandbox = yield* Effect.provide(
        Sandbox,
        layerNode({
          provider: "anthropic",
          apiKey: "sk-ant-test",
          cwd: project,
          homeDir: home,
          sandbox: "off",
          env: { PATH: "/bin", USER_TOKEN: "u", LOCAL_DEPLOY_KEY: "l", OTHER_TOKEN: "o", ANTHROPIC_API_KEY: "k" }
        })
      )
      expect(sandbox.env).toEqual(hardenGitEnv({ PATH: "/bin", USER_TOKEN: "u", LOCAL_DEPLOY_KEY: "l" }))
    })
  )
})
