import { lmdbDirectory } from '../engines/lmdb.js'
import type { EventsOptions } from './base.js'
import { FileLog } from './file-log.js'
import { LocalEvents } from './local.js'
import type {
  Claim,
  GroupRef,
  GroupStart,
  GroupState,
  LocalLog,
  LogEntry,
  Peek,
  TopicRef,
  TopicState,
} from './local-log.js'
import type { RawEvent } from './payload.js'
import type { DeadLetterInfo } from './source.js'

/** Options of {@link FileEvents}. */
export interface FileEventsOptions extends EventsOptions {
  /** Where the log lives. Default `~/.micro/events`. A `file://` URL is taken too. */
  directory?: string
  /** How often an idle consumer looks for events written by other processes, in ms. Default 50. */
  pollInterval?: number
}

/** `~/.micro/events`: where the file events live unless told otherwise. */
export function defaultEventsDirectory(): string {
  return lmdbDirectory(undefined, 'events')
}

/**
 * The embedded default: event streams persisted in an LMDB file, shared by every process on
 * this machine that opens the same directory. Events, group positions and unacknowledged
 * deliveries survive restarts and crashes; members of a group in several processes share
 * its events. A consumer in the process that published is woken at once; one in another
 * process within `pollInterval`. The LMDB module is loaded on first use.
 */
export class FileEvents extends LocalEvents {
  /** The directory of the log. */
  readonly directory: string

  constructor(options: FileEventsOptions = {}) {
    const directory = lmdbDirectory(options.directory, 'events')
    super('file', new LazyLog(() => FileLog.open(directory)), {
      ...options,
      poll: options.pollInterval ?? 50,
      closeLog: true,
    })
    this.directory = directory
  }
}

/** A log opened on first use, so creating the file events costs nothing until they are used. */
class LazyLog implements LocalLog {
  readonly #open: () => Promise<LocalLog>
  #log: Promise<LocalLog> | undefined

  constructor(open: () => Promise<LocalLog>) {
    this.#open = open
  }

  #get(): Promise<LocalLog> {
    if (!this.#log) {
      const opening = this.#open()
      // A failed open is not kept: the next call tries again.
      opening.catch(() => {
        if (this.#log === opening) this.#log = undefined
      })
      this.#log = opening
    }
    return this.#log
  }

  async append(ref: TopicRef, entry: Omit<LogEntry, 'storedAt'>): Promise<number> {
    return (await this.#get()).append(ref, entry)
  }
  async read(ref: TopicRef, from: number, since: number | undefined, limit: number): Promise<RawEvent[]> {
    return (await this.#get()).read(ref, from, since, limit)
  }
  async joinGroup(ref: GroupRef, start: GroupStart, isPrivate: boolean): Promise<void> {
    return (await this.#get()).joinGroup(ref, start, isPrivate)
  }
  async peek(ref: GroupRef, now: number): Promise<Peek> {
    return (await this.#get()).peek(ref, now)
  }
  async claim(ref: GroupRef, ackWait: number, max: number): Promise<Claim[]> {
    return (await this.#get()).claim(ref, ackWait, max)
  }
  async ack(ref: GroupRef, sequence: number): Promise<void> {
    return (await this.#get()).ack(ref, sequence)
  }
  async nack(ref: GroupRef, sequence: number, attempt: number, release: boolean): Promise<void> {
    return (await this.#get()).nack(ref, sequence, attempt, release)
  }
  async deadLetter(
    ref: GroupRef,
    sequence: number,
    target: string | false,
    info: DeadLetterInfo,
  ): Promise<void> {
    return (await this.#get()).deadLetter(ref, sequence, target, info)
  }
  async leaveGroup(ref: GroupRef): Promise<void> {
    return (await this.#get()).leaveGroup(ref)
  }
  async topics(namespace: string): Promise<TopicState[]> {
    return (await this.#get()).topics(namespace)
  }
  async groups(ref: TopicRef): Promise<GroupState[]> {
    return (await this.#get()).groups(ref)
  }
  async close(): Promise<void> {
    const log = this.#log
    this.#log = undefined
    if (log) await (await log.catch(() => undefined))?.close()
  }
}
