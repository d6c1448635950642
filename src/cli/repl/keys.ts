/**
 * The key decoder: raw terminal input (bytes as a string) into key events. Knows the sequences xterm-like
 * terminals send: CSI and SS3 arrows and editing keys, Alt/Esc prefixes, Shift-Enter as ESC CR, `CSI 13;2u`
 * (kitty / fixterms) or `CSI 27;2;13~` (xterm modifyOtherKeys), and bracketed paste (`CSI 200~ ... CSI 201~`,
 * delivered as one `paste` event). Stateful only across chunks: a paste or an escape sequence cut in two by the
 * terminal's read is kept until the rest arrives. Pure otherwise.
 */

export type KeyName =
  | "char"
  | "enter"
  | "newline"
  | "backspace"
  | "delete"
  | "left"
  | "right"
  | "up"
  | "down"
  | "home"
  | "end"
  | "wordLeft"
  | "wordRight"
  | "escape"
  | "tab"
  | "paste"
  | "ctrl"
  | "unknown"

export interface Key {
  readonly name: KeyName
  /** The character for `char`, the letter for `ctrl` (`c` for Ctrl-C), the text for `paste`. */
  readonly text: string
}

const PASTE_START = "\u001b[200~"
const PASTE_END = "\u001b[201~"

// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is decoded
const CSI = /^\u001b\[([0-?]*[ -/]*)([@-~])/
/** The start of a CSI sequence whose final byte has not arrived yet. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is decoded
const CSI_PREFIX = /^\u001b\[[0-?]*[ -/]*$/

const key = (name: KeyName, text = ""): Key => ({ name, text })

/** Final CSI sequences (without the modifier forms). */
const CSI_KEYS: Readonly<Record<string, KeyName>> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
  "1~": "home",
  "7~": "home",
  "4~": "end",
  "8~": "end",
  "3~": "delete"
}

/** Decodes one CSI body (what follows `ESC [`), e.g. `A`, `1;5C`, `13;2u`, `27;2;13~`. */
const decodeCsi = (body: string): Key => {
  if (body === "13;2u" || body === "27;2;13~" || body === "13;3u" || body === "27;3;13~") return key("newline")
  const direct = CSI_KEYS[body]
  if (direct !== undefined) return key(direct)
  // Modified arrows: `1;5C` (Ctrl-Right), `1;3D` (Alt-Left) move by word.
  const modified = /^1;(\d+)([A-H])$/.exec(body)
  if (modified !== null) {
    const base = CSI_KEYS[modified[2] ?? ""]
    const mod = Number(modified[1])
    if (base === "left" && mod > 1) return key("wordLeft")
    if (base === "right" && mod > 1) return key("wordRight")
    if (base !== undefined) return key(base)
  }
  // kitty's CSI codepoint u for plain keys it reports that way.
  const u = /^(\d+)(?:;1)?u$/.exec(body)
  if (u !== null) {
    const code = Number(u[1])
    if (code === 13) return key("enter")
    if (code === 27) return key("escape")
    if (code === 127) return key("backspace")
    if (code >= 32) return key("char", String.fromCodePoint(code))
  }
  return key("unknown", body)
}

/** A decoder that keeps incomplete input between chunks. */
export const makeKeyDecoder = (): ((chunk: string) => ReadonlyArray<Key>) => {
  let pending = ""
  let paste: string | undefined
  return (chunk) => {
    const keys: Array<Key> = []
    let input = pending + chunk
    pending = ""
    let i = 0
    while (i < input.length) {
      if (paste !== undefined) {
        const end = input.indexOf(PASTE_END, i)
        if (end === -1) {
          // Keep a possible beginning of the end marker for the next chunk.
          const rest = input.slice(i)
          const keep = partialSuffix(rest, PASTE_END)
          paste += rest.slice(0, rest.length - keep)
          pending = rest.slice(rest.length - keep)
          return keys
        }
        paste += input.slice(i, end)
        keys.push(key("paste", paste.replace(/\r\n?/g, "\n")))
        paste = undefined
        i = end + PASTE_END.length
        continue
      }
      const c = input[i] ?? ""
      if (c === "\u001b") {
        const rest = input.slice(i)
        if (rest.startsWith(PASTE_START)) {
          paste = ""
          i += PASTE_START.length
          continue
        }
        if (rest.length === 1) {
          keys.push(key("escape"))
          i++
          continue
        }
        const next = rest[1] ?? ""
        if (next === "[") {
          // CSI: parameters and intermediates, then one final byte in @-~.
          const match = CSI.exec(rest)
          if (match === null) {
            if (CSI_PREFIX.test(rest)) {
              pending = rest
              return keys
            }
            keys.push(key("escape"))
            i++
            continue
          }
          keys.push(decodeCsi(`${match[1] ?? ""}${match[2] ?? ""}`))
          i += match[0].length
          continue
        }
        if (next === "O" && rest.length >= 3) {
          const name = CSI_KEYS[rest[2] ?? ""]
          keys.push(name === undefined ? key("unknown", rest.slice(0, 3)) : key(name))
          i += 3
          continue
        }
        // ESC + key: Alt. ESC CR is what many terminals send for Shift/Alt-Enter.
        if (next === "\r" || next === "\n") keys.push(key("newline"))
        else if (next === "b") keys.push(key("wordLeft"))
        else if (next === "f") keys.push(key("wordRight"))
        else if (next === "\u007f" || next === "\b") keys.push(key("ctrl", "w"))
        else if (next === "\u001b") {
          keys.push(key("escape"))
          i++
          continue
        } else keys.push(key("unknown", rest.slice(0, 2)))
        i += 2
        continue
      }
      const code = c.charCodeAt(0)
      if (c === "\r") keys.push(key("enter"))
      else if (c === "\n") keys.push(key("newline"))
      else if (c === "\t") keys.push(key("tab"))
      else if (c === "\u007f" || c === "\b") keys.push(key("backspace"))
      else if (code < 32) keys.push(key("ctrl", String.fromCharCode(code + 96)))
      else {
        // One whole code point (a surrogate pair stays together).
        const point = String.fromCodePoint(input.codePointAt(i) ?? code)
        keys.push(key("char", point))
        i += point.length
        continue
      }
      i++
    }
    input = ""
    return keys
  }
}

/** How many characters at the end of `text` are a proper prefix of `marker`. */
const partialSuffix = (text: string, marker: string): number => {
  for (let n = Math.min(marker.length - 1, text.length); n > 0; n--) {
    if (marker.startsWith(text.slice(text.length - n))) return n
  }
  return 0
}
