import type { DescFile, DescService } from '@bufbuild/protobuf'

/**
 * Protobuf services served in this process, by full name (`helloworld.Greeter`), as
 * `grpcHandler` saw them: server reflection describes the ones a server has endpoints for.
 */
const services = new Map<string, DescService>()

/** Keep a service's descriptor for reflection. */
export function rememberService(service: DescService): void {
  services.set(service.typeName, service)
}

/** Every service remembered, for a server to filter by what it serves. */
export function rememberedServices(): readonly DescService[] {
  return [...services.values()]
}

/** A file and every file it imports, transitively, each once, dependencies first. */
export function withDependencies(
  file: DescFile,
  into: Map<string, DescFile> = new Map(),
): Map<string, DescFile> {
  if (into.has(file.name)) return into
  for (const dependency of file.dependencies) withDependencies(dependency, into)
  into.set(file.name, file)
  return into
}
