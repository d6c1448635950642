import { describe, expect, it } from "@effect/vitest"
import type { Key, KeyName } from "../../../src/cli/repl/keys.js"
import {
  applyKey,
  type EditorState,
  emptyEditor,
  renderAnsi,
  renderDumb,
  visibleWidth
} from "../../../src/cli/repl/LineEditor.js"

const k = (name: KeyName, text = ""): Key => ({ name, text })
const typed = (text: string): ReadonlyArray<Key> => Array.from(text, (c) => k("char", c))

const run = (keys: ReadonlyArray<Key>, history: ReadonlyArray<string> = [], start?: EditorState) => {
  let state = start ?? emptyEditor(history.length)
  const actions: Array<string> = []
  for (const key of keys) {
    const step = applyKey(state, key, history)
    state = step.state
    if (step.action.type !== "none")
      actions.push(step.action.type === "submit" ? `submit:${step.action.text}` : step.action.type)
  }
  return { state, actions }
}

describe("line editor", () => {
  it("edits: insert, move, delete, words, kill", () => {
    expect(run([...typed("hello world"), k("ctrl", "w")]).state.text).toBe("hello ")
    expect(run([...typed("abc"), k("left"), k("backspace")]).state).toMatchObject({ text: "ac", cursor: 1 })
    expect(run([...typed("abc"), k("home"), k("delete")]).state).toMatchObject({ text: "bc", cursor: 0 })
    expect(run([...typed("abc"), k("ctrl", "a"), k("ctrl", "k")]).state.text).toBe("")
    expect(run([...typed("abc def"), k("wordLeft"), k("ctrl", "u")]).state.text).toBe("def")
    expect(
      run([...typed("abc def"), k("ctrl", "a"), k("wordRight"), k("ctrl", "e"), k("ctrl", "b"), k("ctrl", "f")]).state
        .cursor
    ).toBe(7)
    expect(run([...typed("ab"), k("ctrl", "a"), k("ctrl", "d")]).state.text).toBe("b")
    expect(run([k("paste", "a\tb"), k("tab")]).state.text).toBe("a  b  ")
    expect(run([...typed("😀"), k("backspace")]).state.text).toBe("")
    expect(run([...typed("😀"), k("left"), k("right")]).state.cursor).toBe(2)
  })

  it("submits on Enter; a trailing backslash or Shift-Enter continues on a new line", () => {
    expect(run([...typed("hi"), k("enter")]).actions).toEqual(["submit:hi"])
    expect(run([...typed("one\\"), k("enter"), ...typed("two"), k("enter")]).actions).toEqual(["submit:one\ntwo"])
    expect(run([...typed("a"), k("newline"), ...typed("b"), k("enter")]).actions).toEqual(["submit:a\nb"])
  })

  it("Ctrl-C clears a line or interrupts on an empty one; Ctrl-D exits on an empty line; Esc clears", () => {
    expect(run([...typed("x"), k("ctrl", "c")])).toMatchObject({ state: { text: "" }, actions: [] })
    expect(run([k("ctrl", "c")]).actions).toEqual(["interrupt"])
    expect(run([k("ctrl", "d")]).actions).toEqual(["eof"])
    expect(run([...typed("x"), k("escape")]).state.text).toBe("")
    expect(run([k("ctrl", "z"), k("unknown", "?")]).state.text).toBe("")
  })

  it("walks the history with Up/Down (and Ctrl-P/N), keeping the draft", () => {
    const history = ["first", "second"]
    expect(run([k("up")], history).state.text).toBe("second")
    expect(run([k("up"), k("up"), k("up")], history).state.text).toBe("first")
    expect(run([...typed("dra"), k("up"), k("down")], history).state.text).toBe("dra")
    expect(run([k("ctrl", "p"), k("ctrl", "p"), k("ctrl", "n")], history).state.text).toBe("second")
    expect(run([k("down")], history).state.text).toBe("")
  })

  it("moves between the lines of a multi-line input before walking the history", () => {
    const { state } = run([...typed("abc"), k("newline"), ...typed("de"), k("up")], ["old"])
    expect(state).toMatchObject({ text: "abc\nde", cursor: 2 })
    expect(run([k("down")], ["old"], state).state.cursor).toBe(6)
    expect(run([k("up")], ["old"], state).state.text).toBe("old")
  })

  it("draws with cursor movement, wrapping at the terminal's width", () => {
    const layout = { prompt: "› ", continuation: "  ", columns: 10 }
    const state = run([...typed("abcdefghijkl")]).state
    const first = renderAnsi(state, layout, undefined)
    expect(first.bytes.startsWith("\r\u001b[J› abcdefghijkl")).toBe(true)
    expect(first.drawn.cursorRow).toBe(1)
    const again = renderAnsi({ ...state, cursor: 0 }, layout, first.drawn)
    expect(again.bytes.startsWith("\u001b[1A\r\u001b[J")).toBe(true)
    expect(again.bytes.endsWith("\u001b[1A\r\u001b[2C")).toBe(true)
    // A line that fills its row exactly moves to the next row itself.
    expect(renderAnsi(run([...typed("abcdefgh")]).state, layout, undefined).bytes).toContain("abcdefgh\r\n")
    expect(renderAnsi(run([...typed("a"), k("newline"), ...typed("b")]).state, layout, undefined).bytes).toContain(
      "› a\r\n  b"
    )
  })

  it("draws on a dumb terminal with CR and spaces only", () => {
    const layout = { prompt: "> ", continuation: "  ", columns: 80 }
    const state = run([...typed("abc"), k("left")]).state
    const drawn = renderDumb(state, layout, 8)
    expect(drawn.bytes).toBe("\r> abc   \r> ab")
    expect(drawn.width).toBe(5)
    expect(renderDumb(run([...typed("a"), k("newline"), ...typed("b")]).state, layout, 0).bytes).toBe("\r  b\r  b")
    expect(visibleWidth("\u001b[1mab\u001b[22m😀")).toBe(3)
  })
})
