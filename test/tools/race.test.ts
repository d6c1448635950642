/**
 * Path races (issue 8, class 7): a real child process swaps a workspace directory with a symlink to a directory
 * outside the workspace in a tight loop while the real Write and Read tools run 2000 calls each against files in
 * that directory. Not one write may land outside and not one read may return outside content. A control run
 * (check by path, then write by path, as the tools did before) shows that the swapper really opens the window.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import { makeReadTool } from "../../src/tools/Read.js"
import { makeWriteTool, writeFileAtomic } from "../../src/tools/Write.js"
import { Workspace } from "../../src/services/Workspace.js"
import { onWorkspace } from "./fileSupport.js"
import { call, tempDir, text } from "./support.js"

const CALLS = 2000

/**
 * Swaps `ws/d` (a directory) with `ws/d.link` (a symlink to the outside directory) by four renames in a loop: for
 * a quarter of the time `ws/d` is the symlink. A directory a writer made at `ws/d` while it was missing is moved
 * aside (inside the workspace) so the loop goes on. It keeps writing how many times `ws/d` became the symlink.
 */
const RENAME_SWAPPER = `
const fs = require("node:fs")
const [ws] = process.argv.slice(1)
const d = ws + "/d", real = ws + "/d.real", link = ws + "/d.link"
let aside = 0, windows = 0
// Renames from to d; a directory a writer made at d meanwhile is moved aside (it stays in the workspace).
const intoD = (from) => {
  for (let i = 0; i < 5; i++) {
    try { fs.renameSync(from, d); return true } catch (e) {
      if (e.code === "ENOENT" && !fs.existsSync(from)) return false
      try { fs.renameSync(d, ws + "/aside-" + aside++) } catch {}
    }
  }
  return false
}
const away = (to) => { try { fs.renameSync(d, to) } catch {} }
fs.writeFileSync(ws + "/swapper.ready", "")
for (let i = 1; ; i++) {
  away(real)
  if (intoD(link)) windows++
  away(link)
  intoD(real)
  // The loop never yields to signal handlers: the count is written as it goes.
  // Replaced whole (never truncated in place), so a kill at any point leaves a complete count.
  if (i % 256 === 0) { fs.writeFileSync(ws + "/swapper.windows.tmp", String(windows)); fs.renameSync(ws + "/swapper.windows.tmp", ws + "/swapper.windows") }
}
`

/** \`renameat2(RENAME_EXCHANGE)\` of \`ws/d\` and \`ws/d.link\` in a loop (Python's ctypes, when Python is there). */
const EXCHANGE_SWAPPER = `
import ctypes, os, sys, signal
ws = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
a = (ws + "/d").encode(); b = (ws + "/d.link").encode()
windows = 0
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
open(ws + "/swapper.ready", "w").close()
i = 0
while True:
    i += 1
    if libc.renameat2(-100, a, -100, b, 2) == 0:
        windows += 1
    if i % 256 == 0:
        with open(ws + "/swapper.windows.tmp", "w") as f:
            f.write(str(windows // 2))
        os.replace(ws + "/swapper.windows.tmp", ws + "/swapper.windows")
`

const hasExchange = (() => {
  try {
    execFileSync("python3", ["-c", "import ctypes; ctypes.CDLL(None).renameat2"], { stdio: "ignore", timeout: 5000 })
    return true
  } catch {
    return false
  }
})()

/** Starts a swapper and waits until it runs; killed when the scope closes. */
const swapper = (kind: "rename" | "exchange", ws: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const child: ChildProcess =
        kind === "rename"
          ? spawn(process.execPath, ["-e", RENAME_SWAPPER, ws], { stdio: "ignore" })
          : spawn("python3", ["-c", EXCHANGE_SWAPPER, ws], { stdio: "ignore" })
      const ready = path.join(ws, "swapper.ready")
      for (let i = 0; i < 500 && !fs.existsSync(ready); i++) await new Promise((r) => setTimeout(r, 10))
      if (!fs.existsSync(ready)) throw new Error(`the ${kind} swapper did not start`)
      return child
    }),
    (child) =>
      Effect.promise(
        () =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve()
            const timer = setTimeout(() => child.kill("SIGKILL"), 2000)
            child.once("exit", () => {
              clearTimeout(timer)
              resolve()
            })
            child.kill("SIGTERM")
          })
      )
  )

/** Every file under `dir` (recursively). */
const filesUnder = (dir: string): Array<string> =>
  fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => fs.lstatSync(path.join(dir, f)).isFile())

const setup = Effect.gen(function* () {
  const base = yield* tempDir
  const ws = path.join(base, "ws")
  const outside = path.join(base, "outside")
  fs.mkdirSync(path.join(ws, "d"), { recursive: true })
  fs.mkdirSync(outside)
  fs.writeFileSync(path.join(ws, "d", "secret.txt"), "INSIDE\n")
  fs.writeFileSync(path.join(outside, "secret.txt"), "OUTSIDE\n")
  fs.symlinkSync(outside, path.join(ws, "d.link"))
  return { ws, outside }
})

const race = (kind: "rename" | "exchange") =>
  Effect.scoped(
    Effect.gen(function* () {
      const { ws, outside } = yield* setup
      const tools = yield* Effect.all({ read: makeReadTool(), write: makeWriteTool() }).pipe(onWorkspace([ws]))
      let writesOk = 0
      let readsOk = 0
      let readsOutside = 0
      // The swapper runs in its own scope: stopped before anything is counted.
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* swapper(kind, ws)
          for (let i = 0; i < CALLS; i++) {
            const written = yield* call(tools.write, { file_path: `d/w${i}.txt`, content: `write ${i}\n` })
            if (written.status === "success") writesOk++
            const read = yield* call(tools.read, { file_path: "d/secret.txt" })
            if (text(read).includes("OUTSIDE")) readsOutside++
            else if (read.status === "success") readsOk++
          }
        })
      )
      const windows = Number(fs.readFileSync(path.join(ws, "swapper.windows"), "utf8"))
      const outsideFiles = filesUnder(outside).filter((f) => f !== "secret.txt")
      const landedInside = filesUnder(ws).filter((f) => /(^|\/)w\d+\.txt$/.test(f)).length
      console.log(
        `race (${kind} swapper, ${windows} swaps to the symlink): ${CALLS} Write calls: ${writesOk} succeeded, ${landedInside} files inside, ${outsideFiles.length} outside; ${CALLS} Read calls: ${readsOk} read the inside file, ${readsOutside} returned outside content`
      )
      // The swapper kept swapping through the whole run.
      expect(windows).toBeGreaterThan(CALLS)
      expect(outsideFiles).toEqual([])
      expect(readsOutside).toBe(0)
      expect(fs.readFileSync(path.join(outside, "secret.txt"), "utf8")).toBe("OUTSIDE\n")
      // The swapper left the tools room to work: some calls went through.
      expect(writesOk).toBeGreaterThan(0)
      expect(readsOk).toBeGreaterThan(0)
      expect(landedInside).toBe(writesOk)
    })
  )

describe("path races", () => {
  it.live("the rename swapper opens the window for a check-then-use write (control)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { ws, outside } = yield* setup
        const { files, workspace } = yield* Effect.all({ files: FileSystem.FileSystem, workspace: Workspace }).pipe(
          onWorkspace([ws])
        )
        let attempts = 0
        yield* Effect.scoped(
          Effect.gen(function* () {
            yield* swapper("rename", ws)
            while (attempts < CALLS && !fs.readdirSync(outside).some((f) => f.startsWith("n"))) {
              attempts++
              const resolved = yield* Effect.option(workspace.resolve(`d/n${attempts}.txt`))
              if (resolved._tag === "Some") {
                yield* Effect.ignore(writeFileAtomic(files, resolved.value, new TextEncoder().encode("naive\n")))
              }
            }
          })
        )
        console.log(`control: a check-then-write by path landed outside after ${attempts} attempts`)
        expect(filesUnder(outside).length).toBeGreaterThan(1)
      })
    )
  )

  it.live(`${CALLS} Writes and ${CALLS} Reads against a rename swapper: nothing outside`, () => race("rename"), 120_000)

  it.live.skipIf(!hasExchange)(
    `${CALLS} Writes and ${CALLS} Reads against a renameat2(RENAME_EXCHANGE) swapper: nothing outside`,
    () => race("exchange"),
    120_000
  )
})
