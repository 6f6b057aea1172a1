import { useState } from 'preact/hooks'
import type { RecordView } from '../../api/types.js'
import { request } from '../api.js'
import { Empty, ErrorBox } from '../components/bits.js'
import { useApp } from '../context.js'
import { useResource } from '../hooks.js'
import { href, navigate } from '../router.js'

/** Databases, tables, browse by prefix; view, edit (with TTL) and delete records. */
export function StorePage({ query }: { query: URLSearchParams }) {
  const { readOnly } = useApp()
  const database = query.get('database') ?? ''
  const table = query.get('table') ?? ''
  const prefix = query.get('prefix') ?? ''
  const databases = useResource<{ databases: string[] }>('/store/databases')
  const tables = useResource<{ tables: string[] }>(
    database ? `/store/tables?database=${encodeURIComponent(database)}` : undefined,
  )
  const scope = `database=${encodeURIComponent(database)}&table=${encodeURIComponent(table)}`
  const records = useResource<{ records: RecordView[]; more: boolean }>(
    database && table ? `/store/records?${scope}&prefix=${encodeURIComponent(prefix)}&limit=200` : undefined,
  )
  const [editing, setEditing] = useState<RecordView | undefined>(undefined)
  const go = (next: Record<string, string>) =>
    navigate(href(['store'], { database, table, prefix, ...next }), true)
  return (
    <section>
      <h1>Store</h1>
      <div class="toolbar">
        <select
          aria-label="database"
          value={database}
          onChange={(e) => go({ database: (e.target as HTMLSelectElement).value, table: '' })}
        >
          <option value="">database…</option>
          {(databases.data?.databases ?? []).map((d) => (
            <option key={d}>{d}</option>
          ))}
        </select>
        <select
          aria-label="table"
          value={table}
          onChange={(e) => go({ table: (e.target as HTMLSelectElement).value })}
        >
          <option value="">table…</option>
          {(tables.data?.tables ?? []).map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
        <input
          type="search"
          data-search
          placeholder="key prefix"
          aria-label="key prefix"
          value={prefix}
          onChange={(e) => go({ prefix: (e.target as HTMLInputElement).value })}
        />
        {!readOnly && database && table ? (
          <button
            type="button"
            class="small"
            onClick={() => setEditing({ key: '', value: {}, metadata: {} })}
          >
            new record
          </button>
        ) : null}
      </div>
      <ErrorBox error={databases.error ?? records.error} />
      {!database || !table ? <p class="muted">Pick a database and a table.</p> : null}
      {records.data && records.data.records.length === 0 ? <Empty>No records.</Empty> : null}
      <table class="list compact">
        <tbody>
          {(records.data?.records ?? []).map((r) => (
            <tr
              key={r.key}
              onClick={() => setEditing(r)}
              class={editing?.key === r.key ? 'selected' : 'clickable'}
            >
              <td class="mono">{r.key}</td>
              <td class="mono small">
                {(r.bytes ? `bytes ${r.value}` : JSON.stringify(r.value)).slice(0, 100)}
              </td>
              <td class="muted">
                {r.expiry !== undefined ? `expires in ${Math.round(r.expiry / 1000)}s` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {records.data?.more ? <p class="muted">More records: narrow the prefix.</p> : null}
      {editing ? (
        <RecordEditor
          key={editing.key}
          record={editing}
          scope={{ database, table }}
          readOnly={readOnly}
          done={() => {
            setEditing(undefined)
            void records.reload()
          }}
        />
      ) : null}
    </section>
  )
}

function RecordEditor(props: {
  record: RecordView
  scope: { database: string; table: string }
  readOnly: boolean
  done: () => void
}) {
  const { record, scope } = props
  const [key, setKey] = useState(record.key)
  const [value, setValue] = useState(JSON.stringify(record.value, null, 2))
  const [ttl, setTtl] = useState(record.expiry !== undefined ? String(Math.round(record.expiry / 1000)) : '')
  const [error, setError] = useState<unknown>(undefined)
  const save = async () => {
    try {
      const body: Record<string, unknown> = { ...scope, key, value: JSON.parse(value) }
      if (ttl) body.ttl = Number(ttl) * 1000
      await request('PUT', '/store/record', body)
      props.done()
    } catch (e) {
      setError(e)
    }
  }
  const remove = async () => {
    try {
      await request(
        'DELETE',
        `/store/record?database=${encodeURIComponent(scope.database)}&table=${encodeURIComponent(scope.table)}&key=${encodeURIComponent(record.key)}`,
      )
      props.done()
    } catch (e) {
      setError(e)
    }
  }
  return (
    <div class="panel editor">
      <h2>{record.key || 'New record'}</h2>
      <ErrorBox error={error} />
      <label for="rec-key">key</label>
      <input
        id="rec-key"
        class="mono"
        value={key}
        disabled={record.key !== '' || props.readOnly}
        onInput={(e) => setKey((e.target as HTMLInputElement).value)}
      />
      <label for="rec-value">value (JSON)</label>
      <textarea
        id="rec-value"
        class="mono"
        rows={8}
        value={value}
        disabled={props.readOnly || record.bytes}
        onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)}
      />
      <label for="rec-ttl">TTL (seconds, empty: never expires)</label>
      <input
        id="rec-ttl"
        type="number"
        min={1}
        value={ttl}
        disabled={props.readOnly}
        onInput={(e) => setTtl((e.target as HTMLInputElement).value)}
      />
      {Object.keys(record.metadata).length > 0 ? (
        <pre class="json">{JSON.stringify(record.metadata, null, 2)}</pre>
      ) : null}
      {props.readOnly ? null : (
        <div class="toolbar">
          <button type="button" class="primary" onClick={save}>
            Save
          </button>
          {record.key ? (
            <button type="button" class="danger" onClick={remove}>
              Delete
            </button>
          ) : null}
          <button type="button" onClick={props.done}>
            Close
          </button>
        </div>
      )}
    </div>
  )
}
