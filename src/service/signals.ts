const SIGNALS = ['SIGINT', 'SIGTERM'] as const

/**
 * On the first SIGINT/SIGTERM run `stop` and exit 0 (1 if it failed); on a second signal
 * exit at once. Returns a function that removes the handlers.
 */
export function onShutdownSignal(
  stop: (signal: string) => Promise<void>,
  log: (message: string) => void,
): () => void {
  let stopping = false
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      log(`received ${signal} again, exiting now`)
      process.exit(signal === 'SIGINT' ? 130 : 143)
    }
    stopping = true
    stop(signal).then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  for (const signal of SIGNALS) process.on(signal, handler)
  return () => {
    for (const signal of SIGNALS) process.off(signal, handler)
  }
}
