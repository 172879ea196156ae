// @ts-nocheck
import type { DownscopingStrategy } from '../../config/options.js'
import type { Downscoping } from './downscoping.js'
import { NoDownscoping } from './no-downscoping.js'
import { ScopeDownscoping } from './scope-downscoping.js'
import { TokenExchangeDownscoping, type TokenExchangeParts } from './token-exchange.js'

/** The implementation of the configured `downscoping` option. */
export function downscopingFor(strategy: DownscopingStrategy, parts: TokenExchangeParts): Downscoping {
  switch (strategy) {
    case 'scope':
      return new ScopeDownscoping(parts.refresher)
    case 'token-exchange':
      return new TokenExchangeDownscoping(parts)
    case 'none':
      return new NoDownscoping(parts.refresher)
  }
}
