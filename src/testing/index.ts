/**
 * Helpers for testing: the in-process service harness (`testService`), real test servers
 * from the environment, and a TCP proxy that can cut connections.
 * @module micro-ts/testing
 */

export { type TestedService, type TestServiceOptions, testService } from './harness.js'
export type { HttpBody, TestResponse } from './http-call.js'
export { TEST_SERVERS, type TestServer, testServer } from './servers.js'
export { TcpProxy } from './tcp-proxy.js'
