// Issue 19: unit tests for the resource code added after the first mutation run (docs/MUTATION.md): the
// registry of configured and run-time resources, and ResourceMatcher.resolve's refusal of dot segments hidden by
// encoding. Internal modules: the run-time registration API reaches them only through a whole client.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { resolveResources } from '../../src/config/validate.js'
import { ResourceTokensError } from '../../src/errors/resource-tokens-error.js'
import { ResourceMatcher, hasHiddenDotSegment } from '../../src/resources/matcher.js'
import { ResourceRegistry } from '../../src/resources/resource-registry.js'

const [api, admin] = resolveResources(
  [
    { url: 'https://api.example.com/api', scope: 'api', name: 'api' },
    { url: 'https://api.example.com/api/admin', scope: 'admin', name: 'admin' },
  ],
  false,
) as [ReturnType<typeof resolveResources>[number], ReturnType<typeof resolveResources>[number]]
const runtime = (url: string, name: string, scope = 'x'): ReturnType<typeof resolveResources>[number] => {
  const [resource] = resolveResources([{ url, scope, name }], false)
  assert.ok(resource !== undefined)
  return resource
}

function throwsCode(fn: () => unknown, code: string, message: string): void {
  assert.throws(fn, (err: unknown) => err instanceof ResourceTokensError && err.code === code && err.message === message)
}

describe('ResourceRegistry', () => {
  test('configured resources: all, match, byId, registration', () => {
    const registry = new ResourceRegistry([api, admin], 2)
    assert.deepEqual(registry.all, [api, admin])
    assert.equal(registry.match('https://api.example.com/api/admin/x'), admin)
    assert.equal(registry.match('https://api.example.com/api/x'), api)
    assert.equal(registry.byId(api.id), api)
    assert.equal(registry.byId('https://nowhere.example.com'), undefined)
    assert.equal(registry.registrationOf(api), 'configured')
  })

  test('run-time resources: matched at once, replaced by base URL, bounded, removable; all is a live view', () => {
    const registry = new ResourceRegistry([api], 2)
    const view = registry.all
    const tools = runtime('https://tools.example.com/v1', 'tools')
    assert.equal(registry.match('https://tools.example.com/v1/x'), undefined)
    assert.equal(registry.add(tools, 'discovered'), tools)
    assert.equal(registry.match('https://tools.example.com/v1/x'), tools)
    assert.equal(registry.registrationOf(tools), 'discovered')
    assert.deepEqual(view, [api, tools])
    // same base URL: replaced in place, not counted twice
    const tools2 = runtime('https://tools.example.com/v1', 'tools-2', 'y')
    registry.add(tools2, 'added')
    assert.deepEqual(view, [api, tools2])
    assert.equal(registry.match('https://tools.example.com/v1/x'), tools2)
    assert.equal(registry.registrationOf(tools2), 'added')
    const more = runtime('https://more.example.com/', 'more')
    registry.add(more, 'added')
    // the bound (2) is reached: a new one is refused, a replacement is not
    throwsCode(() => registry.add(runtime('https://third.example.com/', 'third'), 'added'), 'too_many_resources', '2 resources are registered at run time already (maxRuntimeResources); remove one first')
    registry.add(runtime('https://more.example.com/', 'more-2'), 'added')
    assert.equal(view.length, 3)
    // removal
    assert.equal(registry.remove(tools2.id), true)
    assert.equal(registry.match('https://tools.example.com/v1/x'), undefined)
    assert.equal(registry.byId(tools2.id), undefined)
    assert.deepEqual(view.map((r) => r.name), ['api', 'more-2'])
    assert.equal(registry.remove(tools2.id), false)
    assert.equal(registry.remove('https://never.example.com'), false)
    registry.add(runtime('https://third.example.com/', 'third'), 'added')
    assert.equal(registry.match('https://third.example.com/x')?.name, 'third')
  })

  test('a configured resource can be neither registered again nor removed', () => {
    const registry = new ResourceRegistry([api], 1)
    throwsCode(() => registry.add(runtime('https://api.example.com/api', 'again'), 'added'), 'invalid_argument', `${api.id} is a configured resource; it cannot be registered again`)
    throwsCode(() => registry.remove(api.id), 'invalid_argument', `${api.id} is a configured resource; only resources registered at run time can be removed`)
    assert.equal(registry.match('https://api.example.com/api/x'), api)
  })

  test('zero run-time resources allowed: the first is refused', () => {
    const registry = new ResourceRegistry([api], 0)
    throwsCode(() => registry.add(runtime('https://tools.example.com/', 'tools'), 'added'), 'too_many_resources', '0 resources are registered at run time already (maxRuntimeResources); remove one first')
  })

  test('resolve: as match, but a hidden dot segment in a resource path is ambiguous_path', () => {
    const registry = new ResourceRegistry([api], 1)
    assert.equal(registry.resolve('https://api.example.com/api/x'), api)
    assert.equal(registry.resolve('https://elsewhere.example.com/..%2Fx'), undefined)
    throwsCode(
      () => registry.resolve('https://api.example.com/api/..%2Fadmin'),
      'ambiguous_path',
      'the path of a request to api holds an encoded dot segment (such as ..%2F, %2e%2e or ..;) that a server may resolve outside the resource: refused, nothing was sent',
    )
  })
})

describe('ResourceMatcher.resolve and hasHiddenDotSegment', () => {
  const matcher = new ResourceMatcher([api])

  test('URL objects and strings; no match is undefined, not a throw', () => {
    assert.equal(matcher.resolve(new URL('https://api.example.com/api/a')), api)
    assert.equal(matcher.resolve(new URL('https://api.example.com/api/..%2Fadmin').href.replace('api/..', 'api/ok')), api)
    assert.throws(() => matcher.resolve(new URL('https://api.example.com/api/%2e%2e%5cadmin')), (err: unknown) => err instanceof ResourceTokensError && err.code === 'ambiguous_path')
    assert.equal(matcher.resolve('not a url'), undefined)
  })

  test('each way of hiding a dot segment', () => {
    for (const path of [
      '/api/..%2Fadmin',
      '/api/..%2fadmin',
      '/api/..%5Cadmin',
      '/api/..%5cadmin',
      '/api/..\\admin',
      '/api/%2e%2e/admin',
      '/api/%2E%2E/admin',
      '/api/.%2e/admin',
      '/api/%2e/admin',
      '/api/..;x/admin',
      '/api/.;x/admin',
      '/api/%252e%252e%252fadmin', // double encoding
      '/api/%25252e%25252e/admin', // triple
      '/api/%2525252e%2525252e/admin', // four rounds of encoding: the last round still finds the dots
      '/api/%252525252e%252525252e/admin', // five: still encoded after every round
      '/api/%252525252541', // five rounds of an encoded 'A': refused as too deep, although it is no dot
      '/api/..',
      '/api/.',
      '..',
    ]) {
      assert.equal(hasHiddenDotSegment(path), true, path)
    }
  })

  test('ordinary paths, including dots inside names and encodings that are not dots', () => {
    for (const path of ['/api/a', '/api/..a/b', '/api/a../b', '/api/...', '/api/a.b', '/api/%2e%2ea', '/api/%41%42', '/api/a;b', '/api/%2fx', '/api/%zz/..x', '', '/', '/api/%252fx', '/api/%25252fx', '/api/.well-known', '/api/.x;y', '/api/%2541']) {
      assert.equal(hasHiddenDotSegment(path), false, path)
    }
  })
})
