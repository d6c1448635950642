/**
 * The one list of places whose contents change what later commands or sessions do, so that no tool, shell
 * command or sandboxed process may change them without an explicit rule: used by the file tools (`isProtected` in
 * `Workspace.ts`), the shell check (`ShellProtected.ts`) and the sandbox's read-only binds (`SandboxBubblewrap.ts`).
 */

/**
 * Directory names protected at any depth (and a new file or directory with the name: a gitfile is a repository):
 * git's repository and Sage's settings, and what runs code on the user's machine later, outside any sandbox: git
 * hooks kept in the project (`.husky`, which husky makes git's `core.hooksPath`), and the editor settings that
 * start tasks and programs when the project is opened (`.vscode` tasks `runOn: folderOpen`, `.idea` start-up
 * tasks, `.devcontainer` lifecycle commands).
 */
export const PROTECTED_DIRECTORIES: ReadonlyArray<string> = [
  ".git",
  ".sage",
  ".husky",
  ".vscode",
  ".idea",
  ".devcontainer"
]

/**
 * File names that programs read as configuration and run code from, protected at any depth (the model can point
 * `HOME` or `XDG_CONFIG_HOME` at any directory): git's user configuration, the shell start-up files, what runs on
 * entering a directory (direnv's `.envrc`, mise's configuration) and the commit-hook managers' configuration
 * (pre-commit, lefthook). (`.config/git/` is protected too: see `isProtectedSegments`.)
 */
export const PROTECTED_FILES: ReadonlyArray<string> = [
  ".gitconfig",
  ".bashrc",
  ".bash_profile",
  ".bash_login",
  ".bash_logout",
  ".profile",
  ".zshrc",
  ".zshenv",
  ".zprofile",
  ".zlogin",
  ".zlogout",
  ".kshrc",
  ".mkshrc",
  ".cshrc",
  ".tcshrc",
  ".login",
  ".logout",
  ".inputrc",
  ".envrc",
  // run on entering the directory (mise hooks and env sources) or on the user's next commit (hook managers)
  "mise.toml",
  ".mise.toml",
  "mise.local.toml",
  ".mise.local.toml",
  ".pre-commit-config.yaml",
  "lefthook.yml",
  ".lefthook.yml",
  "lefthook-local.yml"
]

/**
 * Entries of the home directory (files, or directories and everything below them) that run code or configure the
 * tools later commands use: the protected files above, credentials, package-manager and toolchain configuration,
 * and the directories on `PATH` or read by every program (`.config`, `.local/bin`).
 */
export const HOME_PROTECTED: ReadonlyArray<string> = [
  ...PROTECTED_FILES,
  ".sage",
  ".git-credentials",
  ".npmrc",
  ".yarnrc",
  ".yarnrc.yml",
  ".pypirc",
  ".netrc",
  ".curlrc",
  ".wgetrc",
  ".ssh",
  ".gnupg",
  ".pki",
  ".docker",
  ".kube",
  ".aws",
  ".local/bin",
  ".config",
  ".cargo",
  ".bun",
  ".deno"
]

/** What the protected paths are, for messages. */
export const PROTECTED_DESCRIPTION =
  "a protected directory (.git, .sage, .husky, .vscode, .idea, .devcontainer), git configuration (.gitconfig, .config/git) or a start-up file (.bashrc, .profile, .envrc, ...)"
