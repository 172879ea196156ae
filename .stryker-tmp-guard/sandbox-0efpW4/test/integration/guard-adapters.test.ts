// @ts-nocheck
// The resource-server guard on every framework: a Web Request (resource-tokens/web), a Fastify preHandler,
// Hono middleware, each answering exactly what the Express middleware answers (status, WWW-Authenticate per
// RFC 6750 / RFC 9449, JSON body), with real tokens from the test provider.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import type { ResourceClient } from 'resource-tokens'
import { requireAccessToken as expressGuard, type VerifiedAccessToken } from 'resource-tokens/express'
import { requireAccessToken as fastifyGuard } from 'resource-tokens/fastify'
import { requireAccessToken as honoGuard } from 'resource-tokens/hono'
import { createRequestGuard, type RequestGuardOptions } from 'resource-tokens/web'
import { closeServer, listenOnLoopback } from '../support/http.js'
import { startScenario, type Scenario } from '../support/scenario.js'

interface Answer {
  status: number
  challenge: string | null
  body: Record<string, unknown>
}

type Ask = (authorization: string | undefined) => Promise<Answer>

/** The same protected route on each framework; the route answers the verified subject and audience. */
async function guardedRoutes(options: RequestGuardOptions): Promise<{ asks: Record<string, Ask>; close(): Promise<void> }> {
  const path = '/api/people?page=1'
  const headersOf = (authorization: string | undefined): Record<string, string> => (authorization === undefined ? {} : { authorization })

  const expressApp = express()
  expressApp.get('/api/people', expressGuard(options), (_req, res) => {
    const token = res.locals['accessToken'] as VerifiedAccessToken
    res.json({ sub: token.subject, scopes: token.scopes })
  })
  const server: Server = createServer(expressApp)
  const port = await listenOnLoopback(server)

  const fastify = Fastify()
  fastify.get('/api/people', { preHandler: fastifyGuard(options) }, async (request) => ({ sub: request.accessToken?.subject, scopes: request.accessToken?.scopes }))
  await fastify.ready()

  const hono = new Hono()
  hono.get('/api/people', honoGuard(options), (c) => c.json({ sub: c.var.accessToken.subject, scopes: c.var.accessToken.scopes }))

  const web = createRequestGuard(options)
  const toAnswer = async (response: Response): Promise<Answer> => ({ status: response.status, challenge: response.headers.get('www-authenticate'), body: (await response.json()) as Record<string, unknown> })

  return {
    asks: {
      express: async (authorization) => toAnswer(await fetch(`http://127.0.0.1:${port}${path}`, { headers: headersOf(authorization) })),
      fastify: async (authorization) => {
        const reply = await fastify.inject({ method: 'GET', url: path, headers: headersOf(authorization) })
        const challenge = reply.headers['www-authenticate']
        return { status: reply.statusCode, challenge: typeof challenge === 'string' ? challenge : null, body: reply.json() }
      },
      hono: async (authorization) => toAnswer(await hono.request(path, { headers: headersOf(authorization) })),
      web: async (authorization) => {
        const outcome = await web(new Request(`http://127.0.0.1${path}`, { headers: headersOf(authorization) }))
        return outcome.ok ? { status: 200, challenge: null, body: { sub: outcome.token.subject, scopes: outcome.token.scopes } } : toAnswer(outcome.response)
      },
    },
    close: async () => {
      await closeServer(server)
      await fastify.close()
    },
  }
}

describe('the guard on every framework', () => {
  let world: Scenario
  let client: ResourceClient
  let contactsToken: string
  let calendarToken: string

  before(async () => {
    world = await startScenario()
    client = await world.client()
    await world.login(client, 'guard-user')
    contactsToken = (await client.accessToken('guard-user', world.contactsUrl)).value
    calendarToken = (await client.accessToken('guard-user', world.calendarUrl)).value
  })

  after(async () => {
    await world?.close()
  })

  async function compare(options: RequestGuardOptions, cases: Array<[string, string | undefined, (a: Answer) => void]>): Promise<void> {
    const { asks, close } = await guardedRoutes(options)
    try {
      for (const [name, authorization, check] of cases) {
        const expected = await asks['express']!(authorization)
        check(expected)
        for (const framework of ['fastify', 'hono', 'web']) {
          const actual = await asks[framework]!(authorization)
          assert.equal(actual.status, expected.status, `${framework}: ${name}`)
          assert.equal(actual.challenge, expected.challenge, `${framework}: ${name}`)
          assert.deepEqual(actual.body, expected.body, `${framework}: ${name}`)
        }
      }
    } finally {
      await close()
    }
  }

  test('Bearer: a valid token passes; missing, malformed, other-audience and under-scoped tokens get the same challenges as Express', async () => {
    const base = { issuer: world.op.issuer, audience: world.contactsUrl, resourceUrl: 'http://127.0.0.1:1', resourceMetadataUrl: 'http://127.0.0.1:1/.well-known/oauth-protected-resource' }
    await compare({ ...base, scopes: ['contacts:read'] }, [
      ['valid', `Bearer ${contactsToken}`, (a) => {
        assert.equal(a.status, 200)
        assert.equal(a.body['sub'], 'alice')
      }],
      ['missing', undefined, (a) => {
        assert.equal(a.status, 401)
        assert.equal(a.challenge, 'Bearer resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource"')
      }],
      ['other scheme', 'Basic YTpi', (a) => assert.equal(a.status, 401)],
      ['malformed', 'Bearer a b', (a) => {
        assert.equal(a.status, 400)
        assert.match(a.challenge ?? '', /error="invalid_request"/)
      }],
      ['other audience', `Bearer ${calendarToken}`, (a) => {
        assert.equal(a.status, 401)
        assert.match(a.challenge ?? '', /error="invalid_token"/)
      }],
    ])
    await compare({ ...base, scopes: ['contacts:write'] }, [
      ['insufficient scope', `Bearer ${contactsToken}`, (a) => {
        assert.equal(a.status, 403)
        assert.match(a.challenge ?? '', /error="insufficient_scope".*scope="contacts:write"/)
      }],
    ])
  })

  test('with DPoP enabled: a DPoP challenge with algs, and a Bearer-presented token refused alike', async () => {
    await compare({ issuer: world.op.issuer, audience: world.contactsUrl, resourceUrl: 'http://127.0.0.1:1', dpop: { required: true } }, [
      ['missing', undefined, (a) => {
        assert.equal(a.status, 401)
        assert.match(a.challenge ?? '', /DPoP algs="/)
      }],
      ['unbound token where DPoP is required', `Bearer ${contactsToken}`, (a) => assert.equal(a.status, 401)],
      ['DPoP scheme for an unbound token', `DPoP ${contactsToken}`, (a) => {
        assert.equal(a.status, 401)
        assert.match(a.challenge ?? '', /DPoP algs="[^"]*", error="invalid_token"/)
      }],
    ])
  })

  test('an unreachable issuer is a 503 temporarily_unavailable everywhere, never a stack trace', async () => {
    await compare({ issuer: 'http://127.0.0.1:1', audience: world.contactsUrl, resourceUrl: 'http://127.0.0.1:1' }, [
      ['issuer down', `Bearer ${contactsToken}`, (a) => {
        assert.equal(a.status, 503)
        assert.deepEqual(a.body, { error: 'temporarily_unavailable', error_description: 'the access token could not be checked' })
      }],
    ])
  })

  test('bad options throw at once, on every framework', () => {
    for (const make of [expressGuard, fastifyGuard, honoGuard, createRequestGuard] as Array<(o: RequestGuardOptions) => unknown>) {
      assert.throws(() => make({ issuer: world.op.issuer, audience: 'x' }), /"resourceUrl" is required/)
      assert.throws(() => make({ issuer: world.op.issuer, audience: 'x', resourceUrl: 'http://example.test' }), /https outside loopback/)
    }
  })
})
