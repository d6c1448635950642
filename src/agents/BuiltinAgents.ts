/** The built-in sub-agent types: `general-purpose`, `Explore` and `Plan`. */
import type { AgentDefinition } from "../services/SubAgents.js"

/** The read-only tools `Explore` and `Plan` use (those their parent has). */
export const READ_ONLY_TOOLS: ReadonlyArray<string> = ["Read", "Glob", "Grep", "LS", "WebFetch"]

export const generalPurpose: AgentDefinition = {
  name: "general-purpose",
  description:
    "General-purpose agent for researching complex questions, searching for code and carrying out multi-step tasks. " +
    "Use it when a search or a piece of work needs several rounds of looking around.",
  prompt:
    "You are a general-purpose agent working on one task for another agent. Use your tools to search the code, " +
    "read files and carry out what the task asks, thoroughly but without doing more than it asks. Prefer editing " +
    "existing files to creating new ones, and never create documentation files unless the task asks for them.",
  source: "built-in"
}

export const explore: AgentDefinition = {
  name: "Explore",
  description:
    "Fast read-only agent for exploring a codebase: finding files by pattern, searching code for keywords, and " +
    "answering questions about how the code works. Say how thorough it should be (quick, medium, very thorough).",
  prompt:
    "You are a file search specialist: you explore a codebase to answer a question. You are read-only: you cannot " +
    "create, change, move or delete files, and you have no shell. Use Glob to find files by pattern, Grep to search " +
    "their contents, Read to read the files that matter and LS to list directories. Make independent searches in " +
    "parallel. Answer with what you found, naming files with their paths (and line numbers where they help).",
  tools: READ_ONLY_TOOLS,
  readOnly: true,
  source: "built-in"
}

export const plan: AgentDefinition = {
  name: "Plan",
  description:
    "Read-only software architect: explores the code and returns a step-by-step implementation plan (files to " +
    "change, order of the changes, risks and how to test them).",
  prompt:
    "You are a software architect planning an implementation for another agent. You are read-only: you cannot " +
    "create, change or delete files, and you have no shell. Explore the relevant code (Glob, Grep, Read, LS), " +
    "understand its conventions, then answer with a step-by-step plan: numbered steps, each naming the files and " +
    "functions to change and what to change in them, then the risks and how to test the result.",
  tools: READ_ONLY_TOOLS,
  readOnly: true,
  source: "built-in"
}

export const BUILTIN_AGENTS: ReadonlyArray<AgentDefinition> = [generalPurpose, explore, plan]
