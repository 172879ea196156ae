// @ts-nocheck
// Type-level tests of the web subpaths: the Fastify declaration merging, Hono's typed variables, the
// Next.js helpers and the web handlers, each from its own subpath.
import { expectTypeOf } from 'expect-type'
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { Hono, MiddlewareHandler } from 'hono'
import type { ResourceClient, VerifiedAccessToken } from 'resource-tokens'
import { requireAccessToken as fastifyGuard, resourceTokensPlugin, type FastifyResourceTokens } from 'resource-tokens/fastify'
import { requireAccessToken as honoGuard, resourceTokens as honoResourceTokens, type AccessTokenEnv, type HonoResourceTokens, type ResourceTokensEnv } from 'resource-tokens/hono'
import { resourceTokens as nextResourceTokens, type NextResourceTokens } from 'resource-tokens/next'
import { createRequestGuard, createWebHandlers, type GuardOutcome, type RequestResourceTokens, type WebHandlers } from 'resource-tokens/web'

// resource-tokens/web: Request in, Response out.
expectTypeOf(createWebHandlers).returns.toEqualTypeOf<WebHandlers>()
expectTypeOf<WebHandlers['handle']>().returns.toEqualTypeOf<Promise<Response | undefined>>()
expectTypeOf<WebHandlers['session']>().returns.toEqualTypeOf<Promise<RequestResourceTokens | undefined>>()
expectTypeOf<WebHandlers['requireLogin']>().returns.toEqualTypeOf<Promise<RequestResourceTokens | Response>>()
expectTypeOf(createRequestGuard).returns.toEqualTypeOf<(request: Request) => Promise<GuardOutcome>>()
expectTypeOf<RequestResourceTokens['fetch']>().returns.toEqualTypeOf<Promise<Response>>()

// resource-tokens/fastify: decorators typed by declaration merging.
expectTypeOf<FastifyRequest['resourceTokens']>().toEqualTypeOf<RequestResourceTokens | null>()
expectTypeOf<FastifyRequest['accessToken']>().toEqualTypeOf<VerifiedAccessToken | undefined>()
expectTypeOf<FastifyInstance['resourceTokens']>().toEqualTypeOf<FastifyResourceTokens>()
expectTypeOf<FastifyResourceTokens['requireLogin']>().toEqualTypeOf<preHandlerAsyncHookHandler>()
expectTypeOf(fastifyGuard).returns.toEqualTypeOf<preHandlerAsyncHookHandler>()
expectTypeOf(resourceTokensPlugin).toBeFunction()

// resource-tokens/hono: routes and middleware that set typed variables.
expectTypeOf(honoResourceTokens).parameters.toMatchTypeOf<[ResourceClient, { baseUrl: string }]>()
expectTypeOf<HonoResourceTokens['routes']>().toEqualTypeOf<Hono>()
expectTypeOf<HonoResourceTokens['requireLogin']>().toEqualTypeOf<MiddlewareHandler<ResourceTokensEnv>>()
expectTypeOf<ResourceTokensEnv['Variables']['resourceTokens']>().toEqualTypeOf<RequestResourceTokens>()
expectTypeOf(honoGuard).returns.toEqualTypeOf<MiddlewareHandler<AccessTokenEnv>>()
expectTypeOf<AccessTokenEnv['Variables']['accessToken']>().toEqualTypeOf<VerifiedAccessToken>()

// resource-tokens/next: route handlers and the signed-in user's tokens.
expectTypeOf(nextResourceTokens).returns.toEqualTypeOf<NextResourceTokens>()
expectTypeOf<NextResourceTokens['handlers']['GET']>().toEqualTypeOf<(request: Request) => Promise<Response>>()
expectTypeOf<NextResourceTokens['session']>().returns.toEqualTypeOf<Promise<RequestResourceTokens | undefined>>()
