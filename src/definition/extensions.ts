/** What features add to a service: moved to the service stack, kept here for plugins that import it from the definition layer. */
export { Extensions, HealthState, type HttpMiddleware, type NodeHandler } from '../service/extensions.js'
