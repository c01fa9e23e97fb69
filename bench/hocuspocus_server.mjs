#!/usr/bin/env node
/**
 * Hocuspocus (@hocuspocus/server, pinned in tests/node) with persistence on,
 * as a second Node server for bench/collab_bench.py (bench/node_targets.py).
 *
 *   HOST=127.0.0.1 PORT=1235 YPERSISTENCE=/tmp/hp-leveldb node bench/hocuspocus_server.mjs
 *
 * Persistence is the stock Database extension over y-leveldb, the same store
 * the reference @y/websocket-server uses with YPERSISTENCE (the same variable
 * names it, so both servers are configured alike). How they write differs, by
 * design of each: the reference appends every incoming update to LevelDB,
 * while Hocuspocus stores the whole document state (Y.encodeStateAsUpdate)
 * from its debouncer, here left at its defaults: 2 s after the last change, at
 * least every 10 s while changes keep coming (maxDebounce), and at once when
 * the last client leaves (unloadImmediately). Without YPERSISTENCE nothing is
 * stored.
 *
 * Prints one JSON line {"event": "ready", "pid", "host", "port"} on stdout once
 * the port accepts connections (for a person running it; the bench, through
 * tests/support/node_peer.py's ReferenceServer, waits for the port itself);
 * SIGTERM stores every open document and exits.
 */

import { importTooling } from '../tests/node/peer.mjs'

// Resolved from tests/node, so the server, y-leveldb and the clients share one yjs.
const [{ Server }, { Database }, { LeveldbPersistence }, Y] = await Promise.all([
  importTooling('@hocuspocus/server'),
  importTooling('@hocuspocus/extension-database'),
  importTooling('y-leveldb'),
  importTooling('yjs')
])

const host = process.env.HOST || '127.0.0.1'
const port = Number.parseInt(process.env.PORT || '1234', 10)
const persistenceDir = process.env.YPERSISTENCE

const extensions = []
if (persistenceDir) {
  const ldb = new LeveldbPersistence(persistenceDir)
  extensions.push(new Database({
    fetch: async ({ documentName }) => {
      const doc = await ldb.getYDoc(documentName)
      const state = Y.encodeStateAsUpdate(doc)
      doc.destroy()
      return state
    },
    // Each entry is a whole state, so the log only ever grows by snapshots that
    // supersede each other; y-leveldb merges them on load past 500 entries.
    store: async ({ documentName, state }) => { await ldb.storeUpdate(documentName, state) }
  }))
}

const server = new Server({
  port,
  address: host,
  quiet: true,
  // No Throttle extension: the bench opens hundreds of sockets from one address.
  extensions
})

await server.listen()
process.stdout.write(JSON.stringify({ event: 'ready', pid: process.pid, host, port: server.address.port }) + '\n')
