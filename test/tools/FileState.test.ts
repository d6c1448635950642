import * as fs from "node:fs"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { HASH_LIMIT, makeFileState, sameFile } from "../../src/workspace/FileState.js"
import { tempDir, writeFiles } from "./support.js"
import type { FileStateError } from "../../src/services/FileState.js"

const refusal = (effect: Effect.Effect<void, FileStateError>) =>
  Effect.map(Effect.flip(effect), (error) => ({ reason: error.reason, message: error.message }))

layer(NodeServices.layer)("FileState", (it) => {
  it.effect("a new file needs no read; an existing one must have been read", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      writeFiles(dir, { "a.txt": "a" })
      const state = yield* makeFileState()
      yield* state.checkWritable(path.join(dir, "new.txt"))
      yield* state.checkWritable(path.join(dir, "no-dir", "new.txt"))
      const file = path.join(dir, "a.txt")
      const unread = yield* refusal(state.checkWritable(file))
      expect(unread).toEqual({
        reason: "not-read",
        message: `${file} exists but has not been read in this session. Read it first (with the Read tool), then write or edit it.`
      })
      yield* state.recordRead(file)
      yield* state.checkWritable(file)
      expect(Option.getOrThrow(yield* state.get(file))).toMatchObject({ size: 1 })
      expect(Option.isNone(yield* state.get(path.join(dir, "new.txt")))).toBe(true)
    })
  )

  it.effect("refuses a file changed since it was read, until it is read again", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      writeFiles(dir, { "a.txt": "one" })
      const file = path.join(dir, "a.txt")
      const state = yield* makeFileState()
      yield* state.recordRead(file)
      // Same size, different content: detected by the hash whatever the clock resolution.
      fs.writeFileSync(file, "two")
      const stale = yield* refusal(state.checkWritable(file))
      expect(stale.message).toBe(
        `${file} was modified since read; read it again (it changed on disk after you last read it), then retry the change.`
      )
      fs.writeFileSync(file, "longer now")
      expect((yield* refusal(state.checkWritable(file))).message).toContain("modified since read")
      yield* state.recordRead(file)
      yield* state.checkWritable(file)
      // Touched but unchanged: still writable.
      const later = new Date(Date.now() + 60_000)
      fs.utimesSync(file, later, later)
      yield* state.checkWritable(file)
      // Content the caller already has is used instead of reading the file again.
      yield* state.checkWritable(file, Buffer.from("longer now"))
      expect((yield* refusal(state.checkWritable(file, Buffer.from("other text")))).message).toContain(
        "modified since read"
      )
    })
  )

  it.effect("recordWrite makes the written content the known state; a vanished file is forgotten", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      writeFiles(dir, { "a.txt": "one" })
      const file = path.join(dir, "a.txt")
      const state = yield* makeFileState()
      yield* state.recordRead(file)
      fs.writeFileSync(file, "written by a tool")
      yield* state.recordWrite(file, Buffer.from("written by a tool"))
      yield* state.checkWritable(file)
      fs.rmSync(file)
      yield* state.recordRead(file)
      expect(Option.isNone(yield* state.get(file))).toBe(true)
      // Gone: writable as a new file; recreated behind our back: must be read first.
      yield* state.checkWritable(file)
      fs.writeFileSync(file, "x")
      expect((yield* refusal(state.checkWritable(file))).message).toContain("Read it first")
    })
  )

  it.effect("compares large files by modification time and size", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const file = path.join(dir, "big.bin")
      fs.writeFileSync(file, Buffer.alloc(HASH_LIMIT + 1, 97))
      const state = yield* makeFileState()
      yield* state.recordRead(file)
      const seen = Option.getOrThrow(yield* state.get(file))
      expect(seen.hash).toBeUndefined()
      yield* state.checkWritable(file)
      const later = new Date(seen.mtimeMs + 10_000)
      fs.utimesSync(file, later, later)
      expect((yield* refusal(state.checkWritable(file))).message).toContain("modified since read")
    })
  )

  it.effect("reports a path that cannot be checked", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      fs.symlinkSync(path.join(dir, "loop-b"), path.join(dir, "loop-a"))
      fs.symlinkSync(path.join(dir, "loop-a"), path.join(dir, "loop-b"))
      const state = yield* makeFileState()
      const error = yield* refusal(state.checkWritable(path.join(dir, "loop-a")))
      expect(error.message).toMatch(/^Cannot check .*loop-a: .*ELOOP/)
    })
  )

  it.effect("sameFile compares by hash when both have one, else by mtime and size", () => {
    expect(sameFile({ mtimeMs: 1, size: 2, hash: "a" }, { mtimeMs: 5, size: 2, hash: "a" })).toBe(true)
    expect(sameFile({ mtimeMs: 1, size: 2, hash: "a" }, { mtimeMs: 1, size: 2, hash: "b" })).toBe(false)
    expect(sameFile({ mtimeMs: 1, size: 2, hash: "a" }, { mtimeMs: 1, size: 3, hash: "a" })).toBe(false)
    expect(sameFile({ mtimeMs: 1, size: 2 }, { mtimeMs: 1, size: 2, hash: "a" })).toBe(true)
    expect(sameFile({ mtimeMs: 1, size: 2 }, { mtimeMs: 2, size: 2 })).toBe(false)
    return Effect.void
  })
})
