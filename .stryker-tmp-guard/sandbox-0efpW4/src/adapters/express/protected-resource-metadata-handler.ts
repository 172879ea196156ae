// @ts-nocheck
// Serves a resource's RFC 9728 metadata document from Express. Only types come from express.
import type { Request, RequestHandler, Response } from 'express'

import { ResourceTokensConfigError } from '../../errors/resource-tokens-error.js'
import type { ProtectedResourceMetadata } from '../../guard/protected-resource-metadata.js'

/**
 * Express handler serving a metadata document at `/.well-known/oauth-protected-resource` (mount it at
 * the path of {@link protectedResourceMetadataUrl}). Answers GET and HEAD with `application/json`,
 * `Cache-Control: public, max-age=3600` and `Access-Control-Allow-Origin: *` (the document is public and
 * browser-based clients read it); other methods get 405.
 *
 * @param metadata - the document, from {@link protectedResourceMetadata}
 * @returns an Express request handler
 * @see RFC 9728 section 3
 * @example
 * ```ts
 * app.get('/.well-known/oauth-protected-resource', protectedResourceMetadataHandler(metadata))
 * ```
 */
export function protectedResourceMetadataHandler(metadata: ProtectedResourceMetadata): RequestHandler {
  if (typeof metadata !== 'object' || metadata === null || typeof metadata.resource !== 'string') {
    throw new ResourceTokensConfigError('metadata must come from protectedResourceMetadata()')
  }
  const body = JSON.stringify(metadata)
  return (req: Request, res: Response): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.status(405).set('Allow', 'GET, HEAD').end()
      return
    }
    res
      .status(200)
      .set({
        'Content-Type': 'application/json; charset=utf-8',
        'Cache-Control': 'public, max-age=3600',
        'Access-Control-Allow-Origin': '*',
      })
      .send(body)
  }
}
