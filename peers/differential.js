#!/usr/bin/env node
// Computes what the npm pusher library returns for a list of cases, for the
// differential tests in tests/test_differential.py.
//
// Usage: node peers/differential.js < cases.json > results.json
//
// The input is a JSON array of cases, each {"kind": ..., ...}; the output is a
// JSON array of results in the same order. A case the library rejects gives
// {"error": message}. Nothing here touches the network.
"use strict"

const Pusher = require("pusher")

function client(c) {
  const options = { appId: "1", key: c.key, secret: c.secret }
  if (c.master_key) options.encryptionMasterKeyBase64 = c.master_key
  return new Pusher(options)
}

function withTime(timeMs, fn) {
  const realNow = Date.now
  Date.now = () => timeMs
  try {
    return fn()
  } finally {
    Date.now = realNow
  }
}

const handlers = {
  // The signature npm computes; its query string is not split, because values are not escaped.
  signature(c) {
    const output = withTime(c.time_ms, () =>
      client(c).createSignedQueryString({ method: c.method, path: c.path, body: c.body, params: c.params }),
    )
    const marker = "&auth_signature="
    return { auth_signature: output.slice(output.lastIndexOf(marker) + marker.length) }
  },
  authorize(c) {
    return client(c).authorizeChannel(c.socket_id, c.channel, c.channel_data)
  },
  authenticate_user(c) {
    return client(c).authenticateUser(c.socket_id, c.user_data)
  },
  shared_secret(c) {
    return { shared_secret: client(c).channelSharedSecret(c.channel).toString("base64") }
  },
  webhook(c) {
    const webhook = client(c).webhook({ headers: c.headers, rawBody: c.body })
    return { is_valid: webhook.isValid() }
  },
  stringify(c) {
    return { text: JSON.stringify(c.value) }
  },
}

function run(c) {
  try {
    return handlers[c.kind](c)
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) }
  }
}

let input = ""
process.stdin.setEncoding("utf8")
process.stdin.on("data", (chunk) => (input += chunk))
process.stdin.on("end", () => {
  const cases = JSON.parse(input)
  process.stdout.write(JSON.stringify(cases.map(run)))
})
