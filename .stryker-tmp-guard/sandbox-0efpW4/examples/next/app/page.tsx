// @ts-nocheck
// A Server Component: the signed-in user's fetch, each API with its own audience-restricted token.
import { apis, auth } from '../lib/auth'

export const dynamic = 'force-dynamic'

export default async function Home() {
  const tokens = await auth.session()
  if (tokens === undefined) {
    return (
      <main>
        <h1>Signed out</h1>
        <a id="sign-in" href={auth.paths.login}>Sign in</a>
      </main>
    )
  }
  const [contacts, calendar] = await Promise.all([tokens.fetch(apis.contacts()), tokens.fetch(apis.calendar())])
  const claims = await tokens.claims()
  return (
    <main>
      <h1 id="user">{String(claims?.['name'] ?? claims?.['sub'])}</h1>
      <h2>Contacts API ({contacts.status})</h2>
      <pre id="contacts">{JSON.stringify(await contacts.json(), null, 2)}</pre>
      <h2>Calendar API ({calendar.status})</h2>
      <pre id="calendar">{JSON.stringify(await calendar.json(), null, 2)}</pre>
      <form method="post" action={auth.paths.logout}>
        <input type="hidden" name={auth.csrfField} value={tokens.csrfToken} />
        <button id="sign-out" type="submit">Sign out</button>
      </form>
    </main>
  )
}
