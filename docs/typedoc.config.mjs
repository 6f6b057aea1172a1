// TypeDoc over the package's public entries (package.json `exports`), written as Markdown
// into docs/api/ (generated, not committed) for VitePress. Run by scripts/docs.mjs.
import { readFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))

/** `./dist/x/index.js` -> `../src/x/index.ts`, for every entry of the exports map. */
export const entryPoints = Object.values(pkg.exports)
  .flatMap((target) => (typeof target === 'string' ? [] : [target.default]))
  .map((out) => out.replace(/^\.\/dist\//, '../src/').replace(/\.js$/, '.ts'))

/**
 * Every public export (each declaration an entry point exports, and its methods) carries a
 * doc comment, and every {@link} resolves: a missing one fails the build. test/docs/api.test.ts
 * applies the same rules to an entry with an undocumented export, to see them fail.
 */
export const documentationRules = {
  validation: { notExported: false, invalidLink: true, notDocumented: true },
  requiredToBeDocumented: ['Enum', 'Variable', 'Function', 'Class', 'Interface', 'TypeAlias', 'Namespace'],
  treatValidationWarningsAsErrors: true,
}

/** @type {Partial<import('typedoc').TypeDocOptions & import('typedoc-plugin-markdown').PluginOptions>} */
export default {
  entryPoints,
  tsconfig: '../tsconfig.build.json',
  out: 'api',
  plugin: ['typedoc-plugin-markdown', 'typedoc-vitepress-theme'],
  readme: 'none',
  excludePrivate: true,
  excludeProtected: true,
  excludeInternal: true,
  excludeExternals: true,
  ...documentationRules,
  sort: ['kind', 'alphabetical'],
  hideGenerator: true,
  // Comments are Markdown: a bare <word> in one would be HTML (and a Vue error) in VitePress.
  sanitizeComments: true,
  disableSources: true,
  // One page per entry point (20 pages, not 600): a fast build, and search finds members by their headings.
  outputFileStrategy: 'modules',
  flattenOutputFiles: true,
  docsRoot: '.',
}
