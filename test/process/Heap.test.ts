/** `useCompactHeap`'s flags take effect when set from a running process (the CLI sets them once start-up is over). */
import { execFileSync } from "node:child_process"
import { describe, expect, it } from "@effect/vitest"
import { compactHeapFlags } from "../../src/process/Heap.js"

/** A child Node that sets `flags` at run time, then churns through objects of which 100,000 are always alive. */
const newSpaceMbAfterChurn = (flags: ReadonlyArray<string>): number => {
  const script = `
    const v8 = require("node:v8")
    for (const flag of JSON.parse(process.argv[1])) v8.setFlagsFromString(flag)
    const ring = new Array(100000)
    for (let i = 0; i < 3000000; i++) ring[i % ring.length] = { i, s: "x" + i }
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")
    process.stdout.write(String(space.space_size / 1048576))`
  // A clean environment: no NODE_OPTIONS of the test runner's.
  const env = { PATH: process.env.PATH }
  return Number(execFileSync(process.execPath, ["-e", script, JSON.stringify(flags)], { encoding: "utf8", env }))
}

describe("useCompactHeap", () => {
  it("keeps V8's young generation from growing when set at run time", () => {
    const compact = newSpaceMbAfterChurn(compactHeapFlags)
    const usual = newSpaceMbAfterChurn([])
    // Without the flags the young generation grows to its maximum (128 MB on 64-bit Node 24); with them it stays at
    // a few MB (2-12 MB seen, more on a loaded machine, where V8 also grows it after slow scavenges).
    expect(usual).toBeGreaterThanOrEqual(64)
    expect(compact * 4).toBeLessThanOrEqual(usual)
  })
})
