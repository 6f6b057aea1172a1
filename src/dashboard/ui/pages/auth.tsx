import { useState } from 'preact/hooks'
import type { Account, PolicyAnswer, Rule, TokenInfo } from '../../api/types.js'
import { request } from '../api.js'
import { Badge, CopyButton, Empty, ErrorBox } from '../components/bits.js'
import { useApp } from '../context.js'
import { ago, useResource } from '../hooks.js'

/** Accounts, tokens (issue with one-time display, revoke), rules, and "may X call Y". */
export function AuthPage() {
  const { readOnly } = useApp()
  const accounts = useResource<{ accounts: Account[] }>('/auth/accounts')
  const tokens = useResource<{ tokens: TokenInfo[] }>('/auth/tokens')
  const rules = useResource<{ rules: Rule[] }>('/auth/rules')
  const [error, setError] = useState<unknown>(undefined)
  const [issued, setIssued] = useState<string | undefined>(undefined)
  const [form, setForm] = useState({ account: '', scopes: '', description: '' })
  const [check, setCheck] = useState({ account: '', service: '', endpoint: '' })
  const [answer, setAnswer] = useState<PolicyAnswer | undefined>(undefined)
  const issue = async () => {
    setError(undefined)
    try {
      const res = await request<{ token: string }>('POST', '/auth/tokens', form)
      setIssued(res.token)
      void tokens.reload()
    } catch (e) {
      setError(e)
    }
  }
  const revoke = async (id: string) => {
    try {
      await request('DELETE', `/auth/tokens/${encodeURIComponent(id)}`)
      void tokens.reload()
    } catch (e) {
      setError(e)
    }
  }
  const ask = async () => {
    try {
      setAnswer(await request<PolicyAnswer>('POST', '/auth/check', check))
    } catch (e) {
      setError(e)
    }
  }
  return (
    <section>
      <h1>Auth</h1>
      <ErrorBox error={error ?? accounts.error} />
      <h2>Accounts</h2>
      <table class="list compact">
        <thead>
          <tr>
            <th>id</th>
            <th>type</th>
            <th>scopes</th>
          </tr>
        </thead>
        <tbody>
          {(accounts.data?.accounts ?? []).map((a) => (
            <tr key={a.id}>
              <td>{a.id}</td>
              <td>{a.type}</td>
              <td>
                {a.scopes.map((s) => (
                  <Badge key={s} kind="muted">
                    {s}
                  </Badge>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Tokens</h2>
      <table class="list compact">
        <thead>
          <tr>
            <th>id</th>
            <th>account</th>
            <th>scopes</th>
            <th>created</th>
            <th>expires</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(tokens.data?.tokens ?? []).map((t) => (
            <tr key={t.id}>
              <td class="mono small">{t.id.slice(0, 8)}</td>
              <td>{t.account}</td>
              <td>{t.scopes.join(', ')}</td>
              <td>{ago(t.created)} ago</td>
              <td>{t.expires ? new Date(t.expires).toLocaleString() : 'never'}</td>
              <td>
                {readOnly ? null : (
                  <button type="button" class="small danger" onClick={() => revoke(t.id)}>
                    revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {tokens.data && tokens.data.tokens.length === 0 ? <Empty>No tokens issued.</Empty> : null}
      {!readOnly ? (
        <div class="panel">
          <h3>Issue a token</h3>
          <div class="toolbar">
            <input
              placeholder="account"
              aria-label="account"
              value={form.account}
              onInput={(e) => setForm({ ...form, account: (e.target as HTMLInputElement).value })}
            />
            <input
              placeholder="scopes (comma separated)"
              aria-label="scopes"
              value={form.scopes}
              onInput={(e) => setForm({ ...form, scopes: (e.target as HTMLInputElement).value })}
            />
            <input
              placeholder="description"
              aria-label="description"
              value={form.description}
              onInput={(e) => setForm({ ...form, description: (e.target as HTMLInputElement).value })}
            />
            <button type="button" class="primary" onClick={issue} disabled={!form.account}>
              Issue
            </button>
          </div>
          {issued ? (
            <div class="notice" role="status">
              Copy this token now: it is not shown again.
              <pre class="mono">{issued}</pre>
              <CopyButton text={issued} label="copy" />{' '}
              <button type="button" class="small" onClick={() => setIssued(undefined)}>
                done
              </button>
            </div>
          ) : null}
        </div>
      ) : null}
      <h2>Rules</h2>
      <table class="list compact">
        <thead>
          <tr>
            <th>id</th>
            <th>scope</th>
            <th>resource</th>
            <th>access</th>
            <th class="num">priority</th>
          </tr>
        </thead>
        <tbody>
          {(rules.data?.rules ?? []).map((r) => (
            <tr key={r.id} class={answer?.rule?.id === r.id ? 'selected' : ''}>
              <td>{r.id}</td>
              <td>{r.scope || '(any account)'}</td>
              <td class="mono">
                {r.resource.type}:{r.resource.name}:{r.resource.endpoint}
              </td>
              <td>
                <Badge kind={r.access === 'granted' ? 'ok' : 'error'}>{r.access}</Badge>
              </td>
              <td class="num">{r.priority}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="panel">
        <h3>May an account call an endpoint?</h3>
        <div class="toolbar">
          <input
            placeholder="account"
            aria-label="check account"
            value={check.account}
            onInput={(e) => setCheck({ ...check, account: (e.target as HTMLInputElement).value })}
          />
          <input
            placeholder="service"
            aria-label="check service"
            value={check.service}
            onInput={(e) => setCheck({ ...check, service: (e.target as HTMLInputElement).value })}
          />
          <input
            placeholder="endpoint, e.g. Greeter.Hello"
            aria-label="check endpoint"
            value={check.endpoint}
            onInput={(e) => setCheck({ ...check, endpoint: (e.target as HTMLInputElement).value })}
          />
          <button type="button" onClick={ask}>
            Check
          </button>
        </div>
        {answer ? (
          <p role="status">
            <Badge kind={answer.allowed ? 'ok' : 'error'}>{answer.allowed ? 'allowed' : 'denied'}</Badge>{' '}
            {answer.reason}
          </p>
        ) : null}
      </div>
    </section>
  )
}
