// @ts-nocheck
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** @type {import('next').NextConfig} */
export default {
  // The example lives inside the library's repository and uses its node_modules and build.
  turbopack: { root: resolve(here, '../..') },
  outputFileTracingRoot: resolve(here, '../..'),
  // Keep the library (and its openid-client, jose) as plain Node.js modules on the server.
  serverExternalPackages: ['resource-tokens'],
  poweredByHeader: false,
}
