/**
 * The input line: a text (it may hold newlines) with a cursor, the keys that edit it, and how it is drawn. Pure:
 * `applyKey` returns the next state and what the key asked for (submit, cancel, interrupt, exit); `render` returns
 * the bytes that redraw the input in place (cursor movement on a capable terminal; on a dumb one only CR and
 * spaces, on the last line).
 */
import type { Key } from "./keys.js"

export interface EditorState {
  readonly text: string
  /** Index in `text` (UTF-16 units, never inside a surrogate pair). */
  readonly cursor: number
  /** Position in the history while walking it (`entries.length` when not walking). */
  readonly historyIndex: number
  /** What was typed before walking the history (restored when walking past the newest entry). */
  readonly draft: string
}

export type EditorAction =
  | { readonly type: "none" }
  | { readonly type: "submit"; readonly text: string }
  /** Ctrl-C: on an empty line (the caller decides: interrupt, or exit on the second one). */
  | { readonly type: "interrupt" }
  /** Ctrl-D on an empty line. */
  | { readonly type: "eof" }

export const emptyEditor = (historyLength: number): EditorState => ({
  text: "",
  cursor: 0,
  historyIndex: historyLength,
  draft: ""
})

const set = (state: EditorState, text: string, cursor: number): EditorState => ({ ...state, text, cursor })

const lineStart = (text: string, cursor: number): number => text.lastIndexOf("\n", cursor - 1) + 1
const lineEnd = (text: string, cursor: number): number => {
  const end = text.indexOf("\n", cursor)
  return end === -1 ? text.length : end
}

/** The previous code point boundary. */
const before = (text: string, cursor: number): number => {
  if (cursor <= 0) return 0
  const low = text.charCodeAt(cursor - 1)
  return low >= 0xdc00 && low <= 0xdfff && cursor >= 2 ? cursor - 2 : cursor - 1
}
const after = (text: string, cursor: number): number => {
  if (cursor >= text.length) return text.length
  const high = text.charCodeAt(cursor)
  return high >= 0xd800 && high <= 0xdbff && cursor + 1 < text.length ? cursor + 2 : cursor + 1
}

const wordLeft = (text: string, cursor: number): number => {
  let i = cursor
  while (i > 0 && /\s/.test(text[i - 1] ?? "")) i--
  while (i > 0 && !/\s/.test(text[i - 1] ?? "")) i--
  return i
}
const wordRight = (text: string, cursor: number): number => {
  let i = cursor
  while (i < text.length && /\s/.test(text[i] ?? "")) i++
  while (i < text.length && !/\s/.test(text[i] ?? "")) i++
  return i
}

export const insert = (state: EditorState, s: string): EditorState =>
  set(state, state.text.slice(0, state.cursor) + s + state.text.slice(state.cursor), state.cursor + s.length)

/** Moves the cursor a line up or down inside a multi-line text; undefined when there is no such line. */
const verticalMove = (state: EditorState, direction: -1 | 1): EditorState | undefined => {
  const { text, cursor } = state
  const start = lineStart(text, cursor)
  const column = cursor - start
  if (direction === -1) {
    if (start === 0) return undefined
    const prevStart = lineStart(text, start - 1)
    return set(state, text, Math.min(prevStart + column, start - 1))
  }
  const end = lineEnd(text, cursor)
  if (end === text.length) return undefined
  const nextStart = end + 1
  return set(state, text, Math.min(nextStart + column, lineEnd(text, nextStart)))
}

const walkHistory = (state: EditorState, entries: ReadonlyArray<string>, direction: -1 | 1): EditorState => {
  const index = state.historyIndex + direction
  if (index < 0 || index > entries.length) return state
  const draft = state.historyIndex === entries.length ? state.text : state.draft
  const text = index === entries.length ? draft : (entries[index] ?? "")
  return { text, cursor: text.length, historyIndex: index, draft }
}

const NONE: EditorAction = { type: "none" }

/** Applies one key. `history` is walked by Up/Down when the cursor is on the first/last line. */
export const applyKey = (
  state: EditorState,
  key: Key,
  history: ReadonlyArray<string>
): { readonly state: EditorState; readonly action: EditorAction } => {
  const { text, cursor } = state
  const same = (next: EditorState) => ({ state: next, action: NONE })
  switch (key.name) {
    case "char":
      return same(insert(state, key.text))
    case "paste":
      return same(insert(state, key.text.replace(/\t/g, "  ")))
    case "tab":
      return same(insert(state, "  "))
    case "newline":
      return same(insert(state, "\n"))
    case "enter": {
      // A trailing backslash continues the input on the next line.
      if (cursor === text.length && text.endsWith("\\")) return same(set(state, `${text.slice(0, -1)}\n`, text.length))
      return { state, action: { type: "submit", text } }
    }
    case "backspace": {
      const to = before(text, cursor)
      return same(set(state, text.slice(0, to) + text.slice(cursor), to))
    }
    case "delete":
      return same(set(state, text.slice(0, cursor) + text.slice(after(text, cursor)), cursor))
    case "left":
      return same(set(state, text, before(text, cursor)))
    case "right":
      return same(set(state, text, after(text, cursor)))
    case "home":
      return same(set(state, text, lineStart(text, cursor)))
    case "end":
      return same(set(state, text, lineEnd(text, cursor)))
    case "wordLeft":
      return same(set(state, text, wordLeft(text, cursor)))
    case "wordRight":
      return same(set(state, text, wordRight(text, cursor)))
    case "up":
      return same(verticalMove(state, -1) ?? walkHistory(state, history, -1))
    case "down":
      return same(verticalMove(state, 1) ?? walkHistory(state, history, 1))
    case "escape":
      return same(emptyEditor(history.length))
    case "ctrl":
      switch (key.text) {
        case "c":
          return text === "" ? { state, action: { type: "interrupt" } } : same(emptyEditor(history.length))
        case "d":
          if (text === "") return { state, action: { type: "eof" } }
          return same(set(state, text.slice(0, cursor) + text.slice(after(text, cursor)), cursor))
        case "a":
          return same(set(state, text, lineStart(text, cursor)))
        case "e":
          return same(set(state, text, lineEnd(text, cursor)))
        case "b":
          return same(set(state, text, before(text, cursor)))
        case "f":
          return same(set(state, text, after(text, cursor)))
        case "u": {
          const start = lineStart(text, cursor)
          return same(set(state, text.slice(0, start) + text.slice(cursor), start))
        }
        case "k":
          return same(set(state, text.slice(0, cursor) + text.slice(lineEnd(text, cursor)), cursor))
        case "w": {
          const to = wordLeft(text, cursor)
          return same(set(state, text.slice(0, to) + text.slice(cursor), to))
        }
        case "p":
          return same(walkHistory(state, history, -1))
        case "n":
          return same(walkHistory(state, history, 1))
        default:
          return same(state)
      }
    default:
      return same(state)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Drawing

/** Printable width of a string without its escape sequences (one column per code point). */
export const visibleWidth = (s: string): number =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is removed
  Array.from(s.replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, "")).length

export interface Layout {
  readonly prompt: string
  /** Shown before the second and later lines; as wide as `prompt`. */
  readonly continuation: string
  readonly columns: number
}

/** Where the cursor is after drawing: rows below the first row of the input, and the column. */
export interface Drawn {
  readonly cursorRow: number
}

const rowsOf = (width: number, columns: number): number => Math.max(1, Math.ceil(width / columns))

/**
 * The bytes that draw `state` on a capable terminal, starting with the cursor where the previous draw left it
 * (`previous.cursorRow` rows below the input's first row), and where the cursor is afterwards.
 */
export const renderAnsi = (
  state: EditorState,
  layout: Layout,
  previous: Drawn | undefined
): { readonly bytes: string; readonly drawn: Drawn } => {
  const columns = Math.max(10, layout.columns)
  const promptWidth = visibleWidth(layout.prompt)
  const lines = state.text.split("\n")
  const up = previous === undefined || previous.cursorRow === 0 ? "" : `\u001b[${previous.cursorRow}A`
  let bytes = `${up}\r\u001b[J`
  let row = 0
  let cursorRow = 0
  let cursorCol = 0
  let offset = 0
  lines.forEach((line, i) => {
    const prefix = i === 0 ? layout.prompt : layout.continuation
    bytes += (i === 0 ? "" : "\r\n") + prefix + line
    if (state.cursor >= offset && state.cursor <= offset + line.length) {
      const col = promptWidth + visibleWidth(line.slice(0, state.cursor - offset))
      cursorRow = row + Math.floor(col / columns)
      cursorCol = col % columns
    }
    const width = promptWidth + visibleWidth(line)
    row += rowsOf(width, columns)
    // A last line that fills its last row exactly leaves the cursor in the pending-wrap column: move to the next row.
    if (i === lines.length - 1 && width > 0 && width % columns === 0) {
      bytes += "\r\n"
      row += 1
    }
    offset += line.length + 1
  })
  const endRow = row - 1
  // The cursor is at the end of the drawn text (row endRow, some column): go to the cursor's row and column.
  if (endRow > cursorRow) bytes += `\u001b[${endRow - cursorRow}A`
  bytes += `\r${cursorCol > 0 ? `\u001b[${cursorCol}C` : ""}`
  return { bytes, drawn: { cursorRow } }
}

/**
 * A dumb terminal: no cursor movement. Only the last line is redrawn (CR, the line, spaces over what was longer,
 * CR and the line up to the cursor); earlier lines were printed when their newline was typed.
 */
export const renderDumb = (
  state: EditorState,
  layout: Layout,
  previousWidth: number
): { readonly bytes: string; readonly width: number } => {
  const lines = state.text.split("\n")
  const last = lines[lines.length - 1] ?? ""
  const prefix = lines.length === 1 ? layout.prompt : layout.continuation
  const lastStart = state.text.length - last.length
  const width = visibleWidth(prefix + last)
  const pad = " ".repeat(Math.max(0, previousWidth - width))
  const head = state.cursor >= lastStart ? last.slice(0, state.cursor - lastStart) : last
  return { bytes: `\r${prefix}${last}${pad}\r${prefix}${head}`, width }
}
