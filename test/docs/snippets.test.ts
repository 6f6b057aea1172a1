import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { CliHelp, checkInvocation, microCommands } from './cli-lines.js'
import { allSnippets, extractSnippets, isShell, isTypeScript, type Snippet, where } from './snippets.js'
import { typecheck } from './typecheck.js'

// Every code block of the guides is checked against the code (docs/README.md): TypeScript
// blocks type-check against the package's public entries, and every `micro` command line
// names a command and options the CLI has. The drift tests feed broken blocks through the
// same checks, so a check that cannot fail would show here.

const root = fileURLToPath(new URL('../..', import.meta.url))
const snippets = allSnippets(root)
const cli = join(root, 'dist/cli/main.js')
const help = new CliHelp(cli, { ...process.env, MICRO_CONFIG_DIR: join(root, 'build/docs-cli-config') })

const format = (problems: { at: string; message: string }[]) =>
  problems.map((p) => `${p.at}: ${p.message}`).join('\n')

describe('documentation snippets', () => {
  test('the pages have blocks of each kind', () => {
    assert.ok(snippets.filter(isTypeScript).length >= 20, 'TypeScript blocks')
    assert.ok(snippets.filter(isShell).length >= 20, 'shell blocks')
    assert.ok(
      snippets.some((s) => s.flags.has('run')),
      'runnable blocks',
    )
  })

  test('illustrative blocks are few', () => {
    const ts = snippets.filter((s) => s.lang === 'ts')
    const unchecked = ts.filter((s) => s.flags.has('no-check'))
    assert.ok(
      unchecked.length * 10 <= ts.length,
      `${unchecked.length} of ${ts.length}: ${unchecked.map((s) => where(s))}`,
    )
  })

  test('every guide has a checked block', () => {
    const pages = new Set(
      snippets.map((s) => s.file).filter((f) => /^docs\/(guide|platform|operations)\//.test(f)),
    )
    const checked = new Set(
      snippets.filter((s) => isTypeScript(s) || (isShell(s) && !s.flags.has('no-run'))).map((s) => s.file),
    )
    const missing = [...pages].filter((p) => !checked.has(p))
    assert.deepEqual(missing, [], 'pages whose every block is unchecked')
  })

  test('every TypeScript block type-checks against the package', async () => {
    const problems = await typecheck(root, join(root, 'build/docs-snippets'), snippets.filter(isTypeScript))
    assert.equal(problems.length, 0, format(problems))
  })

  test('every micro command line names a real command and options', async () => {
    const problems = []
    for (const s of snippets.filter(isShell)) {
      for (const { offset, args } of microCommands(s.code))
        problems.push(...(await checkInvocation(help, args, where(s, offset))))
    }
    assert.equal(problems.length, 0, format(problems))
  })
})

describe('a snippet that drifts from the code fails', () => {
  const page = [
    '# A page',
    '',
    '```ts',
    "import { createService } from 'micro-ts'",
    "const service = createService({ name: 'ok' })",
    'await service.stop()',
    '```',
    '',
    '```ts',
    "import { createServise } from 'micro-ts'",
    "createServise({ name: 'renamed export' })",
    '```',
    '',
    '```ts',
    "import { createService } from 'micro-ts'",
    "createService({ name: 'x', adress: '127.0.0.1:0' })",
    '```',
    '',
    '```ts no-check',
    'this is not TypeScript at all',
    '```',
    '',
    '```sh no-run',
    'micro call greeter Greeter.Hello --timeout 5s   # fine',
    'micro call --adress 127.0.0.1:1 greeter Greeter.Hello',
    'micro store read --prefix user: && micro services --jsn',
    'micro greeter hello --name Alice    # a service: checked when run',
    '```',
  ].join('\n')
  const blocks: Snippet[] = extractSnippets(page, 'drift.md')

  test('the blocks are found with their lines and flags', () => {
    assert.deepEqual(
      blocks.map((b) => [b.lang, b.line, [...b.flags]]),
      [
        ['ts', 3, []],
        ['ts', 9, []],
        ['ts', 14, []],
        ['ts', 19, ['no-check']],
        ['sh', 23, ['no-run']],
      ],
    )
  })

  test('a renamed export and a misspelled option fail type-checking, at their lines', async () => {
    const problems = await typecheck(
      root,
      join(root, 'build/docs-snippets-drift'),
      blocks.filter(isTypeScript),
    )
    const at = problems.map((p) => p.at)
    assert.ok(at.includes('drift.md:10'), format(problems))
    assert.ok(at.includes('drift.md:16'), format(problems))
    assert.ok(
      !at.some((a) => ['drift.md:4', 'drift.md:5', 'drift.md:6', 'drift.md:20'].includes(a)),
      format(problems),
    )
    assert.match(format(problems), /createServise/)
    assert.match(format(problems), /adress/)
  })

  test('an option the CLI does not have fails, at its line', async () => {
    const [sh] = blocks.filter(isShell) as [Snippet]
    const problems = []
    for (const { offset, args } of microCommands(sh.code))
      problems.push(...(await checkInvocation(help, args, where(sh, offset))))
    assert.deepEqual(
      problems.map((p) => [p.at, p.message]),
      [
        ['drift.md:25', 'micro call: --adress is not an option (micro call --help)'],
        ['drift.md:26', 'micro services: --jsn is not an option (micro services --help)'],
      ],
    )
  })
})
