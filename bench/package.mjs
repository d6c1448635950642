// The package as a consumer gets it: `npm pack`, then a fresh install of the tarball next to `effect` in a temporary
// project. Prints what Sage adds to node_modules besides `effect` (target <= 60 MB with the two default providers),
// and type-checks every README code block marked `<!-- consumer-check -->` against the installed package, so the
// README's examples and the peer dependency on `effect` are checked together (one `effect` shared by app and Sage).
//
//   node bench/package.mjs [--effect VERSION] [--keep]
// Needs the npm registry (it installs), so it is a script (run by CI and `npm run bench`), not a unit test.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const args = process.argv.slice(2)
const flag = (name) => {
  const i = args.indexOf(name)
  return i === -1 ? undefined : args[i + 1]
}
const npm = (argv, cwd) => execFileSync("npm", argv, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))

/** The newest published `effect` that satisfies the peer range (the consumer's choice, not our dev pin). */
const effectVersion =
  flag("--effect") ??
  (() => {
    const versions = JSON.parse(npm(["view", `effect@${pkg.peerDependencies.effect}`, "version", "--json"], root))
    return Array.isArray(versions) ? versions[versions.length - 1] : versions
  })()

/** Disk use of a directory in bytes (files only, symlinks not followed). */
const du = (dir) => {
  let total = 0
  const stack = [dir]
  while (stack.length > 0) {
    const d = stack.pop()
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name)
      if (entry.isDirectory()) stack.push(p)
      else if (entry.isFile()) total += fs.statSync(p).size
    }
  }
  return total
}
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`

const work = fs.mkdtempSync(path.join(os.tmpdir(), "sage-consumer-"))
try {
  const tarball = path.join(work, JSON.parse(npm(["pack", "--json", "--pack-destination", work], root))[0].filename)
  const packed = fs.statSync(tarball).size
  const app = path.join(work, "app")
  fs.mkdirSync(app)
  fs.writeFileSync(
    path.join(app, "package.json"),
    JSON.stringify(
      { name: "consumer", private: true, type: "module", dependencies: { effect: effectVersion } },
      null,
      2
    )
  )
  npm(["install", "--no-audit", "--no-fund", "--omit=dev", tarball], app)

  const modules = path.join(app, "node_modules")
  const total = du(modules)
  const effect = du(path.join(modules, "effect"))
  const sage = du(path.join(modules, "sage-agent"))
  const installedEffect = JSON.parse(fs.readFileSync(path.join(modules, "effect", "package.json"), "utf8")).version
  const nested = fs.existsSync(path.join(modules, "sage-agent", "node_modules", "effect"))
  console.log("\n(f) package: npm pack + a fresh consumer install (--omit=dev)")
  console.log("    tarball %s, sage-agent itself %s", mb(packed), mb(sage))
  console.log(
    "    node_modules %s, effect %s, everything Sage adds besides effect %s (target <= 60 MB)",
    mb(total),
    mb(effect),
    mb(total - effect)
  )
  if (nested) throw new Error("sage-agent installed its own copy of effect: the app and Sage would not share one")
  console.log(
    "    effect %s (peer range %s) is the one copy, shared by the app and Sage",
    installedEffect,
    pkg.peerDependencies.effect
  )

  // Type-check the README's marked examples against the installed package.
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")
  const blocks = [...readme.matchAll(/<!-- consumer-check -->\s*```ts\n([\s\S]*?)```/g)].map((m) => m[1])
  if (blocks.length === 0) throw new Error("README has no <!-- consumer-check --> example")
  for (const [i, code] of blocks.entries()) fs.writeFileSync(path.join(app, `example${i + 1}.ts`), code)
  fs.writeFileSync(
    path.join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ["node"],
        typeRoots: [path.join(root, "node_modules", "@types")]
      },
      include: ["*.ts"]
    })
  )
  execFileSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", app], {
    stdio: "inherit"
  })
  console.log(
    "    %d README example(s) type-check against the packed package and effect %s",
    blocks.length,
    installedEffect
  )
  if (total - effect > 60e6) process.exitCode = 1
} finally {
  if (!args.includes("--keep")) fs.rmSync(work, { recursive: true, force: true })
  else console.log("    kept %s", work)
}
