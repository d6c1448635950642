/**
 * `layerNode(options)`: one layer that wires a complete default agent for Node — the chosen provider (loaded on
 * demand, so only the SDK in use is imported), the built-in tools plus the caller's, the permission rules, the
 * event bus and the agent loop.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { ConfigError } from "../errors/ConfigError.js"
import type { PermissionError } from "../errors/PermissionError.js"
import type { ToolRegistrationError } from "../errors/ToolError.js"
import type { RetryPolicy } from "../providers/Retry.js"
import type { Agent } from "../services/Agent.js"
import type { EventBus } from "../services/EventBus.js"
import type { LLMClient } from "../services/LLMClient.js"
import { Approver, type PermissionMode, Permissions } from "../services/Permissions.js"
import type { Tool } from "../services/Tool.js"
import type { ToolRegistry } from "../services/ToolRegistry.js"
import { makeBuiltinTools, makeWorkspace, type WebFetchOptions } from "../tools/index.js"
import * as AgentLive from "../agent/AgentLoop.js"
import * as EventBusLive from "./EventBusLive.js"
import * as PermissionsLive from "./PermissionsLive.js"
import * as SandboxBubblewrap from "../process/SandboxBubblewrap.js"
import type { SandboxMode } from "../process/SandboxBubblewrap.js"
import { matchPathPattern, realpathLoose } from "../permissions/PathRule.js"
import * as ToolRegistryLive from "./ToolRegistryLive.js"

export type ProviderId = "anthropic" | "openai"
export const PROVIDERS: ReadonlyArray<ProviderId> = ["anthropic", "openai"]

export interface ProviderOptions {
  readonly provider: ProviderId
  /** Defaults to the provider's default model. */
  readonly model?: string
  /** When absent, the vendor's variable (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`) is read through Effect `Config`. */
  readonly apiKey?: string | Redacted.Redacted<string>
  /** When absent, `ANTHROPIC_BASE_URL` / `OPENAI_BASE_URL` (if set), else the vendor's default. */
  readonly baseURL?: string
  readonly retry?: Partial<RetryPolicy>
}

export interface SageOptions extends ProviderOptions {
  /** The workspace root; tools cannot leave it (or `additionalDirectories`). */
  readonly cwd: string
  readonly additionalDirectories?: ReadonlyArray<string>
  readonly permissionMode?: PermissionMode
  /** Extra allow rules, e.g. `Bash(npm test:*)`, highest precedence after deny. */
  readonly allowedTools?: ReadonlyArray<string>
  readonly disallowedTools?: ReadonlyArray<string>
  /** Custom tools, registered beside the built-ins. */
  readonly tools?: ReadonlyArray<Tool.Any>
  readonly maxSteps?: number
  readonly maxConcurrency?: number
  readonly maxTokens?: number
  readonly system?: string
  /** The environment commands run with (provider keys and other secrets are scrubbed from it). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Answers permission questions; without one, `ask` means deny. */
  readonly approver?: Approver.Service
  /**
   * WebFetch's network policy. By default private, loopback and link-local addresses are refused (after DNS
   * resolution and on every redirect); `allowPrivate` or `allowedHosts` allow them explicitly.
   */
  readonly webFetch?: Pick<WebFetchOptions, "allowPrivate" | "allowedHosts">
  /**
   * The OS sandbox for commands: `auto` (default) uses bubblewrap when it works here and runs commands
   * unconfined otherwise; `require` refuses to run commands without it; `off` never uses it.
   */
  readonly sandbox?: SandboxMode
  /** Whether sandboxed commands may use the network (default false). */
  readonly sandboxNetwork?: boolean
  /** The user's home directory (for `~/.sage/settings.json`). */
  readonly homeDir?: string
}

/** The provider's `LLMClient` layer, importing only that provider's module (and SDK). */
export const providerLayer = (options: ProviderOptions): Layer.Layer<LLMClient, ConfigError> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const apiKey =
        options.apiKey === undefined
          ? undefined
          : Redacted.isRedacted(options.apiKey)
            ? options.apiKey
            : Redacted.make(options.apiKey)
      const overrides = {
        ...(options.model === undefined ? {} : { model: options.model }),
        ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
        ...(options.retry === undefined ? {} : { retry: options.retry })
      }
      if (options.provider === "openai") {
        const openai = yield* Effect.promise(() => import("../providers/openai/OpenAIProvider.js"))
        return apiKey === undefined ? openai.layerConfig(overrides) : openai.layerConfig({ ...overrides, apiKey })
      }
      const anthropic = yield* Effect.promise(() => import("../providers/anthropic/AnthropicProvider.js"))
      return apiKey === undefined ? anthropic.layerConfig(overrides) : anthropic.layerConfig({ ...overrides, apiKey })
    })
  )

export type SageServices = Agent | EventBus | LLMClient | ToolRegistry | Permissions

/**
 * Whether an explicit allow rule for a file-changing tool covers `realPath`: what lets Write/Edit/MultiEdit
 * touch a protected directory (`.git/`, `.sage/`). A mode (even bypassPermissions) never does.
 */
export const explicitlyAllowsEdit =
  (rules: PermissionsLive.RuleSet) =>
  (realPath: string): boolean => {
    const bases = {
      roots: [rules.projectRoot, realpathLoose(rules.projectRoot)],
      homes: [rules.homeDir, realpathLoose(rules.homeDir)]
    }
    return rules.rules.some(
      (rule) =>
        rule.behavior === "allow" &&
        EDIT_TOOLS.has(rule.tool) &&
        rule.content._tag === "Path" &&
        matchPathPattern(rule.content.pattern, realPath, bases, { conservative: false })
    )
  }

const EDIT_TOOLS = new Set(["Edit", "Write", "MultiEdit"])

/**
 * A complete agent for Node. Building it loads the settings files (a malformed one fails with `PermissionError`),
 * resolves the workspace roots (`cwd`, `additionalDirectories` and the settings' `additionalDirectories`), and
 * starts the session's tool state (read-before-write record, background shells; closed with the layer).
 * The permission mode is `permissionMode`, else the settings' `defaultMode`, else `default`.
 */
export const layerNode = (
  options: SageOptions
): Layer.Layer<SageServices, ConfigError | PermissionError | ToolRegistrationError> =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const permissions = yield* PermissionsLive.make({
        cwd: options.cwd,
        flags: { allowed: [...(options.allowedTools ?? [])], disallowed: [...(options.disallowedTools ?? [])] },
        ...(options.additionalDirectories === undefined
          ? {}
          : { additionalDirectories: options.additionalDirectories }),
        ...(options.homeDir === undefined ? {} : { homeDir: options.homeDir })
      })
      const rules = yield* permissions.rules
      const mode = PermissionsLive.startingMode(
        options.permissionMode === undefined ? {} : { mode: options.permissionMode },
        rules
      )
      const workspace = yield* makeWorkspace([options.cwd, ...rules.additionalDirectories])
      const sandbox = yield* SandboxBubblewrap.make({
        policy: { writableRoots: workspace.roots, network: options.sandboxNetwork ?? false },
        mode: options.sandbox ?? "auto",
        env: options.env ?? {}
      })
      const builtins = yield* makeBuiltinTools({
        workspace,
        env: options.env ?? {},
        sandbox,
        allowProtected: explicitlyAllowsEdit(rules),
        ...(options.webFetch === undefined ? {} : { webFetch: options.webFetch })
      })
      const base = Layer.mergeAll(
        providerLayer(options),
        ToolRegistryLive.layer([...builtins, ...(options.tools ?? [])]),
        Layer.succeed(Permissions, { check: permissions.check, allowAlways: permissions.allowAlways }),
        EventBusLive.layer(),
        options.approver === undefined ? Layer.empty : Layer.succeed(Approver, options.approver)
      )
      const agent = AgentLive.layer({
        cwd: workspace.roots[0] ?? options.cwd,
        permissionMode: mode,
        ...(options.system === undefined ? {} : { system: options.system }),
        ...(options.maxSteps === undefined ? {} : { maxSteps: options.maxSteps }),
        ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
        ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens })
      })
      return Layer.provideMerge(agent, base)
    })
  )
