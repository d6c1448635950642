#!/usr/bin/env node
// The `sage` executable. `--version` is answered before anything heavy loads; everything else loads the CLI.
import { VERSION } from "./cli/version.js"

const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  process.stdout.write(`${VERSION}\n`)
} else {
  const { runCli } = await import("./cli/main.js")
  runCli(process.argv)
}
