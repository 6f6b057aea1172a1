import type { NamespaceOption } from '../registry/registry.js'
import { BaseEvents, type EventsOptions } from './base.js'
import type { EventRecord } from './events.js'
import { type EventsInspector, type GroupInfo, replayThrough, type TopicInfo } from './inspector.js'
import type { LocalLog } from './local-log.js'
import { LocalSource, WakeHub } from './local-source.js'
import { checkName, checkTopic } from './names.js'
import type { ConsumePlan, PublishPlan, ReadPlan } from './options.js'
import type { RawEvent } from './payload.js'
import type { DeliverySource } from './source.js'

/**
 * Events over a local log (memory, or the file log over LMDB). Consumers in this process
 * are woken as soon as something happens to their topic; changes made by other processes
 * are noticed within `poll` ms.
 */
export class LocalEvents extends BaseEvents implements EventsInspector {
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

  async listTopics(options: NamespaceOption = {}): Promise<TopicInfo[]> {
    this.assertOpen()
    const namespace = checkName(options.namespace ?? this.namespace, 'namespace')
    return (await this.#log.topics(namespace)).map((t) => ({
      topic: t.topic,
      events: t.last,
      lastSequence: t.last,
      ...(t.storedAt > 0 ? { lastStored: new Date(t.storedAt) } : {}),
    }))
  }

  async listGroups(topic: string, options: NamespaceOption = {}): Promise<GroupInfo[]> {
    this.assertOpen()
    const namespace = checkName(options.namespace ?? this.namespace, 'namespace')
    const ref = { namespace, topic: checkTopic(topic) }
    const last = (await this.#log.topics(namespace)).find((t) => t.topic === ref.topic)?.last ?? 0
    return (await this.#log.groups(ref)).map((g) => ({
      group: g.group,
      position: g.cursor,
      pending: g.pending,
      lag: Math.max(0, last - g.cursor),
      retrying: g.retrying,
      private: g.private,
    }))
  }

  replayDeadLetter(deadTopic: string, sequence: number, options: NamespaceOption = {}): Promise<EventRecord> {
    return replayThrough(this, deadTopic, sequence, options)
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
