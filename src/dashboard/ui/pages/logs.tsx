import { useEffect, useRef, useState } from 'preact/hooks'
import type { LogLine, RuntimeService } from '../../api/types.js'
import { request } from '../api.js'
import { Badge, ErrorBox, Live } from '../components/bits.js'
import { useApp } from '../context.js'
import { ago, useResource, useStream } from '../hooks.js'
import { href, navigate } from '../router.js'

const MAX_LINES = 2000

/** Live tail of the runtime's services, one or all, with level and text filters; restart and stop. */
export function LogsPage({ query }: { query: URLSearchParams }) {
  const { readOnly } = useApp()
  const service = query.get('service') ?? ''
  const level = query.get('level') ?? ''
  const text = query.get('q') ?? ''
  const runtime = useResource<{ services: RuntimeService[] }>('/runtime', 2000)
  const [lines, setLines] = useState<LogLine[]>([])
  const [paused, setPaused] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const buffer = useRef<LogLine[]>([])
  const qs = new URLSearchParams(
    Object.entries({ service, level, q: text }).filter(([, v]) => v !== ''),
  ).toString()
  const path = `/logs?lines=200${qs ? `&${qs}` : ''}`
  useEffect(() => {
    setLines([])
    buffer.current = []
  }, [path])
  const live = useStream(paused ? undefined : path, {
    line: (line: LogLine) => {
      buffer.current.push(line)
    },
  })
  // Lines arrive fast: draw them at most a few times a second.
  useEffect(() => {
    const timer = setInterval(() => {
      if (buffer.current.length === 0) return
      const fresh = buffer.current
      buffer.current = []
      setLines((old) => [...old, ...fresh].slice(-MAX_LINES))
    }, 150)
    return () => clearInterval(timer)
  }, [])
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 120) el.scrollTop = el.scrollHeight
  }, [lines])
  const set = (key: string, value: string) =>
    navigate(href(['logs'], { service, level, q: text, [key]: value }), true)
  const act = async (name: string, action: 'restart' | 'stop') => {
    try {
      await request('POST', `/runtime/${encodeURIComponent(name)}/${action}`, {})
      await runtime.reload()
    } catch (e) {
      setError(e)
    }
  }
  return (
    <section>
      <h1>
        Logs <Live open={live} />
      </h1>
      <ErrorBox error={error ?? runtime.error} />
      <table class="list compact">
        <thead>
          <tr>
            <th>service</th>
            <th>status</th>
            <th class="num">pid</th>
            <th>uptime</th>
            <th class="num">restarts</th>
            <th>last exit</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(runtime.data?.services ?? []).map((s) => (
            <tr key={s.name} class={service === s.name ? 'selected' : ''}>
              <td>
                <a href={href(['logs'], { service: s.name, level, q: text })}>{s.name}</a>
              </td>
              <td>
                <Badge kind={s.status === 'running' ? 'ok' : s.status === 'stopped' ? 'muted' : 'error'}>
                  {s.status}
                </Badge>
                {s.crashLoop ? <Badge kind="error">crash loop</Badge> : null}
              </td>
              <td class="num">{s.pid ?? '—'}</td>
              <td>{s.startedAt && s.status === 'running' ? ago(s.startedAt) : '—'}</td>
              <td class="num">{s.restarts}</td>
              <td>{s.lastExitCode ?? '—'}</td>
              <td>
                {readOnly ? null : (
                  <>
                    <button type="button" class="small" onClick={() => act(s.name, 'restart')}>
                      restart
                    </button>{' '}
                    <button type="button" class="small danger" onClick={() => act(s.name, 'stop')}>
                      stop
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="toolbar">
        <select
          aria-label="service"
          value={service}
          onChange={(e) => set('service', (e.target as HTMLSelectElement).value)}
        >
          <option value="">all services</option>
          {(runtime.data?.services ?? []).map((s) => (
            <option key={s.name} value={s.name}>
              {s.name}
            </option>
          ))}
        </select>
        <select
          aria-label="level"
          value={level}
          onChange={(e) => set('level', (e.target as HTMLSelectElement).value)}
        >
          <option value="">any level</option>
          {['debug', 'info', 'warn', 'error'].map((l) => (
            <option key={l} value={l}>
              {l} and above
            </option>
          ))}
        </select>
        <input
          data-search
          type="search"
          placeholder="filter text ( / )"
          aria-label="filter text"
          value={text}
          onChange={(e) => set('q', (e.target as HTMLInputElement).value)}
        />
        <button type="button" class="small" onClick={() => setPaused(!paused)}>
          {paused ? 'resume' : 'pause'}
        </button>
        <button type="button" class="small" onClick={() => setLines([])}>
          clear
        </button>
        <span class="muted">{lines.length} lines</span>
      </div>
      <div class="log-view" ref={box} id="log-view">
        {lines.map((l, i) => (
          <div key={i} class={`log-line lvl-${l.level ?? 'info'}`}>
            <span class="muted">{new Date(l.time).toLocaleTimeString()}</span>{' '}
            <span class="svc">{l.service}</span> <span class="lvl">{l.level}</span>{' '}
            <span class="text">{l.text}</span>
            {l.traceId ? (
              <>
                {' '}
                <a href={href(['traces', l.traceId])}>trace</a>
              </>
            ) : null}
          </div>
        ))}
      </div>
    </section>
  )
}
