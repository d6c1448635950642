#!/usr/bin/env node
// The `sage` executable. `--version` is answered before anything heavy loads; everything else loads the CLI.
import * as nodeModule from "node:module"
import { VERSION } from "./cli/version.js"

const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  process.stdout.write(`${VERSION}\n`)
} else {
  // Node >= 22.1 can keep V8's compiled code between runs (a no-op on Node 20, which lacks it).
  const withCache = nodeModule as { enableCompileCache?: () => unknown }
  withCache.enableCompileCache?.()
  const { runCli } = await import("./cli/main.js")
  runCli(process.argv)
}
