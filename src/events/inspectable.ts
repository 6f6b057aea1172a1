import type { NamespaceOption } from '../registry/registry.js'
import { BaseEvents } from './base.js'
import type { EventRecord } from './events.js'
import { type EventsInspector, type GroupInfo, replayThrough, type TopicInfo } from './inspector.js'
import { checkName, checkTopic } from './names.js'

/**
 * An engine that can be inspected: the checks (open, names) and the replay every engine
 * shares, over what the engine reads itself, for one checked namespace and topic.
 */
export abstract class InspectableEvents extends BaseEvents implements EventsInspector {
  /** The namespace's topics, as the engine holds them. */
  protected abstract inspectTopics(namespace: string): Promise<TopicInfo[]>
  /** The topic's consumer groups, as the engine holds them. */
  protected abstract inspectGroups(namespace: string, topic: string): Promise<GroupInfo[]>

  /** Topics of a namespace (dead-letter topics too), sorted by name. */
  async listTopics(options: NamespaceOption = {}): Promise<TopicInfo[]> {
    this.assertOpen()
    return this.inspectTopics(checkName(options.namespace ?? this.namespace, 'namespace'))
  }

  /** Consumer groups of a topic, sorted by name (none for an unknown topic). */
  async listGroups(topic: string, options: NamespaceOption = {}): Promise<GroupInfo[]> {
    this.assertOpen()
    return this.inspectGroups(checkName(options.namespace ?? this.namespace, 'namespace'), checkTopic(topic))
  }

  /** Publish a dead letter again on the topic it died on (see {@link replayThrough}). */
  replayDeadLetter(deadTopic: string, sequence: number, options: NamespaceOption = {}): Promise<EventRecord> {
    return replayThrough(this, deadTopic, sequence, options)
  }
}
