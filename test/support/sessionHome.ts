/**
 * Vitest global setup: sessions that tests save without choosing a directory (SDK runs persist by default) go to a
 * scratch `SAGE_HOME` made for this run and removed after it, never to the user's `~/.sage`.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export default function setup(): () => void {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "sage-test-home-"))
  process.env.SAGE_HOME = home
  return () => fs.rmSync(home, { recursive: true, force: true })
}
