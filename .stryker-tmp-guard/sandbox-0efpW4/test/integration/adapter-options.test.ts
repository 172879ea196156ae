// @ts-nocheck
// Bad options fail at construction (or registration) with invalid_config naming the option, on every web
// adapter, since they share one validation.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import Fastify from 'fastify'
import { ResourceTokensError, type ResourceClient } from 'resource-tokens'
import { resourceTokensPlugin } from 'resource-tokens/fastify'
import { resourceTokens as honoResourceTokens } from 'resource-tokens/hono'
import { resourceTokens as nextResourceTokens } from 'resource-tokens/next'
import { createWebHandlers } from 'resource-tokens/web'
import { startScenario, type Scenario } from '../support/scenario.js'

const BAD: Array<[Record<string, unknown>, RegExp]> = [
  [{}, /"baseUrl"/],
  [{ baseUrl: 'not a url' }, /"baseUrl" must be an absolute URL/],
  [{ baseUrl: 'http://app.example.test' }, /https outside loopback/],
  [{ baseUrl: 'https://user:pw@app.example.test' }, /credentials/],
  [{ baseUrl: 'https://app.example.test/?x=1' }, /query or fragment/],
  [{ baseUrl: 'https://app.example.test', mountPath: '//evil' }, /"mountPath"/],
  [{ baseUrl: 'https://app.example.test', mountPath: '/' }, /"mountPath" must not be "\/"/],
  [{ baseUrl: 'https://app.example.test', afterLogoutPath: 'https://evil.test' }, /"afterLogoutPath"/],
  [{ baseUrl: 'https://app.example.test', cookieName: 'bad name;' }, /"cookieName"/],
  [{ baseUrl: 'https://app.example.test', cookieName: '__Host-x' }, /"cookieName"/],
  [{ baseUrl: 'https://app.example.test', cookieMaxAgeSeconds: 1.5 }, /"cookieMaxAgeSeconds"/],
  [{ baseUrl: 'https://app.example.test', onLogout: 'no' }, /"onLogout"/],
  [{ baseUrl: 'https://app.example.test', redirectUri: 'x' }, /unknown option "redirectUri"/],
]

function isConfigError(message: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ResourceTokensError, String(err))
    assert.equal(err.code, 'invalid_config')
    assert.match(err.message, message)
    return true
  }
}

describe('web adapter options', () => {
  let world: Scenario
  let client: ResourceClient

  before(async () => {
    world = await startScenario()
    client = await world.client()
  })

  after(async () => {
    await world?.close()
  })

  test('web, Hono and Next.js: bad options throw at once', () => {
    for (const [options, message] of BAD) {
      assert.throws(() => createWebHandlers(client, options as never), isConfigError(message), `web ${JSON.stringify(options)}`)
      assert.throws(() => honoResourceTokens(client, options as never), isConfigError(message), `hono ${JSON.stringify(options)}`)
      assert.throws(() => nextResourceTokens({ client, ...options } as never), isConfigError(message), `next ${JSON.stringify(options)}`)
    }
    assert.throws(() => createWebHandlers({} as never, { baseUrl: 'https://app.example.test' }), /"client" must be a ResourceClient/)
    assert.throws(() => nextResourceTokens({ client: 'x', baseUrl: 'https://app.example.test' } as never), /"client" must be a ResourceClient or a function/)
  })

  test('Fastify: bad options fail the registration; so does a "prefix" (mountPath sets the path)', async () => {
    for (const [options, message] of [...BAD, [{ baseUrl: 'https://app.example.test', prefix: '/auth' }, /"prefix" is not used/] as [Record<string, unknown>, RegExp]]) {
      const app = Fastify()
      await assert.rejects(async () => {
        await app.register(resourceTokensPlugin, { client, ...options } as never)
        await app.ready()
      }, isConfigError(message), `fastify ${JSON.stringify(options)}`)
      await app.close().catch(() => undefined)
    }
  })

  test('on https the cookie is __Host- and Secure, on every adapter', async () => {
    const start = async (answer: Response | undefined): Promise<string> => {
      assert.ok(answer)
      return answer.headers.getSetCookie().join(' | ')
    }
    const web = createWebHandlers(client, { baseUrl: 'https://app.example.test', cookieMaxAgeSeconds: 3600 })
    const cookie = await start(await web.handle(new Request('https://app.example.test/auth/login', { headers: { accept: 'text/html' } })))
    assert.match(cookie, /^__Host-rt_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=3600$/)
    const hono = honoResourceTokens(client, { baseUrl: 'https://app.example.test' })
    assert.match(await start(await hono.routes.request('/login')), /^__Host-rt_session=.*; Secure$/)
    const app = Fastify()
    await app.register(resourceTokensPlugin, { client, baseUrl: 'https://app.example.test' })
    const reply = await app.inject({ method: 'GET', url: '/auth/login' })
    assert.match(String(reply.headers['set-cookie']), /^__Host-rt_session=.*; Secure$/)
    await app.close()
  })
})
