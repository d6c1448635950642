import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Sessions the tests save (SDK runs persist by default) go to a scratch SAGE_HOME, never the user's ~/.sage.
    globalSetup: ["test/support/sessionHome.ts"],
    coverage: {
      provider: "v8",
      include: ["src/**/*.ts"],
      exclude: ["src/bin.ts"],
      reporter: ["text-summary", "text"],
      thresholds: { lines: 80, branches: 80 }
    }
  }
})
