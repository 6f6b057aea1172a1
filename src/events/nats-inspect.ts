import type { ConsumerInfo } from '@nats-io/jetstream'
import type { GroupInfo, TopicInfo } from './inspector.js'
import { isTopic } from './names.js'
import { durableName } from './nats-codec.js'
import { type NatsLink, type NatsStreams, natsError } from './nats-streams.js'

/** Last-message lookups in flight at once while listing topics. */
const LOOKUPS = 16

/**
 * What an EventsInspector sees on JetStream, from the stream and consumer info alone. A
 * namespace is the stream `<streamPrefix><ns>`; its topics are the subjects under
 * `<subjectPrefix>.<ns>.` (dead letters are topics like any other), with their counts from
 * the stream's subject state and their last message from a last-by-subject get. A group
 * is a consumer filtered on the topic's subject: a durable one `<group>_<hash(topic)>`, or
 * an ephemeral one for a consumer without a group. Nothing here creates a stream.
 */
export class NatsInspect {
  readonly #streams: NatsStreams

  constructor(streams: NatsStreams) {
    this.#streams = streams
  }

  /** Topics of a (checked) namespace, sorted; none when its stream does not exist. */
  async topics(namespace: string): Promise<TopicInfo[]> {
    const link = await this.#streams.link()
    const stream = this.#streams.streamName(namespace)
    const head = this.#streams.subject(namespace, '')
    let counts: Record<string, number>
    try {
      const info = await link.jsm.streams.info(stream, { subjects_filter: `${head}>` })
      counts = info.state.subjects ?? {}
    } catch (error) {
      if (isNotFound(error)) return []
      throw natsError(error, `looking at the stream ${stream}`)
    }
    const found = Object.keys(counts)
      .filter((subject) => subject.startsWith(head) && isTopic(subject.slice(head.length)))
      .sort()
    const out: TopicInfo[] = []
    for (let i = 0; i < found.length; i += LOOKUPS) {
      const batch = found.slice(i, i + LOOKUPS)
      out.push(
        ...(await Promise.all(
          batch.map((subject) => this.#topic(link, stream, subject, head, counts[subject] ?? 0)),
        )),
      )
    }
    return out
  }

  /** Groups of a (checked) topic, sorted by name; none when the stream or topic is unknown. */
  async groups(namespace: string, topic: string): Promise<GroupInfo[]> {
    const link = await this.#streams.link()
    const stream = this.#streams.streamName(namespace)
    const subject = this.#streams.subject(namespace, topic)
    const out: GroupInfo[] = []
    try {
      for await (const info of link.jsm.consumers.list(stream)) {
        const group = groupOf(info, subject, topic)
        if (group) out.push(group)
      }
    } catch (error) {
      if (isNotFound(error)) return []
      throw natsError(error, `listing the consumers of ${stream}`)
    }
    return out.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))
  }

  async #topic(
    link: NatsLink,
    stream: string,
    subject: string,
    head: string,
    events: number,
  ): Promise<TopicInfo> {
    const topic = subject.slice(head.length)
    try {
      const last = await link.jsm.streams.getMessage(stream, { last_by_subj: subject })
      // Gone between the count and the get (aged out, purged): a topic with nothing in it.
      if (!last) return { topic, events: 0, lastSequence: 0 }
      return { topic, events, lastSequence: last.seq, lastStored: last.time }
    } catch (error) {
      throw natsError(error, `reading the last event of ${topic}`)
    }
  }
}

/**
 * The group a consumer is, when it is one of the topic's: filtered on its subject, with
 * explicit acks (reads make short-lived consumers without acks, which are not groups).
 * A durable consumer made by micro-ts is named after its group and the topic's hash; one
 * made by hand keeps its own name.
 */
function groupOf(info: ConsumerInfo, subject: string, topic: string): GroupInfo | undefined {
  const config = info.config
  const filters = config.filter_subjects ?? (config.filter_subject ? [config.filter_subject] : [])
  if (filters.length !== 1 || filters[0] !== subject || config.ack_policy === 'none') return undefined
  const durable = config.durable_name
  let group = info.name
  const suffix = durableName('', topic)
  if (durable && group.endsWith(suffix) && group.length > suffix.length)
    group = group.slice(0, -suffix.length)
  return {
    group,
    position: info.delivered.stream_seq,
    pending: info.num_ack_pending,
    lag: info.num_pending,
    retrying: info.num_redelivered,
    // A consumer without a group is ephemeral: the server drops it when its process is gone.
    private: !durable,
  }
}

function isNotFound(error: unknown): boolean {
  const name = (error as Error)?.name
  return name === 'StreamNotFoundError' || name === 'ConsumerNotFoundError'
}
