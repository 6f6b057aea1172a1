import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { type ApiError, get, type SseHandlers, stream } from './api.js'

/** Load a JSON resource; `reload` fetches it again. Refreshes every `every` ms when given. */
export function useResource<T>(path: string | undefined, every?: number) {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<ApiError | Error | undefined>(undefined)
  const [loading, setLoading] = useState(false)
  const current = useRef(path)
  current.current = path
  const reload = useCallback(async () => {
    if (!path) return
    setLoading(true)
    try {
      const value = await get<T>(path)
      if (current.current === path) {
        setData(value)
        setError(undefined)
      }
    } catch (e) {
      if (current.current === path) setError(e as Error)
    } finally {
      setLoading(false)
    }
  }, [path])
  useEffect(() => {
    setData(undefined)
    void reload()
    if (!every) return
    const timer = setInterval(() => void reload(), every)
    return () => clearInterval(timer)
  }, [reload, every])
  return { data, error, loading, reload }
}

/** Subscribe to an SSE stream while mounted (or while `path` is set); returns whether it is open. */
export function useStream(path: string | undefined, handlers: SseHandlers): boolean {
  const [open, setOpen] = useState(false)
  const latest = useRef(handlers)
  latest.current = handlers
  useEffect(() => {
    if (!path) return
    const proxies: SseHandlers = {}
    for (const name of Object.keys(latest.current)) proxies[name] = (data) => latest.current[name]?.(data)
    const close = stream(path, proxies, setOpen)
    return () => {
      close()
      setOpen(false)
    }
  }, [path])
  return open
}

/**
 * j/k (and arrows) move a selection through a list, Enter opens it. Keys typed in inputs
 * are left alone.
 */
export function useListKeys(count: number, open: (index: number) => void) {
  const [selected, setSelected] = useState(-1)
  const openRef = useRef(open)
  openRef.current = open
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement
      if (target.closest('input, textarea, select, [contenteditable]') || e.metaKey || e.ctrlKey || e.altKey)
        return
      if (e.key === 'j' || e.key === 'ArrowDown') {
        setSelected((s) => Math.min(count - 1, s + 1))
        e.preventDefault()
      } else if (e.key === 'k' || e.key === 'ArrowUp') {
        setSelected((s) => Math.max(0, s - 1))
        e.preventDefault()
      } else if (e.key === 'Enter') {
        setSelected((s) => {
          if (s >= 0) openRef.current(s)
          return s
        })
      }
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [count])
  useEffect(() => {
    document.querySelector('[data-selected="true"]')?.scrollIntoView({ block: 'nearest' })
  }, [selected])
  return [selected, setSelected] as const
}

/** Time ago, short: `3s`, `5m`, `2h`, `4d`. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.round(s / 60)}m`
  if (s < 86400) return `${Math.round(s / 3600)}h`
  return `${Math.round(s / 86400)}d`
}

/** A duration in ms, short: `0.4 ms`, `12 ms`, `1.2 s`. */
export function duration(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
}
