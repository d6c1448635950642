/** Wire codecs for event streams: JSON Lines and Server-Sent Events. Pure. */
import * as Stream from "effect/Stream"
import { type AgentEvent, agentEventToJson } from "./AgentEvent.js"

/** One JSON object per line, newline-terminated. */
export const toJsonl = <E, R>(events: Stream.Stream<AgentEvent, E, R>): Stream.Stream<string, E, R> =>
  Stream.map(events, (e) => `${agentEventToJson(e)}\n`)

/** One SSE frame per event: `event: <type>` and `data: <json>`. */
export const toSse = <E, R>(events: Stream.Stream<AgentEvent, E, R>): Stream.Stream<string, E, R> =>
  Stream.map(events, (e) => `event: ${e.type}\ndata: ${agentEventToJson(e)}\n\n`)
