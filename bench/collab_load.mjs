#!/usr/bin/env node
/**
 * Load generator for a y-websocket server: real yjs clients (the stock
 * WebsocketProvider), all in this one process so send and receive clocks agree.
 * With `client: "hocuspocus"` (--client hocuspocus) the clients are stock
 * HocuspocusProviders instead, for a Hocuspocus server: its protocol prefixes
 * every y-protocols message with the document name, so the y-websocket
 * provider cannot talk to it. Everything measured stays the same.
 *
 *   node bench/collab_load.mjs fanout --config cfg.json
 *   node bench/collab_load.mjs fanout --url ws://127.0.0.1:1234 --rooms 1 --clients 20 --writers 20
 *   node bench/collab_load.mjs sync   --url ws://127.0.0.1:8000/collab --room-prefix p --param token=T
 *   node bench/collab_load.mjs rooms  --url ... --rooms 500 --handshake
 *
 * Modes
 *   fanout  every writer sets {w, s, t: send time, p: padding} entries under new
 *           keys "w:s" of the shared Y.Map "bench" at `rate_hz` (a map, because a
 *           Y.Array event's delta walks the whole list and would load the
 *           generator more than the server); every other client in the room
 *           records receive time - t. Reports latency percentiles, lost deliveries
 *           (expected = updates x receivers, counted after `settle_timeout_ms`) and
 *           convergence (all clients of a room hold byte-identical encoded state).
 *   sync    one client builds a document from `edits` single-edit transactions;
 *           then, `tries` times, a fresh provider is timed from construction to
 *           "synced", and a raw `ws` socket speaking y-protocols is timed from
 *           "open" to the arrival of the whole sync step 2 (the server's share;
 *           for Hocuspocus in its framing, after the empty-token authentication
 *           message its provider sends too).
 *   rooms   opens `rooms` rooms with one idle client and a small document each,
 *           then disconnects them. With --handshake it prints {"phase": ...} and
 *           waits for a line on stdin at each step, so a driver (collab_bench.py)
 *           can sample the server's memory in between.
 *
 * Rooms and per-room URL params come from the config: either "rooms":
 * [{"name", "params"?, "client_params"?: [{...} per client]}] or "room_prefix" +
 * "room_count" + "params". The result is one JSON object on stdout (the last line).
 * Every wait is bounded; `max_run_ms` aborts the run with "aborted": true.
 */

import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import readline from 'node:readline'
import {
  Y, syncProtocol, encoding, decoding, openProvider, websocketClass, importTooling, MESSAGE_SYNC, MESSAGE_AWARENESS
} from '../tests/node/peer.mjs'

const DEFAULTS = {
  url: 'ws://127.0.0.1:1234',
  client: 'y-websocket', // or 'hocuspocus'
  room_prefix: 'bench',
  room_count: 1,
  params: {},
  per_message_deflate: true,
  awareness: true,
  connect_timeout_ms: 30000,
  max_run_ms: 180000,
  // fanout
  clients_per_room: 20,
  writers_per_room: 20,
  updates_per_writer: 200,
  rate_hz: 20,
  payload_bytes: 16,
  warmup_ms: 1000,
  settle_timeout_ms: 15000,
  // sync
  edits: 10000,
  tries: 7,
  seed: 42,
  // rooms
  room_text_chars: 200,
  room_map_keys: 5,
  hold_ms: 1000,
  handshake: false
}

const now = () => performance.timeOrigin + performance.now()
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const parseArgs = (argv) => {
  const [mode, ...rest] = argv
  const cli = {}
  const flags = {
    '--url': ['url', String],
    '--client': ['client', String],
    '--room-prefix': ['room_prefix', String],
    '--rooms': ['room_count', Number],
    '--clients': ['clients_per_room', Number],
    '--writers': ['writers_per_room', Number],
    '--updates': ['updates_per_writer', Number],
    '--rate': ['rate_hz', Number],
    '--edits': ['edits', Number],
    '--tries': ['tries', Number],
    '--max-run-ms': ['max_run_ms', Number]
  }
  let configPath = null
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]
    if (arg === '--config') configPath = rest[++i]
    else if (arg === '--handshake') cli.handshake = true
    else if (arg === '--no-deflate') cli.per_message_deflate = false
    else if (arg === '--no-awareness') cli.awareness = false
    else if (arg === '--param') {
      const [key, ...value] = String(rest[++i]).split('=')
      cli.params = { ...(cli.params ?? {}), [key]: value.join('=') }
    } else if (Object.hasOwn(flags, arg)) {
      const [key, type] = flags[arg]
      const value = type(rest[++i])
      if (type === Number && !Number.isFinite(value)) usage(`${arg} needs a number`)
      cli[key] = value
    } else usage(`unknown argument ${arg}`)
  }
  if (!['fanout', 'sync', 'rooms'].includes(mode)) usage(`unknown mode ${mode}`)
  const file = configPath === null ? {} : JSON.parse(readFileSync(configPath, 'utf8'))
  const config = { ...DEFAULTS, ...file, ...cli }
  if (!Object.hasOwn(CLIENTS, config.client)) usage(`unknown client ${config.client}; known: ${Object.keys(CLIENTS).join(', ')}`)
  if (!/^wss?:\/\//.test(config.url)) usage(`url must be ws:// or wss://, got ${config.url}`)
  // A load generator aims at a server on this machine, never at anyone else's.
  const host = new URL(config.url).hostname
  if (!(host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    usage(`refusing to load ${host}: only loopback targets (127.0.0.0/8, localhost, [::1])`)
  }
  config.rooms = resolveRooms(config, mode)
  return { mode, config }
}

function usage (message) {
  process.stderr.write(`collab_load: ${message}\nusage: collab_load.mjs fanout|sync|rooms [--config FILE] [--url URL] [--client y-websocket|hocuspocus] [--rooms N] [--param k=v] ...\n`)
  process.exit(64)
}

const resolveRooms = (config, mode) => {
  if (Array.isArray(config.rooms)) {
    return config.rooms.map((room) => ({ name: String(room.name), params: room.params ?? config.params, client_params: room.client_params ?? null }))
  }
  const count = mode === 'sync' ? 1 : config.room_count
  return Array.from({ length: count }, (_, i) => ({ name: `${config.room_prefix}-${i}`, params: config.params, client_params: null }))
}

const percentiles = (values) => {
  if (values.length === 0) return { count: 0, p50: null, p90: null, p99: null, max: null, mean: null }
  const sorted = Float64Array.from(values).sort()
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
  let sum = 0
  for (const v of sorted) sum += v
  const round = (v) => Math.round(v * 1000) / 1000
  return { count: sorted.length, p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(sorted[sorted.length - 1]), mean: round(sum / sorted.length) }
}

const median = (values) => percentiles(values).p50

/** Frame and byte counters over every socket this process opens. */
const traffic = { rx_frames: { sync: 0, awareness: 0, other: 0 }, rx_bytes: 0, tx_frames: 0, tx_bytes: 0 }

const countingWebSocket = (perMessageDeflate, stack) => {
  const Base = websocketClass({ perMessageDeflate })
  return class CountingWebSocket extends Base {
    constructor (url, protocols) {
      super(url, protocols)
      this.on('message', (data) => {
        const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        traffic.rx_bytes += bytes.length
        let type = -1
        try { type = stack.readType(decoding.createDecoder(bytes)) } catch {}
        const kind = type === MESSAGE_SYNC ? 'sync' : type === MESSAGE_AWARENESS ? 'awareness' : 'other'
        traffic.rx_frames[kind]++
      })
    }

    send (data, ...rest) {
      traffic.tx_frames++
      traffic.tx_bytes += data.byteLength ?? data.length ?? 0
      return super.send(data, ...rest)
    }
  }
}

// Hocuspocus message types beyond y-websocket's sync and awareness.
const HOCUSPOCUS_AUTH = 2
const HOCUSPOCUS_AUTH_TOKEN = 0

// Imported by main() before any timing starts, and only for Hocuspocus runs.
let HocuspocusProvider = null

/**
 * The two client stacks behind one interface: `open` returns the provider
 * (remote changes carry it as their transaction origin) and `connect`,
 * `destroy`, `isSynced`, `onSynced` (returns an unsubscribe), `onDisconnected`,
 * `onClose` over it. Each provider runs with its library's own defaults, one
 * socket per document, as a browser tab opens it. For the raw socket of the
 * sync mode: `rawUrl`, `frame` (an encoder holding a message's framing),
 * `rawHello` (frames a client must send before sync step 1) and `readType`
 * (reads the framing, returns the message type).
 */
// What both providers do alike.
const PROVIDER_COMMON = {
  destroy: (provider) => provider.destroy(),
  isSynced: (provider) => provider.synced,
  onDisconnected: (provider, callback) => provider.on('status', ({ status }) => { if (status === 'disconnected') callback() })
}

const CLIENTS = {
  'y-websocket': {
    ...PROVIDER_COMMON,
    rawUrl: (url, room) => `${url.replace(/\/+$/, '')}/${room.name}`,
    frame: (_room, type) => { const encoder = encoding.createEncoder(); encoding.writeVarUint(encoder, type); return encoder },
    rawHello: (_room) => [],
    readType: (decoder) => decoding.readVarUint(decoder),
    open: ({ url, room, doc, params, Socket }) => {
      const provider = openProvider({ url, room: room.name, doc, params, connect: false })
      provider._WS = Socket
      return provider
    },
    connect: (provider) => provider.connect(),
    onSynced: (provider, callback) => {
      const handler = (synced) => { if (synced) callback() }
      provider.on('sync', handler)
      return () => provider.off('sync', handler)
    },
    onClose: (provider, callback) => provider.on('connection-close', (event) => { if (event !== null) callback(event) })
  },
  hocuspocus: {
    ...PROVIDER_COMMON,
    rawUrl: (url, _room) => url,
    // Every message: varString document name, varUint type, then the y-protocols body.
    frame: (room, type) => {
      const encoder = encoding.createEncoder()
      encoding.writeVarString(encoder, room.name)
      encoding.writeVarUint(encoder, type)
      return encoder
    },
    // The server holds back a document's messages until its authentication
    // message, which the provider sends (an empty token) before sync step 1 too.
    rawHello: (room) => {
      const encoder = CLIENTS.hocuspocus.frame(room, HOCUSPOCUS_AUTH)
      encoding.writeVarUint(encoder, HOCUSPOCUS_AUTH_TOKEN)
      encoding.writeVarString(encoder, '')
      return [encoding.toUint8Array(encoder)]
    },
    readType: (decoder) => { decoding.readVarString(decoder); return decoding.readVarUint(decoder) },
    open: ({ url, room, doc, params, Socket }) => {
      // The document name travels in every message; URL params still reach the
      // server's hooks (requestParameters).
      const withParams = new URL(url)
      for (const [key, value] of Object.entries(params)) withParams.searchParams.set(key, value)
      return new HocuspocusProvider({
        url: Object.keys(params).length === 0 ? url : withParams.toString(),
        name: room.name,
        document: doc,
        WebSocketPolyfill: Socket,
        autoConnect: false
      })
    },
    connect: (provider) => { provider.connect() },
    onSynced: (provider, callback) => {
      const handler = ({ state }) => { if (state) callback() }
      provider.on('synced', handler)
      return () => provider.off('synced', handler)
    },
    onClose: (provider, callback) => provider.on('close', ({ event }) => { if (event) callback(event) })
  }
}

/** A provider whose socket counts traffic; `room.client_params[i]` overrides the room's params. */
const openClient = (config, room, index) => {
  const stack = CLIENTS[config.client]
  const doc = new Y.Doc()
  const params = { ...(room.params ?? {}), ...((room.client_params ?? [])[index] ?? {}) }
  const Socket = countingWebSocket(config.per_message_deflate, stack)
  const provider = stack.open({ url: config.url, room, doc, params, Socket })
  if (config.awareness) {
    // What a browser publishes. (The constructor's default {} has clock 0 and
    // is ignored by every receiver, so without this no presence would flow.)
    provider.awareness.setLocalState({ user: { name: `${room.name}#${index}` }, playhead_s: 0 })
  }
  const client = { doc, provider, stack, room, index, connectMs: null, disconnects: 0, closes: [] }
  stack.onDisconnected(provider, () => { client.disconnects++ })
  stack.onClose(provider, (event) => { client.closes.push({ code: event.code, reason: String(event.reason ?? '') }) })
  return client
}

const whenSynced = (client, timeoutMs) => new Promise((resolve) => {
  const started = now()
  const { stack, provider } = client
  if (stack.isSynced(provider)) { resolve(true); return }
  const timer = setTimeout(() => { unsubscribe(); resolve(false) }, timeoutMs)
  const unsubscribe = stack.onSynced(provider, () => {
    clearTimeout(timer)
    unsubscribe()
    client.connectMs = now() - started
    resolve(true)
  })
})

const connectAll = async (clients, timeoutMs, batch = 50) => {
  // Batches keep a 500-client connect from being one SYN flood on a 2-core box.
  const results = []
  for (let i = 0; i < clients.length; i += batch) {
    const slice = clients.slice(i, i + batch)
    const waits = slice.map((client) => { const w = whenSynced(client, timeoutMs); client.stack.connect(client.provider); return w })
    results.push(...await Promise.all(waits))
  }
  return results.filter(Boolean).length
}

const closeAll = (clients) => {
  for (const client of clients) {
    client.stack.destroy(client.provider)
    client.doc.destroy()
  }
}

// Convergence is the same state: the same state vector (the same items, no pending
// structs) and the same content. The byte encoding of that state may differ when a
// server relays a batch as one merged update; Yjs treats both as the same document,
// so that is reported separately as byte identity.
const canonical = (value) => JSON.stringify(value, (_key, v) =>
  v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
    : v)
const stateDigest = (doc) => createHash('sha256')
  .update(Y.encodeStateVector(doc))
  .update(canonical(Object.fromEntries([...doc.share.keys()].sort().map((k) => [k, doc.share.get(k).toJSON()]))))
  .update(String(doc.store.pendingStructs === null && doc.store.pendingDs === null))
  .digest('hex')
const bytesDigest = (doc) => createHash('sha256').update(Y.encodeStateAsUpdate(doc)).digest('hex')

const closeSummary = (clients) => {
  const codes = {}
  for (const client of clients) for (const close of client.closes) codes[close.code] = (codes[close.code] ?? 0) + 1
  return codes
}

// ---------------------------------------------------------------- fanout

const runFanout = async (config, result) => {
  const clients = []
  for (const room of config.rooms) {
    for (let i = 0; i < config.clients_per_room; i++) clients.push(openClient(config, room, i))
  }
  result.clients = clients.length
  result.rooms = config.rooms.length
  const synced = await connectAll(clients, config.connect_timeout_ms)
  result.clients_synced = synced
  result.connect_ms = percentiles(clients.filter((c) => c.connectMs !== null).map((c) => c.connectMs))
  if (synced < clients.length) {
    result.errors.push(`${clients.length - synced} clients never synced within ${config.connect_timeout_ms} ms`)
  }
  // The join burst (awareness of everyone, re-sent by everyone) passes before we measure.
  await sleep(config.warmup_ms)

  const latencies = []
  const received = new Map()
  let totalReceived = 0
  let expectedTotal = 0
  const writers = []
  const byRoom = new Map()
  for (const client of clients) {
    if (!byRoom.has(client.room.name)) byRoom.set(client.room.name, [])
    byRoom.get(client.room.name).push(client)
    if (client.index < config.writers_per_room) writers.push(client)
    received.set(client, 0)
  }
  for (const roomClients of byRoom.values()) {
    const roomWriters = Math.min(config.writers_per_room, roomClients.length)
    // Every update reaches every client of the room but its writer.
    expectedTotal += roomWriters * config.updates_per_writer * (roomClients.length - 1)
  }
  result.writers = writers.length
  result.expected_deliveries = expectedTotal

  let settle = null
  for (const client of clients) {
    const entries = client.doc.getMap('bench')
    // keysChanged costs what changed; a Y.Array event's delta walks the whole list.
    entries.observe((event, transaction) => {
      if (transaction.origin !== client.provider) return
      const at = now()
      for (const key of event.keysChanged) {
        const entry = entries.get(key)
        if (entry === undefined || entry === null || typeof entry.t !== 'number') continue
        latencies.push(at - entry.t)
        received.set(client, received.get(client) + 1)
        totalReceived++
      }
      if (settle !== null && totalReceived >= expectedTotal) settle()
    })
  }

  const measuredDelay = monitorEventLoopDelay({ resolution: 10 })
  measuredDelay.enable()
  const periodMs = 1000 / config.rate_hz
  const padding = 'x'.repeat(config.payload_bytes)
  let sent = 0
  const writeStart = now()
  await new Promise((resolve) => {
    let running = writers.length
    if (running === 0) resolve()
    writers.forEach((writer, w) => {
      const entries = writer.doc.getMap('bench')
      const phase = (w / Math.max(1, writers.length)) * periodMs
      let seq = 0
      const tick = () => {
        entries.set(`${w}:${seq}`, { w, s: seq, t: now(), p: padding })
        sent++
        seq++
        if (seq >= config.updates_per_writer) {
          if (--running === 0) resolve()
          return
        }
        setTimeout(tick, Math.max(0, writeStart + phase + seq * periodMs - now()))
      }
      setTimeout(tick, phase)
    })
  })
  result.write_duration_ms = now() - writeStart
  result.updates_sent = sent

  const settleStart = now()
  if (totalReceived < expectedTotal) {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, config.settle_timeout_ms)
      settle = () => { clearTimeout(timer); resolve() }
    })
  }
  settle = null
  result.settle_ms = now() - settleStart
  result.deliveries = totalReceived
  result.lost = Math.max(0, expectedTotal - totalReceived)
  result.lost_ratio = expectedTotal === 0 ? 0 : result.lost / expectedTotal
  result.latency_ms = percentiles(latencies)
  measuredDelay.disable()
  // The generator's own stalls during writing and settling: large values mean
  // the latencies measure this process, not the server.
  result.loadgen_delay_while_writing_ms = { p99: measuredDelay.percentile(99) / 1e6, max: measuredDelay.max / 1e6 }

  let convergedRooms = 0
  let byteIdenticalRooms = 0
  for (const roomClients of byRoom.values()) {
    const digests = new Set(roomClients.map((c) => stateDigest(c.doc)))
    if (digests.size === 1) convergedRooms++
    if (new Set(roomClients.map((c) => bytesDigest(c.doc))).size === 1) byteIdenticalRooms++
  }
  result.converged_rooms = convergedRooms
  result.byte_identical_rooms = byteIdenticalRooms
  result.converged = convergedRooms === byRoom.size
  result.disconnects = clients.reduce((n, c) => n + c.disconnects, 0)
  result.close_codes = closeSummary(clients)
  closeAll(clients)
}

// ---------------------------------------------------------------- sync

const mulberry32 = (seed) => () => {
  seed |= 0
  seed = (seed + 0x6D2B79F5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const sameStateVector = (a, b) => {
  const x = Y.decodeStateVector(Y.encodeStateVector(a))
  const y = Y.decodeStateVector(Y.encodeStateVector(b))
  if (x.size !== y.size) return false
  for (const [client, clock] of x) if (y.get(client) !== clock) return false
  return true
}

/** Resolves true once `doc` holds everything `reference` holds (event driven). */
const whenCaughtUp = (doc, reference, timeoutMs) => new Promise((resolve) => {
  if (sameStateVector(doc, reference)) { resolve(true); return }
  const onUpdate = () => {
    if (!sameStateVector(doc, reference)) return
    clearTimeout(timer)
    doc.off('update', onUpdate)
    resolve(true)
  }
  const timer = setTimeout(() => { doc.off('update', onUpdate); resolve(false) }, timeoutMs)
  doc.on('update', onUpdate)
})

const buildDocument = (doc, edits, seed) => {
  const random = mulberry32(seed)
  const text = doc.getText('lyrics')
  const meta = doc.getMap('meta')
  const alphabet = 'abcdefghijklmnopqrstuvwxyz '
  for (let i = 0; i < edits; i++) {
    const roll = random()
    // One transaction per edit: the server receives `edits` separate updates.
    if (roll < 0.15 && text.length > 16) {
      text.delete(Math.floor(random() * (text.length - 4)), 1 + Math.floor(random() * 3))
    } else if (roll < 0.3) {
      meta.set(`k${Math.floor(random() * 200)}`, random())
    } else {
      let word = ''
      for (let n = 1 + Math.floor(random() * 8); n > 0; n--) word += alphabet[Math.floor(random() * alphabet.length)]
      text.insert(Math.floor(random() * (text.length + 1)), word)
    }
  }
}

/** ms from socket "open" to the complete sync step 2 answering an empty state vector. */
const rawSyncStep2 = (config, room, timeoutMs) => new Promise((resolve) => {
  const stack = CLIENTS[config.client]
  const url = new URL(stack.rawUrl(config.url, room))
  for (const [key, value] of Object.entries(room.params ?? {})) url.searchParams.set(key, value)
  const Socket = countingWebSocket(config.per_message_deflate, stack)
  const socket = new Socket(url.toString(), [])
  socket.binaryType = 'arraybuffer'
  let opened = null
  const finish = (value) => { clearTimeout(timer); socket.terminate(); resolve(value) }
  const timer = setTimeout(() => finish({ ok: false, error: 'timeout' }), timeoutMs)
  socket.on('open', () => {
    opened = now()
    for (const frame of stack.rawHello(room)) socket.send(frame)
    const encoder = stack.frame(room, MESSAGE_SYNC)
    syncProtocol.writeSyncStep1(encoder, new Y.Doc())
    socket.send(encoding.toUint8Array(encoder))
  })
  socket.on('message', (data) => {
    const bytes = new Uint8Array(data)
    const decoder = decoding.createDecoder(bytes)
    if (stack.readType(decoder) !== MESSAGE_SYNC) return
    if (decoding.readVarUint(decoder) !== syncProtocol.messageYjsSyncStep2) return
    finish({ ok: true, ms: now() - opened, bytes: bytes.length })
  })
  socket.on('error', (err) => finish({ ok: false, error: String(err.message) }))
  socket.on('close', (code) => finish({ ok: false, error: `closed ${code}` }))
})

const runSync = async (config, result) => {
  const room = config.rooms[0]
  const builder = openClient(config, room, 0)
  if (await connectAll([builder], config.connect_timeout_ms) !== 1) {
    result.errors.push('the builder never synced')
    closeAll([builder])
    return
  }
  const buildStart = now()
  buildDocument(builder.doc, config.edits, config.seed)
  result.edits = config.edits
  result.build_ms = now() - buildStart
  result.document_update_bytes = Y.encodeStateAsUpdate(builder.doc).length
  result.text_length = builder.doc.getText('lyrics').length

  // A barrier: a throwaway client that has everything proves the server has it too.
  const barrier = openClient(config, room, 1)
  await connectAll([barrier], config.connect_timeout_ms)
  const caughtUp = await whenCaughtUp(barrier.doc, builder.doc, config.connect_timeout_ms)
  result.server_caught_up_ms = now() - buildStart
  closeAll([barrier])
  if (!caughtUp) {
    result.errors.push('the server never held the whole document')
    closeAll([builder])
    return
  }

  const providerMs = []
  const rawMs = []
  let complete = 0
  // Try 0 is a warm-up (JIT, first-touch allocations on both sides) and not recorded.
  for (let attempt = -1; attempt < config.tries; attempt++) {
    const record = attempt >= 0
    // Whole-client view: construct, connect, receive and apply the document.
    const start = now()
    const fresh = openClient(config, room, 3 + attempt)
    const synced = await connectAll([fresh], config.connect_timeout_ms)
    if (synced === 1) {
      if (record) providerMs.push(now() - start)
      if (record && sameStateVector(fresh.doc, builder.doc)) complete++
    } else {
      result.errors.push(`fresh client ${attempt} never synced`)
    }
    closeAll([fresh])
    const raw = await rawSyncStep2(config, room, config.connect_timeout_ms)
    if (raw.ok) {
      if (record) rawMs.push(raw.ms)
      result.sync_step2_bytes = raw.bytes
    } else {
      result.errors.push(`raw sync ${attempt}: ${raw.error}`)
    }
  }
  result.provider_sync_ms = { median: median(providerMs), all: providerMs.map((v) => Math.round(v * 1000) / 1000) }
  result.server_sync_step2_ms = { median: median(rawMs), all: rawMs.map((v) => Math.round(v * 1000) / 1000) }
  // A "synced" that arrived before the content would look fast and be wrong.
  result.fresh_clients_complete = complete
  result.tries = config.tries
  closeAll([builder])
}

// ---------------------------------------------------------------- rooms

const makeStep = (config) => {
  if (!config.handshake) return async () => { await sleep(config.hold_ms) }
  const lines = readline.createInterface({ input: process.stdin })
  const queue = []
  let waiting = null
  lines.on('line', (line) => { if (waiting !== null) { const w = waiting; waiting = null; w(line) } else queue.push(line) })
  lines.on('close', () => { if (waiting !== null) waiting('') })
  return (phase, fields) => new Promise((resolve) => {
    process.stdout.write(JSON.stringify({ phase, ...fields }) + '\n')
    if (queue.length > 0) resolve(queue.shift())
    else waiting = resolve
  })
}

const runRooms = async (config, result) => {
  const step = makeStep(config)
  const clients = config.rooms.map((room) => openClient(config, room, 0))
  result.rooms = clients.length
  result.clients_synced = await connectAll(clients, config.connect_timeout_ms)
  result.connect_ms = percentiles(clients.filter((c) => c.connectMs !== null).map((c) => c.connectMs))
  for (const client of clients) {
    client.doc.transact(() => {
      client.doc.getText('lyrics').insert(0, 'la '.repeat(Math.ceil(config.room_text_chars / 3)).slice(0, config.room_text_chars))
      const meta = client.doc.getMap('meta')
      for (let k = 0; k < config.room_map_keys; k++) meta.set(`key${k}`, k * 1.5)
    })
  }
  result.room_update_bytes = clients.length === 0 ? 0 : Y.encodeStateAsUpdate(clients[0].doc).length
  await sleep(config.hold_ms)
  await step('opened', { rooms: clients.length, clients_synced: result.clients_synced })
  closeAll(clients)
  await sleep(config.hold_ms)
  await step('closed', { rooms: clients.length })
  result.close_codes = closeSummary(clients)
}

// ---------------------------------------------------------------- main

const main = async () => {
  const { mode, config } = parseArgs(process.argv.slice(2))
  // Each provider registers a process 'exit' handler; hundreds are expected here.
  process.setMaxListeners(0)
  console.log = console.info = (...args) => console.error(...args)
  const result = { mode, url: config.url, errors: [], aborted: false }
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()
  const cpuStart = process.cpuUsage()
  const started = now()
  const finish = (code) => {
    loopDelay.disable()
    const cpu = process.cpuUsage(cpuStart)
    result.run_ms = now() - started
    // When the generator itself is saturated its latencies say little about the server.
    result.loadgen = {
      cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
      event_loop_delay_ms: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 }
    }
    result.traffic = traffic
    process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(code))
  }
  const watchdog = setTimeout(() => {
    result.aborted = true
    result.errors.push(`max_run_ms ${config.max_run_ms} exceeded`)
    finish(2)
  }, config.max_run_ms)
  try {
    if (config.client === 'hocuspocus') ({ HocuspocusProvider } = await importTooling('@hocuspocus/provider'))
    if (mode === 'fanout') await runFanout(config, result)
    else if (mode === 'sync') await runSync(config, result)
    else await runRooms(config, result)
  } catch (err) {
    result.errors.push(String(err?.stack ?? err))
    clearTimeout(watchdog)
    finish(1)
    return
  }
  clearTimeout(watchdog)
  finish(0)
}

process.on('uncaughtException', (err) => process.stderr.write(`uncaught: ${err?.stack ?? err}\n`))
main()
