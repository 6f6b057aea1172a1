/** A lifecycle hook; hooks of one phase run in the order added. */
export type Hook = () => void | Promise<void>

/** Hooks by phase, as Go Micro's BeforeStart/AfterStart/BeforeStop/AfterStop. */
export class Hooks {
  readonly beforeStart: Hook[] = []
  readonly afterStart: Hook[] = []
  readonly beforeStop: Hook[] = []
  readonly afterStop: Hook[] = []

  /** Run the hooks of one phase in order; the first failure stops the phase and is thrown. */
  static async run(hooks: readonly Hook[]): Promise<void> {
    for (const hook of hooks) await hook()
  }
}
