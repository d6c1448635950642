#!/usr/bin/env node
/**
 * The `sage` executable. `--version` is answered before anything heavy loads. Everything else runs `runCli` (the
 * tested CLI logic, `cli/main.ts`) under `NodeRuntime.runMain` with this process's streams, environment and signals.
 */
import { VERSION } from "./cli/version.js"

const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  process.stdout.write(`${VERSION}\n`)
} else {
  // Keep V8's compiled code between runs (Node >= 22.1).
  const nodeModule = process.getBuiltinModule("node:module")
  nodeModule.enableCompileCache?.()
  const { useCompactHeap, withdrawCredentials } = await import("./cli/early.js")
  // The REPL and `sage mcp serve` are long-lived and have no start-up race to win: compact heap before anything
  // loads (a guess; `runCli` switches anyway where it matters, `-p` at its first model response).
  const print = argv.some((a) => a === "-p" || a === "--print" || a.startsWith("--print="))
  if ((argv[0] === "mcp" && argv[1] === "serve") || (!print && process.stdin.isTTY === true)) useCompactHeap()
  // The CLI works on a copy of the environment; credentials leave the process's own (see cli/Credentials.ts).
  const env = withdrawCredentials(process.env)
  // A run needs the agent's wiring: start loading it together with the CLI.
  const isRun =
    !argv.some((a) => a === "--help" || a === "-h" || a === "--version" || a === "-v") && argv[0] !== "permissions"
  if (isRun) {
    // A guess is enough here (`runCli` parses properly): it only decides which provider SDK starts loading early.
    const provider = argv.some((a) => a === "openai" || a === "--provider=openai")
      ? "openai"
      : process.env.SAGE_PROVIDER
    import("./cli/preload.js").then(
      ({ preloadAgent }) => preloadAgent(provider),
      () => undefined
    )
  }
  const { runCli, NodeRuntime, Cause, Effect, Exit, killDescendants } = await import("./cli/start.js")
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const
  let code: number | undefined
  const program = Effect.map(
    runCli({
      argv,
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      env,
      cwd: process.cwd(),
      onSignal: (handler) => {
        for (const signal of signals) process.on(signal, handler)
        return () => {
          for (const signal of signals) process.off(signal, handler)
        }
      },
      // Persist the compile cache as soon as everything is loaded: a run that is killed never reaches exit.
      onLoaded: () => {
        nodeModule.flushCompileCache?.()
      },
      // An agent process allocates in bursts (each request serializes the conversation): keep the heap compact
      // once start-up speed no longer matters (process/Heap.ts).
      compactHeap: useCompactHeap,
      // A second signal: kill every process group we started now (no grace), then exit.
      forceExit: (exitCode) => {
        killDescendants()
        process.exit(exitCode)
      }
    }),
    (exitCode) => {
      code = exitCode
    }
  )
  // `runCli` never fails and handles signals itself: while a turn runs it is uninterruptible, so runMain's own
  // SIGINT/SIGTERM interruption waits for the graceful stop (and its output) instead of cutting it short.
  NodeRuntime.runMain(program, {
    disableErrorReporting: true,
    teardown: (exit, onExit) => {
      // The CLI's own code; else (interrupted outside a turn) what the exit says: 130 interrupted, 1 otherwise.
      const exitCode = code ?? (Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? 130 : 1)
      // Exit once what was written has reached the pipes (a lingering handle must not keep the process alive).
      process.exitCode = exitCode
      setTimeout(() => process.exit(exitCode), 2000).unref()
      let pending = 2
      const done = () => {
        pending--
        if (pending > 0) return
        onExit(exitCode)
        process.exit(exitCode)
      }
      for (const stream of [process.stdout, process.stderr]) {
        if (stream.destroyed || stream.writableEnded) done()
        else stream.write("", done)
      }
    }
  })
}
