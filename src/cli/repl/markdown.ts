/**
 * Markdown for the terminal, rendered as it streams: text deltas are buffered until a line is complete, then the
 * line is rendered on its own (headings, lists, quotes, rules, fenced code blocks line by line, and inline code,
 * bold, italics, strike-through and links). A paragraph line longer than the terminal is cut at a word boundary
 * as soon as it is that long, so long lines still appear while they stream. Without color (`NO_COLOR`, a dumb
 * terminal) the text is passed through as it arrives (sanitized), which is the most readable plain form of
 * Markdown. Model text is data: escape sequences in it are removed before anything is added.
 */
import { sanitizeForTerminal } from "../../streams/Sanitize.js"

export interface MarkdownOptions {
  readonly color: boolean
  /** The terminal's width (for cutting long lines and drawing rules). */
  readonly columns: number
}

export interface MarkdownRenderer {
  /** Takes a text delta; returns what can be printed now. */
  readonly push: (text: string) => string
  /** Ends the text: the partial last line, rendered (and the end of an unclosed code block). */
  readonly flush: () => string
  /** Whether everything printed so far ends a line. */
  readonly atLineStart: () => boolean
}

const ESC = "\u001b["
const style = (open: string, close: string) => (s: string) => `${ESC}${open}m${s}${ESC}${close}m`
const bold = style("1", "22")
const dim = style("2", "22")
const italic = style("3", "23")
const underline = style("4", "24")
const strike = style("9", "29")
const cyan = style("36", "39")
const yellow = style("33", "39")

/** Inline Markdown in one line of prose (not code). */
export const renderInline = (line: string): string => {
  // Code spans first: nothing inside them is Markdown.
  const parts = line.split(/(`+)([^`]|[^`].*?[^`])\1(?!`)/)
  let out = ""
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? ""
    if (i % 3 === 0) out += renderEmphasis(part)
    else if (i % 3 === 2) out += cyan(part.trim() === "" ? part : part.replace(/^ (.*) $/, "$1"))
  }
  return out
}

const renderEmphasis = (text: string): string =>
  text
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label: string, url: string) =>
      label === url ? underline(url) : `${underline(label)} ${dim(`(${url})`)}`
    )
    .replace(/(\*\*|__)(?=\S)(.+?)(?<=\S)\1/g, (_, _m: string, inner: string) => bold(inner))
    .replace(/~~(?=\S)(.+?)(?<=\S)~~/g, (_, inner: string) => strike(inner))
    .replace(
      /(^|[^\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])/g,
      (_, pre: string, inner: string) => pre + italic(inner)
    )
    .replace(/(^|[^\w])_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)/g, (_, pre: string, inner: string) => pre + italic(inner))

interface Fence {
  readonly marker: string
}

const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([^`\s]*)/

/** One complete line; `fence` is the open code block (if any). Returns the rendered line and the next fence. */
export const renderLine = (
  line: string,
  fence: Fence | undefined,
  columns: number
): { readonly text: string; readonly fence: Fence | undefined } => {
  const fenceMatch = FENCE.exec(line)
  if (fence !== undefined) {
    const closing = fenceMatch !== null && fenceMatch[1]?.[0] === fence.marker[0] && fenceMatch[2] === ""
    if (closing && (fenceMatch[1]?.length ?? 0) >= fence.marker.length) return { text: dim(line), fence: undefined }
    return { text: yellow(line), fence }
  }
  if (fenceMatch !== null) return { text: dim(line), fence: { marker: fenceMatch[1] ?? "```" } }
  const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line)
  if (heading !== null) {
    const text = renderInline(heading[2] ?? "")
    return { text: heading[1] === "#" ? bold(underline(text)) : bold(text), fence }
  }
  if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) return { text: dim("─".repeat(Math.min(columns, 60))), fence }
  const quote = /^\s{0,3}>\s?(.*)$/.exec(line)
  if (quote !== null) return { text: `${dim("│")} ${italic(renderInline(quote[1] ?? ""))}`, fence }
  const bullet = /^(\s*)[-*+]\s+(?:\[([ xX])\]\s+)?(.*)$/.exec(line)
  if (bullet !== null) {
    const box = bullet[2] === undefined ? "" : bullet[2] === " " ? "☐ " : "☑ "
    return { text: `${bullet[1] ?? ""}${dim("•")} ${box}${renderInline(bullet[3] ?? "")}`, fence }
  }
  const numbered = /^(\s*)(\d{1,9}[.)])\s+(.*)$/.exec(line)
  if (numbered !== null)
    return { text: `${numbered[1] ?? ""}${numbered[2] ?? ""} ${renderInline(numbered[3] ?? "")}`, fence }
  return { text: renderInline(line), fence }
}

/** Where a long paragraph line may be cut now: the last space before `columns`, if its head is balanced. */
const cutPoint = (buffer: string, columns: number): number | undefined => {
  if (Array.from(buffer).length < columns || FENCE.test(buffer)) return undefined
  const space = buffer.lastIndexOf(" ", columns - 1)
  if (space <= 0) return undefined
  const head = buffer.slice(0, space)
  const count = (re: RegExp) => (head.match(re) ?? []).length
  // An emphasis or code span open across the cut would render wrongly on both sides: wait for more text.
  if (count(/`/g) % 2 !== 0 || count(/\*\*/g) % 2 !== 0 || count(/~~/g) % 2 !== 0) return undefined
  if (count(/\[/g) !== count(/\)/g)) return undefined
  return space
}

export const makeMarkdownRenderer = (options: MarkdownOptions): MarkdownRenderer => {
  let buffer = ""
  let fence: Fence | undefined
  let lineStart = true
  const columns = Math.max(20, options.columns)
  // A continued (cut) paragraph line: its rest is prose, whatever it starts with.
  let continued = false
  const line = (text: string): string => {
    if (continued && fence === undefined) {
      continued = false
      return renderInline(text)
    }
    const rendered = renderLine(text, fence, columns)
    fence = rendered.fence
    return rendered.text
  }
  const push = (delta: string): string => {
    const text = sanitizeForTerminal(delta)
    if (text === "") return ""
    if (!options.color) {
      lineStart = text.endsWith("\n")
      return text
    }
    buffer += text
    let out = ""
    let newline = buffer.indexOf("\n")
    while (newline !== -1) {
      out += `${line(buffer.slice(0, newline))}\n`
      buffer = buffer.slice(newline + 1)
      newline = buffer.indexOf("\n")
    }
    if (fence === undefined) {
      let cut = cutPoint(buffer, columns)
      while (cut !== undefined) {
        out += `${line(buffer.slice(0, cut))}\n`
        continued = true
        buffer = buffer.slice(cut + 1)
        cut = cutPoint(buffer, columns)
      }
    }
    if (out !== "") lineStart = true
    return out
  }
  const flush = (): string => {
    if (!options.color) return ""
    const out = buffer === "" ? "" : `${line(buffer)}\n`
    buffer = ""
    fence = undefined
    continued = false
    lineStart = true
    return out
  }
  return { push, flush, atLineStart: () => (options.color ? true : lineStart) }
}
