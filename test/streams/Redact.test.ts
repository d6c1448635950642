import { describe, expect, it } from "@effect/vitest"
import { capText, redactJson, redactSecrets } from "../../src/streams/Redact.js"

describe("redactSecrets", () => {
  it.each([
    ["ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345", "ANTHROPIC_API_KEY=[REDACTED:anthropic-key]"],
    ["key sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ123456 end", "key [REDACTED:openai-key] end"],
    ["token ghp_abcdefghijklmnopqrstuvwxyz0123456789AB", "token [REDACTED:github-token]"],
    ["aws AKIAIOSFODNN7EXAMPLE here", "aws [REDACTED:aws-access-key] here"],
    ["Authorization: Bearer abcdefghijklmnop.qrstuvwx-yz", "Authorization: Bearer [REDACTED:bearer-token]"],
    [
      "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
      "jwt [REDACTED:jwt]"
    ],
    ["-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\nafter", "[REDACTED:private-key]\nafter"]
  ])("redacts %j", (input, expected) => {
    expect(redactSecrets(input)).toBe(expected)
  })

  it("leaves ordinary text alone", () => {
    const text = "sk-short and a task-list and Bearer of news; the AKIA prefix alone"
    expect(redactSecrets(text)).toBe(text)
  })
})

// Realistic shapes (AWS's documented example pair, Stripe's documented format, generated test keys).
const AWS_ID = "AKIAIOSFODNN7EXAMPLE"
const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
const PGP_BLOCK = [
  "-----BEGIN PGP PRIVATE KEY BLOCK-----",
  "",
  "lQOYBGV0c3QBCADkZXZlbG9wZXIgdGVzdCBrZXkgbm90IHJlYWwgYnV0IHNoYXBlZCBsaWtlIG9uZQ==",
  "=Abcd",
  "-----END PGP PRIVATE KEY BLOCK-----"
].join("\n")
const OPENSSH_BLOCK = [
  "-----BEGIN OPENSSH PRIVATE KEY-----",
  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
  "-----END OPENSSH PRIVATE KEY-----"
].join("\n")

describe("redactSecrets: AWS, Stripe, private key blocks, URL passwords", () => {
  it.each([
    [`aws_secret_access_key = ${AWS_SECRET}`, "aws_secret_access_key = [REDACTED:aws-secret-key]"],
    [`export AWS_SECRET_ACCESS_KEY=${AWS_SECRET}`, "export AWS_SECRET_ACCESS_KEY=[REDACTED:aws-secret-key]"],
    [`"SecretAccessKey": "${AWS_SECRET}",`, '"SecretAccessKey": "[REDACTED:aws-secret-key]",'],
    [`${AWS_ID},${AWS_SECRET}`, "[REDACTED:aws-access-key],[REDACTED:aws-secret-key]"],
    [`key ${AWS_ID} secret ${AWS_SECRET}`, "key [REDACTED:aws-access-key] secret " + AWS_SECRET],
    ["ASIAY34FZKBOKMUTVV7A", "[REDACTED:aws-access-key]"],
    [
      `aws_session_token = ${"FwoGZXIvYXdzEBYaD".padEnd(180, "Ab1/")}`,
      "aws_session_token = [REDACTED:aws-session-token]"
    ],
    ["STRIPE_KEY=sk_live_51HxYzAbCdEfGhIjKlMnOpQrStUv", "STRIPE_KEY=[REDACTED:stripe-key]"],
    ["rk_live_51HxYzAbCdEfGhIjKlMnOpQrStUv", "[REDACTED:stripe-key]"],
    ["sk_test_4eC39HqLyjWDarjtT1zdp7dc", "[REDACTED:stripe-key]"],
    ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "[REDACTED:stripe-webhook-secret]"],
    [`before\n${PGP_BLOCK}\nafter`, "before\n[REDACTED:private-key]\nafter"],
    [`${OPENSSH_BLOCK}\n`, "[REDACTED:private-key]\n"],
    ["-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHz\n-----END ENCRYPTED PRIVATE KEY-----", "[REDACTED:private-key]"],
    // Cut off (output capped): redacted to the end.
    ["-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA75", "[REDACTED:private-key]"],
    [
      "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: k\nPublic-Lines: 1\nAAAAB3Nza\nPrivate-Lines: 2\nAAABAQCx\nyz12==\nPrivate-MAC: 0a1b",
      "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: k\nPublic-Lines: 1\nAAAAB3Nza\nPrivate-Lines: 2\nAAABAQCx\nyz12==\nPrivate-MAC: 0a1b".replace(
        /PuTTY[\s\S]*yz12==\n/,
        "[REDACTED:private-key]"
      )
    ],
    ["postgres://app:hunter2@db:5432/shop", "postgres://app:[REDACTED:password]@db:5432/shop"],
    ["glpat-xxxxxxxxxxxxxxxxxxxx1234", "[REDACTED:gitlab-token]"],
    [
      "//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789",
      "//registry.npmjs.org/:_authToken=[REDACTED:npm-token]"
    ]
  ])("redacts %j", (input, expected) => {
    expect(redactSecrets(input)).toBe(expected)
  })

  it("keeps ordinary code, hashes, SHAs, base64 data and public keys", () => {
    const ordinary = [
      "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
      "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "git rev-parse HEAD => 1b2c3d4e5f60718293a4b5c6d7e8f90123456789",
      `<img src="data:image/png;base64,${"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==".repeat(3)}">`,
      "const key = process.env.STRIPE_SECRET_KEY",
      "pk_live_51HxYzAbCdEfGhIjKlMnOpQrStUv is the publishable key",
      "aws_secret_access_key = $AWS_SECRET_ACCESS_KEY",
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host",
      "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
      "see https://example.com:8080/a@b and git@github.com:acme/app.git",
      "task_list and sk_live alone and the word Basic authentication"
    ].join("\n")
    expect(redactSecrets(ordinary)).toBe(ordinary)
  })
})

describe("redactJson", () => {
  it("redacts string values and keys at any depth, and credential properties whatever their shape", () => {
    const value = {
      ok: true,
      count: 3,
      nested: { list: [`token ghp_abcdefghijklmnopqrstuvwxyz0123456789AB`, { deeper: [AWS_ID] }] },
      creds: { AccessKeyId: AWS_ID, SecretAccessKey: AWS_SECRET, SessionToken: "short" },
      db: { password: "hunter2hunter2", passwordHint: "a pet's name", user: "app" },
      clientSecret: "0123456789abcdef",
      api_key: "plain-but-secret-value",
      sha: "9fceb02d0ae598e95dc970b74767f19372d61af8",
      tokenizer: "cl100k_base",
      "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345": "as a key"
    }
    expect(redactJson(value)).toEqual({
      ok: true,
      count: 3,
      nested: { list: ["token [REDACTED:github-token]", { deeper: ["[REDACTED:aws-access-key]"] }] },
      creds: { AccessKeyId: "[REDACTED:aws-access-key]", SecretAccessKey: "[REDACTED:secret]", SessionToken: "short" },
      db: { password: "[REDACTED:secret]", passwordHint: "a pet's name", user: "app" },
      clientSecret: "[REDACTED:secret]",
      api_key: "[REDACTED:secret]",
      sha: "9fceb02d0ae598e95dc970b74767f19372d61af8",
      tokenizer: "cl100k_base",
      "[REDACTED:anthropic-key]": "as a key"
    })
    // Nothing is mutated.
    expect(value.db.password).toBe("hunter2hunter2")
  })

  it("survives cycles and absurd depth", () => {
    const cyclic: Record<string, unknown> = { a: "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345" }
    cyclic.self = cyclic
    const redacted = JSON.stringify(redactJson(cyclic))
    expect(redacted).not.toContain("sk-ant-api03")
    expect(redacted).toContain("[REDACTED:unserializable]")
  })
})

describe("capText", () => {
  it("keeps short text and cuts long text to head + tail with a note", () => {
    expect(capText("short", 100)).toBe("short")
    const long = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join("\n")
    const capped = capText(long, 200)
    expect(capped.startsWith("line 0\n")).toBe(true)
    expect(capped.endsWith("line 999")).toBe(true)
    expect(capped).toMatch(/\[\.\.\. \d+ characters \(\d+ lines\) cut: output too long \.\.\.\]/)
    expect(capped.length).toBeLessThan(300)
  })
})
