import { describe, expect, it } from "@effect/vitest"
import { capText, redactSecrets } from "../../src/streams/Redact.js"

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
