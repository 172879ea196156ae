// What the adapter's routes and middleware share: the client, the resolved options, and the few things
// built from them once.
import express, { type Request, type Response } from 'express'

import type { ResourceClient } from '../../client/resource-client.js'
import { checkReturnTo } from '../../login/return-to.js'
import type { ResolvedExpressOptions } from './options.js'
import { describeError, sendFailure } from './responses.js'
import { readSessionId } from './session-cookie.js'

/** App-relative paths of the adapter's routes. */
export interface RoutePaths {
  readonly login: string
  readonly callback: string
  readonly logout: string
  readonly backchannelLogout: string
}

/** A label and an href for the links of an error page. */
export type Links = ReadonlyArray<[string, string]>

/** @internal */
export interface AdapterContext {
  readonly client: ResourceClient
  readonly config: ResolvedExpressOptions
  readonly paths: RoutePaths
  /** An absolute URL on this app, from configuration only. `path` is app-relative and already checked. */
  appUrl(path: string): string
  /** Runs the URL-encoded body parser without letting its errors reach the app's error handler. */
  readForm(req: Request, res: Response): Promise<boolean>
}

/** @internal */
export function createContext(client: ResourceClient, config: ResolvedExpressOptions): AdapterContext {
  const parseForm = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 })
  return {
    client,
    config,
    paths: { login: `${config.mountPath}/login`, callback: `${config.mountPath}/callback`, logout: `${config.mountPath}/logout`, backchannelLogout: `${config.mountPath}/backchannel-logout` },
    appUrl: (path) => `${config.origin}${config.prefix}${path}`,
    readForm: (req, res) => new Promise((resolve) => {
      parseForm(req, res, (err?: unknown) => resolve(err === undefined || err === null))
    }),
  }
}

/** The link back to the app's home page. */
export function homeLink(ctx: AdapterContext): Links {
  return [['Home', ctx.appUrl('/')]]
}

/** Answers a thrown error with what the user may see, logging what the operator needs. */
export function sendError(ctx: AdapterContext, req: Request, res: Response, err: unknown, links: Links = []): void {
  sendFailure(req, res, describeError(err, ctx.config.logger), links)
}

/** The session's key when it has a grant; `undefined` when signed out. Throws only for store failures. */
export async function signedInKey(ctx: AdapterContext, req: Request): Promise<string | undefined> {
  const key = readSessionId(req.headers, ctx.config.cookieName)
  if (key === undefined) return undefined
  return (await ctx.client.hasGrant(key)) ? key : undefined
}

/** A `returnTo` the core accepts (a plain relative path), or `/`. */
export function safeReturnTo(value: string | null | undefined): string {
  if (value === null || value === undefined) return '/'
  try {
    return checkReturnTo(value)
  } catch {
    return '/'
  }
}
