import type { EventsOptions } from './base.js'
import { InspectableEvents } from './inspectable.js'
import type { GroupInfo, TopicInfo } from './inspector.js'
import type { LocalLog } from './local-log.js'
import { LocalSource, WakeHub } from './local-source.js'
import type { ConsumePlan, PublishPlan, ReadPlan } from './options.js'
import type { RawEvent } from './payload.js'
import type { DeliverySource } from './source.js'

/**
 * Events over a local log (memory, or the file log over LMDB). Consumers in this process
 * are woken as soon as something happens to their topic; changes made by other processes
 * are noticed within `poll` ms.
 */
export class LocalEvents extends InspectableEvents {
  readonly name: string
  readonly #log: LocalLog
  readonly #poll: number
  readonly #hub = new WakeHub()
  readonly #closeLog: boolean

  constructor(name: string, log: LocalLog, options: EventsOptions & { poll: number; closeLog: boolean }) {
    super(options)
    this.name = name
    this.#log = log
    this.#poll = options.poll
    this.#closeLog = options.closeLog
  }

  protected async inspectTopics(namespace: string): Promise<TopicInfo[]> {
    return (await this.#log.topics(namespace)).map((t) => ({
      topic: t.topic,
      events: t.last,
      lastSequence: t.last,
      ...(t.storedAt > 0 ? { lastStored: new Date(t.storedAt) } : {}),
    }))
  }

  protected async inspectGroups(namespace: string, topic: string): Promise<GroupInfo[]> {
    const last = (await this.#log.topics(namespace)).find((t) => t.topic === topic)?.last ?? 0
    return (await this.#log.groups({ namespace, topic })).map((g) => ({
      group: g.group,
      position: g.cursor,
      pending: g.pending,
      lag: Math.max(0, last - g.cursor),
      retrying: g.retrying,
      private: g.private,
    }))
  }

  protected async append(plan: PublishPlan): Promise<number> {
    const { namespace, topic, id, timestamp, metadata, contentType, data } = plan
    const sequence = await this.#log.append(
      { namespace, topic },
      { id, timestamp, metadata, contentType, data },
    )
    this.#hub.notify(namespace, topic)
    return sequence
  }

  protected source(plan: ConsumePlan): DeliverySource {
    return new LocalSource(this.#log, this.#hub, this.#poll, plan)
  }

  protected readRaw(plan: ReadPlan): Promise<RawEvent[]> {
    return this.#log.read(plan, plan.offset, plan.since?.getTime(), plan.limit)
  }

  protected async release(): Promise<void> {
    this.#hub.notifyAll()
    if (this.#closeLog) await this.#log.close()
  }
}
