/**
 * Each provider loads its vendor SDK only when it makes its first request: its modules import the SDK for types
 * only, so the CLI bundle (which imports the chosen provider dynamically) never loads the other vendor's SDK. A
 * provider may gather what it uses of its SDK in one `<Vendor>Sdk.ts` module (so a bundle keeps only that part); that
 * module is the one allowed to import the SDK, and it is itself only ever loaded with `import()`.
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

/** The modules of static `import`/`export ... from` statements that are not `import type` / `export type`. */
const staticImports = (source: string): ReadonlyArray<string> =>
  [...source.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1] ?? "")

/** Static value imports of a vendor SDK. */
const valueImports = (source: string): ReadonlyArray<string> =>
  staticImports(source).filter((spec) => vendors.some((v) => spec === v || spec.startsWith(`${v}/`)))

const isSdkModule = (path: string): boolean => /Sdk\.ts$/.test(path)

describe("vendor SDKs are loaded lazily", () => {
  it("the guard sees a value import or re-export", () => {
    expect(valueImports('import OpenAI from "openai"\nimport type { X } from "openai/resources"')).toEqual(["openai"])
    expect(valueImports('export { APIError } from "openai/core/error"\nexport type { Y } from "openai"')).toEqual([
      "openai/core/error"
    ])
  })

  it("no provider module imports a vendor SDK other than for types; each loads it with import()", () => {
    const files = sources(root)
    expect(files.length).toBeGreaterThanOrEqual(6)
    for (const [path, source] of files) {
      if (!isSdkModule(path)) expect([path, valueImports(source)]).toEqual([path, []])
      // An SDK module is never imported statically (a type import is erased).
      expect([path, staticImports(source).filter((spec) => /Sdk\.js$/.test(spec))]).toEqual([path, []])
    }
    const sdkModules = files.filter(([path]) => isSdkModule(path))
    expect(sdkModules.map(([path]) => path.replace(/.*\/providers\//, ""))).toEqual(["anthropic/AnthropicSdk.ts"])
    const text = files.map(([, source]) => source).join("\n")
    expect(text).toContain('import("./AnthropicSdk.js")')
    expect(text).toContain('import("openai")')
    expect(text).toContain('import("@google/genai")')
    expect(text).toContain('import("ollama/browser")')
  })
})
