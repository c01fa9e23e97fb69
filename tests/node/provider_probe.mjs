#!/usr/bin/env node
/**
 * A stock y-websocket provider (1.5 or 3.1) run for a while, reporting what a user's tab
 * would do: how often it tries to connect, and what the server told it.
 *
 *   node provider_probe.mjs '{"version": "1", "url": "ws://127.0.0.1:8000/collab",
 *     "room": "<project id>", "token": "...", "seconds": 10, "edits": 3}'
 *
 * prints one JSON line: {"attempts": n, "opened": n, "synced": bool,
 * "permission_denied": ["<reason>", ...]}. `edits` text inserts are made once
 * synced (a viewer's edits are refused by the server). The provider's
 * BroadcastChannel is off, as in tests/node/peer.mjs.
 */

import * as Y from 'yjs'
import WebSocket from 'ws'
import { WebsocketProvider as Provider3 } from 'y-websocket'
import { WebsocketProvider as Provider1 } from 'y-websocket-1'

const options = JSON.parse(process.argv[2])
const Provider = options.version === '1' ? Provider1 : Provider3

let attempts = 0
let opened = 0
class CountingWebSocket extends WebSocket {
  constructor (url, protocols) {
    super(url, protocols, { perMessageDeflate: false })
    attempts++
    this.addEventListener('open', () => { opened++ })
    // A refused upgrade is an 'error' on the socket; the provider sees the close.
    this.on('error', () => {})
  }
}

const permissionDenied = []
console.warn = (...args) => {
  const text = args.map(String).join(' ')
  if (text.startsWith('Permission denied')) permissionDenied.push(text.split('\n').slice(1).join('\n'))
}

const doc = new Y.Doc()
let synced = false
const provider = new Provider(options.url, options.room, doc, {
  params: { token: options.token },
  WebSocketPolyfill: CountingWebSocket,
  disableBc: true
})
provider.on('sync', (isSynced) => {
  if (!isSynced || synced) return
  synced = true
  const text = doc.getText('lyrics')
  for (let i = 0; i < (options.edits ?? 0); i++) text.insert(0, `edit ${i} `)
})

setTimeout(() => {
  provider.destroy()
  process.stdout.write(JSON.stringify({ attempts, opened, synced, permission_denied: permissionDenied }) + '\n')
  process.exit(0)
}, (options.seconds ?? 10) * 1000)
