/** The `Todos` service in memory (`makeTodoLists`): one list per session id, empty when built. */
import * as Layer from "effect/Layer"
import { Todos } from "../services/Todos.js"
import { makeTodoLists } from "../tools/TodoWrite.js"

export const layer: Layer.Layer<Todos> = Layer.effect(Todos, makeTodoLists())
