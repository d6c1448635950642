// server-everything's Streamable HTTP transport, bound to 127.0.0.1 only (it listens on all interfaces by
// default): every `listen` is forced onto 127.0.0.1, and the chosen address is printed on stdout as JSON.
import http from "node:http"
import { createRequire } from "node:module"
import * as path from "node:path"

const listen = http.Server.prototype.listen
http.Server.prototype.listen = function (port, ...rest) {
  const callback = rest.find((a) => typeof a === "function")
  this.once("listening", () => process.stdout.write(`${JSON.stringify(this.address())}\n`))
  return listen.call(this, Number(port), "127.0.0.1", callback)
}
process.env.PORT = process.env.PORT ?? "0"
const require = createRequire(import.meta.url)
const main = require.resolve("@modelcontextprotocol/server-everything/package.json")
const which = process.argv[2] === "sse" ? "sse.js" : "streamableHttp.js"
await import(path.join(path.dirname(main), "dist", "transports", which))
