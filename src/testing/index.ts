/**
 * Helpers for testing services and engines: real test servers from the environment and a
 * TCP proxy that can cut connections. (The in-process service harness arrives with the
 * service definitions.)
 * @module
 */

export { TEST_SERVERS, type TestServer, testServer } from './servers.js'
export { TcpProxy } from './tcp-proxy.js'
