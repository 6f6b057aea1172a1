import { transportConformance } from '../conformance.js'
import { GrpcTransport } from './transport.js'

transportConformance('grpc (HTTP/2)', () => new GrpcTransport(), { deadAddress: '127.0.0.1:1' })
