#!/usr/bin/env node
// Runs one workload on the npm pusher library (5.3.4, from peers/node_modules) and
// prints {"value": <operations per second>} as one JSON line.
//
// Usage: node bench/npm_bench.js '{"workload": "async", "port": 8080, "count": 5000, ...}'
//
// Workloads: build, encrypted_build (trigger with the HTTP exchange replaced by the
// library's own URL, header and body construction), async, encrypted_async and
// bulk (triggers, in_flight at once), webhook (webhook().isValid() and getData()).
"use strict"

const path = require("path")
const peers = path.join(__dirname, "..", "peers", "node_modules")
const Pusher = require(path.join(peers, "pusher"))
const requests = require(path.join(peers, "pusher", "lib", "requests"))
const crypto = require("crypto")

// The same made-up app as bench/fixtures.py.
const APP_ID = "424242"
const KEY = "bench-key"
const SECRET = "bench-secret"
const MASTER_KEY_BASE64 = "YmVuY2gtbWFzdGVyLWtleS0zMi1ieXRlcy1sb25nISE="
const CHANNEL = "bench-channel"
const ENCRYPTED_CHANNEL = "private-encrypted-bench-channel"
const EVENT = "bench-event"
const DATA = { message: "hello world", user: { id: 42, name: "Ada" }, tags: ["a", "b"] }

function makePusher(spec) {
  return new Pusher({
    appId: APP_ID,
    key: KEY,
    secret: SECRET,
    host: "127.0.0.1",
    port: String(spec.port || 80),
    useTLS: false,
    encryptionMasterKeyBase64: MASTER_KEY_BASE64,
  })
}

/** Replaces the library's HTTP exchange with the steps it takes before fetch: the
 * JSON body, the signed URL and the headers. Everything before them runs unchanged. */
function buildOnly() {
  requests.send = function (config, options) {
    const requestPath = config.prefixPath(options.path)
    const body = options.body ? JSON.stringify(options.body) : undefined
    const query = requests.createSignedQueryString(config.token, {
      method: options.method,
      path: requestPath,
      params: options.params,
      body: body,
    })
    const url = `${config.getBaseURL()}${requestPath}?${query}`
    const headers = { "x-pusher-library": "pusher-http-node bench" }
    if (body) {
      headers["content-type"] = "application/json"
    }
    return Promise.resolve({ url, headers, body })
  }
}

async function timedLoop(count, operation) {
  for (let i = 0; i < Math.min(200, Math.max(count / 10, 1)); i++) {
    await operation(i)
  }
  const started = process.hrtime.bigint()
  for (let i = 0; i < count; i++) {
    await operation(i)
  }
  return count / (Number(process.hrtime.bigint() - started) / 1e9)
}

async function inFlight(count, concurrency, operation) {
  const share = Math.floor(count / concurrency)
  const workers = []
  for (let w = 0; w < concurrency; w++) {
    workers.push(
      (async () => {
        for (let i = 0; i < share; i++) {
          await operation(w + i * concurrency)
        }
      })()
    )
  }
  await Promise.all(workers)
  return share * concurrency
}

async function timedInFlight(count, concurrency, operation) {
  await inFlight(concurrency * 4, concurrency, operation)
  const started = process.hrtime.bigint()
  const done = await inFlight(count, concurrency, operation)
  return done / (Number(process.hrtime.bigint() - started) / 1e9)
}

function webhookRequest() {
  const events = [{ name: "channel_occupied", channel: CHANNEL }]
  const rawBody = JSON.stringify({ time_ms: Date.now(), events })
  const signature = crypto.createHmac("sha256", SECRET).update(rawBody).digest("hex")
  return {
    headers: {
      "content-type": "application/json",
      "x-pusher-key": KEY,
      "x-pusher-signature": signature,
    },
    rawBody,
  }
}

const WORKLOADS = {
  build: (spec, pusher) => {
    buildOnly()
    return timedLoop(spec.count, () => pusher.trigger(CHANNEL, EVENT, DATA))
  },
  encrypted_build: (spec, pusher) => {
    buildOnly()
    return timedLoop(spec.count, () => pusher.trigger(ENCRYPTED_CHANNEL, EVENT, DATA))
  },
  async: (spec, pusher) =>
    timedInFlight(spec.count, spec.in_flight, () => pusher.trigger(CHANNEL, EVENT, DATA)),
  encrypted_async: (spec, pusher) =>
    timedInFlight(spec.count, spec.in_flight, () =>
      pusher.trigger(ENCRYPTED_CHANNEL, EVENT, DATA)
    ),
  bulk: async (spec, pusher) => {
    const started = process.hrtime.bigint()
    const done = await inFlight(spec.count, spec.in_flight, (index) =>
      pusher.trigger(`${CHANNEL}-${index % spec.channels}`, EVENT, { sequence: index })
    )
    return done / (Number(process.hrtime.bigint() - started) / 1e9)
  },
  webhook: (spec, pusher) => {
    const request = webhookRequest()
    return timedLoop(spec.count, () => {
      const webhook = pusher.webhook(request)
      if (!webhook.isValid()) {
        throw new Error("the benchmark webhook is not valid")
      }
      return webhook.getData()
    })
  },
}

async function main() {
  const spec = JSON.parse(process.argv[2])
  const workload = WORKLOADS[spec.workload]
  if (workload === undefined) {
    throw new Error(`unknown workload ${JSON.stringify(spec.workload)}`)
  }
  const value = await workload(spec, makePusher(spec))
  process.stdout.write(JSON.stringify({ value }) + "\n")
}

main().catch((error) => {
  process.stderr.write(`npm_bench.js: ${error.stack || error}\n`)
  process.exit(1)
})
