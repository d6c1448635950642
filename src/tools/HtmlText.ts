/** WebFetch's HTML to text: loaded on demand (see `WebFetch.ts`), so start-up does not parse the converter. */
import { NodeHtmlMarkdown } from "node-html-markdown"

const linkTarget = (href: string | undefined, base: string | undefined): string | undefined => {
  if (href === undefined || href.trim() === "" || href.startsWith("#")) return undefined
  try {
    const url = base === undefined ? new URL(href) : new URL(href, base)
    return url.protocol === "http:" || url.protocol === "https:" || url.protocol === "mailto:" ? url.href : undefined
  } catch {
    return undefined
  }
}

const SKIPPED_ELEMENTS = [
  "title",
  "script",
  "style",
  "noscript",
  "template",
  "svg",
  "math",
  "iframe",
  "object",
  "canvas",
  "head",
  "select",
  "textarea"
]

const TITLE = /<title[^>]*>([\s\S]*?)<\/title\s*>/i

/**
 * Readable text from HTML, as Markdown (node-html-markdown): scripts, styles and other non-content elements
 * dropped, the title first, headings as `#` lines, links as `[text](url)` (resolved against `baseUrl`; other
 * schemes than http, https and mailto are kept as plain text), images as `[image: alt]`, lists as `- ` lines,
 * tables as Markdown tables, `<pre>` in ``` fences, character references decoded.
 */
export const htmlToText = (html: string, baseUrl?: string): string => {
  const converter = new NodeHtmlMarkdown(
    {
      ignore: SKIPPED_ELEMENTS,
      bulletMarker: "-",
      codeBlockStyle: "fenced",
      maxConsecutiveNewlines: 2,
      useInlineLinks: true
    },
    {
      // Emphasis is noise for a reader that is a model.
      "b,strong,i,em": { postprocess: ({ content }) => content },
      pre: { prefix: "```\n", postfix: "\n```", surroundingNewlines: 2, preserveWhitespace: true, noEscape: true },
      a: ({ node }) => {
        const href = linkTarget(node.getAttribute("href"), baseUrl)
        return href === undefined
          ? {}
          : {
              postprocess: ({ content }) => {
                const text = content.replace(/\s+/g, " ").trim()
                return text === "" ? "" : `[${text}](${href})`
              }
            }
      },
      img: ({ node }) => {
        const alt = node.getAttribute("alt")?.trim() ?? ""
        return { content: alt === "" ? "" : `[image: ${alt}]`, recurse: false, ignore: alt === "" }
      }
    }
  )
  // Markdown's hard line breaks (two trailing spaces) are invisible noise in text.
  const body = converter
    .translate(html)
    .replace(/[ \t]+$/gm, "")
    .trim()
  const titleMatch = TITLE.exec(html)?.[1]
  const title = titleMatch === undefined ? "" : converter.translate(titleMatch).replace(/\s+/g, " ").trim()
  if (title === "") return body
  return body === "" ? `Title: ${title}` : `Title: ${title}\n\n${body}`
}
