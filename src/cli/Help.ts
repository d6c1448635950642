/** `sage --help`: written for a person. Headings are bold only on a terminal without `NO_COLOR`. */
import { VERSION } from "./version.js"

export interface HelpStyle {
  readonly color: boolean
}

/** Color only on a terminal, and never with `NO_COLOR` (any value) or `TERM=dumb`. */
export const useColor = (isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>): boolean =>
  isTTY === true && env.NO_COLOR === undefined && env.TERM !== "dumb"

const heading = (text: string, style: HelpStyle): string => (style.color ? `\u001b[1m${text}\u001b[22m` : text)

export const mainHelp = (style: HelpStyle): string => `sage ${VERSION}: a concurrent, stream-first coding agent

${heading("Usage", style)}
  sage [options]                    interactive session (on a terminal; see "Interactive mode")
  sage -p "PROMPT" [options]        answer the prompt, then exit
  COMMAND | sage -p [options]       the prompt comes from stdin
  COMMAND | sage -p "PROMPT"        stdin is appended to the prompt as context
  sage permissions check TOOL 'INPUT-JSON' [--cwd DIR]
  sage sessions list | show ID | export ID [--format jsonl|markdown] | delete ID   (see sage sessions --help)
  sage --version | --help

${heading("Options", style)}
  -p, --print                     print mode: answer and exit (without it, on a terminal: interactive)
  --provider anthropic|openai     model provider (env SAGE_PROVIDER; default anthropic)
  --model ID                      model id (env SAGE_MODEL; default: the provider's)
  --output-format FORMAT          text (default): the answer on stdout, tool calls on stderr
                                  json: one result object at the end, also when the run fails
                                  stream-json: one AgentEvent JSON object per line
  --max-steps N                   stop after N model requests (N >= 1; stop reason max_steps)
  --max-budget-usd N              stop after the step whose cost reaches N US dollars (stop reason
                                  max_budget; needs the model's price: built in, or settings "models")
  --permission-mode MODE          default | acceptEdits | plan | bypassPermissions
                                  (default: the settings' defaultMode, else default)
  --allowed-tools RULES           allow rules, e.g. "Read,Bash(npm test:*)" (repeatable)
  --disallowed-tools RULES        deny rules, e.g. "Bash(rm:*)" (repeatable)
  --cwd DIR                       workspace root (default: the current directory)
  --add-dir DIR                   another directory the tools may use (repeatable)
  --sandbox auto|require|off      OS sandbox for commands (default auto: bubblewrap when it works)
  --system-prompt TEXT            replace Sage's system prompt
  --append-system-prompt TEXT     add TEXT to the end of the system prompt
  -c, --continue                  continue the latest session of this directory
  -r, --resume [ID]               continue session ID (no ID, on a terminal: pick from a list)
  --fork-session                  with -c / -r: continue as a new session (the original is untouched)
  --session-id ID                 the new session's id (an error if it exists, unless resuming it)
  --no-session-persistence        do not save this run as a session
  -h, --help                      this help
  -v, --version                   the version

${heading("Interactive mode", style)}
  sage with no prompt on a terminal opens a session: answers stream as rendered Markdown, tool calls show as
  status lines, approvals are asked inline. Typing while an answer runs queues a message for the model's next
  step. The input history is kept in ~/.sage/history (or $SAGE_HOME/history). NO_COLOR and TERM=dumb give
  plain text.
  Keys: Enter send · \\ at the end of a line or Shift-Enter: new line · Up/Down history · Esc clear the line
        Ctrl-C interrupt the answer (twice on an empty line: exit) · Ctrl-D exit
  Commands: /help /clear /compact [instructions] /cost /model [name] /resume [id] /permissions [mode]
        /reasoning /status /exit, and your own: .sage/commands/NAME.md or ~/.sage/commands/NAME.md
        (the file is the prompt; $ARGUMENTS is replaced by what follows /NAME)

${heading("Input", style)}
  The prompt is the argument. Piped stdin is the prompt when there is no argument; with an argument,
  stdin is appended to the prompt as context (e.g. git diff | sage -p "review this").

${heading("Examples", style)}
  sage -p "What does src/index.ts export?"
  git diff | sage -p "Write a commit message for this diff"
  sage -p "Run the tests and fix what fails" --allowed-tools "Bash(npm test:*),Edit"
  sage -p "Summarise the TODOs" --output-format json --max-steps 5
  sage permissions check Bash '{"command":"npm test"}'

${heading("Environment", style)}
  ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL   Anthropic key and endpoint
  OPENAI_API_KEY, OPENAI_BASE_URL         OpenAI key and endpoint (any OpenAI-compatible server)
  SAGE_PROVIDER, SAGE_MODEL               default provider and model
  SAGE_HOME                               where sessions are saved (SAGE_HOME/sessions; default ~/.sage/sessions)
  NO_COLOR                                no colors in sage's own output

${heading("Permissions", style)}
  Rules come from ~/.sage/settings.json, <project>/.sage/settings.json, <project>/.sage/settings.local.json
  and the flags above. On a terminal, a call that needs approval is asked inline (y once, s for this session,
  a always, n deny);
  without one (pipes, CI) it is denied with a message naming the flag that would allow it.

${heading("Exit codes", style)}
  0 done (also when stdout is closed early), 1 error, 2 usage error, 130 interrupted (Ctrl-C, SIGTERM, SIGHUP;
  a second Ctrl-C kills running commands at once)
`

export const sessionsHelp = (style: HelpStyle): string => `${heading("Usage", style)}
  sage sessions list [--cwd DIR]            every session, the most recently used first
  sage sessions show ID                     a session's details and its last messages
  sage sessions export ID [--format jsonl|markdown]
                                            the whole log (jsonl, default) or a readable transcript
  sage sessions delete ID                   delete a session's log (nothing is ever deleted otherwise)

  Every run is saved as a session in ~/.sage/sessions (or $SAGE_HOME/sessions): one JSONL file per session,
  written as the run goes. Continue one with sage -c (the latest of this directory) or sage -r ID.
`

export const permissionsHelp = (style: HelpStyle): string => `${heading("Usage", style)}
  sage permissions check TOOL ['INPUT-JSON'] [options]

  Prints the decision the permission rules make for one tool call (allow, ask or deny), then the rule and the
  file that made it. It is the same decision the agent makes.

${heading("Options", style)}
  --cwd DIR                       workspace root (default: the current directory)
  --permission-mode MODE          default | acceptEdits | plan | bypassPermissions (default: default)
  --allowed-tools RULES           extra allow rules (repeatable)
  --disallowed-tools RULES        extra deny rules (repeatable)

${heading("Example", style)}
  sage permissions check Bash '{"command":"npm test -- --watch"}'
`
