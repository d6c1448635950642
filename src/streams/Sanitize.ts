/**
 * Output hygiene: tool output and model text are data, never terminal instructions. Strips ANSI/ECMA-48 escape
 * sequences (CSI, OSC, DCS/SOS/PM/APC strings, single-character escapes), C1 controls and other control bytes,
 * keeping newlines and tabs. Pure.
 */

// ESC [ ... final byte | ESC ] ... (BEL | ESC \) | ESC P/X/^/_ ... ESC \ | ESC + one char | 8-bit CSI/OSC forms.
const ESCAPES =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[PX^_][^\u001b]*(?:\u001b\\)?|\u009b[0-?]*[ -/]*[@-~]|\u009d[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[ -/]*[0-~]?/g
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

/** Remove terminal control sequences and control bytes; keeps `\n` and `\t`, turns `\r\n` into `\n` and drops a lone `\r` (it would overwrite the line). */
export const sanitizeForTerminal = (text: string): string =>
  text.replace(ESCAPES, "").replace(/\r\n/g, "\n").replace(CONTROLS, "")
