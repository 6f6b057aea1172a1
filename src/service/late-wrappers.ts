import type { CallFn, ClientWrapper } from '../client/wrappers.js'
import type { HandlerFn } from '../server/handlers.js'
import { applyWrappers, type HandlerWrapper } from '../server/wrappers.js'

/**
 * One server wrapper standing for a list filled later (features initialise at start, after
 * `createService` placed its wrappers), so what the features add runs outermost, around
 * the caller's own wrappers. The chain is composed again only when the list has grown.
 */
export function lateServerWrapper(list: readonly HandlerWrapper[]): HandlerWrapper {
  return (next, info) => {
    let composed: HandlerFn = next
    let size = 0
    return (req, ctx) => {
      if (size !== list.length) {
        composed = applyWrappers(next, list, info)
        size = list.length
      }
      return composed(req, ctx)
    }
  }
}

/** The client side of {@link lateServerWrapper}. */
export function lateClientWrapper(list: readonly ClientWrapper[]): ClientWrapper {
  return (next) => {
    let composed: CallFn = next
    let size = 0
    return (request) => {
      if (size !== list.length) {
        composed = list.reduceRight<CallFn>((fn, wrap) => wrap(fn), next)
        size = list.length
      }
      return composed(request)
    }
  }
}
