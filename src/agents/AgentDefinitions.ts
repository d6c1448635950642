/**
 * The sub-agent types an agent offers: the built-in ones, then the user's (`~/.sage/agents/*.md`), then the
 * project's (`<cwd>/.sage/agents/*.md`), then those given in the options; on a name clash the later one wins
 * (options over project over user over built-in). A malformed file, two files of one directory with the same name,
 * or a bad option is a `ConfigError` naming the file (or the option).
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Path from "effect/Path"
import { ConfigError } from "../errors/ConfigError.js"
import { PERMISSION_MODES, type PermissionMode } from "../services/Permissions.js"
import type { AgentDefinition, AgentSource } from "../services/SubAgents.js"
import { AGENT_NAME_PATTERN, parseAgentFile } from "./AgentFile.js"
import { BUILTIN_AGENTS } from "./BuiltinAgents.js"

export { AGENT_NAME_PATTERN, parseAgentFile } from "./AgentFile.js"
export { BUILTIN_AGENTS } from "./BuiltinAgents.js"

/** An agent given in the options (the `agents` option of `layerNode` and the SDK), keyed by its name. */
export interface AgentOption {
  /** When to use it (shown to the model). */
  readonly description: string
  /** Its system prompt. */
  readonly prompt: string
  /** The tools it may use (absent: all of its parent's). */
  readonly tools?: ReadonlyArray<string>
  readonly disallowedTools?: ReadonlyArray<string>
  /** Absent or `inherit`: its parent's model. */
  readonly model?: string
  /** Made no wider than its parent's. */
  readonly permissionMode?: PermissionMode
  /** Model requests per turn at most (default: its parent's). */
  readonly maxSteps?: number
}

export interface LoadAgentsOptions {
  /** The project root: its `.sage/agents` is read. */
  readonly cwd: string
  /** The user's home: its `.sage/agents` is read (none when absent). */
  readonly homeDir?: string
  readonly agents?: Readonly<Record<string, AgentOption>>
}

/** The definitions of a directory's `*.md` files, by file name; none when it does not exist. */
export const loadAgentDirectory = Effect.fn("AgentDefinitions.loadDirectory")(function* (
  dir: string,
  source: AgentSource
) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const exists = yield* fs.exists(dir).pipe(Effect.orElseSucceed(() => false))
  if (!exists) return []
  const entries = yield* fs
    .readDirectory(dir)
    .pipe(
      Effect.mapError(
        (error) =>
          new ConfigError({ message: `cannot read the agents directory ${dir}: ${error.message}`, source: dir })
      )
    )
  const files = entries.filter((name) => name.endsWith(".md")).sort()
  const found: Array<AgentDefinition> = []
  for (const name of files) {
    const file = path.join(dir, name)
    const text = yield* fs
      .readFileString(file)
      .pipe(
        Effect.mapError(
          (error) => new ConfigError({ message: `cannot read the agent file ${file}: ${error.message}`, source: file })
        )
      )
    const definition = yield* parseAgentFile(text, file, source)
    const twin = found.find((d) => d.name === definition.name)
    if (twin !== undefined) {
      return yield* new ConfigError({
        message: `two agent files define the agent "${definition.name}": ${twin.path ?? "?"} and ${file}`,
        source: file
      })
    }
    found.push(definition)
  }
  return found
})

const invalidOption = (name: string, problem: string) =>
  new ConfigError({ message: `Invalid option agents.${name}: ${problem}`, source: `agents.${name}` })

const isStringList = (value: unknown): value is ReadonlyArray<string> =>
  Array.isArray(value) && value.every((item) => typeof item === "string" && item !== "")

/** The definitions given in the options, checked (JavaScript callers have no compiler). */
export const fromOptions = (
  agents: Readonly<Record<string, AgentOption>>
): Effect.Effect<ReadonlyArray<AgentDefinition>, ConfigError> =>
  Effect.forEach(Object.entries(agents), ([name, option]) => {
    if (!AGENT_NAME_PATTERN.test(name)) {
      return Effect.fail(invalidOption(name, 'the name must be 1-64 characters from a-z, A-Z, 0-9, "_" and "-"'))
    }
    if (typeof option !== "object" || option === null) return Effect.fail(invalidOption(name, "expected an object"))
    if (typeof option.description !== "string" || option.description.trim() === "")
      return Effect.fail(invalidOption(name, "description must be a non-empty string"))
    if (typeof option.prompt !== "string" || option.prompt.trim() === "")
      return Effect.fail(invalidOption(name, "prompt must be a non-empty string"))
    if (option.tools !== undefined && !isStringList(option.tools))
      return Effect.fail(invalidOption(name, "tools must be an array of tool names"))
    if (option.disallowedTools !== undefined && !isStringList(option.disallowedTools))
      return Effect.fail(invalidOption(name, "disallowedTools must be an array of tool names"))
    if (option.model !== undefined && (typeof option.model !== "string" || option.model === ""))
      return Effect.fail(invalidOption(name, "model must be a non-empty string"))
    if (option.permissionMode !== undefined && !PERMISSION_MODES.includes(option.permissionMode))
      return Effect.fail(invalidOption(name, `permissionMode must be one of ${PERMISSION_MODES.join(", ")}`))
    if (option.maxSteps !== undefined && !(Number.isInteger(option.maxSteps) && option.maxSteps >= 1))
      return Effect.fail(invalidOption(name, "maxSteps must be an integer >= 1"))
    return Effect.succeed<AgentDefinition>({
      name,
      description: option.description,
      prompt: option.prompt,
      ...(option.tools === undefined ? {} : { tools: option.tools }),
      ...(option.disallowedTools === undefined ? {} : { disallowedTools: option.disallowedTools }),
      ...(option.model === undefined ? {} : { model: option.model }),
      ...(option.permissionMode === undefined ? {} : { permissionMode: option.permissionMode }),
      ...(option.maxSteps === undefined ? {} : { maxSteps: option.maxSteps }),
      source: "options"
    })
  })

/** Later definitions replace earlier ones of the same name (keeping the earlier one's place in the list). */
export const merge = (...groups: ReadonlyArray<ReadonlyArray<AgentDefinition>>): ReadonlyArray<AgentDefinition> => {
  const byName = new Map<string, AgentDefinition>()
  for (const group of groups) for (const definition of group) byName.set(definition.name, definition)
  return [...byName.values()]
}

/** Every agent type on offer (see the module comment). */
export const loadAgents = Effect.fn("AgentDefinitions.load")(function* (options: LoadAgentsOptions) {
  const path = yield* Path.Path
  const projectDir = path.join(path.resolve(options.cwd), ".sage", "agents")
  const userDir =
    options.homeDir === undefined ? undefined : path.join(path.resolve(options.homeDir), ".sage", "agents")
  const user = userDir === undefined || userDir === projectDir ? [] : yield* loadAgentDirectory(userDir, "user")
  const project = yield* loadAgentDirectory(projectDir, "project")
  const given = options.agents === undefined ? [] : yield* fromOptions(options.agents)
  return merge(BUILTIN_AGENTS, user, project, given)
})
