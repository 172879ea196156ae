// @ts-nocheck
// GET /auth/login, GET /auth/callback, POST /auth/logout.
import { auth } from '../../../lib/auth'

export const { GET, POST } = auth.handlers
