import type { Codec } from './codec.js'
import { jsonCodec } from './json.js'
import { msgpackCodec } from './msgpack.js'
import { rawCodec } from './raw.js'

/** The content type used when a request names none. */
export const DEFAULT_CONTENT_TYPE = 'application/json'

/**
 * Codecs by content type. Lookups ignore case and parameters (`; charset=utf-8`), so
 * `Application/JSON; charset=utf-8` finds the JSON codec.
 */
export class Codecs {
  readonly #byType = new Map<string, Codec>()

  constructor(codecs: readonly Codec[] = [jsonCodec, msgpackCodec, rawCodec]) {
    for (const codec of codecs) this.register(codec)
  }

  /** Add or replace a codec (e.g. protobuf) for its content type and aliases. */
  register(codec: Codec): this {
    this.#byType.set(codec.contentType, codec)
    for (const alias of codec.aliases ?? []) this.#byType.set(alias, codec)
    return this
  }

  /** The codec for a content type, or undefined when none is registered. Empty means JSON. */
  get(contentType: string | undefined): Codec | undefined {
    if (!contentType) return this.#byType.get(DEFAULT_CONTENT_TYPE)
    return this.#byType.get(contentType) ?? this.#byType.get(normalise(contentType))
  }

  /** Every registered canonical content type. */
  contentTypes(): string[] {
    return [...new Set([...this.#byType.values()].map((c) => c.contentType))]
  }
}

function normalise(contentType: string): string {
  const semi = contentType.indexOf(';')
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

/** The shared default set: JSON, MessagePack and raw bytes. */
export const defaultCodecs = new Codecs()
