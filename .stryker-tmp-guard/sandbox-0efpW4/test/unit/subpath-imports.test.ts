// @ts-nocheck
// Each subpath loads only its own framework: followed through the built files, the import graph of
// `resource-tokens/<x>` reaches no other framework package (they are optional peers).
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist')
const FRAMEWORKS = ['express', 'fastify', 'fastify-plugin', 'hono', '@hono/node-server', 'next', 'react', 'ioredis']
// Static `import ... from '...'`, `export ... from '...'` and side-effect `import '...'` of the compiled ESM.
const SPECIFIER = /(?:^|\n)\s*(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]/g

/** Bare package names the file `entry` reaches, following relative imports. */
async function packagesReached(entry: string): Promise<Set<string>> {
  const seen = new Set<string>()
  const packages = new Set<string>()
  const queue = [join(DIST, entry)]
  while (queue.length > 0) {
    const file = queue.pop()!
    if (seen.has(file)) continue
    seen.add(file)
    const source = await readFile(file, 'utf8')
    for (const [, specifier = ''] of source.matchAll(SPECIFIER)) {
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier))
      else if (!specifier.startsWith('node:')) packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? specifier))
    }
  }
  return packages
}

const expected: Record<string, string[]> = {
  'index.js': [],
  'web.js': [],
  'express.js': ['express'],
  'fastify.js': ['fastify-plugin'],
  'hono.js': ['hono'],
  'next.js': ['next'],
  'redis.js': ['ioredis'],
}

for (const [entry, own] of Object.entries(expected)) {
  test(`${entry} loads no framework but its own (${own.join(', ') || 'none'})`, async () => {
    const reached = [...(await packagesReached(entry))].filter((name) => FRAMEWORKS.includes(name)).sort()
    assert.deepEqual(reached, own)
  })
}
