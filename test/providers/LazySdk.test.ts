/**
 * Each provider loads its vendor SDK only when it makes its first request: its modules import the SDK for types
 * only, so the CLI bundle (which imports the chosen provider dynamically) never loads the other vendor's SDK.
 */
import { readdirSync, readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"

const root = new URL("../../src/providers/", import.meta.url)
const vendors = ["@anthropic-ai/sdk", "openai", "@google/genai", "ollama"]

const sources = (dir: URL): ReadonlyArray<readonly [string, string]> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(new URL(`${entry.name}/`, dir))
      : entry.name.endsWith(".ts")
        ? [[`${dir.pathname}${entry.name}`, readFileSync(new URL(entry.name, dir), "utf8")] as const]
        : []
  )

/** Static `import ... from "<vendor>..."` statements that are not `import type`. */
const valueImports = (source: string): ReadonlyArray<string> =>
  [...source.matchAll(/^import\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gms)]
    .map((m) => m[1] ?? "")
    .filter((spec) => vendors.some((v) => spec === v || spec.startsWith(`${v}/`)))

describe("vendor SDKs are loaded lazily", () => {
  it("the guard sees a value import", () => {
    expect(valueImports('import OpenAI from "openai"\nimport type { X } from "openai/resources"')).toEqual(["openai"])
  })

  it("no provider module imports a vendor SDK other than for types; each loads it with import()", () => {
    const files = sources(root)
    expect(files.length).toBeGreaterThanOrEqual(6)
    for (const [path, source] of files) expect([path, valueImports(source)]).toEqual([path, []])
    const text = files.map(([, source]) => source).join("\n")
    expect(text).toContain('import("@anthropic-ai/sdk")')
    expect(text).toContain('import("openai")')
    expect(text).toContain('import("@google/genai")')
    expect(text).toContain('import("ollama/browser")')
  })
})
