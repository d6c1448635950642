/**
 * The REPL's terminal output. Everything is written through it, so that it knows where the cursor is:
 * - the input line is an overlay below the output: it is erased before output is written and drawn again after
 *   it (so the user can type while an answer streams, and an approval question can be answered in place);
 * - a line written with `line(text)` gets a mark, and `rewrite(mark, text)` changes it in place later (a tool's
 *   status going from running to done) when the terminal can move the cursor and the line is still on screen;
 *   otherwise the caller prints a new line.
 * On a dumb terminal nothing but text, CR and LF is written.
 */
import { type Drawn, type EditorState, type Layout, renderAnsi, renderDumb, visibleWidth } from "./LineEditor.js"

export interface Terminal {
  readonly write: (text: string) => void
  readonly columns: () => number
  readonly rows: () => number
}

export interface Mark {
  readonly row: number
}

export interface Screen {
  /** Can move the cursor (not a dumb terminal). */
  readonly ansi: boolean
  readonly color: boolean
  readonly columns: () => number
  /** Writes output text (anything; the overlay is kept below it). */
  readonly write: (text: string) => void
  /** Writes one whole line (starting a new line first if the output is mid-line) and returns its mark. */
  readonly line: (text: string) => Mark
  /** Replaces a marked line in place; false when that is not possible (then print a new line instead). */
  readonly rewrite: (mark: Mark, text: string) => boolean
  /** Shows (or redraws) the input overlay. */
  readonly showInput: (state: EditorState, layout: Layout) => void
  /** Erases the overlay from the screen. */
  readonly hideInput: () => void
  /** Leaves the overlay's text on screen as output (a submitted prompt) and ends its line. */
  readonly commitInput: () => void
  /** Whether the output ends a line. */
  readonly atLineStart: () => boolean
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is matched
const ANSI_SEQUENCE = /\u001b\[[0-?]*[ -/]*[@-~]/g

export const makeScreen = (
  terminal: Terminal,
  options: { readonly ansi: boolean; readonly color: boolean }
): Screen => {
  const { ansi } = options
  // Rows of output written so far (a row per line and per wrap) and the output's column.
  let row = 0
  let column = 0
  let overlay: { state: EditorState; layout: Layout; drawn: Drawn | undefined; width: number } | undefined
  let overlayShown = false

  const account = (text: string) => {
    const columns = Math.max(10, terminal.columns())
    for (const ch of text.replace(ANSI_SEQUENCE, "")) {
      if (ch === "\n") {
        row++
        column = 0
      } else if (ch === "\r") {
        column = 0
      } else {
        if (column >= columns) {
          row++
          column = 0
        }
        column++
      }
    }
  }

  const erase = () => {
    if (!overlayShown || overlay === undefined) return
    if (ansi) {
      const up =
        overlay.drawn === undefined || overlay.drawn.cursorRow === 0 ? "" : `\u001b[${overlay.drawn.cursorRow}A`
      terminal.write(`${up}\r\u001b[J`)
    } else {
      terminal.write(`\r${" ".repeat(overlay.width)}\r`)
    }
    overlay.drawn = undefined
    overlayShown = false
  }

  const draw = () => {
    if (overlay === undefined) return
    // Output mid-line (plain streaming text): the overlay waits for the line to end.
    if (column !== 0) return
    if (ansi) {
      const { bytes, drawn } = renderAnsi(overlay.state, overlay.layout, overlay.drawn)
      terminal.write(bytes)
      overlay.drawn = drawn
    } else {
      const { bytes, width } = renderDumb(overlay.state, overlay.layout, overlayShown ? overlay.width : 0)
      terminal.write(bytes)
      overlay.width = width
    }
    overlayShown = true
  }

  const write = (text: string) => {
    if (text === "") return
    erase()
    terminal.write(text)
    account(text)
    draw()
  }

  return {
    ansi,
    color: options.color,
    columns: () => Math.max(10, terminal.columns()),
    write,
    line: (text) => {
      const prefix = column === 0 ? "" : "\n"
      const mark = { row: row + (prefix === "" ? 0 : 1) }
      write(`${prefix}${text}\n`)
      return mark
    },
    rewrite: (mark, text) => {
      const distance = row - mark.row
      if (!ansi || column !== 0 || distance <= 0 || distance >= terminal.rows() - 1) return false
      // Only one-row lines are rewritten (status lines are kept shorter than the terminal).
      if (visibleWidth(text) >= terminal.columns()) return false
      erase()
      terminal.write(`\u001b[${distance}A\r\u001b[2K${text}\r\u001b[${distance}B`)
      draw()
      return true
    },
    showInput: (state, layout) => {
      const dumbRedraw = !ansi && overlay !== undefined && overlayShown
      if (dumbRedraw && overlay !== undefined) {
        // Lines of the input that were completed (a newline typed or pasted) stay printed above the last one.
        const before = overlay.state.text.split("\n").length
        const lines = state.text.split("\n")
        if (lines.length > before) {
          const done = lines.slice(before - 1, -1)
          terminal.write(
            `\r${done.map((l, i) => `${i + before - 1 === 0 ? layout.prompt : layout.continuation}${l}`).join("\n")}\n`
          )
          overlay = { state, layout, drawn: undefined, width: 0 }
          overlayShown = false
          draw()
          return
        }
      }
      if (overlay === undefined) overlay = { state, layout, drawn: undefined, width: 0 }
      else {
        overlay.state = state
        overlay.layout = layout
      }
      if (ansi || !overlayShown) draw()
      else draw()
    },
    hideInput: () => {
      erase()
      overlay = undefined
    },
    commitInput: () => {
      if (overlay === undefined) return
      const { state, layout } = overlay
      if (!overlayShown) draw()
      if (ansi && overlay.drawn !== undefined) {
        // Put the cursor at the end of the input, then end the line.
        const end = { ...state, cursor: state.text.length }
        const { bytes } = renderAnsi(end, layout, overlay.drawn)
        terminal.write(bytes)
      }
      terminal.write("\n")
      const lines = state.text.split("\n")
      account(`${lines.map((l, i) => `${i === 0 ? layout.prompt : layout.continuation}${l}`).join("\n")}\n`)
      overlay = undefined
      overlayShown = false
    },
    atLineStart: () => column === 0
  }
}
