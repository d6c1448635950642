/**
 * The settings contract: the permission rules from every source, merged. Sources, lowest precedence first:
 * `~/.sage/settings.json` (user), `<project>/.sage/settings.json` (project), `<project>/.sage/settings.local.json`
 * (local; "allow always" answers are saved here), rules given in code (SDK / library options), then the CLI flags
 * (`--allowed-tools`, `--disallowed-tools`). Deny beats ask beats allow whatever the source; precedence decides
 * only `defaultMode`. The data types here are plain data, so that every engine can read them.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { PermissionError } from "../errors/PermissionError.js"
import type { HooksConfig } from "./Hooks.js"
import type { ModelOverrides } from "./ModelCatalog.js"
import type { PermissionMode } from "./Permissions.js"

export type RuleBehavior = "allow" | "ask" | "deny"

/** A gitignore-style path pattern of a file rule (`Edit(src/**)`, `Read(//etc/**)`, `Read(~/.ssh/**)`). */
export interface PathPattern {
  readonly text: string
  /** What the pattern is relative to. */
  readonly base: "root" | "home" | "absolute"
  /** Leading `..` segments above the base. */
  readonly up: number
  /** Glob segments (`**` spans any number of segments). */
  readonly segments: ReadonlyArray<string>
  /** False for a single segment without a slash (`.env`, `*.pem`): it matches at any depth. */
  readonly anchored: boolean
}

export type RuleContent =
  /** The whole tool (`Bash`, `Bash(*)`). */
  | { readonly _tag: "Any" }
  | { readonly _tag: "Command"; readonly words: ReadonlyArray<string>; readonly prefix: boolean }
  | { readonly _tag: "Path"; readonly pattern: PathPattern }
  | { readonly _tag: "Domain"; readonly domain: string; readonly subdomains: boolean }
  /** A pattern for a tool whose input we cannot interpret: never allows, makes deny/ask rules ask. */
  | { readonly _tag: "Raw"; readonly text: string }

/** One parsed permission rule. */
export interface Rule {
  /** The rule as written. */
  readonly text: string
  readonly tool: string
  readonly content: RuleContent
  readonly behavior: RuleBehavior
  /** Where the rule came from: a settings file path, `--allowed-tools`, `options`, ... */
  readonly source: string
}

/** Everything the permission check needs from the settings. */
export interface RuleSet {
  /** The project root: relative path patterns and `./` are relative to it. */
  readonly projectRoot: string
  readonly homeDir: string
  /** All rules from all sources (order does not matter: deny beats ask beats allow). */
  readonly rules: ReadonlyArray<Rule>
  /** Extra workspace roots (absolute). */
  readonly additionalDirectories: ReadonlyArray<string>
  /** `defaultMode` from the highest-precedence settings file that sets one. */
  readonly defaultMode?: PermissionMode
  /** The settings files that were found and loaded, lowest precedence first. */
  readonly files: ReadonlyArray<string>
  /** The `models` key of the settings files, merged (higher precedence wins, field by field). */
  readonly models?: ModelOverrides
  /** The `compaction` key of the settings files, merged (higher precedence wins, field by field). */
  readonly compaction?: CompactionSettings
  /** The `sandbox` key of the settings files (`envPassthrough` lists joined). */
  readonly sandbox?: SandboxSettings
  /** The `hooks` key of the settings files (every file's hooks, lowest precedence first). */
  readonly hooks?: HooksConfig
}

/** How commands run (the `sandbox` settings key). */
export interface SandboxSettings {
  /** Variables commands receive unchanged although they look like credentials (`NAME` or `PREFIX*`). */
  readonly envPassthrough: ReadonlyArray<string>
}

/** When the conversation is compacted automatically (the `compaction` settings key). */
export interface CompactionSettings {
  /** Compact automatically when the conversation nears the model's context window (default true). */
  readonly auto?: boolean
  /** The fraction of the model's input budget at which to compact, in (0, 1] (default 0.8). */
  readonly threshold?: number
}

/** Rules given in code, by behavior. */
export interface RuleLists {
  readonly allow?: ReadonlyArray<string>
  readonly ask?: ReadonlyArray<string>
  readonly deny?: ReadonlyArray<string>
}

export declare namespace Settings {
  interface Service {
    /** The merged rule set as it is now (it grows when `addAllowRule` saves a rule). */
    readonly ruleSet: Effect.Effect<RuleSet>
    /**
     * Saves an allow rule in `<project>/.sage/settings.local.json` (keeping the rest of the file) and adds it to
     * `ruleSet`. Fails without writing anything when the rule is invalid or the file is malformed.
     */
    readonly addAllowRule: (rule: string) => Effect.Effect<Rule, PermissionError>
    /**
     * Adds an allow rule for the rest of this session only (source `session`; nothing is written). Implementations
     * without session rules leave it out.
     */
    readonly addSessionRule?: (rule: string) => Effect.Effect<Rule, PermissionError>
  }
}

/** The settings of a session (see `SettingsLive`). Building the live layer fails on a malformed source. */
export class Settings extends Context.Service<Settings, Settings.Service>()("sage/Settings") {}
