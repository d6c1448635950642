/**
 * What commands receive of the environment: credentials withheld by name and by value, URL passwords cut, the
 * pass-through list honoured; checked on the function and on a real `env` run through the Bash tool.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import {
  commandEnv,
  commandEnvReport,
  isPassedThrough,
  isSecretEnvName,
  stripUrlCredentials
} from "../../src/process/CommandEnv.js"
import * as SandboxBubblewrap from "../../src/process/SandboxBubblewrap.js"
import { Sandbox } from "../../src/services/Sandbox.js"
import { Workspace } from "../../src/services/Workspace.js"
import { makeBashTool } from "../../src/tools/Bash.js"
import { call, tempDir, text, workspaceOf } from "./support.js"

const HOST_ENV = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: "/home/dev",
  LANG: "C.UTF-8",
  AWS_REGION: "eu-west-1",
  PRIVATE_KEY: "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI\n-----END EC PRIVATE KEY-----",
  GPG_PASSPHRASE: "correct horse battery staple",
  STRIPE_SECRET_KEY: "sk_live_51HxYzAbCdEfGhIjKlMnOpQr",
  STRIPE_ACCOUNT: "acct_1032D82eZvKYlo2C",
  DATABASE_URL: "postgres://app:hunter2@db.internal:5432/shop?sslmode=require",
  REDIS_URL: "redis://:s3cr3t@cache:6379/0",
  ORIGIN: "https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/acme/app.git",
  HARMLESS_LOOKING: "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345",
  MY_TOKEN: "needed-by-the-build",
  DEPLOY_TOKEN: "deploy-me",
  SSH_AUTH_SOCK: "/run/user/1000/ssh-agent.sock",
  SITE_URL: "https://example.com:8080/path?contact=a@b.example"
}

describe("isSecretEnvName", () => {
  it.each([
    "PRIVATE_KEY",
    "GPG_PASSPHRASE",
    "STRIPE_SECRET_KEY",
    "STRIPE_ACCOUNT",
    "ANTHROPIC_BASE_URL",
    "OPENAI_ORG_ID",
    "MYSQL_PWD",
    "PGPASSWORD",
    "SECRET_KEY_BASE",
    "npm_config__authToken",
    "NODE_AUTH_TOKEN",
    "SSH_AUTH_SOCK",
    "SENTRY_DSN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "DOCKER_AUTH_CONFIG",
    "SLACK_WEBHOOK_URL",
    "CI_JOB_JWT",
    "apiKey",
    "VAULT_TOKEN"
  ])("withholds %s", (name) => {
    expect(isSecretEnvName(name)).toBe(true)
  })

  it.each([
    "PATH",
    "HOME",
    "PWD",
    "OLDPWD",
    "SHELL",
    "LANG",
    "TERM",
    "AWS_REGION",
    "AWS_PROFILE",
    "TOKENIZERS_PARALLELISM",
    "MAX_TOKENS",
    "KEYBOARD",
    "SECRETARY",
    "GIT_AUTHOR_NAME",
    "XAUTHORITY",
    "NODE_OPTIONS",
    "DATABASE_URL",
    "SAGE_MODEL"
  ])("keeps %s", (name) => {
    expect(isSecretEnvName(name)).toBe(false)
  })
})

describe("commandEnv", () => {
  it("withholds credentials by name and by value, cuts URL passwords, keeps the rest", () => {
    const report = commandEnvReport(HOST_ENV)
    expect(report.env).toEqual({
      PATH: HOST_ENV.PATH,
      HOME: "/home/dev",
      LANG: "C.UTF-8",
      AWS_REGION: "eu-west-1",
      DATABASE_URL: "postgres://app@db.internal:5432/shop?sslmode=require",
      REDIS_URL: "redis://cache:6379/0",
      ORIGIN: "https://github.com/acme/app.git",
      SITE_URL: HOST_ENV.SITE_URL
    })
    expect([...report.removed].sort()).toEqual(
      [
        "PRIVATE_KEY",
        "GPG_PASSPHRASE",
        "STRIPE_SECRET_KEY",
        "STRIPE_ACCOUNT",
        "HARMLESS_LOOKING",
        "MY_TOKEN",
        "DEPLOY_TOKEN",
        "SSH_AUTH_SOCK"
      ].sort()
    )
    expect([...report.changed].sort()).toEqual(["DATABASE_URL", "ORIGIN", "REDIS_URL"])
  })

  it("passes names on the pass-through list unchanged (exact names and prefixes)", () => {
    const env = commandEnv(HOST_ENV, { passthrough: ["MY_TOKEN", "DEPLOY_*", "DATABASE_URL"] })
    expect(env.MY_TOKEN).toBe("needed-by-the-build")
    expect(env.DEPLOY_TOKEN).toBe("deploy-me")
    expect(env.DATABASE_URL).toBe(HOST_ENV.DATABASE_URL)
    expect(env).not.toHaveProperty("GPG_PASSPHRASE")
    expect(isPassedThrough("MY_TOKEN_2", ["MY_TOKEN"])).toBe(false)
    expect(isPassedThrough("my_token", ["MY_TOKEN"])).toBe(false)
  })

  it("keeps git's environment configuration whole: all of it, or none when a part holds a credential", () => {
    const clean = { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "core.autocrlf", GIT_CONFIG_VALUE_0: "input" }
    expect(commandEnv({ PATH: "/bin", ...clean })).toEqual({ PATH: "/bin", ...clean })
    const leaky = {
      ...clean,
      GIT_CONFIG_COUNT: "2",
      GIT_CONFIG_KEY_1: "http.extraHeader",
      GIT_CONFIG_VALUE_1: "AUTHORIZATION: Basic eC1hY2Nlc3MtdG9rZW46Z2hzX3NlY3JldA=="
    }
    const report = commandEnvReport({ PATH: "/bin", ...leaky })
    expect(report.env).toEqual({ PATH: "/bin" })
    expect([...report.removed].sort()).toEqual(Object.keys(leaky).sort())
  })

  it("cuts only credentials out of URLs", () => {
    expect(stripUrlCredentials("mysql://root:p@ss@localhost/db")).toBe("mysql://root@localhost/db")
    expect(stripUrlCredentials("http://proxy.local:3128")).toBe("http://proxy.local:3128")
    expect(stripUrlCredentials("https://user@example.com/x")).toBe("https://user@example.com/x")
    expect(stripUrlCredentials("a=http://u:p@h1,b=http://v:q@h2")).toBe("a=http://u@h1,b=http://v@h2")
  })

  it.live("a real command sees the scrubbed environment (and what settings pass through)", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir
      const sandbox = yield* SandboxBubblewrap.make({
        mode: "off",
        writableRoots: [cwd],
        network: false,
        env: HOST_ENV,
        envPassthrough: ["MY_TOKEN"]
      })
      const bash = yield* makeBashTool().pipe(
        Effect.provideService(Sandbox, sandbox),
        Effect.provideServiceEffect(Workspace, workspaceOf([cwd]))
      )
      const seen = text(yield* call(bash, { command: "env" }, cwd))
      for (const secret of ["hunter2", "s3cr3t", "correct horse", "sk_live_", "sk-ant-", "ghp_", "PRIVATE KEY"]) {
        expect(seen).not.toContain(secret)
      }
      expect(seen).toContain("MY_TOKEN=needed-by-the-build")
      expect(seen).toContain("DATABASE_URL=postgres://app@db.internal:5432/shop?sslmode=require")
      expect(seen).not.toContain("DEPLOY_TOKEN")
    })
  )
})
