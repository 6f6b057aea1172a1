import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import type { ServiceRecord } from '../../../registry/registry.js'
import type { EndpointEntry } from '../../api/types.js'
import { raw, request, stream } from '../api.js'
import { Badge, CopyButton, ErrorBox, Json } from '../components/bits.js'
import { SchemaForm } from '../components/schema-form.js'
import { useApp } from '../context.js'
import { asCli, asCurl, asTypeScript, type CallShape } from '../copy-as.js'
import { duration, useResource } from '../hooks.js'
import { href, navigate } from '../router.js'
import { check, initialValue, type Schema } from '../schema.js'

interface Result {
  status: number
  body: unknown
  ms: number
  traceId: string | null
}

interface HistoryEntry {
  service: string
  endpoint: string
  request: unknown
  status: number
  at: number
}

const HISTORY = 'micro-explorer-history'

function loadHistory(): HistoryEntry[] {
  try {
    return JSON.parse(localStorage.getItem(HISTORY) ?? '[]') as HistoryEntry[]
  } catch {
    return []
  }
}

/** The API explorer: a form from the schema plus raw JSON, options, streams, history, copy-as. */
export function ExplorerPage(props: { service?: string; endpoint?: string }) {
  const { namespace, readOnly } = useApp()
  const index = useResource<{ endpoints: EndpointEntry[] }>('/endpoints')
  const detail = useResource<{ versions: ServiceRecord[] }>(
    props.service ? `/services/${encodeURIComponent(props.service)}` : undefined,
  )
  const record = detail.data?.versions.find((v) => v.endpoints.some((e) => e.name === props.endpoint))
  const endpoint = record?.endpoints.find((e) => e.name === props.endpoint)
  const schema = endpoint?.request as Schema | undefined
  const isStream = endpoint?.metadata.stream === 'true'
  const [value, setValue] = useState<unknown>({})
  const [text, setText] = useState('{}')
  const [textError, setTextError] = useState<string | undefined>(undefined)
  const [metadata, setMetadata] = useState('')
  const [timeout, setTimeoutMs] = useState('10000')
  const [address, setAddress] = useState('')
  const [result, setResult] = useState<Result | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const [history, setHistory] = useState(loadHistory)
  const [copyAs, setCopyAs] = useState<'curl' | 'cli' | 'ts'>('curl')

  useEffect(() => {
    const start = initialValue(schema)
    setValue(start)
    setText(JSON.stringify(start, null, 2))
    setResult(undefined)
    setTextError(undefined)
  }, [props.service, props.endpoint, schema])

  const setFromForm = (next: unknown) => {
    setValue(next)
    setText(JSON.stringify(next, null, 2))
    setTextError(undefined)
  }
  const setFromText = (next: string) => {
    setText(next)
    try {
      setValue(JSON.parse(next))
      setTextError(undefined)
    } catch (e) {
      setTextError((e as Error).message)
    }
  }
  const meta = useMemo(() => parseMetadata(metadata), [metadata])
  const problems = schema ? check(schema, value) : []
  const shape: CallShape = {
    service: props.service ?? '',
    endpoint: props.endpoint ?? '',
    request: value,
    namespace,
    metadata: meta.value,
    address: address || record?.nodes[0]?.address,
    stream: isStream,
  }
  const body = {
    service: props.service,
    endpoint: props.endpoint,
    request: value,
    namespace,
    metadata: meta.value,
    timeout: Number(timeout) || undefined,
    address: address || undefined,
  }

  const send = async () => {
    setBusy(true)
    const started = performance.now()
    try {
      const res = await raw('POST', '/call', body)
      const ms = Number(res.headers.get('micro-duration') ?? performance.now() - started)
      setResult({ status: res.status, body: res.body, ms, traceId: res.headers.get('micro-trace-id') })
      const entry: HistoryEntry = {
        service: shape.service,
        endpoint: shape.endpoint,
        request: value,
        status: res.status,
        at: Date.now(),
      }
      const next = [
        entry,
        ...history.filter(
          (h) => JSON.stringify(h.request) !== JSON.stringify(value) || h.endpoint !== entry.endpoint,
        ),
      ].slice(0, 20)
      setHistory(next)
      localStorage.setItem(HISTORY, JSON.stringify(next))
    } finally {
      setBusy(false)
    }
  }

  return (
    <section class="explorer">
      <h1>API explorer</h1>
      <div class="toolbar">
        <select
          aria-label="endpoint"
          value={props.service && props.endpoint ? `${props.service} ${props.endpoint}` : ''}
          onChange={(e) => {
            const [service, ep] = (e.target as HTMLSelectElement).value.split(' ')
            if (service && ep) navigate(href(['call', service, ep]))
          }}
        >
          <option value="">pick an endpoint…</option>
          {(index.data?.endpoints ?? []).map((e) => (
            <option key={`${e.service} ${e.name} ${e.version}`} value={`${e.service} ${e.name}`}>
              {e.service} · {e.name}
              {e.stream ? ' (stream)' : ''}
            </option>
          ))}
        </select>
        {endpoint ? (
          <>
            {isStream ? <Badge kind="info">stream</Badge> : null}
            <span class="desc">{endpoint.metadata.description}</span>
          </>
        ) : null}
      </div>
      <ErrorBox error={detail.error} />
      {props.endpoint && detail.data && !endpoint ? (
        <ErrorBox error={new Error(`${props.service} has no endpoint ${props.endpoint}`)} />
      ) : null}
      {endpoint ? (
        <div class="explorer-grid">
          <div class="panel">
            <h2>Request</h2>
            {schema ? (
              <SchemaForm schema={schema} value={value} onChange={setFromForm} />
            ) : (
              <p class="muted">No schema: write the JSON below.</p>
            )}
            <label for="raw-json">JSON</label>
            <textarea
              id="raw-json"
              class={`mono ${textError ? 'invalid' : ''}`}
              rows={8}
              value={text}
              onInput={(e) => setFromText((e.target as HTMLTextAreaElement).value)}
            />
            {textError ? <div class="error-text">JSON: {textError}</div> : null}
            {problems.length > 0 ? (
              <ul class="problems">
                {problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            ) : null}
            <details>
              <summary>Options: metadata, timeout, node</summary>
              <label for="metadata">
                metadata (one <code>key: value</code> a line)
              </label>
              <textarea
                id="metadata"
                class="mono"
                rows={3}
                value={metadata}
                onInput={(e) => setMetadata((e.target as HTMLTextAreaElement).value)}
              />
              {meta.error ? <div class="error-text">{meta.error}</div> : null}
              <label for="timeout">timeout (ms)</label>
              <input
                id="timeout"
                type="number"
                min={1}
                value={timeout}
                onInput={(e) => setTimeoutMs((e.target as HTMLInputElement).value)}
              />
              <label for="node">node</label>
              <select
                id="node"
                value={address}
                onChange={(e) => setAddress((e.target as HTMLSelectElement).value)}
              >
                <option value="">any (load balanced)</option>
                {(record?.nodes ?? []).map((n) => (
                  <option key={n.id} value={n.address}>
                    {n.address} ({n.id})
                  </option>
                ))}
              </select>
            </details>
            {readOnly ? (
              <p class="muted">Read-only mode: calls are off.</p>
            ) : isStream ? (
              <StreamPanel body={body} first={value} />
            ) : (
              <button
                type="button"
                class="primary"
                id="send"
                disabled={busy || !!textError || !!meta.error}
                onClick={send}
              >
                {busy ? 'calling…' : 'Send  (Ctrl+Enter)'}
              </button>
            )}
            <CtrlEnter onSend={() => !isStream && !readOnly && !busy && void send()} />
          </div>
          <div class="panel">
            {!isStream ? (
              <>
                <h2>Response</h2>
                {result ? (
                  <div id="response">
                    <p>
                      <Badge kind={result.status < 400 ? 'ok' : 'error'}>{result.status}</Badge>{' '}
                      <span class="muted">{duration(result.ms)}</span>{' '}
                      {result.traceId ? <a href={href(['traces', result.traceId])}>trace →</a> : null}
                    </p>
                    <Json value={result.body} />
                  </div>
                ) : (
                  <p class="muted">Send a request to see the reply.</p>
                )}
              </>
            ) : null}
            <h2>Copy as</h2>
            <div class="tabs">
              {(['curl', 'cli', 'ts'] as const).map((k) => (
                <button
                  type="button"
                  key={k}
                  class={`small ${copyAs === k ? 'active' : ''}`}
                  onClick={() => setCopyAs(k)}
                >
                  {k === 'ts' ? 'TypeScript' : k === 'cli' ? 'micro CLI' : 'curl'}
                </button>
              ))}
            </div>
            <CopySnippet
              text={copyAs === 'curl' ? asCurl(shape) : copyAs === 'cli' ? asCli(shape) : asTypeScript(shape)}
            />
            <h2>History</h2>
            <ul class="history">
              {history.map((h) => (
                <li key={`${h.at}`}>
                  <Badge kind={h.status < 400 ? 'ok' : 'error'}>{h.status}</Badge>{' '}
                  <a
                    href={href(['call', h.service, h.endpoint])}
                    onClick={() => setTimeout(() => setFromForm(h.request), 50)}
                  >
                    {h.service} {h.endpoint}
                  </a>{' '}
                  <span class="mono small">{JSON.stringify(h.request).slice(0, 60)}</span>
                </li>
              ))}
            </ul>
          </div>
        </div>
      ) : null}
    </section>
  )
}

function CopySnippet({ text }: { text: string }) {
  return (
    <div class="snippet">
      <pre class="mono">{text}</pre>
      <CopyButton text={text} label="copy" />
    </div>
  )
}

function CtrlEnter({ onSend }: { onSend: () => void }) {
  const ref = useRef(onSend)
  ref.current = onSend
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) ref.current()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])
  return null
}

/** `key: value` lines to a map, with the first bad line named. */
export function parseMetadata(text: string): { value: Record<string, string>; error?: string } {
  const value: Record<string, string> = {}
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue
    const at = line.indexOf(':')
    if (at <= 0) return { value, error: `line ${i + 1}: write key: value` }
    value[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim()
  }
  return { value }
}

interface LogEntry {
  dir: 'in' | 'out' | 'info' | 'error'
  data: unknown
  at: number
}

/** A live stream: open it, send messages, see every reply as it comes. */
function StreamPanel({ body, first }: { body: Record<string, unknown>; first: unknown }) {
  const [id, setId] = useState<string | undefined>(undefined)
  const [traceId, setTraceId] = useState<string | undefined>(undefined)
  const [log, setLog] = useState<LogEntry[]>([])
  const [message, setMessage] = useState('')
  const [error, setError] = useState<unknown>(undefined)
  const close = useRef<(() => void) | undefined>(undefined)
  const add = (entry: Omit<LogEntry, 'at'>) => setLog((l) => [...l.slice(-499), { ...entry, at: Date.now() }])
  useEffect(() => () => close.current?.(), [])
  useEffect(() => setMessage(JSON.stringify(first)), [first])

  const open = async () => {
    setError(undefined)
    try {
      const opened = await request<{ id: string; traceId: string }>('POST', '/streams', body)
      setId(opened.id)
      setTraceId(opened.traceId)
      setLog([{ dir: 'info', data: 'stream open', at: Date.now() }])
      close.current = stream(`/streams/${opened.id}`, {
        message: (data) => add({ dir: 'in', data }),
        end: () => {
          add({ dir: 'info', data: 'stream ended' })
          close.current?.()
          setId(undefined)
        },
        error: (data) => {
          add({ dir: 'error', data })
          close.current?.()
          setId(undefined)
        },
      })
    } catch (e) {
      setError(e)
    }
  }
  const send = async () => {
    if (!id) return
    try {
      const parsed = JSON.parse(message)
      await request('POST', `/streams/${id}/send`, { message: parsed })
      add({ dir: 'out', data: parsed })
    } catch (e) {
      setError(e)
    }
  }
  return (
    <div class="stream-panel">
      <div class="toolbar">
        {!id ? (
          <button type="button" class="primary" id="open-stream" onClick={open}>
            Open stream
          </button>
        ) : (
          <>
            <button
              type="button"
              class="small"
              onClick={() => request('POST', `/streams/${id}/close`, {}).catch(setError)}
            >
              close send
            </button>
            <button
              type="button"
              class="small"
              onClick={() => {
                request('DELETE', `/streams/${id}`).catch(() => {})
                close.current?.()
                setId(undefined)
                add({ dir: 'info', data: 'canceled' })
              }}
            >
              cancel
            </button>
          </>
        )}
        {traceId ? <a href={href(['traces', traceId])}>trace →</a> : null}
      </div>
      <ErrorBox error={error} />
      <div class="send-box">
        <input
          id="stream-message"
          class="mono"
          value={message}
          onInput={(e) => setMessage((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => e.key === 'Enter' && void send()}
          aria-label="message to send"
        />
        <button type="button" id="stream-send" disabled={!id} onClick={send}>
          Send
        </button>
      </div>
      <ol class="message-log" id="message-log">
        {log.map((entry, i) => (
          <li key={i} class={`msg-${entry.dir}`}>
            <span class="dir">{entry.dir === 'in' ? '←' : entry.dir === 'out' ? '→' : '•'}</span>
            <code>{typeof entry.data === 'string' ? entry.data : JSON.stringify(entry.data)}</code>
          </li>
        ))}
      </ol>
    </div>
  )
}
