import { describe, expect, it } from "@effect/vitest"
import { sanitizeForTerminal } from "../../src/streams/Sanitize.js"

describe("sanitizeForTerminal", () => {
  it.each([
    ["plain text\nwith\ttabs", "plain text\nwith\ttabs"],
    ["\u001b[31mred\u001b[0m", "red"],
    ["title\u001b]0;pwned\u0007 after", "title after"],
    ["link \u001b]8;;http://evil\u001b\\click\u001b]8;;\u001b\\", "link click"],
    ["clear\u001b[2J\u001b[H screen", "clear screen"],
    ["dcs \u001bPq#0;2;0;0;0\u001b\\ end", "dcs  end"],
    ["8-bit \u009b31m csi", "8-bit  csi"],
    ["bell\u0007 and nul\u0000 and del\u007f", "bell and nul and del"],
    ["overwrite\rfake", "overwritefake"],
    ["windows\r\nline", "windows\nline"],
    ["lone escape \u001b", "lone escape "],
    ["charset \u001b(Bswitch", "charset switch"]
  ])("strips %j", (input, expected) => {
    expect(sanitizeForTerminal(input)).toBe(expected)
  })
})
