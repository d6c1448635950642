// Part of `npm run build`: the library modules that load third-party code only on demand (the MCP client SDK and
// ajv) are re-built by esbuild with that code bundled in, so the published package needs neither as a dependency.
// Sage's own modules and `effect` stay external imports, so the rebuilt files sit where `tsc` put them and link to
// the same module instances as the rest of `dist/`.
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const entries = ["mcp/Sdk", "agent/JsonSchemaValidator"]

/** Relative imports (Sage's own modules) and effect stay imports; packages are bundled. */
const keepOwnModulesExternal = {
  name: "keep-own-modules-external",
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) =>
      args.kind === "entry-point" || args.importer.includes(`${path.sep}node_modules${path.sep}`)
        ? undefined
        : { path: args.path, external: true }
    )
    b.onResolve({ filter: /^effect(\/|$)/ }, (args) => ({ path: args.path, external: true }))
  }
}

await build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(entries.map((e) => [e, `src/${e}.ts`])),
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  mainFields: ["module", "main"],
  chunkNames: "vendor/[name]-[hash]",
  plugins: [keepOwnModulesExternal],
  logLevel: "warning"
})
