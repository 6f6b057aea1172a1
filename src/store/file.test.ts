import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { storeConformance } from './conformance.js'
import { FileStore } from './file.js'

const directory = mkdtempSync(join(tmpdir(), 'micro-file-store-'))
after(() => rmSync(directory, { recursive: true, force: true }))

storeConformance('file', () => new FileStore({ directory, sweepInterval: 200 }), { persistent: true })
