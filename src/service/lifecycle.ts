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

/** The hook methods of a service; the service runs `hooks` around its start and stop. */
export abstract class WithHooks {
  protected readonly hooks = new Hooks()

  /** Runs before the service listens. */
  beforeStart(hook: Hook): this {
    this.hooks.beforeStart.push(hook)
    return this
  }

  /** Runs once the service serves and is registered. */
  afterStart(hook: Hook): this {
    this.hooks.afterStart.push(hook)
    return this
  }

  /** Runs when a stop begins, before deregistration. */
  beforeStop(hook: Hook): this {
    this.hooks.beforeStop.push(hook)
    return this
  }

  /** Runs at the end of a stop. */
  afterStop(hook: Hook): this {
    this.hooks.afterStop.push(hook)
    return this
  }
}
