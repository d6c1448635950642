/**
 * `record`: wraps any `LLMClient` and writes each response to a directory (one numbered JSONL file per request, see
 * Recording.ts), and `replay`: an `LLMClient` that serves those files back in order, with no network.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { ConfigError } from "../../errors/ConfigError.js"
import { InvalidRequestError, type LLMError } from "../../errors/LLMError.js"
import { LLMClient, type LLMRequest } from "../../services/LLMClient.js"
import type { StreamPart } from "../../streams/StreamPart.js"
import { makeLLMClient } from "../ProviderSupport.js"
import {
  FILE_PATTERN,
  FORMAT_VERSION,
  fileName,
  formatLine,
  type Line,
  mismatch,
  parseRecording,
  type RequestLine,
  summarize
} from "./Recording.js"

export const REPLAY_PROVIDER = "replay"

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/** A Node file-system call; its failure is the cause, described by the caller. */
const node = <A>(call: () => Promise<A>): Effect.Effect<A, unknown> => Effect.tryPromise({ try: call, catch: identity })

/** The recording files in `dir`, in request order. */
const recordingFiles = (dir: string): Effect.Effect<ReadonlyArray<string>, unknown> =>
  Effect.map(
    node(() => fs.readdir(dir)),
    (names) =>
      names.filter((name) => FILE_PATTERN.test(name)).sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))
  )

// ---------------------------------------------------------------------------------------------------------------
// Record
// ---------------------------------------------------------------------------------------------------------------

/**
 * `client`, with every response also written to `dir` (created if missing; recordings already in it are replaced).
 * A file that cannot be written is logged as a warning; the response itself is never affected.
 */
export const withRecording: (client: LLMClient.Service, dir: string) => Effect.Effect<LLMClient.Service, ConfigError> =
  Effect.fn("Record.withRecording")(function* (client: LLMClient.Service, dir: string) {
    yield* Effect.gen(function* () {
      yield* node(() => fs.mkdir(dir, { recursive: true }))
      const stale = yield* recordingFiles(dir)
      yield* Effect.forEach(stale, (name) => node(() => fs.rm(path.join(dir, name), { force: true })), {
        discard: true
      })
    }).pipe(
      Effect.mapError(
        (cause) => new ConfigError({ message: `cannot record to ${dir}: ${describe(cause)}`, source: "record" })
      )
    )
    let count = 0

    const stream = (request: LLMRequest): Stream.Stream<StreamPart, LLMError> =>
      Stream.suspend(() => {
        const index = ++count
        const lines: Array<Line> = [
          {
            kind: "request",
            version: FORMAT_VERSION,
            provider: client.provider,
            model: request.model ?? client.model,
            capabilities: client.capabilities,
            request: summarize(request, client.model)
          }
        ]
        let ended = false
        const write = (exit: Exit.Exit<unknown, LLMError>) => {
          const error = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none()
          lines.push(
            Option.isSome(error)
              ? { kind: "error", error: error.value }
              : ended
                ? { kind: "end" }
                : { kind: "interrupted" }
          )
          const file = path.join(dir, fileName(index))
          return node(() => fs.writeFile(file, `${lines.map(formatLine).join("\n")}\n`)).pipe(
            Effect.catch((cause) => Effect.logWarning(`could not write the recording ${file}: ${describe(cause)}`))
          )
        }
        return client.stream(request).pipe(
          Stream.tap((part) =>
            Effect.sync(() => {
              if (part.type !== "retry") lines.push({ kind: "part", part })
            })
          ),
          Stream.onEnd(
            Effect.sync(() => {
              ended = true
            })
          ),
          Stream.onExit(write)
        )
      })

    return makeLLMClient({
      provider: client.provider,
      model: client.model,
      capabilities: client.capabilities,
      stream
    })
  })

/** Wrap the `LLMClient` of `inner` so that its responses are recorded to `dir`. */
export const layerRecord = <E, R>(
  inner: Layer.Layer<LLMClient, E, R>,
  dir: string
): Layer.Layer<LLMClient, E | ConfigError, R> =>
  Layer.effect(
    LLMClient,
    Effect.flatMap(LLMClient, (client) => withRecording(client, dir))
  ).pipe(Layer.provide(inner))

// ---------------------------------------------------------------------------------------------------------------
// Replay
// ---------------------------------------------------------------------------------------------------------------

export interface ReplayOptions {
  /** The directory written by `record`. */
  readonly dir: string
  /** The client's default model (default: the model of the first recording). */
  readonly model?: string
}

interface Recorded {
  readonly file: string
  readonly request: RequestLine
  readonly parts: ReadonlyArray<StreamPart>
  readonly outcome: Line
}

const loadRecordings = (dir: string): Effect.Effect<ReadonlyArray<Recorded>, ConfigError> =>
  recordingFiles(dir).pipe(
    Effect.flatMap((names) =>
      Effect.forEach(
        names,
        (name) =>
          Effect.map(
            node(() => fs.readFile(path.join(dir, name), "utf8")),
            (text) => ({ name, text })
          ),
        { concurrency: 8 }
      )
    ),
    Effect.mapError(
      (cause) =>
        new ConfigError({
          message: `cannot replay from ${dir}: ${describe(cause)} (record first with --record ${dir})`,
          source: "replay"
        })
    ),
    Effect.flatMap((files) =>
      Effect.forEach(files, ({ name, text }) => {
        const parsed = parseRecording(text)
        if (parsed._tag === "bad")
          return Effect.fail(
            new ConfigError({
              message: `recording ${path.join(dir, name)} is not valid: ${parsed.message}`,
              source: "replay"
            })
          )
        const [request, ...rest] = parsed.lines
        const outcome = rest[rest.length - 1]
        if (
          request?.kind !== "request" ||
          outcome === undefined ||
          outcome.kind === "part" ||
          outcome.kind === "request"
        )
          return Effect.fail(
            new ConfigError({
              message: `recording ${path.join(dir, name)} is incomplete (no outcome line: the recording run was cut short)`,
              source: "replay"
            })
          )
        const parts = rest.flatMap((line) => (line.kind === "part" ? [line.part] : []))
        return Effect.succeed({ file: path.join(dir, name), request, parts, outcome })
      })
    ),
    Effect.flatMap((recordings) =>
      recordings.length === 0
        ? Effect.fail(
            new ConfigError({
              message: `no recordings in ${dir} (record some with --record ${dir})`,
              source: "replay"
            })
          )
        : Effect.succeed(recordings)
    )
  )

/** An `LLMClient` serving the recordings in `options.dir` in order; never touches the network. */
export const makeReplay: (options: ReplayOptions) => Effect.Effect<LLMClient.Service, ConfigError> = Effect.fn(
  "Replay.make"
)(function* (options: ReplayOptions) {
  const recordings = yield* loadRecordings(options.dir)
  const first = recordings[0]
  const model = options.model ?? first?.request.model ?? "replay"
  let next = 0

  const stream = (request: LLMRequest): Stream.Stream<StreamPart, LLMError> =>
    Stream.suspend(() => {
      const index = next++
      const recording = recordings[index]
      if (recording === undefined)
        return Stream.fail(
          new InvalidRequestError({
            provider: REPLAY_PROVIDER,
            message: `the recordings in ${options.dir} ran out: request ${index + 1} has none (${recordings.length} recorded); record again with --record`
          })
        )
      const difference = mismatch(recording.request.request, summarize(request, model))
      if (difference !== undefined)
        return Stream.fail(
          new InvalidRequestError({
            provider: REPLAY_PROVIDER,
            message: `request ${index + 1} differs from the recording ${recording.file}: ${difference}; record again with --record`
          })
        )
      const parts = Stream.fromIterable(recording.parts)
      const outcome = recording.outcome
      switch (outcome.kind) {
        case "error":
          return Stream.concat(parts, Stream.fail(outcome.error))
        case "interrupted":
          return Stream.concat(parts, Stream.never)
        default:
          return parts
      }
    })

  return makeLLMClient({
    provider: REPLAY_PROVIDER,
    model,
    capabilities: first?.request.capabilities ?? {
      streaming: true,
      tools: true,
      vision: true,
      thinking: false,
      contextWindow: 128_000
    },
    stream
  })
})

/** `LLMClient` replaying `options.dir`. */
export const layerReplay = (options: ReplayOptions): Layer.Layer<LLMClient, ConfigError> =>
  Layer.effect(LLMClient, makeReplay(options))
