/**
 * Auth and zero trust: accounts and tokens, keys, rules and scopes, the wrappers that
 * enforce them on every service, the platform's `Auth`/`Accounts`/`Rules` handlers and the
 * gateway's authorizer. See README.md.
 *
 * @module micro-ts/auth
 */
export { AccountStore, checkAccountId, checkNamespace, type NewAccount, publicAccount } from './accounts.js'
export * from './auth.js'
export { openAuthFileStore } from './auth-store.js'
export {
  Authority,
  type AuthorityOptions,
  BOOTSTRAP_TTL,
  DEFAULT_AUTH_DIRECTORY,
  type LoginResult,
} from './authority.js'
export { CertificateAuthority, type CertificateRequest, type IssuedCertificate } from './ca/authority.js'
export { Certificates } from './ca/handler.js'
export { issueLocal, materialOf, newKeyPair } from './ca/local.js'
export { type RunningCertificateAuthority, startCertificateAuthority } from './ca/start.js'
export { authorizeCall, authorizeNamespace, type CallAuth, callAuthOf, callerOf } from './call-auth.js'
export { authClientWrapper, identityMetadata } from './client-wrapper.js'
export { type CredentialsOptions, ServiceCredentials, type TokenEndpoint } from './credentials.js'
export { FetchedRules } from './fetched-rules.js'
export {
  authorityGatewayAuthorizer,
  type GatewayAuthorizer,
  type GatewayDecision,
  type GatewayTarget,
  gatewayAuthorizer,
  TOKEN_COOKIES,
  tokenFromRequest,
} from './gateway.js'
export { Accounts, authHandlers, Rules } from './handler-admin.js'
export { Auth, sourceOf } from './handler-auth.js'
export { JWKS_PATH, jwksHandler } from './jwks.js'
export { KeyEncryption } from './key-encryption.js'
export { ALGORITHMS, type PublicJwk, parsePrivateKey, parsePublicKeys } from './key-material.js'
export {
  FetchedKeySource,
  type FetchedKeySourceOptions,
  jwksUrlFetcher,
  type KeySet,
  type KeySource,
  type Revocation,
  staticKeySource,
} from './key-source.js'
export { KeyRing } from './keys.js'
export { type AuthModeFlags, authMode, bootstrapLine, isLoopbackAddress } from './mode.js'
export { type PlatformAuthOptions, platformAuthWrapper } from './platform-wrapper.js'
export { checkEndpointScopes, decide, type RuleSource, SCOPE_ALL, staticRules } from './policy.js'
export { DEFAULT_LOGIN_LIMITS, type LoginLimits, RateLimiter } from './rate-limit.js'
export { redactText, redactUrl } from './redact.js'
export { DEFAULT_REFRESH_TTL, RefreshTokens } from './refresh-tokens.js'
export { localKeySource, Revocations } from './revocations.js'
export { defaultRules, PLATFORM_SERVICE, RuleStore } from './rule-store.js'
export {
  belongsTo,
  checkRule,
  formatResource,
  isPrivileged,
  PLATFORM_NAMESPACE,
  parseResource,
  RuleSet,
} from './rules.js'
export { type AuthWrapperOptions, authWrapper, bearerToken, type CallTarget } from './server-wrapper.js'
export { createServiceAuth, type ServiceAuth } from './service-auth.js'
export { type ResolvedServiceAuth, resolveServiceAuth, type ServiceAuthOptions } from './service-option.js'
export { type AuthTables, DEFAULT_AUTH_TABLES } from './tables.js'
export { certificateAuthenticator } from './tls/authenticator.js'
export { type ResolvedServiceTls, resolveServiceTls, type ServiceTlsOptions } from './tls/settings.js'
export {
  authorityCertificates,
  type CertificateSource,
  fileCertificates,
  renewingCertificates,
} from './tls/sources.js'
export { DEFAULT_ACCESS_TTL, signAccessToken } from './tokens.js'
export { TokenVerifier, type VerifierOptions } from './verifier.js'
