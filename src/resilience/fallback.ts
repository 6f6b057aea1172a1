import { MicroError } from '../errors/errors.js'
import { codeMatcher } from './codes.js'
import type { FallbackSpec } from './policy.js'

/** What a call that failed for good returns instead, when its error matches. */
export class Fallback {
  readonly #spec: FallbackSpec
  readonly #matches: ((code: number) => boolean) | undefined

  constructor(spec: FallbackSpec, where: string) {
    if (typeof spec !== 'object' || spec === null || (spec.fn === undefined && !('value' in spec))) {
      throw new TypeError(`${where} needs fn (in code) or value`)
    }
    if (spec.fn !== undefined && typeof spec.fn !== 'function')
      throw new TypeError(`${where}.fn must be a function`)
    this.#spec = spec
    this.#matches =
      spec.codes === undefined ? undefined : codeMatcher(spec.codes, undefined, [], `${where}.codes`)
  }

  /** Whether it answers for `error`. */
  covers(error: unknown): boolean {
    if (this.#matches === undefined) return true
    return error instanceof MicroError && this.#matches(error.code)
  }

  /** The value the call returns instead of failing with `error`. */
  answer(error: unknown, call: { service: string; endpoint: string; request: unknown }): unknown {
    const fn = this.#spec.fn
    return fn ? fn(MicroError.from(error, 'micro.client'), call) : structuredClone(this.#spec.value)
  }
}
