// A NATS transport node in its own process, for tests that kill it with SIGKILL.
// Usage: node --import tsx fixture-node.ts <nats address> <subject>
import { NatsTransport } from '../nats-transport.js'

const [address, subject] = process.argv.slice(2)
if (!address || !subject) throw new Error('usage: fixture-node.ts <nats address> <subject>')
const transport = new NatsTransport({ address })
const listener = await transport.listen(subject, {
  unary(call) {
    // Fault.Hang never answers: the caller is waiting when the process dies.
    if (call.endpoint !== 'Fault.Hang') call.respond(call.body)
    else console.log('hang received')
  },
  stream(_call, channel) {
    let i = 0
    const timer = setInterval(() => void channel.send(Buffer.from(String(i++))).catch(() => {}), 10)
    channel.signal.addEventListener('abort', () => clearInterval(timer))
  },
})
console.log(`serving on ${listener.address}`)
