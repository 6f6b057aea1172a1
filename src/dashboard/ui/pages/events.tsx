import { useState } from 'preact/hooks'
import type { EventView, GroupView, TopicView } from '../../api/types.js'
import { request } from '../api.js'
import { Badge, Empty, ErrorBox, Json, Live } from '../components/bits.js'
import { useApp } from '../context.js'
import { ago, useResource, useStream } from '../hooks.js'
import { href } from '../router.js'

/** Topics, consumer groups (pending, lag, retries), dead letters with replay, publish, tail. */
export function EventsPage({ topic }: { topic?: string }) {
  const { info } = useApp()
  const topics = useResource<{ topics: TopicView[] }>(
    info.features.inspector ? '/events/topics' : undefined,
    3000,
  )
  return (
    <section>
      <h1>
        Events
        {topic ? (
          <>
            {' '}
            · <span class="mono">{topic}</span>
          </>
        ) : null}
      </h1>
      {!info.features.inspector ? (
        <p class="muted">These events cannot be inspected; publish and tail still work.</p>
      ) : null}
      <ErrorBox error={topics.error} />
      <div class="split">
        <div class="topics">
          <table class="list compact">
            <thead>
              <tr>
                <th>topic</th>
                <th class="num">events</th>
                <th>last</th>
              </tr>
            </thead>
            <tbody>
              {(topics.data?.topics ?? []).map((t) => (
                <tr key={t.topic} class={t.topic === topic ? 'selected' : ''}>
                  <td>
                    <a href={href(['events', t.topic])} class="mono">
                      {t.topic}
                    </a>{' '}
                    {t.dead ? <Badge kind="error">dead letters</Badge> : null}
                  </td>
                  <td class="num">{t.events}</td>
                  <td class="muted">{t.lastTime ? `${ago(t.lastTime)} ago` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {topics.data && topics.data.topics.length === 0 ? <Empty>No topics yet.</Empty> : null}
        </div>
        <div class="topic-detail">
          {topic ? (
            <TopicDetail topic={topic} dead={topic.endsWith('.dead')} />
          ) : (
            <p class="muted">Pick a topic.</p>
          )}
        </div>
      </div>
    </section>
  )
}

function TopicDetail({ topic, dead }: { topic: string; dead: boolean }) {
  const { readOnly, info } = useApp()
  const t = encodeURIComponent(topic)
  const groups = useResource<{ groups: GroupView[] }>(
    info.features.inspector ? `/events/topics/${t}/groups` : undefined,
    3000,
  )
  const events = useResource<{ events: EventView[] }>(
    `/events/topics/${t}/events?limit=100`,
    dead ? 3000 : undefined,
  )
  const [tailing, setTailing] = useState(false)
  const [tail, setTail] = useState<EventView[]>([])
  const [error, setError] = useState<unknown>(undefined)
  const [notice, setNotice] = useState<string | undefined>(undefined)
  const [payload, setPayload] = useState('{"hello": "world"}')
  const live = useStream(tailing ? `/events/topics/${t}/tail` : undefined, {
    event: (e: EventView) => setTail((old) => [e, ...old].slice(0, 200)),
  })
  const replay = async (sequence: number) => {
    setError(undefined)
    try {
      const record = await request<{ topic: string; sequence: number }>(
        'POST',
        `/events/dead/${t}/${sequence}/replay`,
        {},
      )
      setNotice(`replayed to ${record.topic} as event ${record.sequence}`)
    } catch (e) {
      setError(e)
    }
  }
  const publish = async () => {
    setError(undefined)
    try {
      const record = await request<{ sequence: number }>('POST', `/events/topics/${t}/publish`, {
        payload: JSON.parse(payload),
      })
      setNotice(`published as event ${record.sequence}`)
      void events.reload()
    } catch (e) {
      setError(e)
    }
  }
  return (
    <div>
      <ErrorBox error={error ?? events.error} />
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      {groups.data ? (
        <>
          <h2>Consumer groups</h2>
          {groups.data.groups.length === 0 ? <Empty>No consumer groups.</Empty> : null}
          <table hidden={groups.data.groups.length === 0} class="list compact">
            <thead>
              <tr>
                <th>group</th>
                <th class="num">position</th>
                <th class="num">pending</th>
                <th class="num">lag</th>
                <th class="num">retrying</th>
              </tr>
            </thead>
            <tbody>
              {groups.data.groups.map((g) => (
                <tr key={g.group}>
                  <td>
                    {g.group} {g.private ? <Badge kind="muted">private</Badge> : null}
                  </td>
                  <td class="num">{g.position}</td>
                  <td class="num">{g.pending}</td>
                  <td class="num">{g.lag > 0 ? <Badge kind="warn">{g.lag}</Badge> : 0}</td>
                  <td class="num">{g.retrying}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      {!readOnly ? (
        <div class="publish">
          <h2>Publish a test event</h2>
          <textarea
            class="mono"
            rows={3}
            aria-label="payload"
            value={payload}
            onInput={(e) => setPayload((e.target as HTMLTextAreaElement).value)}
          />
          <button type="button" onClick={publish}>
            Publish
          </button>
        </div>
      ) : null}
      <h2>
        Tail <Live open={live} />{' '}
        <button type="button" class="small" onClick={() => setTailing(!tailing)}>
          {tailing ? 'stop' : 'start'}
        </button>
      </h2>
      {tail.map((e) => (
        <EventCard key={`tail-${e.sequence}`} event={e} />
      ))}
      <h2>{dead ? 'Dead letters' : 'Events'}</h2>
      {(events.data?.events ?? []).length === 0 ? <Empty>No events.</Empty> : null}
      {[...(events.data?.events ?? [])].reverse().map((e) => (
        <EventCard
          key={e.sequence}
          event={e}
          action={dead && !readOnly ? () => replay(e.sequence) : undefined}
        />
      ))}
    </div>
  )
}

function EventCard({ event, action }: { event: EventView; action?: () => void }) {
  const reason = event.metadata['dead-letter-reason']
  return (
    <details class="event">
      <summary>
        <span class="mono">#{event.sequence}</span> <span class="muted">{ago(event.timestamp)} ago</span>{' '}
        {reason ? (
          <span class="error-text">{reason}</span>
        ) : (
          <span class="mono small">{JSON.stringify(event.payload).slice(0, 80)}</span>
        )}
        {action ? (
          <button
            type="button"
            class="small replay"
            onClick={(e) => {
              e.preventDefault()
              action()
            }}
          >
            replay
          </button>
        ) : null}
      </summary>
      <Json
        value={{
          id: event.id,
          metadata: event.metadata,
          contentType: event.contentType,
          payload: event.payload,
        }}
      />
    </details>
  )
}
