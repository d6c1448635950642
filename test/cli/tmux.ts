/**
 * Driving a program in a real terminal: a tmux server of its own (a socket in a fresh temporary directory), one window of a fixed size,
 * keys sent with `send-keys`, the screen read with `capture-pane`. The server is killed when the scope closes.
 */
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"

export const hasTmux = (): boolean => spawnSync("tmux", ["-V"], { encoding: "utf8" }).status === 0

export interface Tmux {
  /** Sends keys (tmux key names such as `Enter`, `C-c`, `C-d`, `Escape`, `Up`). */
  readonly keys: (...keys: ReadonlyArray<string>) => void
  /** Types text literally. */
  readonly type: (text: string) => void
  /** The visible screen, wrapped lines joined. */
  readonly screen: () => string
  /** Waits (real time) until `check(screen)` holds; fails with the screen when the deadline passes. */
  readonly waitFor: (what: string, check: (screen: string) => boolean, ms?: number) => Effect.Effect<string>
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Starts `command` (argv) in a new tmux server; `env` is the program's whole environment. */
export const startTmux = (
  command: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>,
  size: { readonly width: number; readonly height: number } = { width: 120, height: 40 }
) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      // A socket of its own in a directory of its own (removed with the server): no other tmux is ever touched.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sage-test-tmux-"))
      const socket = path.join(dir, "socket")
      const tmux = (...args: ReadonlyArray<string>) =>
        execFileSync("tmux", ["-S", socket, ...args], {
          encoding: "utf8",
          env: { PATH: process.env.PATH, TERM: "xterm-256color" }
        })
      const assignments = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]))
      // The program's exit code is left on the screen when it ends, and the pane stays for reading it.
      const script = `${command.map(shellQuote).join(" ")}; echo "[exit $?]"; sleep 600`
      tmux(
        "new-session",
        "-d",
        "-s",
        "main",
        "-x",
        String(size.width),
        "-y",
        String(size.height),
        "env",
        "-i",
        ...assignments,
        "sh",
        "-c",
        script
      )
      return { dir, tmux }
    }),
    ({ dir, tmux }) =>
      Effect.sync(() => {
        try {
          tmux("kill-server")
        } catch {
          // already gone
        }
        fs.rmSync(dir, { recursive: true, force: true })
      })
  ).pipe(
    Effect.map(({ tmux }): Tmux => {
      const screen = () => tmux("capture-pane", "-p", "-J", "-t", "main")
      return {
        keys: (...keys) => {
          tmux("send-keys", "-t", "main", ...keys)
        },
        type: (text) => {
          tmux("send-keys", "-t", "main", "-l", text)
        },
        screen,
        waitFor: (what, check, ms = 10_000) =>
          Effect.promise(async () => {
            const deadline = Date.now() + ms
            let last = screen()
            while (!check(last)) {
              if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen:\n${last}`)
              await sleep(25)
              last = screen()
            }
            return last
          })
      }
    })
  )

export const shellQuote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`)
