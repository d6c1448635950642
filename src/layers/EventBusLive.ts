/**
 * The event bus: a bounded sliding `PubSub`. Publishing never waits for subscribers; a subscriber that falls
 * more than `capacity` events behind loses the oldest ones instead of stalling the agent. With no subscriber,
 * nothing is kept.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import { EventBus } from "../services/EventBus.js"
import type { AgentEvent } from "../streams/AgentEvent.js"

export const DEFAULT_CAPACITY = 4096

export const make = (capacity: number = DEFAULT_CAPACITY): Effect.Effect<EventBus.Service> =>
  Effect.map(PubSub.sliding<AgentEvent>(capacity), (pubsub) =>
    EventBus.of({
      publish: (event) => Effect.asVoid(PubSub.publish(pubsub, event)),
      subscribe: Effect.map(PubSub.subscribe(pubsub), Stream.fromSubscription)
    })
  )

export const layer = (capacity: number = DEFAULT_CAPACITY): Layer.Layer<EventBus> =>
  Layer.effect(EventBus, make(capacity))
