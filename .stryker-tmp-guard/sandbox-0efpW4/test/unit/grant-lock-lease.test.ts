// @ts-nocheck
// The grant lock's lease (groundwork for issue 12 item 6): a task can tell whether it still holds the store lock.
// A holder stalled past the lock's TTL (event loop blocked) must see held() === false, and so must a holder whose
// lock another owner has taken meanwhile.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { GrantLock } from '../../src/grants/grant-lock.js'
import { MemoryStore } from '../../src/stores/memory-store.js'

function stall(ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until) {
    // a blocked event loop: no heartbeat can run
  }
}

test('held() is true while the heartbeat keeps the lock, false after a stall past the TTL, and false once another owner took it', async () => {
  const store = new MemoryStore()
  const lock = new GrantLock(store, { ttlMs: 150, timeoutMs: 1000 })
  const seen = await lock.run('lock:grant:x', async (lease) => {
    const states: boolean[] = [lease.held()]
    await sleep(400) // longer than the TTL, but the heartbeat (every 50 ms) keeps it
    states.push(lease.held())
    stall(250)
    states.push(lease.held())
    // Another instance takes the expired lock before our next heartbeat.
    states.push(await store.tryLock('lock:grant:x', 'someone-else', 10_000))
    await sleep(120)
    states.push(lease.held())
    return states
  })
  assert.deepEqual(seen, [true, true, false, true, false])
  // Our late release did not free the other owner's lock.
  assert.equal(await store.tryLock('lock:grant:x', 'a-third-owner', 1000), false)
  await store.close()
})

test('two runs of one process never share an owner: a late release of the first cannot free the second', async () => {
  const store = new MemoryStore()
  const lock = new GrantLock(store, { ttlMs: 1000, timeoutMs: 1000 })
  const owners = new Set<string>()
  const original = store.tryLock.bind(store)
  store.tryLock = (name, owner, ttl) => {
    owners.add(owner)
    return original(name, owner, ttl)
  }
  await lock.run('l', async () => undefined)
  await lock.run('l', async () => undefined)
  assert.equal(owners.size, 2)
  await store.close()
})
