import { describe, expect, it } from "@effect/vitest"
import { makeMarkdownRenderer, renderInline, renderLine } from "../../../src/cli/repl/markdown.js"

/** Escape sequences made visible: bold <1>...</22> etc. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is shown
const show = (s: string) => s.replace(/\u001b\[(\d+)m/g, (_, n: string) => `<${n}>`)

const stream = (deltas: ReadonlyArray<string>, columns = 80) => {
  const md = makeMarkdownRenderer({ color: true, columns })
  const pieces = deltas.map((d) => md.push(d))
  return { pieces: pieces.map(show), all: show(pieces.join("") + md.flush()) }
}

describe("markdown renderer", () => {
  it("renders inline code, bold, italics, strike-through and links", () => {
    expect(show(renderInline("a `x*y*` **b** *c* _d_ ~~e~~ [site](https://x.dev)"))).toBe(
      "a <36>x*y*<39> <1>b<22> <3>c<23> <3>d<23> <9>e<29> <4>site<24> <2>(https://x.dev)<22>"
    )
    expect(show(renderInline("snake_case_name and 2*3*4"))).toBe("snake_case_name and 2*3*4")
    expect(show(renderInline("<https://x.dev> [https://x.dev](https://x.dev)"))).toBe(
      "<https://x.dev> <4>https://x.dev<24>"
    )
  })

  it("renders headings, lists, task lists, quotes and rules", () => {
    const line = (s: string) => show(renderLine(s, undefined, 20).text)
    expect(line("# Title")).toBe("<1><4>Title<24><22>")
    expect(line("### Sub ###")).toBe("<1>Sub<22>")
    expect(line("- item **b**")).toBe("<2>•<22> item <1>b<22>")
    expect(line("  * [x] done")).toBe("  <2>•<22> ☑ done")
    expect(line("- [ ] todo")).toBe("<2>•<22> ☐ todo")
    expect(line("12. twelve")).toBe("12. twelve")
    expect(line("> quoted")).toBe("<2>│<22> <3>quoted<23>")
    expect(line("---")).toBe(`<2>${"─".repeat(20)}<22>`)
  })

  it("renders a fenced code block line by line as it streams, nothing inside it as Markdown", () => {
    const { pieces, all } = stream(["Here:\n```ts\nconst a = **1**\n", "# not a heading\n", "```\nafter *it*\n"])
    expect(pieces[0]).toBe("Here:\n<2>```ts<22>\n<33>const a = **1**<39>\n")
    expect(pieces[1]).toBe("<33># not a heading<39>\n")
    expect(all).toContain("<2>```<22>\nafter <3>it<23>\n")
  })

  it("waits for a line to end, but cuts a long paragraph at a word as soon as it is too long", () => {
    const { pieces, all } = stream(["short **bo", "ld** line", "\n"])
    expect(pieces).toEqual(["", "", "short <1>bold<22> line\n"])
    expect(all).toBe("short <1>bold<22> line\n")
    const long = stream(["word ".repeat(10), "word ".repeat(10)], 30)
    expect(long.pieces[0]).toBe("word word word word word word\n")
    // An emphasis open at the cut waits for its end.
    expect(stream(["**" + "word ".repeat(10)], 30).pieces[0]).toBe("")
  })

  it("flushes the last partial line and closes an unterminated block", () => {
    expect(stream(["no newline"]).all).toBe("no newline\n")
    expect(stream(["```\ncode"]).all).toBe("<2>```<22>\n<33>code<39>\n")
    expect(stream([""]).all).toBe("")
  })

  it("removes escape sequences from model text", () => {
    expect(stream(["\u001b[2Jevil\u001b]0;title\u0007 text\n"]).all).toBe("evil text\n")
  })

  it("without color, passes the text through as it arrives", () => {
    const md = makeMarkdownRenderer({ color: false, columns: 80 })
    expect(md.push("**a** \u001b[31mb")).toBe("**a** b")
    expect(md.atLineStart()).toBe(false)
    expect(md.push("\n")).toBe("\n")
    expect(md.atLineStart()).toBe(true)
    expect(md.flush()).toBe("")
  })
})
