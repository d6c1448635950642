/**
 * The `WebFetch` tool: GET an http(s) URL and return its content as readable text. Guards against server-side
 * request forgery: every host is resolved once, refused if any of its addresses is private, loopback, link-local
 * (and so on), and the connection goes to the address that was checked (no second DNS lookup to rebind);
 * redirects are followed by hand and checked the same way at every hop.
 */
import * as dns from "node:dns"
import type * as http from "node:http"
import type * as https from "node:https"
import * as net from "node:net"
import type { Readable } from "node:stream"
import * as zlib from "node:zlib"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import ipaddr from "ipaddr.js"
import { ToolExecutionError } from "../errors/ToolError.js"
import { Tool } from "./Tool.js"

/** One address a host name resolved to. */
export interface ResolvedAddress {
  readonly address: string
  readonly family: 4 | 6
}

/** Resolves a host name to all of its addresses (default: `dns.lookup(host, { all: true })`). */
export type HostLookup = (hostname: string) => Promise<ReadonlyArray<ResolvedAddress>>

export interface WebFetchOptions {
  /** Allow private, loopback and other non-public addresses for every host. Default `false`. */
  readonly allowPrivate?: boolean
  /** Host names (or IP literals) whose addresses are not checked, e.g. `["localhost"]` to reach a local server. */
  readonly allowedHosts?: ReadonlyArray<string>
  /** Replaces DNS resolution (for tests and custom resolvers). */
  readonly lookup?: HostLookup
  /** Response bytes read at most (after decompression). Default 5 MB. */
  readonly maxBytes?: number
  /** Characters of text returned at most. Default 100 000. */
  readonly maxOutputChars?: number
  /** For the whole fetch, redirects included. Default 30 seconds. */
  readonly timeout?: Duration.Input
  /** Default 5. */
  readonly maxRedirects?: number
  /** Default `Sage-WebFetch/1.0`. */
  readonly userAgent?: string
}

// ---------------------------------------------------------------------------------------------------------------
// Address checks

/** Whether an IPv4 address is outside every special-purpose range (ipaddr.js's `unicast`). */
const isPublicIPv4 = (address: ipaddr.IPv4): boolean => address.range() === "unicast"

const embeddedIPv4 = (parts: ReadonlyArray<number>, at: number): ipaddr.IPv4 => {
  const high = parts[at] ?? 0
  const low = parts[at + 1] ?? 0
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff])
}

/**
 * Whether `ip` is an address a fetch must not reach: private, loopback, link-local, unique-local, carrier-grade
 * NAT, multicast, unspecified, reserved or documentation ranges (ipaddr.js's classification: only `unicast` is
 * allowed), and IPv6 forms that embed such an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`,
 * 6to4 `2002::/16`); the whole of `::/96` (IPv4-compatible) and NAT64's local-use `64:ff9b:1::/48` too. Anything
 * that is not an IP address in a standard spelling counts as blocked.
 */
export const isBlockedAddress = (ip: string): boolean => {
  const bare = ip.replace(/%.*$/, "")
  const family = net.isIP(bare)
  if (family === 0) return true
  if (family === 4) return !isPublicIPv4(ipaddr.IPv4.parse(bare))
  const address = ipaddr.IPv6.parse(bare)
  const parts = address.parts
  const zeros = (from: number, to: number) => parts.slice(from, to).every((x) => x === 0)
  switch (address.range()) {
    case "unicast":
      return false
    case "ipv4Mapped":
      return zeros(0, 6) || !isPublicIPv4(address.toIPv4Address())
    case "rfc6052":
      return !zeros(2, 6) || !isPublicIPv4(embeddedIPv4(parts, 6))
    case "6to4":
      return !isPublicIPv4(embeddedIPv4(parts, 1))
    default:
      return true
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Fetching

interface HopResult {
  readonly status: number
  readonly statusText: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
  /** The body was longer than the limit; `body` holds its start. */
  readonly truncated: boolean
}

const defaultLookup: HostLookup = (hostname) =>
  dns.promises
    .lookup(hostname, { all: true, verbatim: true })
    .then((found) => found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })))

/** A `lookup` for the request that answers with the address already checked: no second DNS query. */
const fixedLookup =
  (resolved: ResolvedAddress): net.LookupFunction =>
  (_hostname, options, callback) => {
    if (options.all === true) callback(null, [{ address: resolved.address, family: resolved.family }])
    else callback(null, resolved.address, resolved.family)
  }

const decompress = (encoding: string | undefined): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined => {
  switch (encoding?.trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return zlib.createGunzip()
    case "deflate":
      return zlib.createInflate()
    case "br":
      return zlib.createBrotliDecompress()
    default:
      return undefined
  }
}

/** node:http/https (and TLS) load on the first fetch, not at start-up. */
const loadHttp = Effect.promise(() => Promise.all([import("node:http"), import("node:https")]))

/**
 * One GET to `url`, connecting to `resolved`; reads at most `maxBytes` of the (decoded) body. The Node boundary:
 * a Promise over `http.request`, aborted through `signal`.
 */
const request = (
  httpModule: typeof http,
  httpsModule: typeof https,
  url: URL,
  resolved: ResolvedAddress,
  maxBytes: number,
  userAgent: string,
  signal: AbortSignal
): Promise<HopResult> =>
  new Promise<HopResult>((resolve, reject) => {
    const secure = url.protocol === "https:"
    const hostname = url.hostname.replace(/^\[|\]$/g, "")
    const options: https.RequestOptions = {
      method: "GET",
      hostname,
      port: url.port === "" ? (secure ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: {
        "user-agent": userAgent,
        accept: "text/html, text/plain, text/markdown, application/json, application/xhtml+xml, */*;q=0.5",
        "accept-encoding": "gzip, deflate, br"
      },
      agent: false,
      lookup: fixedLookup(resolved),
      signal
    }
    const req = (secure ? httpsModule : httpModule).request(options, (res) => {
      const status = res.statusCode ?? 0
      if (status >= 300 && status < 400) {
        res.resume()
        resolve({
          status,
          statusText: res.statusMessage ?? "",
          headers: res.headers,
          body: Buffer.alloc(0),
          truncated: false
        })
        return
      }
      const decoder = decompress(res.headers["content-encoding"])
      const stream: Readable = decoder === undefined ? res : res.pipe(decoder)
      const chunks: Array<Buffer> = []
      let size = 0
      let settled = false
      const done = (truncated: boolean) => {
        if (settled) return
        settled = true
        resolve({
          status,
          statusText: res.statusMessage ?? "",
          headers: res.headers,
          body: Buffer.concat(chunks),
          truncated
        })
      }
      stream.on("data", (chunk: Buffer) => {
        if (settled) return
        const room = maxBytes - size
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room))
          size = maxBytes
          done(true)
          res.destroy()
          decoder?.destroy()
          return
        }
        chunks.push(chunk)
        size += chunk.length
      })
      stream.once("end", () => done(false))
      const failed = (error: Error) => {
        if (settled) return
        settled = true
        reject(error)
      }
      stream.once("error", failed)
      res.once("error", failed)
      res.once("aborted", () => failed(new Error("the connection closed before the response ended")))
    })
    req.once("error", reject)
    req.end()
  })

/** A URL that may be fetched, and the checked address to connect to. */
interface Admitted {
  readonly url: URL
  readonly resolved: ResolvedAddress
}

const TEXT_TYPES =
  /^(text\/|application\/(json|xml|javascript|ecmascript|x-javascript|ld\+json|rss\+xml|atom\+xml|x-ndjson|yaml|x-yaml|toml|x-sh|markdown)|[a-z]+\/[a-z0-9.+-]*\+(json|xml))/

const charsetOf = (contentType: string, body: Buffer, html: boolean): string => {
  const declared = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1]
  if (declared !== undefined) return declared
  if (html) {
    const meta = /<meta[^>]+charset\s*=\s*["']?([^"'>\s/;]+)/i.exec(body.subarray(0, 2048).toString("latin1"))
    if (meta?.[1] !== undefined) return meta[1]
  }
  return "utf-8"
}

const decodeBody = (body: Buffer, charset: string): string => {
  try {
    return new TextDecoder(charset).decode(body)
  } catch {
    return new TextDecoder("utf-8").decode(body)
  }
}

const errorText = (error: unknown): string => {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code
    return code !== undefined && !error.message.includes(code) ? `${error.message} (${code})` : error.message
  }
  return String(error)
}

/** The `WebFetch` tool: read-only, `network` kind, runs in parallel with other calls. Needs no service. */
export const makeWebFetchTool = (options: WebFetchOptions = {}) => {
  const maxBytes = options.maxBytes ?? 5 * 1024 * 1024
  const maxOutputChars = options.maxOutputChars ?? 100_000
  const timeout = Duration.fromInputUnsafe(options.timeout ?? Duration.seconds(30))
  const maxRedirects = options.maxRedirects ?? 5
  const userAgent = options.userAgent ?? "Sage-WebFetch/1.0"
  const lookup = options.lookup ?? defaultLookup
  const allowedHosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase().replace(/^\[|\]$/g, "")))
  const fail = (message: string) => new ToolExecutionError({ tool: "WebFetch", message })

  /** Validate one URL and resolve its host to an address that may be contacted; a refusal is a typed failure. */
  const admit = (raw: string | URL): Effect.Effect<Admitted, ToolExecutionError> =>
    Effect.gen(function* () {
      const url = URL.canParse(String(raw)) ? new URL(raw) : undefined
      if (url === undefined) return yield* fail(`${JSON.stringify(String(raw))} is not a valid absolute URL.`)
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        return yield* fail(`Only http and https URLs can be fetched, not ${url.protocol.slice(0, -1)}: URLs.`)
      }
      if (url.username !== "" || url.password !== "") {
        return yield* fail("URLs with credentials (user:password@host) are not fetched.")
      }
      const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase()
      const literal = net.isIP(host)
      const addresses: ReadonlyArray<ResolvedAddress> =
        literal !== 0
          ? [{ address: host, family: literal === 6 ? 6 : 4 }]
          : yield* Effect.tryPromise({
              try: () => lookup(host),
              catch: (error) => fail(`Could not resolve ${host}: ${errorText(error)}`)
            })
      const trusted =
        options.allowPrivate === true || allowedHosts.has(host) || allowedHosts.has(url.host.toLowerCase())
      if (!trusted) {
        const blocked = addresses.find((a) => isBlockedAddress(a.address))
        if (blocked !== undefined) {
          return yield* fail(
            `Refusing to fetch ${url.href}: ${host === blocked.address ? "it is" : `${host} resolves to`} ${blocked.address}, a private, loopback, link-local or otherwise non-public address.`
          )
        }
      }
      const [resolved] = addresses
      if (resolved === undefined) return yield* fail(`Could not resolve ${host}: no addresses.`)
      return { url, resolved }
    })

  /** Follows redirects (each hop admitted again) up to `maxRedirects`; interruption aborts the request in flight. */
  const fetchText = (
    start: string
  ): Effect.Effect<
    { readonly url: URL; readonly result: HopResult; readonly chain: ReadonlyArray<string> },
    ToolExecutionError
  > =>
    Effect.gen(function* () {
      const [httpModule, httpsModule] = yield* loadHttp
      let target: string | URL = start
      const chain: Array<string> = []
      for (let hop = 0; ; hop++) {
        const { url, resolved }: Admitted = yield* admit(target)
        const result: HopResult = yield* Effect.tryPromise({
          try: (signal) => request(httpModule, httpsModule, url, resolved, maxBytes, userAgent, signal),
          catch: (error) => fail(`Fetching ${start} failed: ${errorText(error)}`)
        })
        const location = result.headers.location
        if (result.status < 300 || result.status >= 400 || location === undefined) return { url, result, chain }
        if (hop >= maxRedirects) {
          return yield* fail(`Too many redirects (more than ${maxRedirects}); the last one pointed to ${location}.`)
        }
        chain.push(url.href)
        if (!URL.canParse(location, url.href))
          return yield* fail(`${url.href} redirected to an invalid URL: ${location}`)
        target = new URL(location, url)
      }
    })

  return Tool.make({
    name: "WebFetch",
    description: [
      "Fetch a web page or file over http(s) and return its content as text (HTML is converted to readable text",
      "with headings and links kept). Give the full URL; redirects are followed. Only public addresses can be reached.",
      `At most ${Math.round(maxBytes / 1024 / 1024)} MB are read and ${maxOutputChars} characters returned;`,
      "the optional prompt says what you are looking for in the page."
    ].join(" "),
    input: Schema.Struct({
      url: Schema.String.check(Schema.isMinLength(1)).annotate({ description: "The http or https URL to fetch" }),
      prompt: Schema.optionalKey(
        Schema.String.annotate({ description: "What information to look for in the fetched content" })
      )
    }),
    readOnly: true,
    kind: "network",
    timeout: Duration.sum(timeout, Duration.seconds(5)),
    execute: ({ url: rawUrl, prompt }) =>
      Effect.gen(function* () {
        const { url, result, chain } = yield* fetchText(rawUrl).pipe(
          Effect.timeoutOrElse({
            duration: timeout,
            orElse: () => Effect.fail(fail(`Fetching ${rawUrl} timed out after ${Duration.format(timeout)}.`))
          })
        )
        const contentType = String(result.headers["content-type"] ?? "")
        const mediaType = (contentType.split(";")[0] ?? "").trim().toLowerCase()
        const html = mediaType === "text/html" || mediaType === "application/xhtml+xml"
        const textual =
          html || TEXT_TYPES.test(mediaType) || (mediaType === "" && !result.body.subarray(0, 8192).includes(0))
        const statusLine = `${result.status}${result.statusText === "" ? "" : ` ${result.statusText}`}`
        const decoded = textual ? decodeBody(result.body, charsetOf(contentType, result.body, html)) : ""
        // The HTML converter (node-html-markdown and its parser) loads on the first HTML page, not at start-up.
        const text = html
          ? (yield* Effect.promise(() => import("./HtmlText.js"))).htmlToText(decoded, url.href)
          : decoded.trim()
        if (result.status < 200 || result.status >= 300) {
          const excerpt = text.length > 2000 ? `${text.slice(0, 2000)}\n[...]` : text
          return yield* fail(
            `${url.href} answered with HTTP status ${statusLine}.${excerpt === "" ? "" : `\n\n${excerpt}`}`
          )
        }
        if (!textual) {
          return yield* fail(
            `${url.href} returned ${mediaType || "binary data"} (${result.body.length}${result.truncated ? "+" : ""} bytes), which WebFetch cannot show as text.`
          )
        }
        const header = [
          `URL: ${url.href}`,
          ...(chain.length === 0 ? [] : [`Redirected from: ${chain[0]}`]),
          `Status: ${statusLine}`,
          `Content-Type: ${contentType || "(none)"}`,
          ...(prompt === undefined || prompt.trim() === "" ? [] : [`Looking for: ${prompt.trim()}`])
        ]
        const notes: Array<string> = []
        if (result.truncated) {
          notes.push(`(The response was larger than ${maxBytes} bytes; only the first ${maxBytes} bytes were read.)`)
        }
        const shown = text.length > maxOutputChars ? text.slice(0, maxOutputChars) : text
        if (text.length > maxOutputChars) {
          notes.push(`(Content cut at ${maxOutputChars} of ${text.length} characters.)`)
        }
        return [
          ...header,
          "",
          shown === "" ? "(empty body)" : shown,
          ...(notes.length === 0 ? [] : ["", ...notes])
        ].join("\n")
      })
  })
}

/** The `WebFetch` tool with the default (public addresses only) policy. */
export const WebFetchTool = Effect.sync(() => makeWebFetchTool())
