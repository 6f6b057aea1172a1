import { createContext } from 'preact'
import { useContext } from 'preact/hooks'
import type { DashboardInfo } from '../api/types.js'

export interface AppState {
  info: DashboardInfo
  namespace: string
  /** Changes are hidden: read-only mode. */
  readOnly: boolean
}

export const AppContext = createContext<AppState | undefined>(undefined)

export function useApp(): AppState {
  const state = useContext(AppContext)
  if (!state) throw new Error('useApp outside the app')
  return state
}
