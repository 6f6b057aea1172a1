/**
 * Call `done` once `result` has settled: a promise when it resolves or rejects, an async
 * iterable (a stream's output) when it is exhausted, broken off or fails, anything else
 * at once. Returns what the caller should return instead of `result`. `around` runs each
 * step of an iterable (to keep an async context).
 */
export function onSettled<T>(
  result: T,
  done: (error?: unknown) => void,
  around: <R>(step: () => R) => R = (step) => step(),
): T {
  if (isThenable(result)) {
    return result.then(
      (value) => {
        done()
        return value
      },
      (error: unknown) => {
        done(error)
        throw error
      },
    ) as T
  }
  if (isAsyncIterable(result)) return settleIterable(result, done, around) as T
  done()
  return result
}

function settleIterable(
  source: AsyncIterable<unknown>,
  done: (error?: unknown) => void,
  around: <R>(step: () => R) => R,
): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]()
      let finished = false
      const finish = (error?: unknown) => {
        if (!finished) done(error)
        finished = true
      }
      const step = async (call: () => Promise<IteratorResult<unknown>>) => {
        try {
          const r = await around(call)
          if (r.done) finish()
          return r
        } catch (error) {
          finish(error)
          throw error
        }
      }
      return {
        next: (value?: unknown) => step(() => it.next(value)),
        return: (value?: unknown) =>
          step(async () => (it.return ? it.return(value) : { done: true as const, value })),
        throw: (error?: unknown) => step(async () => (it.throw ? it.throw(error) : Promise.reject(error))),
      }
    },
  }
}

function isThenable(value: unknown): value is Promise<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  )
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value
}
