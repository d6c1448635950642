import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import ts from "typescript"

const root = path.resolve(import.meta.dirname, "../..")

/** The `.d.ts` files TypeScript emits for the SDK entry point (`sage-agent/sdk`) and what they import. */
const sdkDeclarations = (): Map<string, string> => {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(root, "tsconfig.build.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"))
      }
    }
  )
  if (config === undefined) throw new Error("tsconfig.build.json not found")
  const program = ts.createProgram([path.join(root, "src/sdk/index.ts")], {
    ...config.options,
    declaration: true,
    emitDeclarationOnly: true,
    noEmit: false,
    noCheck: true,
    outDir: "/virtual-dist"
  })
  const files = new Map<string, string>()
  program.emit(undefined, (fileName, text) => {
    files.set(path.relative("/virtual-dist", fileName), text)
  })
  return files
}

/** The declarations without their comments (doc examples mention other modules). */
const code = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "")

/** Every module a declaration file imports or re-exports, relative ones resolved against the emitted tree. */
const importsOf = (file: string, text: string): ReadonlyArray<string> =>
  Array.from(code(text).matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g), (m) => {
    const spec = m[1] ?? ""
    return spec.startsWith(".") ? path.join(path.dirname(file), spec).replace(/\.js$/, ".d.ts") : spec
  })

describe("the SDK's public types", () => {
  it("the declarations reachable from sage-agent/sdk never mention Effect", () => {
    const files = sdkDeclarations()
    const seen = new Set<string>()
    const queue = ["sdk/index.d.ts"]
    while (queue.length > 0) {
      const file = queue.pop() ?? ""
      if (seen.has(file)) continue
      seen.add(file)
      const text = files.get(file)
      if (text === undefined) throw new Error(`the SDK's declarations import ${file}, which was not emitted`)
      const imports = importsOf(file, text)
      expect(
        imports.filter((spec) => !spec.startsWith("sdk/")),
        file
      ).toEqual([])
      expect(code(text), file).not.toMatch(/\beffect\b\/|from "effect"|Effect\.Effect|Schema\./)
      queue.push(...imports)
    }
    expect([...seen].sort()).toEqual([
      "sdk/SageAgentSDK.d.ts",
      "sdk/errors.d.ts",
      "sdk/index.d.ts",
      "sdk/options.d.ts",
      "sdk/types.d.ts"
    ])
  }, 60_000)
})
