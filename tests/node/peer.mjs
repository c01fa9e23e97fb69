#!/usr/bin/env node
/**
 * A scriptable, real yjs client for JACAMENO's tests and benchmarks.
 *
 * It holds one Y.Doc and (once told to connect) one stock y-websocket
 * `WebsocketProvider`, so a server under test meets exactly the client a
 * browser runs. It is driven by line-delimited JSON on stdin:
 *
 *   {"id": 1, "cmd": "connect", "url": "ws://127.0.0.1:1234/collab", "room": "p1",
 *    "params": {"token": "..."}}
 *
 * and answers one line per command on stdout, carrying the command's id:
 *
 *   {"id": 1, "ok": true, "result": {...}}
 *   {"id": 1, "ok": false, "error": {"type": "bad_request", "message": "..."}}
 *
 * Unsolicited lines have an "event" key instead of an "id" (ready, status,
 * synced, connection-close, closed, connection-error, error). The command
 * table is `COMMANDS` below; tests/support/node_peer.py wraps it for pytest.
 *
 * Imported as a module (bench/collab_load.mjs does) it runs nothing and only
 * exports the yjs stack it was installed with, so every tool in the repo
 * speaks through the same, lock-file-pinned libraries.
 */

import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import * as syncProtocol from 'y-protocols/sync'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'
import { realpathSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'

export { Y, WebsocketProvider, WebSocket, syncProtocol, awarenessProtocol, encoding, decoding }

/**
 * `import()` of a package installed here, for scripts elsewhere in the repo
 * (bench/): resolved from this file, it loads the same lock-file-pinned copy
 * of yjs as everything above (a second copy breaks Yjs's type checks), and
 * only when a script asks for it, so the test peers never load it.
 *
 * @param {string} specifier
 */
export const importTooling = (specifier) => import(specifier)

/** y-websocket message types (first varuint of every frame). */
export const MESSAGE_SYNC = 0
export const MESSAGE_AWARENESS = 1

/**
 * A `WebSocketPolyfill` for the provider: `ws` with fixed client options.
 * Browsers offer permessage-deflate, so the default keeps it offered.
 *
 * @param {{perMessageDeflate?: boolean, maxPayload?: number}} [options]
 */
export const websocketClass = ({ perMessageDeflate = true, maxPayload = 256 * 1024 * 1024 } = {}) =>
  class PolyfilledWebSocket extends WebSocket {
    constructor (url, protocols) {
      super(url, protocols, { perMessageDeflate, maxPayload })
    }
  }

/**
 * A stock WebsocketProvider as a browser would open it, minus the
 * BroadcastChannel: Node has one, and providers in one process would
 * otherwise sync through it instead of through the server.
 *
 * `reconnect: false` stops after any server-side close; the default keeps
 * y-websocket's own rule (stop on 4400-4499 only).
 */
export const openProvider = ({
  url,
  room,
  doc,
  params = {},
  reconnect = true,
  perMessageDeflate = true,
  maxBackoffMs = 2500,
  connect = true,
  awareness = undefined
}) => new WebsocketProvider(url, room, doc, {
  connect,
  awareness,
  params,
  WebSocketPolyfill: /** @type {any} */ (websocketClass({ perMessageDeflate })),
  disableBc: true,
  maxBackoffTime: maxBackoffMs,
  shouldReconnect: reconnect ? undefined : () => false
})

export const toBase64 = (bytes) => Buffer.from(bytes).toString('base64')
export const fromBase64 = (text) => new Uint8Array(Buffer.from(text, 'base64'))

/** A command answered with `ok: false`; `type` is stable, `message` is for people. */
class CommandError extends Error {
  constructor (type, message, details = undefined) {
    super(message)
    this.type = type
    this.details = details
  }
}

const need = (args, key, type) => {
  const value = args[key]
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value
  if (actual !== type) {
    throw new CommandError('bad_request', `"${key}" must be ${type}, got ${actual}`)
  }
  return value
}

const optional = (args, key, type, fallback) => (args[key] === undefined ? fallback : need(args, key, type))

/** The JSON view of a root type, guessing the kind of roots only seen remotely. */
const rootJson = (doc, name, kind) => {
  if (kind === 'text') return doc.getText(name).toString()
  if (kind === 'map') return doc.getMap(name).toJSON()
  if (kind === 'array') return doc.getArray(name).toJSON()
  if (kind === 'xml') return doc.getXmlFragment(name).toString()
  const type = doc.share.get(name)
  if (type instanceof Y.Text) return type.toString()
  if (type instanceof Y.Map) return type.toJSON()
  if (type instanceof Y.Array) return type.toJSON()
  if (type instanceof Y.XmlFragment) return type.toString()
  if (type === undefined) return null
  // An untyped root (created by a remote update only): keys mean a map, string
  // content a text, anything else an array.
  if (type._map.size > 0) return doc.getMap(name).toJSON()
  let item = type._start
  while (item !== null && item.deleted) item = item.right
  if (item !== null && (item.content instanceof Y.ContentString || item.content instanceof Y.ContentFormat)) {
    return doc.getText(name).toString()
  }
  return doc.getArray(name).toJSON()
}

const COND_KINDS = [
  'text_equals', 'text_length', 'array_len', 'map_key', 'updates_at_least',
  'awareness_client', 'awareness_count', 'state_vector_equals', 'status'
]

class Peer {
  constructor (write) {
    this.write = write
    this.doc = new Y.Doc()
    // Ours, not the provider's: state set before "connect" is published on
    // connect (as a browser does), and it survives a switch of room.
    this.awareness = new awarenessProtocol.Awareness(this.doc)
    this.awareness.on('change', () => this.checkWaiters())
    /** @type {WebsocketProvider | null} */
    this.provider = null
    this.status = 'disconnected'
    this.remoteUpdates = 0
    this.remoteUpdateBytes = 0
    this.localUpdates = 0
    /** Server-initiated closes since the last `connect`. */
    this.closes = []
    this.terminalClose = null
    this.silent = false
    /** @type {Set<{check: () => any, resolve: (v: any) => void, reject: (e: Error) => void}>} */
    this.waiters = new Set()
    this.doc.on('update', (update, origin) => {
      if (origin instanceof WebsocketProvider) {
        this.remoteUpdates++
        this.remoteUpdateBytes += update.length
      } else {
        this.localUpdates++
      }
    })
    this.doc.on('afterTransaction', () => this.checkWaiters())
  }

  emit (event, fields = {}) {
    // After "close" the driver has its last reply; teardown noise is not news.
    if (!this.silent) this.write({ event, ...fields })
  }

  checkWaiters () {
    for (const waiter of Array.from(this.waiters)) {
      let value
      try {
        value = waiter.check()
      } catch (err) {
        this.waiters.delete(waiter)
        waiter.reject(err)
        continue
      }
      if (value !== undefined) {
        this.waiters.delete(waiter)
        waiter.resolve(value)
      }
    }
  }

  /**
   * Resolves with the first non-undefined value of `check`, re-evaluated on
   * every document transaction, awareness change and connection event.
   */
  waitUntil (check, timeoutMs, describe) {
    return new Promise((resolve, reject) => {
      const started = performance.now()
      const waiter = {
        check,
        resolve: (value) => { clearTimeout(timer); resolve({ ...value, elapsed_ms: performance.now() - started }) },
        reject: (err) => { clearTimeout(timer); reject(err) }
      }
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(new CommandError('timeout', `timed out after ${timeoutMs} ms waiting for ${describe}`, {
          observed: this.observe(),
          last_close: this.closes.at(-1) ?? null
        }))
      }, timeoutMs)
      this.waiters.add(waiter)
      this.checkWaiters()
    })
  }

  observe () {
    return {
      status: this.status,
      synced: this.provider !== null && this.provider.synced,
      remote_updates: this.remoteUpdates,
      state_vector: toBase64(Y.encodeStateVector(this.doc))
    }
  }

  connect (args) {
    const url = need(args, 'url', 'string')
    const room = need(args, 'room', 'string')
    const params = optional(args, 'params', 'object', {})
    for (const [key, value] of Object.entries(params)) {
      if (typeof value !== 'string') {
        throw new CommandError('bad_request', `params.${key} must be a string`)
      }
    }
    const reconnect = optional(args, 'reconnect', 'boolean', true)
    const options = {
      url,
      room,
      params,
      reconnect,
      perMessageDeflate: optional(args, 'per_message_deflate', 'boolean', true),
      maxBackoffMs: optional(args, 'max_backoff_ms', 'number', 2500)
    }
    this.closes = []
    this.terminalClose = null
    const current = this.provider
    if (current !== null && current.serverUrl === url.replace(/\/+$/, '') && current.roomname === room) {
      current.params = params
      current.shouldReconnect = reconnect ? (event) => !(event.code >= 4400 && event.code < 4500) : () => false
      current.connect()
      return { url: current.url, client_id: this.doc.clientID }
    }
    if (current !== null) current.destroy()
    const provider = openProvider({ ...options, doc: this.doc, awareness: this.awareness, connect: false })
    this.provider = provider
    provider.on('status', ({ status }) => {
      if (this.provider !== provider) return
      this.status = status
      this.emit('status', { status })
      this.checkWaiters()
    })
    provider.on('sync', (synced) => {
      if (this.provider !== provider) return
      this.emit('synced', { synced })
      this.checkWaiters()
    })
    provider.on('connection-close', (event) => {
      if (this.provider !== provider) return
      // `event` is null when we closed the socket ourselves (disconnect, watchdog).
      const close = event === null
        ? { code: null, reason: '', was_clean: true, local: true }
        : { code: event.code, reason: String(event.reason ?? ''), was_clean: Boolean(event.wasClean), local: false }
      if (!close.local) this.closes.push(close)
      this.emit('connection-close', close)
      this.checkWaiters()
    })
    provider.on('closed', ({ code, reason }) => {
      if (this.provider !== provider) return
      this.terminalClose = { code, reason: String(reason ?? '') }
      this.emit('closed', this.terminalClose)
      this.checkWaiters()
    })
    provider.on('connection-error', (event) => {
      if (this.provider !== provider) return
      const message = String(event?.message ?? event?.error?.message ?? 'connection error')
      const status = /Unexpected server response: (\d+)/.exec(message)
      this.emit('connection-error', { message, http_status: status === null ? null : Number(status[1]) })
    })
    provider.connect()
    return { url: provider.url, client_id: this.doc.clientID }
  }

  waitFor (args) {
    const kind = need(args, 'kind', 'string')
    const timeoutMs = optional(args, 'timeout_ms', 'number', 10000)
    const doc = this.doc
    let check
    switch (kind) {
      case 'text_equals': {
        const text = doc.getText(need(args, 'name', 'string'))
        const expected = need(args, 'text', 'string')
        check = () => (text.toString() === expected ? { text: expected } : undefined)
        break
      }
      case 'text_length': {
        const text = doc.getText(need(args, 'name', 'string'))
        const length = need(args, 'length', 'number')
        check = () => (text.length === length ? { text: text.toString() } : undefined)
        break
      }
      case 'array_len': {
        const array = doc.getArray(need(args, 'name', 'string'))
        const length = need(args, 'length', 'number')
        const atLeast = optional(args, 'at_least', 'boolean', false)
        check = () => ((atLeast ? array.length >= length : array.length === length) ? { length: array.length } : undefined)
        break
      }
      case 'map_key': {
        const map = doc.getMap(need(args, 'name', 'string'))
        const key = need(args, 'key', 'string')
        const hasValue = Object.hasOwn(args, 'value')
        check = () => {
          if (!map.has(key)) return undefined
          const raw = map.get(key)
          const value = raw instanceof Y.AbstractType ? raw.toJSON() : raw
          return !hasValue || isDeepStrictEqual(value, args.value) ? { value } : undefined
        }
        break
      }
      case 'updates_at_least': {
        const count = need(args, 'count', 'number')
        check = () => (this.remoteUpdates >= count ? { count: this.remoteUpdates } : undefined)
        break
      }
      case 'awareness_client': {
        const clientId = need(args, 'client_id', 'number')
        const hasState = Object.hasOwn(args, 'state')
        check = () => {
          const state = this.awareness.getStates().get(clientId)
          if (state === undefined) return undefined
          return !hasState || isDeepStrictEqual(state, args.state) ? { state } : undefined
        }
        break
      }
      case 'awareness_count': {
        const count = need(args, 'count', 'number')
        check = () => (this.awareness.getStates().size === count ? { count } : undefined)
        break
      }
      case 'state_vector_equals': {
        const expected = need(args, 'state_vector', 'string')
        const expectedMap = Y.decodeStateVector(fromBase64(expected))
        check = () => {
          const actual = Y.decodeStateVector(Y.encodeStateVector(doc))
          return isDeepStrictEqual(actual, expectedMap) ? { state_vector: expected } : undefined
        }
        break
      }
      case 'status': {
        const status = need(args, 'status', 'string')
        check = () => (this.status === status ? { status } : undefined)
        break
      }
      default:
        throw new CommandError('bad_request', `unknown wait_for kind "${kind}"; one of ${COND_KINDS.join(', ')}`)
    }
    return this.waitUntil(check, timeoutMs, kind)
  }

  waitSynced (args) {
    const timeoutMs = optional(args, 'timeout_ms', 'number', 10000)
    if (this.provider === null) {
      throw new CommandError('not_connected', 'no provider yet: send "connect" first')
    }
    const provider = this.provider
    return this.waitUntil(() => {
      if (provider.synced) return { synced: true }
      if (this.terminalClose !== null) {
        throw new CommandError('closed', `connection closed (${this.terminalClose.code} ${this.terminalClose.reason}) and not retried`, this.terminalClose)
      }
      if (!provider.shouldConnect) {
        throw new CommandError('not_connected', 'the provider is disconnected and will not reconnect', { last_close: this.closes.at(-1) ?? null })
      }
      return undefined
    }, timeoutMs, 'synced')
  }

  waitClose (args) {
    const timeoutMs = optional(args, 'timeout_ms', 'number', 10000)
    return this.waitUntil(
      () => (this.closes.length > 0 ? { ...this.closes.at(-1), terminal: this.terminalClose !== null } : undefined),
      timeoutMs,
      'a server-side close'
    )
  }

  /** One edit; shared by the single-edit commands and `transact`. */
  edit (args) {
    const doc = this.doc
    switch (args.cmd) {
      case 'text_insert': {
        const text = doc.getText(need(args, 'name', 'string'))
        const index = optional(args, 'index', 'number', text.length)
        if (index < 0 || index > text.length) throw new CommandError('bad_request', `index ${index} outside 0..${text.length}`)
        text.insert(index, need(args, 'text', 'string'), optional(args, 'attributes', 'object', undefined))
        return { length: text.length }
      }
      case 'text_delete': {
        const text = doc.getText(need(args, 'name', 'string'))
        text.delete(need(args, 'index', 'number'), need(args, 'length', 'number'))
        return { length: text.length }
      }
      case 'map_set': {
        const map = doc.getMap(need(args, 'name', 'string'))
        if (!Object.hasOwn(args, 'value')) throw new CommandError('bad_request', '"value" is required')
        map.set(need(args, 'key', 'string'), args.value)
        return { size: map.size }
      }
      case 'map_delete': {
        const map = doc.getMap(need(args, 'name', 'string'))
        map.delete(need(args, 'key', 'string'))
        return { size: map.size }
      }
      case 'array_push': {
        const array = doc.getArray(need(args, 'name', 'string'))
        array.push(need(args, 'values', 'array'))
        return { length: array.length }
      }
      case 'array_insert': {
        const array = doc.getArray(need(args, 'name', 'string'))
        array.insert(need(args, 'index', 'number'), need(args, 'values', 'array'))
        return { length: array.length }
      }
      case 'array_delete': {
        const array = doc.getArray(need(args, 'name', 'string'))
        array.delete(need(args, 'index', 'number'), optional(args, 'length', 'number', 1))
        return { length: array.length }
      }
      default:
        throw new CommandError('bad_request', `"${args.cmd}" is not an edit`)
    }
  }
}

const EDITS = ['text_insert', 'text_delete', 'map_set', 'map_delete', 'array_push', 'array_insert', 'array_delete']

/** @type {Record<string, (peer: Peer, args: any) => any>} */
const COMMANDS = {
  ping: () => ({ pong: true }),
  connect: (peer, args) => peer.connect(args),
  disconnect: (peer) => {
    if (peer.provider !== null) peer.provider.disconnect()
    peer.status = 'disconnected'
    return { status: 'disconnected' }
  },
  wait_synced: (peer, args) => peer.waitSynced(args),
  wait_close: (peer, args) => peer.waitClose(args),
  wait_for: (peer, args) => peer.waitFor(args),
  status: (peer) => ({
    ...peer.observe(),
    client_id: peer.doc.clientID,
    url: peer.provider?.url ?? null,
    room: peer.provider?.roomname ?? null,
    closes: peer.closes,
    terminal_close: peer.terminalClose
  }),
  client_id: (peer) => ({ client_id: peer.doc.clientID }),
  ...Object.fromEntries(EDITS.map((name) => [name, (peer, args) => peer.edit(args)])),
  transact: (peer, args) => {
    const ops = need(args, 'ops', 'array')
    for (const op of ops) {
      if (op === null || typeof op !== 'object' || !EDITS.includes(op.cmd)) {
        throw new CommandError('bad_request', `transact ops must be objects with "cmd" one of ${EDITS.join(', ')}`)
      }
    }
    // Only the op names are checked up front: Yjs has no rollback, so an op
    // with bad arguments leaves the ops before it applied.
    const results = []
    peer.doc.transact(() => { for (const op of ops) results.push(peer.edit(op)) }, 'peer:transact')
    return { results }
  },
  text_get: (peer, args) => ({ text: peer.doc.getText(need(args, 'name', 'string')).toString() }),
  map_get: (peer, args) => {
    const map = peer.doc.getMap(need(args, 'name', 'string'))
    const key = need(args, 'key', 'string')
    const raw = map.get(key)
    return { present: map.has(key), value: raw instanceof Y.AbstractType ? raw.toJSON() : raw ?? null }
  },
  map_json: (peer, args) => ({ value: peer.doc.getMap(need(args, 'name', 'string')).toJSON() }),
  array_len: (peer, args) => ({ length: peer.doc.getArray(need(args, 'name', 'string')).length }),
  array_json: (peer, args) => ({ value: peer.doc.getArray(need(args, 'name', 'string')).toJSON() }),
  state: (peer, args) => {
    const roots = optional(args, 'roots', 'object', null)
    const since = optional(args, 'since', 'string', null)
    const json = {}
    const names = roots === null ? Array.from(peer.doc.share.keys()) : Object.keys(roots)
    for (const name of names) json[name] = rootJson(peer.doc, name, roots === null ? undefined : roots[name])
    const update = since === null ? Y.encodeStateAsUpdate(peer.doc) : Y.encodeStateAsUpdate(peer.doc, fromBase64(since))
    return {
      client_id: peer.doc.clientID,
      update: toBase64(update),
      state_vector: toBase64(Y.encodeStateVector(peer.doc)),
      json
    }
  },
  apply_update: (peer, args) => {
    const update = fromBase64(need(args, 'update', 'string'))
    try {
      Y.applyUpdate(peer.doc, update, 'peer:apply_update')
    } catch (err) {
      throw new CommandError('bad_update', `not a Yjs update: ${err.message}`)
    }
    return { state_vector: toBase64(Y.encodeStateVector(peer.doc)) }
  },
  set_awareness: (peer, args) => {
    const awareness = peer.awareness
    if (!Object.hasOwn(args, 'state')) throw new CommandError('bad_request', '"state" is required (null clears it)')
    awareness.setLocalState(args.state)
    return { client_id: peer.doc.clientID }
  },
  set_awareness_field: (peer, args) => {
    peer.awareness.setLocalStateField(need(args, 'field', 'string'), args.value ?? null)
    return { client_id: peer.doc.clientID }
  },
  awareness_states: (peer) => {
    const awareness = peer.awareness
    return {
      client_id: peer.doc.clientID,
      states: Array.from(awareness.getStates().entries()).map(([clientId, state]) => ({ client_id: clientId, state }))
    }
  },
  count_updates: (peer) => ({
    remote: peer.remoteUpdates,
    remote_bytes: peer.remoteUpdateBytes,
    local: peer.localUpdates
  })
}

const main = () => {
  // stdout is the protocol channel: anything a library logs goes to stderr.
  console.log = console.info = console.debug = (...args) => console.error(...args)
  const write = (message) => process.stdout.write(JSON.stringify(message) + '\n')
  const peer = new Peer(write)
  let exiting = false

  const shutdown = (code) => {
    if (exiting) return
    exiting = true
    for (const waiter of peer.waiters) waiter.reject(new CommandError('exiting', 'the peer is exiting'))
    peer.waiters.clear()
    peer.silent = true
    try {
      if (peer.provider !== null) peer.provider.destroy()
      peer.doc.destroy()
    } finally {
      // setImmediate runs after the promise reactions that write pending replies
      // (a write callback alone is a nextTick, which would run before them).
      setImmediate(() => process.stdout.write('', () => process.exit(code)))
    }
  }

  process.on('uncaughtException', (err) => write({ event: 'error', message: String(err?.message ?? err), stack: err?.stack ?? null }))
  process.on('unhandledRejection', (err) => write({ event: 'error', message: String(err?.message ?? err), stack: err?.stack ?? null }))

  const reply = (id, promise) => {
    Promise.resolve(promise).then(
      (result) => write({ id, ok: true, result: result ?? null }),
      (err) => write({
        id,
        ok: false,
        error: err instanceof CommandError
          ? { type: err.type, message: err.message, details: err.details ?? null }
          : { type: 'internal', message: String(err?.message ?? err), details: null }
      })
    )
  }

  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  lines.on('line', (line) => {
    if (line.trim() === '' || exiting) return
    let message
    try {
      message = JSON.parse(line)
    } catch (err) {
      write({ id: null, ok: false, error: { type: 'bad_request', message: `not JSON: ${err.message}`, details: null } })
      return
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      write({ id: null, ok: false, error: { type: 'bad_request', message: 'a command is a JSON object', details: null } })
      return
    }
    const id = message.id ?? null
    const cmd = message.cmd
    if (cmd === 'close' || cmd === 'exit') {
      write({ id, ok: true, result: { exiting: true } })
      shutdown(0)
      return
    }
    const handler = typeof cmd === 'string' && Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined
    if (handler === undefined) {
      const known = [...Object.keys(COMMANDS), 'close', 'exit'].sort().join(', ')
      reply(id, Promise.reject(new CommandError('unknown_command', `unknown command ${JSON.stringify(cmd)}; known: ${known}`)))
      return
    }
    let result
    try {
      result = handler(peer, message)
    } catch (err) {
      result = Promise.reject(err)
    }
    reply(id, result)
  })
  // Our driver went away: leave too, so no orphan keeps a socket open.
  lines.on('close', () => shutdown(0))
  process.on('SIGTERM', () => shutdown(0))
  write({ event: 'ready', pid: process.pid, client_id: peer.doc.clientID, node: process.version })
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  main()
}
