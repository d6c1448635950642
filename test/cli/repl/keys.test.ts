import { describe, expect, it } from "@effect/vitest"
import { makeKeyDecoder } from "../../../src/cli/repl/keys.js"

const names = (chunks: ReadonlyArray<string>) => {
  const decode = makeKeyDecoder()
  return chunks.flatMap((c) => decode(c)).map((k) => (k.text === "" ? k.name : `${k.name}:${k.text}`))
}

describe("key decoder", () => {
  it("decodes characters, control keys, arrows and editing keys", () => {
    expect(names(["ab\r"])).toEqual(["char:a", "char:b", "enter"])
    expect(names(["\u0003\u0004\u0001\u0005\u0015\u000b\u0017"])).toEqual([
      "ctrl:c",
      "ctrl:d",
      "ctrl:a",
      "ctrl:e",
      "ctrl:u",
      "ctrl:k",
      "ctrl:w"
    ])
    expect(names(["\u001b[A\u001b[B\u001b[C\u001b[D\u001bOA\u001b[H\u001b[F\u001b[3~\u001b[1~\u001b[4~"])).toEqual([
      "up",
      "down",
      "right",
      "left",
      "up",
      "home",
      "end",
      "delete",
      "home",
      "end"
    ])
    expect(names(["\u007f\b\t"])).toEqual(["backspace", "backspace", "tab"])
    expect(names(["\u001b[1;5C\u001b[1;3D\u001bb\u001bf\u001b[1;2A"])).toEqual([
      "wordRight",
      "wordLeft",
      "wordLeft",
      "wordRight",
      "up"
    ])
  })

  it("tells Escape, Shift-Enter (ESC CR, CSI 13;2u, CSI 27;2;13~) and newline apart", () => {
    expect(names(["\u001b"])).toEqual(["escape"])
    expect(names(["\u001b\r", "\u001b[13;2u", "\u001b[27;2;13~", "\n"])).toEqual([
      "newline",
      "newline",
      "newline",
      "newline"
    ])
    expect(names(["\u001b\u001b"])).toEqual(["escape", "escape"])
    expect(names(["\u001b[13u\u001b[97u\u001b[27u\u001b[127u"])).toEqual(["enter", "char:a", "escape", "backspace"])
  })

  it("keeps a sequence or a paste cut across reads together", () => {
    expect(names(["\u001b[", "A"])).toEqual(["up"])
    expect(names(["\u001b[200~line one\r\nline", " two\u001b[20", "1~x"])).toEqual([
      "paste:line one\nline two",
      "char:x"
    ])
  })

  it("keeps surrogate pairs whole and reports what it does not know", () => {
    expect(names(["😀é"])).toEqual(["char:😀", "char:é"])
    expect(names(["\u001b[99x", "\u001bOZ", "\u001bz"])).toEqual(["unknown:99x", "unknown:\u001bOZ", "unknown:\u001bz"])
  })
})
