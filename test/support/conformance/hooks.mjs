// A module hook: `fs` imported by the conformance CLI resolves to node20-fs.mjs.
export async function resolve(specifier, context, next) {
  if ((specifier === 'fs' || specifier === 'node:fs') && context.parentURL?.includes('/conformance/dist/'))
    return { url: new URL('./node20-fs.mjs', import.meta.url).href, shortCircuit: true }
  return next(specifier, context)
}
