// @ts-nocheck
// A Route Handler calling both APIs with the signed-in user's tokens.
import { apis, auth } from '../../../lib/auth'

export async function GET(request: Request): Promise<Response> {
  const tokens = await auth.requireLogin(request)
  if (tokens instanceof Response) return tokens
  try {
    const [contacts, calendar] = await Promise.all([tokens.fetch(apis.contacts()), tokens.fetch(apis.calendar())])
    return Response.json({
      sub: (await tokens.claims())?.['sub'],
      contacts: { status: contacts.status, body: await contacts.json() },
      calendar: { status: calendar.status, body: await calendar.json() },
      csrf: tokens.csrfToken,
    }, { headers: { 'Cache-Control': 'no-store' } })
  } catch (err) {
    return auth.errorResponse(request, err)
  }
}
