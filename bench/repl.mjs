// The REPL's start-up, side by side with `sage -p` in the same run: the interactive prompt ready (on a real pseudo
// terminal, made by util-linux `script`) vs `sage -p` to its first request (target <= 1.5x). Also: the REPL's first
// request when a prompt is typed at once (the agent loads behind the prompt).
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fmt, startServer, stats, target } from "./support.mjs"

const hasScript = () => spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0

/** Spawns `node bin` under a pseudo terminal; resolves with the times of the prompt and of the first request. */
const replRun = (bin, env, onRequest, { typeAtOnce }) =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    let prompt
    let request
    onRequest.current = () => {
      request ??= performance.now() - t0
      if (typeAtOnce) finish()
    }
    const command = `stty cols 120 rows 40; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} --sandbox off`
    const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
      env: { ...process.env, TERM: "xterm-256color", ...env },
      stdio: ["pipe", "pipe", "pipe"]
    })
    let out = ""
    let done = false
    const finish = () => {
      if (done) return
      done = true
      child.kill("SIGKILL")
    }
    child.stdout.on("data", (d) => {
      out += d
      if (prompt === undefined && out.includes("›")) {
        prompt = performance.now() - t0
        if (typeAtOnce) child.stdin.write("hi\r")
        else finish()
      }
    })
    child.on("error", reject)
    child.on("exit", () => resolve({ prompt, request, out }))
    setTimeout(finish, 15_000).unref()
  })

const printRun = (bin, env, onRequest) =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    let request
    onRequest.current = () => {
      request ??= performance.now() - t0
    }
    const child = spawn(process.execPath, [bin, "-p", "hi", "--max-steps", "1"], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"]
    })
    let err = ""
    child.stderr.on("data", (d) => (err += d))
    child.on("error", reject)
    child.on("exit", () => resolve({ request, err }))
  })

export async function replStartup(bin, runs = 10) {
  if (!hasScript()) {
    console.log("\n(g) REPL start-up: skipped (util-linux `script` is not installed)")
    return
  }
  const onRequest = { current: () => {} }
  const server = await startServer((_req, res) => {
    onRequest.current()
    res.writeHead(401, { "content-type": "application/json" })
    res.end(JSON.stringify({ type: "error", error: { type: "authentication_error", message: "bench" } }))
  })
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "sage-bench-repl-"))
  const env = {
    ANTHROPIC_API_KEY: "bench",
    ANTHROPIC_BASE_URL: server.url,
    SAGE_PROVIDER: "anthropic",
    HOME: home,
    SAGE_HOME: path.join(home, ".sage")
  }
  const promptReady = []
  const replRequest = []
  const printRequest = []
  try {
    for (let i = 0; i < runs + 2; i++) {
      const p = await printRun(bin, env, onRequest)
      const r = await replRun(bin, env, onRequest, { typeAtOnce: false })
      const t = await replRun(bin, env, onRequest, { typeAtOnce: true })
      if (i < 2) continue // warm-up (disk cache, compile cache)
      if (p.request === undefined) throw new Error(`sage -p never reached the server: ${p.err}`)
      if (r.prompt === undefined) throw new Error(`the REPL never showed its prompt: ${JSON.stringify(r.out)}`)
      if (t.request === undefined) throw new Error(`the REPL never sent the typed prompt: ${JSON.stringify(t.out)}`)
      printRequest.push(p.request)
      promptReady.push(r.prompt)
      replRequest.push(t.request)
    }
  } finally {
    await server.close()
    fs.rmSync(home, { recursive: true, force: true })
  }
  const p = stats(printRequest)
  const r = stats(promptReady)
  const t = stats(replRequest)
  console.log("\n(g) REPL start-up, %d runs each (on a pseudo terminal via `script`)", runs)
  console.log("    sage -p to first request            median %s  p95 %s", fmt(p.median), fmt(p.p95))
  console.log(
    "    sage (REPL) to the prompt           median %s  p95 %s   ratio %sx %s",
    fmt(r.median),
    fmt(r.p95),
    (r.median / p.median).toFixed(2),
    target("<= 1.5x", r.median <= 1.5 * p.median)
  )
  console.log(
    "    sage (REPL), typed at once, to the first request  median %s  p95 %s   ratio %sx",
    fmt(t.median),
    fmt(t.p95),
    (t.median / p.median).toFixed(2)
  )
}
