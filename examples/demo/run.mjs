// `npm run demo`: the real `sage` CLI against the scripted local model server, on a temporary copy of the
// example project. No API key and no network needed: every request goes to 127.0.0.1.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { createModelServer } from "./model-server.mjs"

const here = path.dirname(fileURLToPath(import.meta.url))
const bin = path.resolve(here, "../../dist/bin.js")
if (!fs.existsSync(bin)) {
  process.stderr.write("demo: dist/bin.js is missing; run `npm run build` first (npm run demo does)\n")
  process.exit(1)
}

const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "sage-demo-"))
fs.cpSync(path.join(here, "project"), workspace, { recursive: true })

const server = createModelServer()
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
const { port } = server.address()

const format = process.argv.includes("--stream-json") ? "stream-json" : "text"
process.stderr.write(`demo: model server on 127.0.0.1:${port}, workspace ${workspace}\n\n`)
const child = spawn(
  process.execPath,
  [
    bin,
    "-p",
    "What does this project export, and do its tests pass?",
    "--cwd",
    workspace,
    "--allowed-tools",
    "Bash(node test.js)",
    "--output-format",
    format
  ],
  {
    stdio: "inherit",
    env: {
      ...process.env,
      SAGE_PROVIDER: "anthropic",
      SAGE_MODEL: "claude-demo",
      ANTHROPIC_API_KEY: "demo-key-not-secret",
      ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`
    }
  }
)
const code = await new Promise((resolve) => child.on("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0))))
server.close()
fs.rmSync(workspace, { recursive: true, force: true })
process.exit(code)
