import type { EventsOptions } from './base.js'
import type { Events } from './events.js'
import { LocalEvents } from './local.js'
import { MemoryLog } from './memory-log.js'

/** Options of {@link MemoryEvents}. */
export interface MemoryEventsOptions extends EventsOptions {}

/**
 * Event streams held in this process's memory: for tests, and for services that only
 * talk to each other inside one process. Nothing survives the process; nothing is trimmed.
 */
export class MemoryEvents extends LocalEvents {
  constructor(options: MemoryEventsOptions = {}, log = new MemoryLog()) {
    // Only this process writes, and it wakes its consumers itself: no polling.
    super('memory', log, { ...options, poll: Number.POSITIVE_INFINITY, closeLog: false })
  }
}

let shared: MemoryLog | undefined

/**
 * A handle on the one memory log of this process, so services in one process share
 * streams (as they share the memory registry). `close()` ends only this handle's consumers.
 */
export function sharedMemoryEvents(options: MemoryEventsOptions = {}): Events {
  shared ??= new MemoryLog()
  return new MemoryEvents(options, shared)
}
