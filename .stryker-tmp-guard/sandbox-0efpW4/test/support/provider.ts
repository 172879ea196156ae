// @ts-nocheck
// The test provider's public face, kept at this path for the tests and benchmarks that import it; the
// parts live in ./provider/ (configuration, quirks, faults, instrumentation, headless login, ...).
export {
  HeadlessBrowser,
  RS_CLIENT,
  sha256,
  startTestProvider,
  type LoginOptions,
  type ProviderQuirks,
  type TestProvider,
  type TestProviderOptions,
  type TestResource,
  type TokenEndpointHookContext,
  type TokenFault,
  type TokenRequestRecord,
} from './provider/index.js'
