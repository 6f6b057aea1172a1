import { useEffect, useState } from 'preact/hooks'

/** Where the app is: the hash's path parts and query. `#/traces/abc?service=x` */
export interface Route {
  parts: string[]
  query: URLSearchParams
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#/, '') || '/'
  const [path = '/', query = ''] = text.split('?', 2)
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p)
      } catch {
        return p
      }
    })
  return { parts, query: new URLSearchParams(query) }
}

/** A link target from path parts and a query (empty values dropped). */
export function href(parts: string[], query: Record<string, string | undefined> = {}): string {
  const path = parts.map(encodeURIComponent).join('/')
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, v)
  const qs = q.toString()
  return `#/${path}${qs ? `?${qs}` : ''}`
}

export function navigate(target: string, replace = false): void {
  if (replace) history.replaceState(null, '', target)
  else location.hash = target.replace(/^#/, '')
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'))
}

/** The current route, updated on every hash change. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash))
  useEffect(() => {
    const update = () => setRoute(parseHash(location.hash))
    window.addEventListener('hashchange', update)
    return () => window.removeEventListener('hashchange', update)
  }, [])
  return route
}
