/**
 * Known secret shapes, redacted before text reaches events, logs or the model: provider API keys, cloud, payment
 * and forge tokens, AWS key pairs, bearer tokens, JWTs, passwords in URLs and private key blocks (PEM, OpenSSH,
 * PGP, PuTTY). Structured (JSON) tool results are redacted value by value (`redactJson`). Pure.
 *
 * Shapes without a marker are redacted only with their context: an AWS secret access key (40 base64 characters)
 * after `aws_secret_access_key`/`SecretAccessKey` or right after an access key id, so that git SHAs, hex hashes
 * and base64 data survive. Stripe publishable keys (`pk_live_`) are public by design and are kept.
 */

type Replacer = (match: string, ...groups: Array<string | undefined>) => string

const whole =
  (kind: string): Replacer =>
  () =>
    `[REDACTED:${kind}]`

/** Keeps the first group (a key name and its separator) and redacts what follows. */
const afterLabel =
  (kind: string): Replacer =>
  (_match, label) =>
    `${label ?? ""}[REDACTED:${kind}]`

/** A 40-character AWS secret access key, not part of a longer base64 run. */
const AWS_SECRET = "[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"

const SECRET_PATTERNS: ReadonlyArray<readonly [pattern: RegExp, replace: Replacer]> = [
  [/-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----[\s\S]*?(?:-----END \1-----|$)/g, whole("private-key")],
  [
    /PuTTY-User-Key-File-\d+:[^\n]*\n[\s\S]*?Private-Lines: *\d+\r?\n(?:[A-Za-z0-9+/=]+(?:\r?\n|$))+/g,
    whole("private-key")
  ],
  [
    new RegExp(`((?:aws_?)?secret_?access_?key["']?\\s*[:=]\\s*["']?)${AWS_SECRET}`, "gi"),
    afterLabel("aws-secret-key")
  ],
  [/((?:aws_?)?session_?token["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{100,}/gi, afterLabel("aws-session-token")],
  [new RegExp(`(\\b(?:AKIA|ASIA)[0-9A-Z]{16}["']?[\\s,;:=|"']{1,6})${AWS_SECRET}`, "g"), afterLabel("aws-secret-key")],
  [/\bsk-ant-[A-Za-z0-9_-]{16,}/g, whole("anthropic-key")],
  [/\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g, whole("openai-key")],
  [/\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}/g, whole("stripe-key")],
  [/\bwhsec_[A-Za-z0-9+/]{24,}/g, whole("stripe-webhook-secret")],
  [/\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g, whole("github-token")],
  [/\bglpat-[A-Za-z0-9_-]{20,}/g, whole("gitlab-token")],
  [/\bnpm_[A-Za-z0-9]{36}\b/g, whole("npm-token")],
  [/\bhf_[A-Za-z0-9]{34,}\b/g, whole("huggingface-token")],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, whole("aws-access-key")],
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, whole("google-api-key")],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, whole("slack-token")],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, whole("jwt")],
  [
    /\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/-]{16,}=*/gi,
    (_m, scheme, space) => `${scheme}${space}[REDACTED:bearer-token]`
  ],
  // scheme://user:password@host: the password goes, the rest of the URL stays.
  [
    /\b([a-z][a-z0-9+.-]{0,31}:\/\/[^\s/?#@:]{0,256}:)([^\s/?#@]{1,256})@/gi,
    (_m, head) => `${head}[REDACTED:password]@`
  ]
]

/** Replace every known secret shape with `[REDACTED:<kind>]` (a key name or bearer scheme before it stays). */
export const redactSecrets = (text: string): string => {
  let out = text
  for (const [pattern, replace] of SECRET_PATTERNS) out = out.replace(pattern, replace)
  return out
}

/** Property names (in snake case) whose string values are credentials whatever their shape. */
const SECRET_PROPERTY =
  /(?:^|_)(?:password|passwd|passphrase|secret|client_secret|secret_key|(?:secret_)?access_key|api_?key|private_key|(?:access|auth|refresh|bearer|session|api)_token)$/

/** `clientSecret`, `client-secret`, `CLIENT_SECRET` => `client_secret`. */
const snakeCase = (key: string): string =>
  key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .toLowerCase()

const isSecretProperty = (key: string): boolean => SECRET_PROPERTY.test(snakeCase(key))

/**
 * A JSON value with every string redacted (`redactSecrets`), keys included, recursively; a string of 8 or more
 * characters without spaces under a credential property name (`password`, `apiKey`, `client_secret`,
 * `accessToken`, ...) is redacted whatever its shape. Other values are returned as they are; nothing is mutated.
 */
export const redactJson = (value: unknown): unknown => redactValue(value, undefined, 0)

const redactValue = (value: unknown, key: string | undefined, depth: number): unknown => {
  if (typeof value === "string") {
    if (key !== undefined && isSecretProperty(key) && value.length >= 8 && !/\s/.test(value)) {
      return "[REDACTED:secret]"
    }
    return redactSecrets(value)
  }
  if (typeof value !== "object" || value === null) return value
  // Deeper than any sane result (or cyclic): redacted as text.
  if (depth > 64) {
    try {
      return redactSecrets(JSON.stringify(value) ?? "")
    } catch {
      return "[REDACTED:unserializable]"
    }
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, key, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[redactSecrets(k)] = redactValue(v, k, depth + 1)
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
