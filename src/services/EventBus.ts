import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { AgentEvent } from "../streams/AgentEvent.js"

export declare namespace EventBus {
  interface Service {
    /** Never blocks on slow subscribers: a subscriber that falls behind by more than the capacity loses the oldest events. */
    readonly publish: (event: AgentEvent) => Effect.Effect<void>
    /** Subscribe for the lifetime of the scope; events published after this returns are delivered. */
    readonly subscribe: Effect.Effect<Stream.Stream<AgentEvent>, never, Scope.Scope>
  }
}

export class EventBus extends Context.Service<EventBus, EventBus.Service>()("sage/EventBus") {}
