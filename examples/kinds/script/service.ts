/** report: prints COUNT lines and exits with EXIT_CODE. */
import { defineService } from 'micro-ts'

const service = defineService({
  env: {
    COUNT: { type: 'int', default: 3 },
    EXIT_CODE: { type: 'int', default: 0 },
    FORMAT: { type: 'enum', values: ['text', 'json'], default: 'text' },
  },
  script: async ({ env, signal }) => {
    for (let i = 1; i <= env.COUNT && !signal.aborted; i++) {
      console.log(env.FORMAT === 'json' ? JSON.stringify({ line: i }) : `line ${i}`)
    }
    return env.EXIT_CODE
  },
})

export default service
service.runIfMain(import.meta)
