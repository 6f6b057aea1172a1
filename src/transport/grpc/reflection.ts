import {
  create,
  type DescEnum,
  type DescExtension,
  type DescFile,
  type DescMessage,
  type DescService,
  type MessageInitShape,
  toBinary,
} from '@bufbuild/protobuf'
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt'
import { rememberedServices, rememberService, withDependencies } from './descriptors.js'
import { file_grpc_health_v1_health } from './gen/grpc/health/v1/health_pb.js'
import {
  file_grpc_reflection_v1_reflection,
  ServerReflection,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
} from './gen/grpc/reflection/v1/reflection_pb.js'
import {
  file_grpc_reflection_v1alpha_reflection,
  ServerReflection as ServerReflectionAlpha,
} from './gen/grpc/reflection/v1alpha/reflection_pb.js'
import { type GrpcHandler, grpcHandler } from './handler.js'
import type { GrpcRegistration } from './registration.js'

const NOT_FOUND = 5
const INVALID_ARGUMENT = 3

/**
 * `grpc.reflection.v1.ServerReflection` (and `v1alpha`, the same messages, which grpcurl and
 * older clients call): lists the protobuf services served (`serves(fullName)` says which) and
 * returns their file descriptors, with every file they import, by file name or by symbol.
 */
export function reflectionService(serves: (service: string) => boolean): GrpcRegistration {
  // v1alpha is answered by the same endpoint (ServerReflection.ServerReflectionInfo).
  rememberService(ServerReflectionAlpha)
  const impl: GrpcHandler<typeof ServerReflection> = {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) yield answer(request, serves)
    },
  }
  return grpcHandler(ServerReflection, impl)
}

/** Files whose symbols reflection can name: the standard services' and every remembered service's. */
function servedFiles(serves: (service: string) => boolean): {
  services: DescService[]
  files: Map<string, DescFile>
} {
  const services = rememberedServices().filter((s) => serves(s.typeName))
  const files = new Map<string, DescFile>()
  for (const file of [
    file_grpc_health_v1_health,
    file_grpc_reflection_v1_reflection,
    file_grpc_reflection_v1alpha_reflection,
    ...services.map((s) => s.file),
  ]) {
    for (const [, f] of withDependencies(file)) files.set(f.proto.name, f)
  }
  return { services, files }
}

function answer(
  request: ServerReflectionRequest,
  serves: (service: string) => boolean,
): ServerReflectionResponse {
  const { services, files } = servedFiles(serves)
  const reply = (
    messageResponse: MessageInitShape<typeof ServerReflectionResponseSchema>['messageResponse'],
  ) =>
    create(ServerReflectionResponseSchema, {
      validHost: request.host,
      originalRequest: request,
      messageResponse,
    })
  const fail = (code: number, message: string) =>
    reply({ case: 'errorResponse', value: { errorCode: code, errorMessage: message } })
  const filesOf = (file: DescFile) =>
    reply({
      case: 'fileDescriptorResponse',
      value: {
        // The requested file first, then what it imports.
        fileDescriptorProto: [file, ...[...withDependencies(file).values()].filter((f) => f !== file)].map(
          (f) => toBinary(FileDescriptorProtoSchema, f.proto),
        ),
      },
    })
  const req = request.messageRequest
  switch (req.case) {
    case 'listServices':
      return reply({
        case: 'listServicesResponse',
        value: {
          service: services.map((s) => ({ name: s.typeName })).sort((a, b) => a.name.localeCompare(b.name)),
        },
      })
    case 'fileByFilename': {
      const file = files.get(req.value)
      return file ? filesOf(file) : fail(NOT_FOUND, `file ${req.value} not found`)
    }
    case 'fileContainingSymbol': {
      const file = fileOfSymbol(files, req.value)
      return file ? filesOf(file) : fail(NOT_FOUND, `symbol ${req.value} not found`)
    }
    case 'allExtensionNumbersOfType': {
      const type = [...files.values()].some((f) => symbolsOf(f).has(req.value))
      if (!type) return fail(NOT_FOUND, `type ${req.value} not found`)
      const numbers = [...files.values()].flatMap((f) => extensionsOf(f))
      return reply({
        case: 'allExtensionNumbersResponse',
        value: {
          baseTypeName: req.value,
          extensionNumber: numbers.filter((e) => e.extendee.typeName === req.value).map((e) => e.number),
        },
      })
    }
    case 'fileContainingExtension': {
      const { containingType, extensionNumber } = req.value
      for (const file of files.values()) {
        if (
          extensionsOf(file).some(
            (e) => e.extendee.typeName === containingType && e.number === extensionNumber,
          )
        )
          return filesOf(file)
      }
      return fail(NOT_FOUND, `extension ${extensionNumber} of ${containingType} not found`)
    }
    default:
      return fail(INVALID_ARGUMENT, 'the request names nothing to look up')
  }
}

function fileOfSymbol(files: Map<string, DescFile>, symbol: string): DescFile | undefined {
  const name = symbol.startsWith('.') ? symbol.slice(1) : symbol
  for (const file of files.values()) if (symbolsOf(file).has(name)) return file
  return undefined
}

/** Every fully qualified name a file declares: messages, enums, services, methods, extensions, fields. */
function symbolsOf(file: DescFile): Set<string> {
  const names = new Set<string>()
  const addMessage = (m: DescMessage) => {
    names.add(m.typeName)
    for (const field of m.fields) names.add(`${m.typeName}.${field.name}`)
    for (const nested of m.nestedMessages) addMessage(nested)
    for (const e of m.nestedEnums) addEnum(e)
    for (const x of m.nestedExtensions) names.add(x.typeName)
  }
  const addEnum = (e: DescEnum) => {
    names.add(e.typeName)
    for (const value of e.values)
      names.add(`${e.typeName.slice(0, e.typeName.lastIndexOf('.') + 1)}${value.name}`)
  }
  for (const m of file.messages) addMessage(m)
  for (const e of file.enums) addEnum(e)
  for (const x of file.extensions) names.add(x.typeName)
  for (const s of file.services) {
    names.add(s.typeName)
    for (const method of s.methods) names.add(`${s.typeName}.${method.name}`)
  }
  return names
}

function extensionsOf(file: DescFile): DescExtension[] {
  const out: DescExtension[] = [...file.extensions]
  const walk = (m: DescMessage) => {
    out.push(...m.nestedExtensions)
    for (const nested of m.nestedMessages) walk(nested)
  }
  for (const m of file.messages) walk(m)
  return out
}
