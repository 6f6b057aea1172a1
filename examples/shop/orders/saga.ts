/** A step of a saga: `run` does it, `undo` compensates it when a later step fails. */
export interface Step {
  name: string
  run(): Promise<unknown>
  /**
   * Undo what `run` did. Called for the failing step too (a call that timed out may have
   * happened), so it must be idempotent and do nothing when there is nothing to undo.
   */
  undo?(): Promise<unknown>
}

/**
 * Run the steps in order. When one throws, undo it and every step before it, last first,
 * then rethrow its error. An undo that throws is passed to `undoFailed` and the other
 * undos still run.
 */
export async function runSaga(
  steps: readonly Step[],
  undoFailed: (step: string, error: unknown) => void,
): Promise<void> {
  const started: Step[] = []
  for (const step of steps) {
    started.push(step)
    try {
      await step.run()
    } catch (error) {
      for (const done of started.reverse()) {
        try {
          await done.undo?.()
        } catch (undoError) {
          undoFailed(done.name, undoError)
        }
      }
      throw error
    }
  }
}
