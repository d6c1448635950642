/**
 * The end of a `sage -p` start-up. Its critical path ends when its first model request is out; the first event of a
 * model response marks the moment after it. Then the CLI switches V8 to the compact heap (`CliIO.compactHeap`):
 * applied from the start, the compact heap's extra collections slow the way to the first request by ~15%.
 */
import type { AgentEvent } from "../streams/AgentEvent.js"

/** Events that only come once a model response is arriving. */
const RESPONSE_EVENTS: ReadonlySet<AgentEvent["type"]> = new Set([
  "text.delta",
  "reasoning.delta",
  "tool.started",
  "turn.ended"
])

/** A watcher for a run's events that calls `onStartupDone` once, at the first event of a model response. */
export const startupWatcher = (onStartupDone: (() => void) | undefined): ((event: AgentEvent) => void) => {
  let pending = onStartupDone
  return (event) => {
    if (pending === undefined || !RESPONSE_EVENTS.has(event.type)) return
    const done = pending
    pending = undefined
    done()
  }
}
