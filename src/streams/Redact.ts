/**
 * Known secret shapes, redacted before text reaches events, logs or the model: provider API keys, cloud and
 * forge tokens, bearer tokens, JWTs and private key blocks. Pure.
 */

const SECRET_PATTERNS: ReadonlyArray<readonly [kind: string, pattern: RegExp]> = [
  ["private-key", /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g],
  ["anthropic-key", /\bsk-ant-[A-Za-z0-9_-]{16,}/g],
  ["openai-key", /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g],
  ["github-token", /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g],
  ["aws-access-key", /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g],
  ["google-api-key", /\bAIza[0-9A-Za-z_-]{35}\b/g],
  ["slack-token", /\bxox[abposr]-[A-Za-z0-9-]{10,}/g],
  ["jwt", /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g],
  ["bearer-token", /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]{16,}=*/gi]
]

/** Replace every known secret shape with `[REDACTED:<kind>]` (a bearer token keeps its scheme word). */
export const redactSecrets = (text: string): string => {
  let out = text
  for (const [kind, pattern] of SECRET_PATTERNS) {
    out = out.replace(pattern, (_match, scheme: unknown) =>
      kind === "bearer-token" && typeof scheme === "string" ? `${scheme} [REDACTED:${kind}]` : `[REDACTED:${kind}]`
    )
  }
  return out
}

/**
 * Bound text for the model: keep the head and the tail, and say how much was cut in between. Text within
 * `max` characters is returned unchanged.
 */
export const capText = (text: string, max: number): string => {
  if (text.length <= max) return text
  const head = Math.floor(max * 0.6)
  const tail = Math.max(0, max - head)
  const cut = text.length - head - tail
  const lines = text.slice(head, text.length - tail).split("\n").length - 1
  return `${text.slice(0, head)}\n\n[... ${cut} characters (${lines} lines) cut: output too long ...]\n\n${text.slice(text.length - tail)}`
}
