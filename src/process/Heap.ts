/**
 * V8 heap settings for a long-lived agent process.
 *
 * An agent allocates in bursts: every model request serializes the whole conversation (hundreds of KB near the
 * context window) and every response streams through parsers, so V8's defaults let the young generation grow to its
 * maximum and the old generation fill with dead request bodies before a full collection. That is harmless for
 * throughput and costs 2-3x the memory: a 500-turn session peaks at ~300-400 MB with 40 MB live.
 *
 * `useCompactHeap` keeps the young generation at its initial size (no growth) and starts a full collection when the
 * old generation grows 30% past what survived the last one. Both are V8 flags that the heap reads each time it sizes
 * itself, so they apply when set from a running process. Measured with `bench/sessions-long.mjs`: peak RSS ~150 MB
 * instead of ~300-400 MB, for ~15-40% more CPU in that allocation-heavy loop (a few ms per turn).
 *
 * A process-wide setting: call it once from an application's entry point, not from a library. The `sage` CLI calls it
 * at once in the REPL and `sage mcp serve`, and in `sage -p` at its first model response (the extra collections
 * would slow the way to the first request by ~15%).
 */
import * as v8 from "node:v8"

/** The V8 flags `useCompactHeap` sets. */
export const compactHeapFlags: ReadonlyArray<string> = ["--semi-space-growth-factor=1", "--heap-growing-percent=30"]

/** Applies `compactHeapFlags` to this process's V8. */
export const useCompactHeap = (): void => {
  for (const flag of compactHeapFlags) v8.setFlagsFromString(flag)
}
