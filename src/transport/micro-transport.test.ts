import { transportConformance } from './conformance.js'
import { MicroTransport } from './micro-transport.js'

transportConformance('micro (TCP)', () => new MicroTransport({ dialTimeout: 1000 }), {
  deadAddress: '127.0.0.1:1',
})
