import { useState } from 'preact/hooks'
import { raw } from '../api.js'

/** The login page when auth is on: an account's id and secret, or a token. */
export function LoginPage({ onLogin }: { onLogin: () => void }) {
  const [mode, setMode] = useState<'account' | 'token'>('account')
  const [id, setId] = useState('')
  const [secret, setSecret] = useState('')
  const [token, setToken] = useState('')
  const [error, setError] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    const res = await raw('POST', '/login', mode === 'account' ? { id, secret } : { token })
    setBusy(false)
    if (res.status === 200) onLogin()
    else setError((res.body as { detail?: string } | null)?.detail ?? `HTTP ${res.status}`)
  }
  return (
    <div class="login">
      <form class="panel" onSubmit={submit}>
        <h1>
          micro<span>dashboard</span>
        </h1>
        <div class="tabs">
          <button
            type="button"
            class={`small ${mode === 'account' ? 'active' : ''}`}
            onClick={() => setMode('account')}
          >
            account
          </button>
          <button
            type="button"
            class={`small ${mode === 'token' ? 'active' : ''}`}
            onClick={() => setMode('token')}
          >
            token
          </button>
        </div>
        {mode === 'account' ? (
          <>
            <label for="login-id">account</label>
            <input
              id="login-id"
              autocomplete="username"
              value={id}
              onInput={(e) => setId((e.target as HTMLInputElement).value)}
              autofocus
            />
            <label for="login-secret">secret</label>
            <input
              id="login-secret"
              type="password"
              autocomplete="current-password"
              value={secret}
              onInput={(e) => setSecret((e.target as HTMLInputElement).value)}
            />
          </>
        ) : (
          <>
            <label for="login-token">token</label>
            <input
              id="login-token"
              type="password"
              value={token}
              onInput={(e) => setToken((e.target as HTMLInputElement).value)}
            />
          </>
        )}
        {error ? (
          <div class="error-box" role="alert">
            {error}
          </div>
        ) : null}
        <button type="submit" class="primary" id="login-submit" disabled={busy}>
          {busy ? 'logging in…' : 'Log in'}
        </button>
      </form>
    </div>
  )
}
