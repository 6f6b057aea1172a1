export {
  buildOpenApiDocument,
  type OpenApiDocument,
  type OpenApiOperation,
  type OpenApiOptions,
  openApiDocument,
  type ServiceSource,
} from './document.js'
export { createOpenApiHandler, type OpenApiHandler } from './handler.js'
export { generateTsClient, type TsClientOptions } from './ts-client.js'
