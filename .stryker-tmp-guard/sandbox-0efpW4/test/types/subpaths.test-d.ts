// @ts-nocheck
// Type-level tests of the optional subpaths, each kept apart so its peer (express, ioredis) stays optional.
import { expectTypeOf } from 'expect-type'
import type { ErrorRequestHandler, RequestHandler, Router } from 'express'
import type { Cluster, Redis } from 'ioredis'
import type { ResourceClient, TokenStore, VerifiedAccessToken } from 'resource-tokens'
import {
  protectedResourceMetadata,
  protectedResourceMetadataHandler,
  requireAccessToken,
  resourceTokens,
  type ExpressAdapterOptions,
  type ExpressResourceTokens,
  type RequireAccessTokenOptions,
} from 'resource-tokens/express'
import { RedisStore, type RedisStoreOptions } from 'resource-tokens/redis'

// resource-tokens/redis: a TokenStore built from a client or a URL.
expectTypeOf<RedisStore>().toExtend<TokenStore>()
expectTypeOf(RedisStore).constructorParameters.toEqualTypeOf<[options: RedisStoreOptions]>()
expectTypeOf<RedisStoreOptions>().toHaveProperty('client').toEqualTypeOf<Redis | Cluster | undefined>()
expectTypeOf<RedisStoreOptions>().toHaveProperty('url').toEqualTypeOf<string | undefined>()
expectTypeOf<{ url: string; keyPrefix: string }>().toExtend<RedisStoreOptions>()

// resource-tokens/express, web-app side: a router to mount and middleware.
expectTypeOf(resourceTokens).parameters.toEqualTypeOf<[client: ResourceClient, options: ExpressAdapterOptions]>()
expectTypeOf(resourceTokens).returns.toEqualTypeOf<ExpressResourceTokens>()
expectTypeOf<ExpressResourceTokens['router']>().toEqualTypeOf<Router>()
expectTypeOf<ExpressResourceTokens['requireLogin']>().toEqualTypeOf<RequestHandler>()
expectTypeOf<ExpressResourceTokens['handleLoginRequired']>().toEqualTypeOf<ErrorRequestHandler>()

// resource-tokens/express, resource-server side: the guard as middleware.
expectTypeOf(requireAccessToken).parameters.toEqualTypeOf<[options: RequireAccessTokenOptions]>()
expectTypeOf(requireAccessToken).returns.toEqualTypeOf<RequestHandler>()
expectTypeOf(protectedResourceMetadataHandler).returns.toEqualTypeOf<RequestHandler>()
expectTypeOf(protectedResourceMetadata).toBeFunction()
expectTypeOf<VerifiedAccessToken['scopes']>().toEqualTypeOf<string[]>()
