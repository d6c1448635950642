/**
 * A plain SDK script: no Effect, only Promises and async iterators.
 *
 *   npm run build                                   # the package's self-reference ("sage-agent/sdk") resolves to dist/
 *   export ANTHROPIC_API_KEY=sk-ant-...             # ANTHROPIC_BASE_URL too, for another endpoint
 *   NOTES_DIR=/tmp/my-notes node examples/sdk-script.ts
 *
 * 1. A streamed turn: text as it arrives on stdout, tool calls and permission answers on stderr. The model saves a
 *    note with a custom tool (`save_note`: a JSON Schema and an async `execute` that honours its AbortSignal);
 *    `canUseTool` decides which calls may run.
 * 2. A conversation: `run()` resolves with the whole conversation, which the next `run()` continues.
 * 3. Cancelling: a long answer is aborted after a few seconds (or at Ctrl-C) with an AbortSignal.
 */
import { mkdir, writeFile } from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { AbortError, type CanUseTool, type CustomTool, isSageError, SageAgentSDK } from "sage-agent/sdk"

const notesDir = process.env.NOTES_DIR ?? path.join(os.tmpdir(), "sage-example-notes")

/** A custom tool: the model sees `inputSchema` as given; `input` arrives unchecked, so check it. */
const saveNote: CustomTool = {
  name: "save_note",
  description: "Save a short note as a Markdown file. Returns the file's path.",
  inputSchema: {
    type: "object",
    properties: {
      title: { type: "string", description: "A short title; becomes the file name" },
      text: { type: "string", description: "The note itself" }
    },
    required: ["title", "text"],
    additionalProperties: false
  },
  kind: "edit", // it writes a file: not read-only, so it asks for permission
  execute: async (input, { signal }) => {
    const { title, text } = parseNote(input)
    const file = path.join(notesDir, `${slug(title)}.md`)
    await mkdir(notesDir, { recursive: true })
    // `signal` aborts when the turn is interrupted: pass it on to whatever the tool awaits.
    await writeFile(file, `# ${title}\n\n${text}\n`, { signal })
    return `Saved to ${file}`
  }
}

const parseNote = (input: unknown): { readonly title: string; readonly text: string } => {
  if (typeof input === "object" && input !== null && "title" in input && "text" in input) {
    const { title, text } = input
    if (typeof title === "string" && title.trim() !== "" && typeof text === "string") return { title, text }
  }
  // A rejection becomes an error result whose message the model reads: say how to fix the call.
  throw new Error('save_note needs {"title": non-empty string, "text": string}')
}

const slug = (title: string): string =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 60) || "note"

/** Answers permission questions: notes may be saved; anything else that asks is refused, with the reason. */
const canUseTool: CanUseTool = async (call, { reason }) => {
  const allowed = call.name === "save_note"
  console.error(`[permission] ${call.name}: ${allowed ? "allow" : "deny"} (${reason})`)
  return allowed
    ? { behavior: "allow" }
    : { behavior: "deny", message: "This script only lets the model save notes with save_note." }
}

const sage = new SageAgentSDK({
  provider: "anthropic", // the key and endpoint come from ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL
  cwd: process.cwd(),
  tools: [saveNote],
  canUseTool,
  maxSteps: 10
})

try {
  // 1. Stream one turn.
  console.log("## 1. Streaming, with a custom tool")
  for await (const event of sage.stream("Save a note titled 'Deploy window': Friday 14:00-16:00 UTC.")) {
    switch (event.type) {
      case "text.delta":
        process.stdout.write(event.text)
        break
      case "tool.started":
        console.error(`\n[tool] ${event.call.name} ${JSON.stringify(event.call.input)}`)
        break
      case "tool.completed":
        console.error(`[tool] ${event.result.toolName}: ${event.result.status}`)
        break
      case "turn.ended":
        console.log(`\n(${event.stopReason}, ${event.steps} step(s), ${event.usage.outputTokens} output tokens)`)
        break
    }
  }

  // 2. Continue a conversation: each result holds the whole conversation so far.
  console.log("\n## 2. A conversation")
  const first = await sage.run("Pick a codename for our next release: one word, nothing else.")
  console.log(`first: ${first.text}`)
  const next = await sage.run("Now use it in a one-line release announcement.", { history: first.messages })
  console.log(`next: ${next.text}`)

  // 3. Cancel: abort after a few seconds, or at Ctrl-C.
  console.log("\n## 3. Cancelling")
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), 3_000)
  const onSigint = () => controller.abort()
  process.once("SIGINT", onSigint)
  try {
    for await (const event of sage.stream("Write a 3000-word history of the printing press.", {
      signal: controller.signal
    })) {
      if (event.type === "text.delta") process.stdout.write(event.text)
    }
    console.log("\n(finished before the timeout)")
  } catch (error) {
    if (!(error instanceof AbortError)) throw error
    console.log("\n(cancelled: the model request was aborted)")
  } finally {
    clearTimeout(timer)
    process.off("SIGINT", onSigint)
  }
} catch (error) {
  // Sage's errors are tagged classes (`AuthenticationError`, `RateLimitedError`, ...) with messages for people.
  if (!isSageError(error)) throw error
  console.error(`${error._tag}: ${error.message}`)
  process.exitCode = 1
} finally {
  // Stops anything still running and releases the agent's resources.
  await sage.close()
}
