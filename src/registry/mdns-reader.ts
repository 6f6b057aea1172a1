import { createHash } from 'node:crypto'
import type { Packet } from 'dns-packet'
import type { InboundGuard } from './mdns-guard.js'
import { inNamespace, isInstanceName } from './mdns-names.js'
import {
  decodePayloadChecked,
  INFLATE_CHUNK_BYTES,
  MAX_PAYLOAD_BYTES,
  MAX_RECORD_BYTES,
  type PayloadOutcome,
  payloadBytes,
} from './mdns-payload.js'
import type { Announcement, ReceivedAnnouncement } from './mdns-records.js'

/** Our responses carry one TXT record; a few more allow for batching, never hundreds. */
export const MAX_TXT_PER_PACKET = 4
/** Decoded payloads remembered, so a renewal (the same bytes again) costs a hash, not a decode. */
const MAX_REMEMBERED = 4096

interface Remembered {
  digest: string
  /** undefined when the payload was refused: sending it again gets the same answer for free. */
  announcement: Announcement | undefined
}

/**
 * Reads announcements out of response packets within a work budget. Per packet at most
 * {@link MAX_TXT_PER_PACKET} records of ours are looked at; a payload already decoded under the
 * same name is reused (renewals repeat their bytes); a new one is decoded only if its source
 * still has budget, and pays what it inflated to. Whatever fails is dropped and counted.
 */
export class AnnouncementReader {
  readonly #guard: InboundGuard
  readonly #remembered = new Map<string, Remembered>()

  constructor(guard: InboundGuard) {
    this.#guard = guard
  }

  /** The valid announcements of a response packet from `source` (`address:port`). */
  read(packet: Packet, source: string): ReceivedAnnouncement[] {
    const found: ReceivedAnnouncement[] = []
    let seen = 0
    for (const answer of [...(packet.answers ?? []), ...(packet.additionals ?? [])]) {
      if (answer.type !== 'TXT' || typeof answer.name !== 'string' || !isInstanceName(answer.name)) continue
      if (typeof answer.ttl !== 'number') continue
      if (++seen > MAX_TXT_PER_PACKET) {
        this.#guard.drop(source, 'too-many-records')
        break
      }
      const announcement = this.#announcement(answer.name.toLowerCase(), answer.data, source)
      // The name must agree with the payload, or one namespace could be answered with another's nodes.
      if (announcement && inNamespace(answer.name, announcement.namespace)) {
        found.push({ announcement, ttl: answer.ttl })
      }
    }
    return found
  }

  /** Forget every decoded payload. */
  clear(): void {
    this.#remembered.clear()
  }

  #announcement(name: string, data: unknown, source: string): Announcement | undefined {
    const bytes = payloadBytes(data)
    if (!bytes || bytes.length > MAX_PAYLOAD_BYTES) {
      this.#guard.drop(source, 'bad-record')
      return undefined
    }
    const digest = createHash('sha256').update(bytes).digest('base64')
    const known = this.#remembered.get(name)
    if (known?.digest === digest) {
      if (!known.announcement) this.#guard.drop(source, 'bad-record')
      return known.announcement
    }
    if (!this.#guard.admit(source, bytes.length)) return undefined
    const outcome: PayloadOutcome = decodePayloadChecked(bytes)
    // A record zlib stopped at the cap cost the cap's worth of inflating, though it returned nothing.
    const tooLarge = 'refused' in outcome && outcome.refused === 'too-large'
    this.#guard.charge(source, tooLarge ? MAX_RECORD_BYTES + INFLATE_CHUNK_BYTES : outcome.inflated)
    const announcement = 'announcement' in outcome ? outcome.announcement : undefined
    if (!announcement) this.#guard.drop(source, 'bad-record')
    this.#remember(name, { digest, announcement })
    return announcement
  }

  #remember(name: string, entry: Remembered): void {
    this.#remembered.delete(name)
    if (this.#remembered.size >= MAX_REMEMBERED) {
      const oldest = this.#remembered.keys().next().value
      if (oldest !== undefined) this.#remembered.delete(oldest)
    }
    this.#remembered.set(name, entry)
  }
}
