/**
 * MCP server prompts as REPL slash commands: `/mcp__<server>__<prompt> [args]` asks the server for the prompt and
 * runs its messages as the user's prompt. Arguments are `name=value` words or, in order, plain words (quote a
 * value with spaces); the last argument takes the rest of the line.
 */
import * as Effect from "effect/Effect"
import { sanitizeName } from "../../mcp/Config.js"
import type { McpPromptInfo, McpServers } from "../../services/McpServers.js"

/** The slash command name of a prompt. */
export const promptCommand = (prompt: McpPromptInfo): string =>
  `mcp__${sanitizeName(prompt.server)}__${sanitizeName(prompt.name)}`

const words = (text: string): Array<string> =>
  [...text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "")

/** The prompt's arguments from the command line. */
export const promptArguments = (prompt: McpPromptInfo, argument: string): Record<string, string> => {
  const out: Record<string, string> = {}
  const positional: Array<string> = []
  for (const word of words(argument)) {
    const eq = word.indexOf("=")
    const key = eq > 0 ? word.slice(0, eq) : undefined
    if (key !== undefined && prompt.arguments.some((a) => a.name === key)) out[key] = word.slice(eq + 1)
    else positional.push(word)
  }
  const free = prompt.arguments.filter((a) => out[a.name] === undefined)
  free.forEach((a, i) => {
    const value = i === free.length - 1 ? positional.slice(i).join(" ") : positional[i]
    if (value !== undefined && value !== "") out[a.name] = value
  })
  return out
}

/**
 * The prompt text of `/name argument`, or the problem to show (no such prompt, a missing argument, the server refused).
 */
export const expandMcpPrompt = (
  mcp: McpServers.Service,
  name: string,
  argument: string
): Effect.Effect<{ readonly prompt: string } | { readonly problem: string }> =>
  Effect.gen(function* () {
    const prompts = yield* mcp.prompts
    const prompt = prompts.find((p) => promptCommand(p) === name)
    if (prompt === undefined) {
      const known = prompts.map((p) => `/${promptCommand(p)}`)
      return { problem: `No MCP prompt /${name}.${known.length === 0 ? "" : ` MCP prompts: ${known.join(", ")}`}` }
    }
    const args = promptArguments(prompt, argument)
    const missing = prompt.arguments.filter((a) => a.required && args[a.name] === undefined).map((a) => a.name)
    if (missing.length > 0) {
      return {
        problem: `/${name} needs ${missing.join(", ")} (usage: /${name} ${prompt.arguments.map((a) => (a.required ? a.name : `[${a.name}]`)).join(" ")})`
      }
    }
    const messages = yield* mcp.getPrompt(prompt.server, prompt.name, args).pipe(Effect.result)
    if (messages._tag === "Failure") return { problem: messages.failure.message }
    const list = messages.success
    const text =
      list.length === 1 && list[0]?.role === "user"
        ? list[0].text
        : list.map((m) => `${m.role === "user" ? "User" : "Assistant"}: ${m.text}`).join("\n\n")
    return { prompt: text }
  })
