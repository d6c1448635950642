/** Kept in step with package.json by test/cli (a mismatch fails the tests). */
export const VERSION = "0.1.0"
