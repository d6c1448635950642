/** The shared HTTP failure mapping: every typed error keeps `status`, `retryable` and the server's `retry-after`. */
import { describe, expect, it } from "@effect/vitest"
import { type LLMError, retryAfterMs } from "../../src/errors/LLMError.js"
import { connectionError, httpError, retryAfterFromHeaders } from "../../src/providers/ProviderSupport.js"

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0)

const failure = (status: number | undefined, extra: Partial<Parameters<typeof httpError>[0]> = {}): LLMError =>
  httpError({ provider: "acme", apiKeyVar: "ACME_KEY", model: "m-1", status, message: "boom", now: NOW, ...extra })

describe("retryAfterFromHeaders", () => {
  it("reads retry-after-ms, then retry-after as seconds or an HTTP date", () => {
    expect(retryAfterFromHeaders({ "retry-after-ms": "1500", "retry-after": "9" }, NOW)).toBe(1500)
    expect(retryAfterFromHeaders({ "retry-after": "2" }, NOW)).toBe(2000)
    expect(retryAfterFromHeaders(new Headers({ "retry-after": "0.5" }), NOW)).toBe(500)
    expect(retryAfterFromHeaders({ "retry-after": new Date(NOW + 3000).toUTCString() }, NOW)).toBe(3000)
    expect(retryAfterFromHeaders({ "retry-after": new Date(NOW - 3000).toUTCString() }, NOW)).toBe(0)
    expect(retryAfterFromHeaders({ "retry-after": ["4"] }, NOW)).toBe(4000)
  })

  it("absent, empty or unparsable headers give undefined", () => {
    expect(retryAfterFromHeaders(undefined, NOW)).toBeUndefined()
    expect(retryAfterFromHeaders(null, NOW)).toBeUndefined()
    expect(retryAfterFromHeaders({}, NOW)).toBeUndefined()
    expect(retryAfterFromHeaders({ "retry-after": " " }, NOW)).toBeUndefined()
    expect(retryAfterFromHeaders({ "retry-after": "soon" }, NOW)).toBeUndefined()
    expect(retryAfterFromHeaders({ "retry-after-ms": "x", "retry-after": "1" }, NOW)).toBe(1000)
  })
})

describe("httpError", () => {
  it("maps each status to its tag, keeping status and saying whether a retry can help", () => {
    const cases: ReadonlyArray<readonly [number, string, boolean]> = [
      [401, "AuthenticationError", false],
      [403, "ProviderPermissionError", false],
      [404, "ModelNotFoundError", false],
      [400, "InvalidRequestError", false],
      [408, "ConnectionError", true],
      [429, "RateLimitedError", true],
      [500, "ServerError", true],
      [502, "ServerError", true],
      [529, "OverloadedError", true]
    ]
    for (const [status, tag, retryable] of cases) {
      const error = failure(status, { requestId: "req_1" })
      expect([error._tag, error.retryable, error.status, error.requestId]).toEqual([tag, retryable, status, "req_1"])
      expect(error.provider).toBe("acme")
    }
  })

  it("retryable errors carry the server's retry-after", () => {
    const headers = { "retry-after": "3" }
    for (const status of [429, 500, 529]) expect(retryAfterMs(failure(status, { headers }))).toBe(3000)
    expect(retryAfterMs(failure(401, { headers }))).toBeUndefined()
    expect(retryAfterMs(failure(429))).toBeUndefined()
  })

  it("in-stream error types without a status, and messages that tell the user what to do", () => {
    expect(failure(undefined, { errorType: "overloaded_error" })._tag).toBe("OverloadedError")
    expect(failure(undefined, { errorType: "rate_limit_exceeded" })._tag).toBe("RateLimitedError")
    expect(failure(undefined, { errorType: "api_error" })._tag).toBe("ServerError")
    expect(failure(undefined, { errorType: "context_length_exceeded" })._tag).toBe("ContextLengthExceededError")
    expect(failure(400, { message: "prompt is too long: 300000 tokens" })._tag).toBe("ContextLengthExceededError")
    expect(failure(503, { message: "upstream overloaded" })._tag).toBe("OverloadedError")
    const quota = failure(429, { errorType: "insufficient_quota" })
    expect([quota._tag, quota.retryable]).toEqual(["ProviderPermissionError", false])
    expect(quota.message).toContain("billing")
    expect(failure(401).message).toContain("set ACME_KEY")
    expect(failure(404).message).toContain("model m-1 not found")
    expect(failure(422, { message: " " }).message).toBe("acme rejected the request (HTTP 422)")
  })

  it("connection errors name the base URL and are retryable", () => {
    const refused = connectionError("acme", "http://127.0.0.1:9", new Error("ECONNREFUSED"))
    expect([refused._tag, refused.retryable, refused.timeout]).toEqual(["ConnectionError", true, false])
    expect(refused.message).toContain("could not reach acme at http://127.0.0.1:9: ECONNREFUSED")
    expect(connectionError("acme", "u", "x", true).message).toContain("timed out talking to acme at u;")
  })
})
