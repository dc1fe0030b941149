#!/usr/bin/env node
// Runs one REST API call with the npm pusher library and prints the response.
//
// Usage: node npm_rest.js '<config JSON>'
//
// Config fields:
//   host, port             HTTP API address, host default "127.0.0.1"
//   app_id, key, secret    app credentials (required)
//   encryption_master_key_base64  optional, for private-encrypted- channels
//   call                   one of "trigger" (default), "trigger_batch",
//                          "send_to_user", "terminate_user_connections", "get"
//   channels               trigger: channel name or list of names
//   event, data, params    trigger: event name, data and optional body params
//   batch                  trigger_batch: [{channel, name, data, ...}]
//   user_id, event, data   send_to_user
//   user_id                terminate_user_connections
//   path, params           get: path below /apps/APP_ID and query params
//
// Prints one JSON line {"status": <HTTP status>, "body": <response text>} and
// exits with status 0 for any HTTP response below 400. For a 4xx or 5xx
// response, or a failed request, it prints {"error", "status", "body"} and
// exits with status 1. A config error exits with status 2.
"use strict"

const Pusher = require("pusher")

function failConfig(message) {
  process.stderr.write(`npm_rest.js: ${message}\n`)
  process.exit(2)
}

/** Parses the config argument and checks the fields every call needs. */
function parseConfig(argv) {
  if (argv.length < 3) {
    failConfig("missing config JSON argument")
  }
  let config
  try {
    config = JSON.parse(argv[2])
  } catch (error) {
    failConfig(`config is not valid JSON: ${error.message}`)
  }
  for (const field of ["app_id", "key", "secret"]) {
    if (typeof config[field] !== "string" || config[field] === "") {
      failConfig(`config field "${field}" must be a non-empty string`)
    }
  }
  if (!Number.isInteger(config.port)) {
    failConfig(`config field "port" must be an integer, got ${JSON.stringify(config.port)}`)
  }
  return config
}

/** Builds a Pusher instance for a plain-HTTP server. */
function makePusher(config) {
  const options = {
    appId: config.app_id,
    key: config.key,
    secret: config.secret,
    host: config.host || "127.0.0.1",
    port: config.port,
    useTLS: false,
    timeout: 10000,
  }
  if (config.encryption_master_key_base64) {
    options.encryptionMasterKeyBase64 = config.encryption_master_key_base64
  }
  return new Pusher(options)
}

/** Starts the configured call and returns its response promise. */
function startCall(pusher, config) {
  const call = config.call || "trigger"
  switch (call) {
    case "trigger":
      return pusher.trigger(config.channels, config.event, config.data, config.params)
    case "trigger_batch":
      return pusher.triggerBatch(config.batch)
    case "send_to_user":
      return pusher.sendToUser(config.user_id, config.event, config.data)
    case "terminate_user_connections":
      return pusher.terminateUserConnections(config.user_id)
    case "get":
      return pusher.get({ path: config.path, params: config.params })
    default:
      failConfig(`unknown call ${JSON.stringify(call)}`)
  }
}

async function main() {
  const config = parseConfig(process.argv)
  const pusher = makePusher(config)
  try {
    const response = await startCall(pusher, config)
    const body = await response.text()
    process.stdout.write(JSON.stringify({ status: response.status, body }) + "\n")
  } catch (error) {
    const record = { error: error.message, status: error.status, body: error.body }
    process.stdout.write(JSON.stringify(record) + "\n")
    process.exitCode = 1
  }
}

main()
