import { useEffect, useRef, useState } from 'preact/hooks'
import type { DashboardInfo } from '../api/types.js'
import { get, raw, setNamespace, setUnauthorizedHandler } from './api.js'
import { ErrorBox } from './components/bits.js'
import { AppContext } from './context.js'
import { AuthPage } from './pages/auth.js'
import { CatalogPage } from './pages/catalog.js'
import { ConfigPage } from './pages/config.js'
import { EventsPage } from './pages/events.js'
import { ExplorerPage } from './pages/explorer.js'
import { HomePage } from './pages/home.js'
import { LoginPage } from './pages/login.js'
import { LogsPage } from './pages/logs.js'
import { ReferencePage } from './pages/reference.js'
import { ServicePage } from './pages/service.js'
import { StorePage } from './pages/store.js'
import { TopologyPage } from './pages/topology.js'
import { TracePage, TracesPage } from './pages/traces.js'
import { href, navigate, type Route, useRoute } from './router.js'

type Feature = keyof DashboardInfo['features']

const NAV: { path: string; label: string; key: string; feature?: Feature }[] = [
  { path: '', label: 'Home', key: 'h' },
  { path: 'services', label: 'Services', key: 's', feature: 'registry' },
  { path: 'call', label: 'Explorer', key: 'e', feature: 'calls' },
  { path: 'reference', label: 'API reference', key: 'r', feature: 'registry' },
  { path: 'traces', label: 'Traces', key: 't', feature: 'traces' },
  { path: 'topology', label: 'Topology', key: 'o', feature: 'traces' },
  { path: 'logs', label: 'Logs', key: 'l', feature: 'runtime' },
  { path: 'events', label: 'Events', key: 'v', feature: 'events' },
  { path: 'store', label: 'Store', key: 'd', feature: 'store' },
  { path: 'config', label: 'Config', key: 'c', feature: 'config' },
  { path: 'auth', label: 'Auth', key: 'a', feature: 'auth' },
]

function theme(): 'light' | 'dark' {
  const saved = localStorage.getItem('micro-theme')
  if (saved === 'light' || saved === 'dark') return saved
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'
}

export function App() {
  const route = useRoute()
  const [info, setInfo] = useState<DashboardInfo | undefined>(undefined)
  const [failed, setFailed] = useState<unknown>(undefined)
  const [needLogin, setNeedLogin] = useState(false)
  const [mode, setMode] = useState(theme)
  const pending = useRef<string | undefined>(undefined)
  const namespace = route.query.get('namespace') ?? info?.namespace ?? 'micro'
  setNamespace(namespace)

  const load = async () => {
    try {
      const next = await get<DashboardInfo>('/info')
      setInfo(next)
      setNeedLogin(next.auth.enabled && !next.auth.identity)
    } catch (e) {
      setFailed(e)
    }
  }
  useEffect(() => {
    setUnauthorizedHandler(() => setNeedLogin(true))
    void load()
  }, [])
  useEffect(() => {
    document.documentElement.dataset.theme = mode
  }, [mode])
  useKeys()

  if (failed) return <ErrorBox error={failed} />
  if (!info) return <div class="loading">loading…</div>
  if (needLogin) return <LoginPage onLogin={() => void load()} />
  const readOnly = info.readOnly
  const visible = NAV.filter((n) => !n.feature || info.features[n.feature])
  const section = route.parts[0] ?? ''
  return (
    <AppContext.Provider value={{ info, namespace, readOnly }}>
      <div class="shell">
        <nav class="sidebar" aria-label="pages">
          <a class="brand" href="#/">
            micro<span>dashboard</span>
          </a>
          {visible.map((n) => (
            <a
              key={n.path}
              href={`#/${n.path}`}
              class={section === n.path ? 'active' : ''}
              title={`g ${n.key}`}
            >
              {n.label}
            </a>
          ))}
          <div class="sidebar-foot">v{info.version}</div>
        </nav>
        <div class="main">
          <header class="topbar">
            <SearchBox pending={pending} />
            <label class="ns">
              namespace
              <input
                value={namespace}
                size={10}
                onChange={(e) =>
                  navigate(
                    href(route.parts, {
                      ...Object.fromEntries(route.query),
                      namespace: (e.target as HTMLInputElement).value,
                    }),
                  )
                }
              />
            </label>
            {readOnly ? <span class="badge badge-warn">read-only</span> : null}
            <button
              type="button"
              class="small"
              onClick={() => {
                const next = mode === 'dark' ? 'light' : 'dark'
                localStorage.setItem('micro-theme', next)
                setMode(next)
              }}
              aria-label="toggle dark mode"
            >
              {mode === 'dark' ? '☀ light' : '☾ dark'}
            </button>
            {info.auth.identity ? (
              <span class="who">
                {info.auth.identity.id}
                <button
                  type="button"
                  class="small"
                  onClick={async () => {
                    await raw('POST', '/logout', {})
                    setNeedLogin(true)
                  }}
                >
                  log out
                </button>
              </span>
            ) : null}
          </header>
          <main>
            <Page route={route} />
          </main>
        </div>
      </div>
    </AppContext.Provider>
  )
}

function Page({ route }: { route: Route }) {
  const [section, ...rest] = route.parts
  switch (section) {
    case undefined:
      return <HomePage />
    case 'services':
      return rest[0] ? <ServicePage name={rest[0]} /> : <CatalogPage query={route.query.get('q') ?? ''} />
    case 'call':
      return <ExplorerPage service={rest[0]} endpoint={rest[1]} />
    case 'traces':
      return rest[0] ? <TracePage id={rest[0]} /> : <TracesPage query={route.query} />
    case 'reference':
      return <ReferencePage />
    case 'topology':
      return <TopologyPage />
    case 'logs':
      return <LogsPage query={route.query} />
    case 'events':
      return <EventsPage topic={rest[0]} />
    case 'store':
      return <StorePage query={route.query} />
    case 'config':
      return <ConfigPage />
    case 'auth':
      return <AuthPage />
    default:
      return (
        <p>
          No page here. <a href="#/">Home</a>
        </p>
      )
  }
}

/** The header's search: Enter opens the catalog filtered by it. `/` focuses it. */
function SearchBox({ pending }: { pending: { current: string | undefined } }) {
  return (
    <input
      id="global-search"
      class="search"
      type="search"
      placeholder="Search services and endpoints  ( / )"
      aria-label="search"
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          const input = e.target as HTMLInputElement
          const q = input.value
          pending.current = q
          input.value = ''
          input.blur()
          navigate(href(['services'], { q }))
        } else if (e.key === 'Escape') (e.target as HTMLInputElement).blur()
      }}
    />
  )
}

/** `/` focuses the search; `g` then a letter goes to a page (g h home, g s services ...). */
function useKeys() {
  useEffect(() => {
    let lastG = 0
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement
      if (target.closest('input, textarea, select, [contenteditable]') || e.metaKey || e.ctrlKey || e.altKey)
        return
      if (e.key === '/') {
        e.preventDefault()
        ;(
          document.querySelector<HTMLElement>('[data-search]') ?? document.getElementById('global-search')
        )?.focus()
      } else if (e.key === 'g') lastG = Date.now()
      else if (Date.now() - lastG < 1000) {
        const target = NAV.find((n) => n.key === e.key)
        if (target) navigate(`#/${target.path}`)
        lastG = 0
      }
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])
}
