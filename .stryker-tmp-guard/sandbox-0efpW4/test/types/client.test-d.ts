// @ts-nocheck
// Type-level tests of the main entry point, as a user's TypeScript sees it: through the package name,
// so the exports map and the emitted .d.ts are what is checked, not src/. Checked by `npm run typecheck`
// (tsc over test/), never executed. A change that breaks one of these is a change of the public API:
// it needs a CHANGELOG entry, not just an edit here.
import { expectTypeOf } from 'expect-type'
import {
  createResourceClient,
  type MemoryStore,
  type ResourceClient,
  type AccessTokenInfo,
  type FinishLoginResult,
  type LogoutResult,
  type ResourceClientOptions,
  type ResourceDefinition,
  type StartLoginResult,
  type TokenStore,
} from 'resource-tokens'

declare const client: ResourceClient

// createResourceClient: options in, a promise of the client out.
expectTypeOf(createResourceClient).parameters.toEqualTypeOf<[ResourceClientOptions]>()
expectTypeOf(createResourceClient).returns.toEqualTypeOf<Promise<ResourceClient>>()

// The minimal options a user writes compile; the required ones are required.
const minimal = {
  issuer: 'https://id.example.com',
  clientId: 'app',
  clientSecret: 'secret',
  redirectUri: 'https://app.example.com/callback',
  resources: [{ url: 'https://contacts.example.com/api/', scope: 'contacts:read' }],
} satisfies ResourceClientOptions
expectTypeOf(minimal).toExtend<ResourceClientOptions>()
expectTypeOf<ResourceClientOptions>().toHaveProperty('issuer').toEqualTypeOf<string>()
expectTypeOf<ResourceClientOptions>().toHaveProperty('redirectUri').toEqualTypeOf<string>()
expectTypeOf<ResourceClientOptions>().toHaveProperty('resources').toEqualTypeOf<readonly ResourceDefinition[]>()
//  issuer is required
expectTypeOf({ clientId: 'app', redirectUri: 'https://app.example.com/cb', resources: [] }).toExtend<ResourceClientOptions>()
//  downscoping is one of the named strategies
expectTypeOf({ ...minimal, downscoping: 'audience' as const }).toExtend<ResourceClientOptions>()
// exactOptionalPropertyTypes users may not pass undefined where an option is simply optional.
expectTypeOf<ResourceClientOptions['store']>().toEqualTypeOf<TokenStore | undefined>()

// A resource is a URL and a scope; indicator, name and dpop are optional.
expectTypeOf<{ url: string; scope: string }>().toExtend<ResourceDefinition>()
expectTypeOf<ResourceDefinition>().toHaveProperty('dpop').toEqualTypeOf<boolean | 'required' | undefined>()

// The MemoryStore is a TokenStore, usable as `store`.
expectTypeOf<MemoryStore>().toExtend<TokenStore>()

// accessToken(): an object, not the bare string (CHANGELOG: a DPoP token needs its type next to it).
expectTypeOf(client.accessToken).parameters.toEqualTypeOf<[key: string, url: string | URL]>()
expectTypeOf(client.accessToken).returns.resolves.toEqualTypeOf<AccessTokenInfo>()
expectTypeOf<AccessTokenInfo>().toHaveProperty('value').toEqualTypeOf<string>()
expectTypeOf<AccessTokenInfo>().toHaveProperty('type').toEqualTypeOf<string>()
expectTypeOf<AccessTokenInfo>().toHaveProperty('expiresAt').toEqualTypeOf<number>()
expectTypeOf<AccessTokenInfo>().toHaveProperty('scope').toEqualTypeOf<string | undefined>()
expectTypeOf<AccessTokenInfo>().toHaveProperty('resource').toEqualTypeOf<string>()

// fetch() is the platform's fetch with a grant key in front.
expectTypeOf(client.fetch).parameters.toEqualTypeOf<[key: string, input: string | URL | Request, init?: RequestInit]>()
expectTypeOf(client.fetch).returns.toEqualTypeOf<Promise<Response>>()
expectTypeOf(client.serviceFetch).returns.toEqualTypeOf<Promise<Response>>()

// Login and logout.
expectTypeOf(client.startLogin).returns.resolves.toEqualTypeOf<StartLoginResult>()
expectTypeOf<StartLoginResult>().toHaveProperty('url').toEqualTypeOf<URL>()
expectTypeOf(client.finishLogin).parameters.toEqualTypeOf<[key: string, callbackUrl: string | URL]>()
expectTypeOf(client.finishLogin).returns.resolves.toEqualTypeOf<FinishLoginResult>()
expectTypeOf<FinishLoginResult>().toHaveProperty('returnTo').toEqualTypeOf<string>()
expectTypeOf(client.logout).returns.resolves.toEqualTypeOf<LogoutResult>()
expectTypeOf<LogoutResult['revocation']['refreshToken']>().toEqualTypeOf<'revoked' | 'failed' | 'unsupported' | 'none'>()
expectTypeOf(client.close).returns.toEqualTypeOf<Promise<void>>()

// Events are typed by name.
client.on('token', (payload) => {
  expectTypeOf(payload.resource).toEqualTypeOf<string>()
  expectTypeOf(payload.rotated).toEqualTypeOf<boolean>()
})
//  unknown event name
client.on('no_such_event', () => undefined)

// Only the deliberate subpaths resolve: internals stay internal.
//  dist/ is not exported
export type * as Deep from 'resource-tokens/dist/client/resource-client.js'
