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
  sage mcp list | get NAME | add NAME COMMAND [ARGS...] | remove NAME | approve NAME   MCP servers (sage mcp --help)
  sage mcp serve [--http PORT] [options]   Sage's tools and agent as an MCP server (see sage mcp serve --help)
  sage --version | --help

${heading("Options", style)}
  -p, --print                     print mode: answer and exit (without it, on a terminal: interactive)
  --provider NAME                 model provider (env SAGE_PROVIDER; default anthropic): anthropic, openai,
                                  openai-responses (OpenAI Responses API), azure (Azure OpenAI),
                                  bedrock (Amazon Bedrock), gemini (Gemini API), vertex (Gemini on Vertex AI),
                                  ollama (local Ollama server)
  --model ID                      model id (env SAGE_MODEL; default: the provider's). PROVIDER/ID (e.g.
                                  openai/gpt-5, ollama/llama3.2) also picks the provider when none is given
                                  (no --provider, no SAGE_PROVIDER); with one, the id is taken whole
                                  (OpenRouter's openai/gpt-4o with --provider openai)
  --base-url URL                  the provider's endpoint (any provider; instead of ANTHROPIC_BASE_URL, ...)
  --thinking-budget N             extended thinking budget in tokens (N >= 1024) on every request
  --reasoning-effort LEVEL        minimal | low | medium | high on every request (a provider that takes a
                                  budget gets 1024 / 2048 / 8192 / 24576 tokens; one that takes an effort
                                  gets the budget as low < 4096 <= medium < 16384 <= high)
  --json-schema FILE              the answer must be JSON matching the JSON Schema in FILE (validated; one
                                  repair request, then an error); printed as the result (json output:
                                  "structuredOutput")
  --image FILE                    attach an image (PNG, JPEG, GIF, WebP; at most 5 MB; repeatable)
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
  --agents JSON                   sub-agent types for the Task tool, e.g. '{"reviewer": {"description": "...",
                                  "prompt": "...", "tools": ["Read", "Grep"]}}' (beside .sage/agents/*.md)
  --max-subagents N               sub-agents running at once per turn (default 4)
  --mcp-config FILE               MCP servers from FILE ({"mcpServers": {...}}, as in .mcp.json; or such JSON
                                  inline); beside .mcp.json and the settings' mcpServers (repeatable)
  -c, --continue                  continue the latest session of this directory
  -r, --resume [ID]               continue session ID (no ID, on a terminal: pick from a list)
  --fork-session                  with -c / -r: continue as a new session (the original is untouched)
  --session-id ID                 the new session's id (an error if it exists, unless resuming it)
  --no-session-persistence        do not save this run as a session
  --record DIR                    write every model response to DIR (numbered JSONL files, replacing any there)
  --replay DIR                    answer from the responses recorded in DIR, in order, with no network; a request
                                  that differs from its recording, or one too many, is an error
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
  @path.png (also .jpg, .jpeg, .gif, .webp) in the prompt attaches that image, like --image. Images are read
  only inside the workspace and when the Read permission rules allow it; a model without vision refuses them.

${heading("Examples", style)}
  sage -p "What does src/index.ts export?"
  git diff | sage -p "Write a commit message for this diff"
  sage -p "Run the tests and fix what fails" --allowed-tools "Bash(npm test:*),Edit"
  sage -p "Summarise the TODOs" --output-format json --max-steps 5
  sage -p "What is wrong in @screenshot.png?" --model openai/gpt-5 --reasoning-effort high
  sage -p "List the exported functions" --json-schema exports.schema.json
  sage permissions check Bash '{"command":"npm test"}'

${heading("Environment", style)}
  ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL   Anthropic key and endpoint
  OPENAI_API_KEY, OPENAI_BASE_URL         OpenAI key and endpoint (any OpenAI-compatible server; openai-responses too)
  AZURE_OPENAI_API_KEY                    Azure OpenAI key (--provider azure; --model is the deployment name)
  AZURE_OPENAI_ENDPOINT                   https://<resource>.openai.azure.com (or --base-url)
  AZURE_OPENAI_API                        responses (default) or chat
  AZURE_OPENAI_API_VERSION                a dated API version (else the v1 API); OPENAI_API_VERSION also read
  AWS_REGION (or AWS_DEFAULT_REGION)      Bedrock region (--provider bedrock; --base-url sets the endpoint)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE
                                          Bedrock credentials (else the AWS SDK's chain: config files, SSO, roles)
  AWS_BEARER_TOKEN_BEDROCK                a Bedrock API key instead of credentials
  GEMINI_API_KEY (or GOOGLE_API_KEY)      Gemini API key (--provider gemini); GOOGLE_GEMINI_BASE_URL its endpoint
  GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_LOCATION
                                          Vertex AI project and location (--provider vertex; credentials from
                                          gcloud / GOOGLE_APPLICATION_CREDENTIALS; GOOGLE_API_KEY: express mode)
  OLLAMA_HOST                             Ollama server (--provider ollama; default http://127.0.0.1:11434)
  SAGE_PROVIDER, SAGE_MODEL               default provider and model
  SAGE_HOME                               where sessions are saved (SAGE_HOME/sessions; default ~/.sage/sessions)
  NO_COLOR                                no colors in sage's own output

${heading("Permissions", style)}
  Rules come from ~/.sage/settings.json, <project>/.sage/settings.json, <project>/.sage/settings.local.json
  and the flags above. On a terminal, a call that needs approval is asked inline (y once, s for this session,
  a always, n deny);
  without one (pipes, CI) it is denied with a message naming the flag that would allow it.
  The same files' "hooks" key runs commands at points of the loop (PreToolUse, PostToolUse, UserPromptSubmit,
  Stop, SessionStart, ...), in Claude Code's format: see the README's "Hooks".

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

export const mcpServeHelp = (style: HelpStyle): string => `${heading("Usage", style)}
  sage mcp serve [options]                  an MCP server on stdin/stdout (for an MCP client that starts it)
  sage mcp serve --http PORT [options]      Streamable HTTP at http://127.0.0.1:PORT/mcp (PORT 0: pick one)

  Offers Sage's built-in tools (Read, Write, Edit, Glob, Grep, LS, Bash, ...) and an "agent" tool
  ({"prompt": "...", "maxSteps": N}) that runs one Sage turn and answers with its final message, sending
  progress notifications (steps, tool calls) when the client asks for them. Every call passes the same
  permission rules, workspace confinement and sandbox as sage -p; nobody can approve a call, so one that
  would ask is refused (the error says which rule or mode would allow it). Cancelling a call stops it (its
  commands are killed). Speaks MCP 2025-11-25 (HTTP: with sessions) and 2026-07-28 (HTTP: stateless).
  stdin's end (exit 0), SIGINT or SIGTERM (exit 130) stop the server and its commands; in stdio mode stdout
  carries JSON-RPC only (logs: stderr). Without a usable provider (no API key) only the agent tool fails.

${heading("Options", style)}
  --cwd DIR                       workspace root (default: the current directory)
  --http PORT                     serve HTTP on 127.0.0.1 only; Host and Origin must be loopback
  --token TOKEN                   the bearer token HTTP clients must send (Authorization: Bearer TOKEN; at
                                  least 16 characters; env SAGE_MCP_TOKEN, preferred: a flag is visible to
                                  other users); without one a random token is printed on stderr at start
  --provider, --model, --permission-mode, --allowed-tools (--allowedTools), --disallowed-tools
  (--disallowedTools), --add-dir, --sandbox, --max-steps, --max-budget-usd, --system-prompt,
  --append-system-prompt          as for sage -p (see sage --help)
  -h, --help                      this help

${heading("Examples", style)}
  sage mcp serve --cwd ~/project --allowed-tools "Bash(npm test:*)"
  SAGE_MCP_TOKEN=$(openssl rand -hex 24) sage mcp serve --http 8765 --permission-mode acceptEdits
`
