// @ts-nocheck
// The package as users get it: `npm pack`, installed from the tarball into a fresh project (dependencies
// from the registry), every subpath of the exports map loaded with both `import` and `require` (Node >= 20.19
// loads ESM through require). This catches what tests against src/ cannot: a file missing from `files`, a
// wrong exports map, a subpath that only works through a relative import, two copies of a class.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = new URL('../..', import.meta.url).pathname

// The public runtime API per subpath (types are checked by test/types). A name removed here is a breaking change.
const EXPECTED: Record<string, string[]> = {
  'resource-tokens': [
    'createResourceClient',
    'ResourceClient',
    'ResourceTokensError',
    'ResourceTokensConfigError',
    'MemoryStore',
    'createAccessTokenVerifier',
    'verifyAccessToken',
    'protectedResourceMetadata',
    'protectedResourceMetadataUrl',
    'checkReturnTo',
  ],
  'resource-tokens/express': ['resourceTokens', 'requireAccessToken', 'protectedResourceMetadataHandler', 'protectedResourceMetadata', 'protectedResourceMetadataUrl'],
  'resource-tokens/redis': ['RedisStore'],
  'resource-tokens/web': ['createWebHandlers', 'createRequestGuard'],
  'resource-tokens/fastify': ['resourceTokensPlugin', 'requireAccessToken'],
  'resource-tokens/hono': ['resourceTokens', 'requireAccessToken'],
  'resource-tokens/next': ['resourceTokens'],
}

// Runs inside the temp project, so resolution goes through its node_modules and the exports map only.
const PROBE = `
import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const out = {}
for (const name of ${JSON.stringify(Object.keys(EXPECTED))}) {
  const imported = await import(name)
  const required = require(name)
  const shared = Object.keys(imported).filter((k) => k !== 'default' && imported[k] === required[k])
  out[name] = { imported: Object.keys(imported).sort(), required: Object.keys(required).sort(), shared: shared.sort() }
}
const pkg = await import('resource-tokens/package.json', { with: { type: 'json' } })
out.packageJson = { imported: pkg.default.name, required: require('resource-tokens/package.json').name }
console.log(JSON.stringify(out))
`

interface ProbeResult {
  [subpath: string]: { imported: string[]; required: string[]; shared: string[] }
}

describe('the packed tarball, installed into a fresh project', () => {
  let dir = ''
  let files: string[] = []
  let probe: ProbeResult & { packageJson: { imported: string; required: string } }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resource-tokens-tarball-'))
    const { stdout: packed } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root })
    const [info] = JSON.parse(packed) as Array<{ filename: string; files: Array<{ path: string }> }>
    assert.ok(info, 'npm pack reported no tarball')
    files = info.files.map((f) => f.path)
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'tarball-consumer', private: true, type: 'module' }))
    await writeFile(join(dir, 'probe.mjs'), PROBE)
    // The optional peers are what an app using the subpaths installs next to the package.
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', join(dir, info.filename), 'express@5', 'ioredis@5', 'fastify@5', 'fastify-plugin@6', 'hono@4', 'next@16', 'react@19', 'react-dom@19'], {
      cwd: dir,
    })
    const { stdout } = await run(process.execPath, ['probe.mjs'], { cwd: dir })
    probe = JSON.parse(stdout) as typeof probe
  })

  after(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  test('ships the build and the docs, not the sources or the tests', () => {
    for (const entry of ['dist/index.js', 'dist/index.d.ts', 'dist/express.js', 'dist/redis.js', 'dist/web.js', 'dist/fastify.js', 'dist/hono.js', 'dist/next.js', 'dist/cli.js', 'README.md', 'CHANGELOG.md', 'package.json']) {
      assert.ok(files.includes(entry), `missing from the tarball: ${entry}`)
    }
    assert.deepEqual(files.filter((f) => /^(src|test|bench|demo)\//.test(f) || /\.test\.[cm]?[jt]s$/.test(f)), [])
  })

  for (const [subpath, names] of Object.entries(EXPECTED)) {
    test(`${subpath}: import and require both give the public exports, the same objects`, () => {
      const result = probe[subpath]
      assert.ok(result, `no probe result for ${subpath}`)
      for (const name of names) {
        assert.ok(result.imported.includes(name), `import('${subpath}') lacks ${name}`)
        assert.ok(result.required.includes(name), `require('${subpath}') lacks ${name}`)
        // One module instance: instanceof works whichever way the app loaded it.
        assert.ok(result.shared.includes(name), `${name} differs between import and require of ${subpath}`)
      }
    })
  }

  test('resource-tokens/package.json resolves for import and require', async () => {
    const { name } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { name: string }
    assert.deepEqual(probe.packageJson, { imported: name, required: name })
  })
})
