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
  readonly timeout?: Duration.DurationInput
  /** Default 5. */
  readonly maxRedirects?: number
  /** Default `Sage-WebFetch/1.0`. */
  readonly userAgent?: string
}

// ---------------------------------------------------------------------------------------------------------------
// Address checks

const parseIPv4 = (ip: string): number | undefined => {
  if (!net.isIPv4(ip)) return undefined
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0)
}

/** IPv4 ranges that are not publicly routable (RFC 6890 and friends). */
const IPV4_BLOCKED: ReadonlyArray<readonly [string, number]> = [
  ["0.0.0.0", 8], // "this" network, unspecified
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local (cloud metadata services live here)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4] // reserved, broadcast
]

const IPV4_RANGES = IPV4_BLOCKED.map(([base, bits]) => ({ base: parseIPv4(base)!, bits }))

const inIPv4Range = (value: number, base: number, bits: number): boolean => {
  const size = 2 ** (32 - bits)
  return Math.floor(value / size) === Math.floor(base / size)
}

const isBlockedIPv4 = (value: number): boolean => IPV4_RANGES.some((r) => inIPv4Range(value, r.base, r.bits))

/** The eight 16-bit groups of an IPv6 address (zone index removed), or `undefined`. */
const parseIPv6 = (input: string): ReadonlyArray<number> | undefined => {
  const ip = input.replace(/%.*$/, "")
  if (!net.isIPv6(ip)) return undefined
  let text = ip
  const tail: Array<number> = []
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted !== null) {
    const v4 = parseIPv4(dotted[1]!)
    if (v4 === undefined) return undefined
    tail.push(Math.floor(v4 / 65536), v4 % 65536)
    text = text.slice(0, -dotted[1]!.length)
    if (text.endsWith(":") && !text.endsWith("::")) text = text.slice(0, -1)
  }
  const [head, rest] = text.includes("::") ? text.split("::") : [text, undefined]
  const groups = (part: string | undefined) =>
    part === undefined || part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16))
  const left = groups(head)
  const right = [...groups(rest), ...tail]
  const missing = 8 - left.length - right.length
  if (rest === undefined && missing !== 0) return undefined
  return [...left, ...Array<number>(Math.max(0, missing)).fill(0), ...right]
}

const embeddedIPv4 = (g: ReadonlyArray<number>, at: number): number => g[at]! * 65536 + g[at + 1]!

/**
 * Whether `ip` is an address a fetch must not reach: private, loopback, link-local, unique-local, carrier-grade
 * NAT, multicast, unspecified, reserved or documentation ranges, and IPv6 forms that embed such an IPv4 address
 * (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`). Anything that is not
 * an IP address counts as blocked.
 */
export const isBlockedAddress = (ip: string): boolean => {
  const v4 = parseIPv4(ip)
  if (v4 !== undefined) return isBlockedIPv4(v4)
  const g = parseIPv6(ip)
  if (g === undefined) return true
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0)
  // ::/96 holds ::, ::1 and the deprecated IPv4-compatible addresses; ::ffff:0:0/96 the IPv4-mapped ones.
  if (zeros(0, 6)) return true
  if (zeros(0, 5) && g[5] === 0xffff) return isBlockedIPv4(embeddedIPv4(g, 6))
  // IPv4/IPv6 translation (NAT64, RFC 6052) and its local-use prefix 64:ff9b:1::/48 (RFC 8215).
  if (g[0] === 0x64 && g[1] === 0xff9b) return g[2] === 1 || !zeros(2, 6) || isBlockedIPv4(embeddedIPv4(g, 6))
  if (g[0] === 0x2002) return isBlockedIPv4(embeddedIPv4(g, 1)) // 6to4
  if (g[0] === 0x2001 && (g[1] === 0 || g[1] === 0xdb8)) return true // Teredo, documentation
  if (g[0] === 0x100 && zeros(1, 4)) return true // discard-only 100::/64
  const first = g[0]!
  if ((first & 0xfe00) === 0xfc00) return true // unique-local fc00::/7
  if ((first & 0xffc0) === 0xfe80) return true // link-local fe80::/10
  if ((first & 0xffc0) === 0xfec0) return true // site-local fec0::/10 (deprecated)
  if ((first & 0xff00) === 0xff00) return true // multicast ff00::/8
  return false
}

// ---------------------------------------------------------------------------------------------------------------
// HTML to text

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  ensp: " ",
  emsp: " ",
  thinsp: " ",
  shy: "",
  copy: "©",
  reg: "®",
  trade: "™",
  hellip: "…",
  mdash: "—",
  ndash: "–",
  minus: "−",
  lsquo: "‘",
  rsquo: "’",
  sbquo: "‚",
  ldquo: "“",
  rdquo: "”",
  bdquo: "„",
  laquo: "«",
  raquo: "»",
  lsaquo: "‹",
  rsaquo: "›",
  bull: "•",
  middot: "·",
  times: "×",
  divide: "÷",
  plusmn: "±",
  deg: "°",
  para: "¶",
  sect: "§",
  euro: "€",
  pound: "£",
  yen: "¥",
  cent: "¢",
  larr: "←",
  rarr: "→",
  uarr: "↑",
  darr: "↓",
  harr: "↔",
  check: "✓",
  dagger: "†",
  le: "≤",
  ge: "≥",
  ne: "≠",
  asymp: "≈",
  infin: "∞",
  frac12: "½",
  frac14: "¼",
  frac34: "¾",
  auml: "ä",
  ouml: "ö",
  uuml: "ü",
  Auml: "Ä",
  Ouml: "Ö",
  Uuml: "Ü",
  szlig: "ß",
  eacute: "é",
  egrave: "è",
  aacute: "á",
  agrave: "à",
  ccedil: "ç",
  ntilde: "ñ"
}

/** Decode character references: named (a common subset), decimal `&#65;` and hex `&#x41;`. */
export const decodeEntities = (text: string): string =>
  text.replace(/&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[a-zA-Z][a-zA-Z0-9]{1,31});?/g, (whole, ref: string) => {
    if (ref.startsWith("#")) {
      const code =
        ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10)
      if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return "\uFFFD"
      return String.fromCodePoint(code)
    }
    return NAMED_ENTITIES[ref] ?? whole
  })

const SKIPPED_ELEMENTS = new Set([
  "script",
  "style",
  "noscript",
  "template",
  "svg",
  "math",
  "iframe",
  "object",
  "canvas",
  "head",
  "select",
  "textarea"
])
const BLOCK_ELEMENTS = new Set([
  "address",
  "article",
  "aside",
  "blockquote",
  "body",
  "caption",
  "dd",
  "details",
  "dialog",
  "div",
  "dl",
  "dt",
  "fieldset",
  "figcaption",
  "figure",
  "footer",
  "form",
  "header",
  "html",
  "main",
  "nav",
  "ol",
  "p",
  "section",
  "summary",
  "table",
  "ul"
])

const TOKEN =
  /<!--[\s\S]*?(?:-->|$)|<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|<![^>]*>?|<\?[^>]*>?|<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|[^<]+|</g

const attributes = (source: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const m of source.matchAll(/([^\s=/"']+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?/g)) {
    const raw = m[2] ?? ""
    out[m[1]!.toLowerCase()] = decodeEntities(raw.startsWith('"') || raw.startsWith("'") ? raw.slice(1, -1) : raw)
  }
  return out
}

const linkTarget = (href: string | undefined, base: string | undefined): string | undefined => {
  if (href === undefined || href.trim() === "" || href.startsWith("#")) return undefined
  try {
    const url = base === undefined ? new URL(href) : new URL(href, base)
    return url.protocol === "http:" || url.protocol === "https:" || url.protocol === "mailto:" ? url.href : undefined
  } catch {
    return undefined
  }
}

/** Collapse blank runs, trim lines (outside ``` fences) and the whole text. */
const tidy = (text: string): string => {
  const out: Array<string> = []
  let fenced = false
  let blank = 0
  for (const raw of text.split("\n")) {
    if (raw.startsWith("```")) fenced = !fenced
    const line =
      fenced || raw.startsWith("```")
        ? raw.replace(/\s+$/, "")
        : raw
            .replace(/[ \t]+/g, " ")
            .trim()
            .replace(/^\uE000+/, (indent) => "  ".repeat(indent.length))
    if (line === "" && !fenced) {
      if (++blank > 1 || out.length === 0) continue
    } else blank = 0
    out.push(line)
  }
  return out.join("\n").trim()
}

/**
 * Readable text from HTML: scripts, styles and other non-content elements dropped, the title first, headings as
 * `#` lines, links as `[text](url)` (resolved against `baseUrl`), list items as `- ` lines, table cells separated
 * by ` | `, `<pre>` kept verbatim in ``` fences, character references decoded and whitespace collapsed.
 */
export const htmlToText = (html: string, baseUrl?: string): string => {
  const parts: Array<string> = []
  let title: string | undefined
  let pre = 0
  const links: Array<{ readonly at: number; readonly href: string | undefined }> = []
  const lists: Array<{ ordered: boolean; index: number }> = []
  let cell = 0
  const block = (text = "\n\n") => parts.push(text)
  const tokens = new RegExp(TOKEN.source, "g")
  for (let m = tokens.exec(html); m !== null; m = tokens.exec(html)) {
    const token = m[0]
    const name = m[2]?.toLowerCase()
    if (name === undefined) {
      if (token === "<") parts.push("<")
      else if (!token.startsWith("<")) {
        const text = decodeEntities(token).replaceAll("\uE000", "")
        parts.push(pre > 0 ? text : text.replace(/\s+/g, " "))
      }
      continue
    }
    const closing = m[1] === "/"
    const attrs = m[3] ?? ""
    const selfClosing = attrs.trimEnd().endsWith("/")
    if (!closing && (SKIPPED_ELEMENTS.has(name) || name === "title") && !selfClosing) {
      const end = new RegExp(`</${name}\\s*>`, "gi")
      end.lastIndex = tokens.lastIndex
      const found = end.exec(html)
      const inner = html.slice(tokens.lastIndex, found === null ? html.length : found.index)
      if (name === "title") title ??= decodeEntities(inner).replace(/\s+/g, " ").trim()
      else if (name === "head") {
        const t = /<title[^>]*>([\s\S]*?)<\/title\s*>/i.exec(inner)
        if (t !== null) title ??= decodeEntities(t[1]!).replace(/\s+/g, " ").trim()
      }
      tokens.lastIndex = found === null ? html.length : end.lastIndex
      continue
    }
    const heading = /^h([1-6])$/.exec(name)
    if (heading !== null) {
      block()
      if (!closing) parts.push(`${"#".repeat(Number(heading[1]))} `)
    } else if (name === "a") {
      if (!closing) links.push({ at: parts.length, href: linkTarget(attributes(attrs).href, baseUrl) })
      else {
        const link = links.pop()
        if (link !== undefined) {
          const text = parts.splice(link.at).join("").replace(/\s+/g, " ").trim()
          parts.push(link.href === undefined || text === "" ? text : `[${text}](${link.href})`)
        }
      }
    } else if (name === "img" && !closing) {
      const alt = attributes(attrs).alt?.trim()
      if (alt !== undefined && alt !== "") parts.push(`[image: ${alt}]`)
    } else if (name === "br") parts.push("\n")
    else if (name === "hr") block("\n\n---\n\n")
    else if (name === "pre") {
      pre = Math.max(0, pre + (closing ? -1 : 1))
      block(closing ? "\n```\n\n" : "\n\n```\n")
    } else if (name === "code" && pre === 0) parts.push("`")
    else if (name === "ul" || name === "ol") {
      if (closing) lists.pop()
      else lists.push({ ordered: name === "ol", index: 0 })
      block()
    } else if (name === "li" && !closing) {
      const list = lists.at(-1)
      // \uE000 marks indentation that survives line trimming in `tidy`.
      const indent = "\uE000".repeat(Math.max(0, lists.length - 1))
      parts.push(`\n${indent}${list?.ordered === true ? `${++list.index}.` : "-"} `)
    } else if (name === "tr") {
      cell = 0
      if (!closing) parts.push("\n")
    } else if ((name === "td" || name === "th") && !closing) {
      if (cell++ > 0) parts.push(" | ")
    } else if (BLOCK_ELEMENTS.has(name)) block()
  }
  const body = tidy(parts.join(""))
  if (title === undefined || title === "") return body
  return body === "" ? `Title: ${title}` : `Title: ${title}\n\n${body}`
}

// ---------------------------------------------------------------------------------------------------------------
// Fetching

class FetchRefused extends Error {}

interface HopResult {
  readonly status: number
  readonly statusText: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
  /** The body was longer than the limit; `body` holds its start. */
  readonly truncated: boolean
}

const defaultLookup: HostLookup = async (hostname) => {
  const found = await dns.promises.lookup(hostname, { all: true, verbatim: true })
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }))
}

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

/** One GET to `url`, connecting to `resolved`; reads at most `maxBytes` of the (decoded) body. */
// node:http/https (and TLS) load on the first fetch, not at start-up.
const loadHttp = async () => ({ http: await import("node:http"), https: await import("node:https") })

const request = async (
  url: URL,
  resolved: ResolvedAddress,
  maxBytes: number,
  userAgent: string,
  signal: AbortSignal
): Promise<HopResult> => {
  const { http: httpModule, https: httpsModule } = await loadHttp()
  return new Promise<HopResult>((resolve, reject) => {
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
}

const TEXT_TYPES =
  /^(text\/|application\/(json|xml|javascript|ecmascript|x-javascript|ld\+json|rss\+xml|atom\+xml|x-ndjson|yaml|x-yaml|toml|x-sh|markdown)|[a-z]+\/[a-z0-9.+-]*\+(json|xml))/

const charsetOf = (contentType: string, body: Buffer, html: boolean): string => {
  const declared = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1]
  if (declared !== undefined) return declared
  if (html) {
    const meta = /<meta[^>]+charset\s*=\s*["']?([^"'>\s/;]+)/i.exec(body.subarray(0, 2048).toString("latin1"))
    if (meta !== null) return meta[1]!
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

/** The `WebFetch` tool: read-only, `network` kind, runs in parallel with other calls. */
export const makeWebFetchTool = (options: WebFetchOptions = {}) => {
  const maxBytes = options.maxBytes ?? 5 * 1024 * 1024
  const maxOutputChars = options.maxOutputChars ?? 100_000
  const timeout = Duration.decode(options.timeout ?? Duration.seconds(30))
  const maxRedirects = options.maxRedirects ?? 5
  const userAgent = options.userAgent ?? "Sage-WebFetch/1.0"
  const lookup = options.lookup ?? defaultLookup
  const allowedHosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase().replace(/^\[|\]$/g, "")))
  const fail = (message: string) => new ToolExecutionError({ tool: "WebFetch", message })

  /** Validate one URL and resolve its host to an address that may be contacted. */
  const admit = async (raw: string | URL): Promise<{ readonly url: URL; readonly resolved: ResolvedAddress }> => {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      throw new FetchRefused(`${JSON.stringify(String(raw))} is not a valid absolute URL.`)
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new FetchRefused(`Only http and https URLs can be fetched, not ${url.protocol.slice(0, -1)}: URLs.`)
    }
    if (url.username !== "" || url.password !== "") {
      throw new FetchRefused("URLs with credentials (user:password@host) are not fetched.")
    }
    const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase()
    const literal = net.isIP(host)
    let addresses: ReadonlyArray<ResolvedAddress>
    if (literal !== 0) addresses = [{ address: host, family: literal === 6 ? 6 : 4 }]
    else {
      try {
        addresses = await lookup(host)
      } catch (error) {
        throw new FetchRefused(`Could not resolve ${host}: ${errorText(error)}`)
      }
      if (addresses.length === 0) throw new FetchRefused(`Could not resolve ${host}: no addresses.`)
    }
    const trusted = options.allowPrivate === true || allowedHosts.has(host) || allowedHosts.has(url.host.toLowerCase())
    if (!trusted) {
      const blocked = addresses.find((a) => isBlockedAddress(a.address))
      if (blocked !== undefined) {
        throw new FetchRefused(
          `Refusing to fetch ${url.href}: ${host === blocked.address ? "it is" : `${host} resolves to`} ${blocked.address}, a private, loopback, link-local or otherwise non-public address.`
        )
      }
    }
    return { url, resolved: addresses[0]! }
  }

  const fetchText = async (start: string, signal: AbortSignal) => {
    let target: string | URL = start
    const chain: Array<string> = []
    for (let hop = 0; ; hop++) {
      const { url, resolved } = await admit(target)
      const result = await request(url, resolved, maxBytes, userAgent, signal)
      const location = result.headers.location
      if (result.status >= 300 && result.status < 400 && location !== undefined) {
        if (hop >= maxRedirects) {
          throw new FetchRefused(`Too many redirects (more than ${maxRedirects}); the last one pointed to ${location}.`)
        }
        chain.push(url.href)
        try {
          target = new URL(location, url)
        } catch {
          throw new FetchRefused(`${url.href} redirected to an invalid URL: ${location}`)
        }
        continue
      }
      return { url, result, chain }
    }
  }

  return Tool.make({
    name: "WebFetch",
    description: [
      "Fetch a web page or file over http(s) and return its content as text (HTML is converted to readable text",
      "with headings and links kept). Give the full URL; redirects are followed. Only public addresses can be reached.",
      `At most ${Math.round(maxBytes / 1024 / 1024)} MB are read and ${maxOutputChars} characters returned;`,
      "the optional prompt says what you are looking for in the page."
    ].join(" "),
    input: Schema.Struct({
      url: Schema.String.pipe(Schema.minLength(1)).annotations({ description: "The http or https URL to fetch" }),
      prompt: Schema.optional(
        Schema.String.annotations({ description: "What information to look for in the fetched content" })
      )
    }),
    readOnly: true,
    kind: "network",
    timeout: Duration.sum(timeout, Duration.seconds(5)),
    execute: ({ url: rawUrl, prompt }) =>
      Effect.gen(function* () {
        const { url, result, chain } = yield* Effect.tryPromise({
          try: (signal) => fetchText(rawUrl, signal),
          catch: (error) =>
            error instanceof FetchRefused ? fail(error.message) : fail(`Fetching ${rawUrl} failed: ${errorText(error)}`)
        }).pipe(
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () => fail(`Fetching ${rawUrl} timed out after ${Duration.format(timeout)}.`)
          })
        )
        const contentType = String(result.headers["content-type"] ?? "")
        const mediaType = contentType.split(";")[0]!.trim().toLowerCase()
        const html = mediaType === "text/html" || mediaType === "application/xhtml+xml"
        const textual =
          html || TEXT_TYPES.test(mediaType) || (mediaType === "" && !result.body.subarray(0, 8192).includes(0))
        const statusLine = `${result.status}${result.statusText === "" ? "" : ` ${result.statusText}`}`
        const decoded = textual ? decodeBody(result.body, charsetOf(contentType, result.body, html)) : ""
        const text = html ? htmlToText(decoded, url.href) : decoded.trim()
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
