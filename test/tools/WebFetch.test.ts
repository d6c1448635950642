import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as zlib from "node:zlib"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { htmlToText } from "../../src/tools/HtmlText.js"
import { type HostLookup, isBlockedAddress, makeWebFetchTool, type WebFetchOptions } from "../../src/tools/WebFetch.js"
import { call, text } from "./support.js"

interface TestServer {
  readonly port: number
  readonly origin: string
  /** Paths requested, in order. */
  readonly requests: Array<string>
  /** Resolves when a response was closed by the client before it ended. */
  readonly clientGone: Promise<void>
}

const PAGE = `<!doctype html>
<html><head><title>Test &amp; Page</title><style>body { color: red }</style>
<script>alert("no")</script></head>
<body><h1>Welcome</h1><p>Hello&nbsp;<b>world</b> &lt;3 &#x263A;</p>
<a href="/docs">Docs</a></body></html>`

/** A real local HTTP server with the routes the tests need. */
const startServer = Effect.acquireRelease(
  Effect.callback<{ readonly server: http.Server; readonly info: TestServer }>((resume) => {
    const requests: Array<string> = []
    let gone: () => void = () => undefined
    const clientGone = new Promise<void>((resolve) => {
      gone = resolve
    })
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x")
      requests.push(url.pathname + url.search)
      res.on("close", () => {
        if (!res.writableFinished) gone()
      })
      switch (url.pathname) {
        case "/html":
          res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE)
          return
        case "/text":
          res.writeHead(200, { "content-type": "text/plain" }).end("plain text body\n")
          return
        case "/latin1":
          res
            .writeHead(200, { "content-type": "text/plain; charset=iso-8859-1" })
            .end(Buffer.from([0x63, 0x61, 0x66, 0xe9]))
          return
        case "/gzip":
          res
            .writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" })
            .end(zlib.gzipSync(JSON.stringify({ ok: true })))
          return
        case "/redirect":
          res.writeHead(302, { location: url.searchParams.get("to") ?? "/text" }).end()
          return
        case "/loop":
          res.writeHead(301, { location: "/loop" }).end()
          return
        case "/missing":
          res.writeHead(404, { "content-type": "text/html" }).end("<h1>Not here</h1><p>Try elsewhere</p>")
          return
        case "/image":
          res.writeHead(200, { "content-type": "image/png" }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]))
          return
        case "/big":
          res.writeHead(200, { "content-type": "text/plain" })
          for (let i = 0; i < 100; i++) res.write("x".repeat(999) + "\n")
          res.end()
          return
        case "/empty":
          res.writeHead(200, { "content-type": "text/plain" }).end()
          return
        case "/hang":
          res.writeHead(200, { "content-type": "text/plain" })
          res.write("partial")
          return
        default:
          res.writeHead(500).end("unexpected")
      }
    })
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port
      resume(Effect.succeed({ server, info: { port, origin: `http://127.0.0.1:${port}`, requests, clientGone } }))
    })
  }),
  ({ server }) =>
    Effect.callback<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map(({ info }) => info))

/** Maps every name in `names` to 127.0.0.1 and counts the lookups. */
const fakeDns = (names: Record<string, ReadonlyArray<string>>) => {
  const calls: Array<string> = []
  const lookup: HostLookup = async (host) => {
    calls.push(host)
    const addresses = names[host]
    if (addresses === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" })
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }))
  }
  return { lookup, calls }
}

const fetchWith = (options: WebFetchOptions, url: string, prompt?: string) =>
  call(makeWebFetchTool(options), prompt === undefined ? { url } : { url, prompt })

describe("isBlockedAddress", () => {
  it.each([
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.255",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "198.18.0.1",
    "::1",
    "::",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "0:0:0:0:0:0:0:1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fe80::1%eth0",
    "febf::1",
    "fec0::1",
    "ff02::1",
    "64:ff9b::127.0.0.1",
    "64:ff9b::a00:1",
    "64:ff9b:1::1",
    "2002:7f00:1::",
    "2002:a9fe:a9fe::1",
    "2001:db8::1",
    "2001::1",
    "100::1",
    "not-an-ip",
    "",
    "1.2.3"
  ])("blocks %s", (ip) => {
    expect(isBlockedAddress(ip)).toBe(true)
  })

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "172.15.255.255",
    "172.32.0.1",
    "100.63.255.255",
    "100.128.0.1",
    "169.253.1.1",
    "192.169.0.1",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
    "fbff::1",
    "fe00::1"
  ])("allows %s", (ip) => {
    expect(isBlockedAddress(ip)).toBe(false)
  })
})

describe("htmlToText", () => {
  it("keeps the readable content and drops the rest", () => {
    expect(htmlToText(PAGE, "https://example.com/a/")).toBe(
      ["Title: Test & Page", "", "# Welcome", "", "Hello world <3 ☺", "", "[Docs](https://example.com/docs)"].join("\n")
    )
  })

  it("renders lists, tables, code, images and line breaks", () => {
    const html = `<body><h2>List</h2><ul><li>one</li><li>two<ol><li>a</li><li>b</li></ol></li></ul>
      <table><tr><th>k</th><th>v</th></tr><tr><td>x</td><td>1</td></tr></table>
      <pre>  keep
    spacing &amp; all</pre><p>Use <code>npm</code> now<br>next line</p><hr>
      <img src="a.png" alt="A cat"><img src="b.png"><!-- hidden --><noscript>no</noscript>
      <a href="javascript:alert(1)">js link</a> <a href="#top">top</a> <a href="mailto:a@b.c">mail</a>
      <a href="https://x.test/"><img src="i.png"></a> <svg><text>vector</text></svg> 5 < 6 &bogus; &#0; &#128512;</body>`
    expect(htmlToText(html)).toBe(
      [
        "## List",
        "",
        "- one",
        "- two",
        "  1. a",
        "  2. b",
        "",
        "| k | v |",
        "| - | - |",
        "| x | 1 |",
        "",
        "```",
        "  keep",
        "    spacing & all",
        "```",
        "",
        "Use `npm` now",
        "next line",
        "",
        "---",
        "",
        "[image: A cat] js link top [mail](mailto:a@b.c)  5 < 6 &bogus; \uFFFD 😀"
      ].join("\n")
    )
  })

  it("decodes character references", () => {
    expect(htmlToText("<p>&amp;&lt;&gt;&quot;&apos;&#65;&#x42;&eacute;&unknown;&amp</p>")).toBe("&<>\"'ABé&unknown;&")
    expect(htmlToText("<title>Only</title>")).toBe("Title: Only")
    expect(htmlToText("<p>unclosed <script>x")).toBe("unclosed")
  })
})

describe("WebFetch", () => {
  it.live("fetches a page from an allowed local server and converts HTML to text", () =>
    Effect.gen(function* () {
      const server = yield* startServer
      const result = yield* fetchWith({ allowPrivate: true }, `${server.origin}/html`, "the greeting")
      expect(result.status).toBe("success")
      expect(text(result)).toBe(
        [
          `URL: ${server.origin}/html`,
          "Status: 200 OK",
          "Content-Type: text/html; charset=utf-8",
          "Looking for: the greeting",
          "",
          "Title: Test & Page",
          "",
          "# Welcome",
          "",
          "Hello world <3 ☺",
          "",
          `[Docs](${server.origin}/docs)`
        ].join("\n")
      )
      const plain = text(yield* fetchWith({ allowedHosts: ["127.0.0.1"] }, `${server.origin}/text`))
      expect(plain.split("\n").slice(-1)).toEqual(["plain text body"])
      expect(text(yield* fetchWith({ allowPrivate: true }, `${server.origin}/latin1`))).toMatch(/\ncafé$/)
      expect(text(yield* fetchWith({ allowPrivate: true }, `${server.origin}/gzip`))).toMatch(/\n\{"ok":true\}$/)
      expect(text(yield* fetchWith({ allowPrivate: true }, `${server.origin}/empty`))).toMatch(/\n\(empty body\)$/)
      const tool = makeWebFetchTool()
      expect(tool).toMatchObject({ readOnly: true, kind: "network", concurrency: { type: "parallel" } })
    })
  )

  it.live("refuses loopback and private addresses in every spelling, before connecting", () =>
    Effect.gen(function* () {
      const server = yield* startServer
      const port = server.port
      const { lookup } = fakeDns({ "evil.test": ["127.0.0.1"], "mixed.test": ["8.8.8.8", "10.0.0.7"] })
      for (const url of [
        `http://127.0.0.1:${port}/text`,
        `http://[::1]:${port}/text`,
        `http://[::ffff:127.0.0.1]:${port}/text`,
        `http://2130706433:${port}/text`,
        `http://0x7f.1:${port}/text`,
        `http://0177.0.0.1:${port}/text`,
        `http://evil.test:${port}/text`,
        `http://mixed.test:${port}/text`,
        "http://169.254.169.254/latest/meta-data/",
        "https://[fe80::1]/"
      ]) {
        const result = yield* fetchWith({ lookup }, url)
        expect(result.status, url).toBe("error")
        expect(text(result), url).toMatch(/^Refusing to fetch .*non-public address\.$/)
      }
      expect(text(yield* fetchWith({ lookup }, `http://mixed.test:${port}/`))).toContain(
        "mixed.test resolves to 10.0.0.7"
      )
      // Real DNS: localhost (and its absolute form) resolves to loopback, or does not resolve at all.
      for (const url of [`http://localhost:${port}/text`, `http://localhost.:${port}/text`]) {
        const result = yield* fetchWith({}, url)
        expect(result.status, url).toBe("error")
        expect(text(result), url).toMatch(/^(Refusing to fetch|Could not resolve)/)
      }
      expect(server.requests).toEqual([])
    })
  )

  it.live("refuses other schemes, credentials and invalid URLs", () =>
    Effect.gen(function* () {
      const server = yield* startServer
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["file:///etc/passwd", "Only http and https URLs can be fetched, not file: URLs."],
        ["ftp://example.com/x", "Only http and https URLs can be fetched, not ftp: URLs."],
        ["javascript:alert(1)", "Only http and https URLs can be fetched, not javascript: URLs."],
        [
          `http://user:secret@127.0.0.1:${server.port}/text`,
          "URLs with credentials (user:password@host) are not fetched."
        ],
        ["not a url", '"not a url" is not a valid absolute URL.'],
        ["http://nowhere.test/", "Could not resolve nowhere.test: getaddrinfo ENOTFOUND nowhere.test"]
      ]
      const { lookup } = fakeDns({ "empty.test": [] })
      for (const [url, message] of cases) {
        const result = yield* fetchWith({ allowPrivate: true, lookup }, url)
        expect(result.status, url).toBe("error")
        expect(text(result), url).toBe(message)
      }
      expect(text(yield* fetchWith({ lookup }, "http://empty.test/"))).toBe(
        "Could not resolve empty.test: no addresses."
      )
      expect(server.requests).toEqual([])
    })
  )

  it.live("connects to the address it checked, without resolving the name again", () =>
    Effect.gen(function* () {
      const server = yield* startServer
      let lookups = 0
      // A rebinding resolver: the first answer is the test server, later ones an unreachable address.
      const lookup: HostLookup = async () => [{ address: lookups++ === 0 ? "127.0.0.1" : "10.255.255.1", family: 4 }]
      const result = yield* fetchWith(
        { lookup, allowedHosts: ["rebind.test"] },
        `http://rebind.test:${server.port}/text`
      )
      expect(result.status).toBe("success")
      expect(text(result)).toContain("plain text body")
      expect(lookups).toBe(1)
    })
  )

  it.live("follows redirects, checking every hop", () =>
    Effect.gen(function* () {
      const server = yield* startServer
      const { lookup, calls } = fakeDns({ "public.test": ["127.0.0.1"], localhost: ["127.0.0.1", "::1"] })
      const options: WebFetchOptions = { lookup, allowedHosts: [`public.test`] }
      const start = `http://public.test:${server.port}`

      const same = yield* fetchWith(options, `${start}/redirect?to=/text`)
      expect(same.status).toBe("success")
      expect(text(same)).toContain(`URL: ${start}/text\nRedirected from: ${start}/redirect?to=/text\nStatus: 200 OK`)

      for (const target of [`http://127.0.0.1:${server.port}/text`, `http://localhost:${server.port}/text`]) {
        server.requests.length = 0
        const refused = yield* fetchWith(options, `${start}/redirect?to=${encodeURIComponent(target)}`)
        expect(refused.status).toBe("error")
        expect(text(refused)).toMatch(/^Refusing to fetch http:\/\/(127\.0\.0\.1|localhost):\d+\/text: /)
        expect(server.requests).toEqual([`/redirect?to=${encodeURIComponent(target)}`])
      }
      const toFile = yield* fetchWith(options, `${start}/redirect?to=${encodeURIComponent("file:///etc/passwd")}`)
      expect(text(toFile)).toBe("Only http and https URLs can be fetched, not file: URLs.")

      server.requests.length = 0
      const loop = yield* fetchWith(options, `${start}/loop`)
      expect(loop.status).toBe("error")
      expect(text(loop)).toBe("Too many redirects (more than 5); the last one pointed to /loop.")
      expect(server.requests).toHaveLength(6)
      const noRedirects = yield* fetchWith({ ...options, maxRedirects: 0 }, `${start}/redirect?to=/text`)
      expect(text(noRedirects)).toBe("Too many redirects (more than 0); the last one pointed to /text.")
      expect(calls).toContain("localhost")
    })
  )

  it.live("caps the bytes read and the text returned", () =>
    Effect.gen(function* () {
      const server = yield* startServer
      const big = text(yield* fetchWith({ allowPrivate: true, maxBytes: 5000 }, `${server.origin}/big`))
      expect(big).toContain("(The response was larger than 5000 bytes; only the first 5000 bytes were read.)")
      expect(
        big
          .split("\n")
          .filter((l) => l.startsWith("x"))
          .join("\n")
      ).toHaveLength(5000 - 1)
      const cut = text(yield* fetchWith({ allowPrivate: true, maxOutputChars: 100 }, `${server.origin}/big`))
      expect(cut).toContain("(Content cut at 100 of 99999 characters.)")
      expect(cut).not.toContain("larger than")
    })
  )

  it.live("times out a slow response and closes the connection", () =>
    Effect.gen(function* () {
      const server = yield* startServer
      const result = yield* fetchWith({ allowPrivate: true, timeout: "300 millis" }, `${server.origin}/hang`)
      expect(result.status).toBe("error")
      expect(text(result)).toBe(`Fetching ${server.origin}/hang timed out after 300ms.`)
      yield* Effect.promise(() => server.clientGone)
    })
  )

  it.live("reports non-2xx statuses, binary content and connection failures", () =>
    Effect.gen(function* () {
      const server = yield* startServer
      const missing = yield* fetchWith({ allowPrivate: true }, `${server.origin}/missing`)
      expect(missing.status).toBe("error")
      expect(text(missing)).toBe(
        `${server.origin}/missing answered with HTTP status 404 Not Found.\n\n# Not here\n\nTry elsewhere`
      )
      const image = yield* fetchWith({ allowPrivate: true }, `${server.origin}/image`)
      expect(image.status).toBe("error")
      expect(text(image)).toBe(
        `${server.origin}/image returned image/png (7 bytes), which WebFetch cannot show as text.`
      )
      // A port nobody listens on (the server's own port after it closed is not reliable; port 1 is privileged).
      const refused = yield* fetchWith({ allowPrivate: true }, "http://127.0.0.1:1/")
      expect(refused.status).toBe("error")
      expect(text(refused)).toMatch(/^Fetching http:\/\/127\.0\.0\.1:1\/ failed: .*ECONNREFUSED/)
    })
  )
})
