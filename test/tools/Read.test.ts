import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { FileState } from "../../src/services/FileState.js"
import { imageMediaType, looksBinary, makeReadTool, numberLine, type ReadOptions } from "../../src/tools/Read.js"
import { onWorkspace } from "./fileSupport.js"
import { call, tempDir, text, writeFiles } from "./support.js"

const lines = (n: number, prefix = "line") => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`).join("\n")

const setup = (files: Record<string, string | Uint8Array>, options?: ReadOptions) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    writeFiles(dir, files)
    const { read, fileState } = yield* Effect.all({ read: makeReadTool(options), fileState: FileState }).pipe(
      onWorkspace([dir])
    )
    return { dir, read, fileState }
  })

describe("Read", () => {
  it.effect("numbers lines like cat -n", () =>
    Effect.gen(function* () {
      const { read } = yield* setup({ "a.txt": "first\n\tindented\n\nlast\n" })
      const result = yield* call(read, { file_path: "a.txt" })
      expect(result.status).toBe("success")
      expect(text(result)).toBe("     1\tfirst\n     2\t\tindented\n     3\t\n     4\tlast")
      expect(read).toMatchObject({ name: "Read", readOnly: true, kind: "read", concurrency: { type: "parallel" } })
    })
  )

  it.effect("reads a last line without a newline, CRLF files, and absolute paths", () =>
    Effect.gen(function* () {
      const { dir, read } = yield* setup({ "crlf.txt": "a\r\nb\r\nc" })
      expect(text(yield* call(read, { file_path: path.join(dir, "crlf.txt") }))).toBe(
        [numberLine(1, "a"), numberLine(2, "b"), numberLine(3, "c")].join("\n")
      )
    })
  )

  it.effect("reads a window with offset and limit, and says how to continue", () =>
    Effect.gen(function* () {
      const { read } = yield* setup({ "long.txt": lines(50) })
      const window = text(yield* call(read, { file_path: "long.txt", offset: 10, limit: 3 }))
      expect(window).toBe(
        `${numberLine(10, "line 10")}\n${numberLine(11, "line 11")}\n${numberLine(12, "line 12")}\n\n[More lines follow; continue with offset=13.]`
      )
      const tail = text(yield* call(read, { file_path: "long.txt", offset: 49 }))
      expect(tail).toBe(`${numberLine(49, "line 49")}\n${numberLine(50, "line 50")}`)
      const past = yield* call(read, { file_path: "long.txt", offset: 51 })
      expect(past.status).toBe("error")
      expect(text(past)).toBe("long.txt has 50 lines; offset 51 is past the end. Use a smaller offset.")
      const bad = yield* call(read, { file_path: "long.txt", offset: 0 })
      expect(text(bad)).toContain("- offset: ")
    })
  )

  it.effect("reads 2000 lines by default", () =>
    Effect.gen(function* () {
      const { read } = yield* setup({ "big.txt": `${lines(2500)}\n` })
      const out = text(yield* call(read, { file_path: "big.txt" })).split("\n")
      expect(out[1999]).toBe(numberLine(2000, "line 2000"))
      expect(out.slice(2000)).toEqual(["", "[More lines follow; continue with offset=2001.]"])
      // Exactly at the end: no note.
      const rest = text(yield* call(read, { file_path: "big.txt", offset: 2001, limit: 500 }))
      expect(rest.endsWith(numberLine(2500, "line 2500"))).toBe(true)
    })
  )

  it.effect("cuts long lines and says how long they were", () =>
    Effect.gen(function* () {
      const { read } = yield* setup({ "min.js": `short\n${"x".repeat(200_000)}\nafter` })
      const out = text(yield* call(read, { file_path: "min.js" })).split("\n")
      expect(out[0]).toBe(numberLine(1, "short"))
      expect(out[1]).toBe(numberLine(2, `${"x".repeat(2000)} [... line cut: 200000 characters in total]`))
      expect(out[2]).toBe(numberLine(3, "after"))
    })
  )

  it.effect("stops at the output cap on a line boundary", () =>
    Effect.gen(function* () {
      const { read } = yield* setup({ "wide.txt": lines(100, "y".repeat(90)) }, { maxOutputChars: 1000 })
      const out = text(yield* call(read, { file_path: "wide.txt" }))
      const body = out.split("\n\n[")[0]!
      expect(body.length).toBeLessThanOrEqual(1000)
      const shown = body.split("\n").length
      expect(shown).toBeGreaterThan(5)
      expect(out).toContain(
        `[Output stopped at line ${shown} to stay under 1000 characters; continue with offset=${shown + 1}.]`
      )
    })
  )

  it.effect("handles multi-byte characters split across read chunks", () =>
    Effect.gen(function* () {
      const line = "é€😀".repeat(30_000)
      const { read } = yield* setup({ "utf8.txt": `${line}\nnext` }, { maxLineLength: 200_000 })
      const out = text(yield* call(read, { file_path: "utf8.txt" })).split("\n")
      expect(out[0]).toBe(numberLine(1, line))
      expect(out[1]).toBe(numberLine(2, "next"))
    })
  )

  it.effect("refuses binary files, directories and missing files with clear messages", () =>
    Effect.gen(function* () {
      // An ELF header: binary, and not an image even when named like one.
      const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0])
      const { read } = yield* setup({ "fake.png": elf, "dir/x.txt": "x", "empty.txt": "" })
      const binary = yield* call(read, { file_path: "fake.png" })
      expect(binary.status).toBe("error")
      expect(text(binary)).toContain("fake.png looks like a binary file (14 bytes)")
      const dir = yield* call(read, { file_path: "dir" })
      expect(text(dir)).toBe("dir is a directory, not a file. Use LS or Glob to see what it contains.")
      const missing = yield* call(read, { file_path: "nope.txt" })
      expect(missing.status).toBe("error")
      expect(text(missing)).toBe("File does not exist: nope.txt. Use Glob to find the right path.")
      const underFile = yield* call(read, { file_path: "empty.txt/x" })
      expect(text(underFile)).toContain("File does not exist")
      expect(text(yield* call(read, { file_path: "empty.txt" }))).toBe("(empty.txt exists but is empty)")
    })
  )

  it.effect("refuses paths outside the workspace and special files", () =>
    Effect.gen(function* () {
      const { dir, read } = yield* setup({ "a.txt": "a" })
      const outside = yield* call(read, { file_path: "/etc/hostname" })
      expect(outside.status).toBe("error")
      expect(text(outside)).toContain("is outside the workspace")
      fs.symlinkSync("/dev/null", path.join(dir, "null-link"))
      expect(text(yield* call(read, { file_path: "null-link" }))).toContain("outside the workspace")
      const fifo = path.join(dir, "fifo")
      execFileSync("mkfifo", [fifo])
      expect(text(yield* call(read, { file_path: "fifo" }))).toContain("is not a regular file")
    })
  )

  it.effect("returns images as image output, by content, with a size cap", () =>
    Effect.gen(function* () {
      const png = Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        Buffer.alloc(20_000, 7)
      ])
      const gif = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1")
      const webp = Buffer.concat([
        Buffer.from("RIFF"),
        Buffer.from([0x10, 0, 0, 0]),
        Buffer.from("WEBPVP8 "),
        Buffer.alloc(8)
      ])
      const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0])
      const { read } = yield* setup(
        {
          "pic.png": png,
          "anim.gif": gif,
          "photo.webp": webp,
          "no-extension": jpeg,
          "big.png": Buffer.concat([png, png])
        },
        { maxImageBytes: 30_000 }
      )
      const result = yield* call(read, { file_path: "pic.png" })
      expect(result.status).toBe("success")
      expect(result.output).toEqual([
        { type: "text", text: `Image pic.png (image/png, ${png.length} bytes):` },
        { type: "image", mediaType: "image/png", data: png.toString("base64") }
      ])
      for (const [file, mediaType, bytes] of [
        ["anim.gif", "image/gif", gif],
        ["photo.webp", "image/webp", webp],
        ["no-extension", "image/jpeg", jpeg]
      ] as const) {
        const out = yield* call(read, { file_path: file })
        expect(out.output[1]).toEqual({ type: "image", mediaType, data: bytes.toString("base64") })
      }
      const big = yield* call(read, { file_path: "big.png" })
      expect(big.status).toBe("error")
      expect(text(big)).toBe(
        `big.png is a image/png image of ${png.length * 2} bytes; images up to 30000 bytes can be read. Make a smaller copy (e.g. with Bash) and read that.`
      )
    })
  )

  it("imageMediaType", () => {
    expect(imageMediaType(Buffer.from("GIF87a..."))).toBe("image/gif")
    expect(imageMediaType(Buffer.from("RIFF\0\0\0\0WAVE"))).toBeUndefined()
    expect(imageMediaType(Buffer.from("RIFF"))).toBeUndefined()
    expect(imageMediaType(new Uint8Array([0xff, 0xd8]))).toBeUndefined()
    expect(imageMediaType(Buffer.from("plain text"))).toBeUndefined()
  })

  it.effect("records successful reads (text, empty, image) in the file state, and not failed ones", () =>
    Effect.gen(function* () {
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2])
      const { dir, read, fileState } = yield* setup({
        "a.txt": "one\ntwo\n",
        "empty.txt": "",
        "p.png": png,
        bin: new Uint8Array([0, 1, 2])
      })
      for (const file of ["a.txt", "empty.txt", "p.png", "bin", "missing.txt"]) yield* call(read, { file_path: file })
      const names = ["a.txt", "bin", "empty.txt", "missing.txt", "p.png"]
      const recorded: Array<string> = []
      for (const name of names) {
        if (Option.isSome(yield* fileState.get(path.join(dir, name)))) recorded.push(path.join(dir, name))
      }
      expect(recorded).toEqual([path.join(dir, "a.txt"), path.join(dir, "empty.txt"), path.join(dir, "p.png")])
      const a = yield* fileState.get(path.join(dir, "a.txt"))
      expect(Option.getOrThrow(a)).toMatchObject({ size: 8, hash: expect.stringMatching(/^[0-9a-f]{64}$/) })
      // A partial window counts as a read too.
      yield* call(read, { file_path: "a.txt", offset: 2, limit: 1 })
      yield* fileState.checkWritable(path.join(dir, "a.txt"))
    })
  )

  it("looksBinary", () => {
    expect(looksBinary(new Uint8Array([]))).toBe(false)
    expect(looksBinary(Buffer.from("plain text\n\twith tabs\r\n\u001b[31mred\u001b[0m"))).toBe(false)
    expect(looksBinary(new Uint8Array([65, 0, 66]))).toBe(true)
    expect(looksBinary(new Uint8Array([1, 2, 3, 4, 65]))).toBe(true)
  })
})
