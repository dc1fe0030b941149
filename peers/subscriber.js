#!/usr/bin/env node
// A pusher-js client under Node that prints each connection change,
// subscription result and event it receives as one JSON line.
//
// Usage: node subscriber.js '<config JSON>'
//    or: echo '<config JSON>' | node subscriber.js
//
// Config fields:
//   host                   WebSocket host, default "127.0.0.1"
//   port                   WebSocket port (required)
//   key                    app key (required)
//   channels               channel names to subscribe to, default []
//   channel_auth_endpoint  URL for private and presence channel authorization
//   user_auth_endpoint     URL for user authentication (sign-in)
//   signin                 true to call client.signin() after connecting
//   client_events          [{channel, event, data}] to send with
//                          channel.trigger() once that channel is subscribed
//
// Every line on stdout is one JSON object with a "type" field:
//   connected, state, subscribed, subscription_error, members, member_added,
//   member_removed, event, user_event, signed_in, signin_error,
//   client_event_sent, error.
// The process exits with status 0 when stdin closes or on SIGTERM or SIGINT.
// When the config comes from stdin, only its first line is read as config, and
// if stdin ends right after that line only a signal stops the client.
"use strict"

const Pusher = require("pusher-js")

/** Writes one record as a JSON line. Writes to a pipe or a file are
 * synchronous in Node on Linux, so a line is out before the next happening. */
function emit(record) {
  process.stdout.write(JSON.stringify(record) + "\n")
}

/** Returns true for the protocol events that pusher-js handles itself. */
function isProtocolEvent(eventName) {
  return eventName.startsWith("pusher:") || eventName.startsWith("pusher_internal:")
}

/** Returns a JSON-safe description of a pusher-js error object, which can
 * hold a raw WebSocket event with circular references. */
function describeError(error) {
  if (error === null || typeof error !== "object") {
    return error
  }
  const description = {}
  for (const field of ["type", "error", "status", "message", "code", "data"]) {
    const value = error[field]
    if (value === undefined) {
      continue
    }
    if (value !== null && typeof value === "object") {
      try {
        description[field] = JSON.parse(JSON.stringify(value))
      } catch (_circular) {
        description[field] = String(value)
      }
    } else {
      description[field] = value
    }
  }
  return description
}

/** Parses and validates the config JSON, exiting with status 2 if invalid. */
function parseConfig(text) {
  let config
  try {
    config = JSON.parse(text)
  } catch (error) {
    failConfig(`config is not valid JSON: ${error.message}`)
  }
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    failConfig("config must be a JSON object")
  }
  if (!Number.isInteger(config.port)) {
    failConfig(`config field "port" must be an integer, got ${JSON.stringify(config.port)}`)
  }
  if (typeof config.key !== "string" || config.key === "") {
    failConfig(`config field "key" must be a non-empty string, got ${JSON.stringify(config.key)}`)
  }
  config.host = config.host || "127.0.0.1"
  config.channels = config.channels || []
  config.client_events = config.client_events || []
  if (!Array.isArray(config.channels) || !Array.isArray(config.client_events)) {
    failConfig('config fields "channels" and "client_events" must be lists')
  }
  return config
}

function failConfig(message) {
  process.stderr.write(`subscriber.js: ${message}\n`)
  process.exit(2)
}

/** Builds the pusher-js options for a plain-WebSocket connection to a local server. */
function clientOptions(config) {
  const options = {
    wsHost: config.host,
    wsPort: config.port,
    forceTLS: false,
    enabledTransports: ["ws"],
    // pusher-js requires a cluster even though wsHost overrides the address.
    cluster: "mt1",
    enableStats: false,
  }
  if (config.channel_auth_endpoint) {
    options.channelAuthorization = { endpoint: config.channel_auth_endpoint, transport: "ajax" }
  }
  if (config.user_auth_endpoint) {
    options.userAuthentication = { endpoint: config.user_auth_endpoint, transport: "ajax" }
  }
  return options
}

/** Reports connection state changes, errors and sign-in results. */
function watchConnection(client) {
  client.connection.bind("state_change", ({ previous, current }) => {
    emit({ type: "state", previous, current })
  })
  client.connection.bind("connected", () => {
    emit({ type: "connected", socket_id: client.connection.socket_id })
  })
  client.connection.bind("error", (error) => {
    emit({ type: "error", error: describeError(error) })
  })
  // pusher-js has no public sign-in success event, so watch the raw message.
  client.connection.bind("message", (message) => {
    if (message.event === "pusher:signin_success") {
      emit({ type: "signed_in", user_data: message.data.user_data })
    }
  })
}

/** Reports events sent to the signed-in user and sign-in errors. */
function watchUser(client) {
  client.user.bind("pusher:signin_error", (error) => {
    emit({ type: "signin_error", error: describeError(error) })
  })
  client.user.bind_global((eventName, data) => {
    if (!isProtocolEvent(eventName)) {
      emit({ type: "user_event", event: eventName, data })
    }
  })
}

/** Subscribes to one channel and reports its subscription, members and events. */
function subscribe(client, channelName, clientEvents) {
  const channel = client.subscribe(channelName)

  channel.bind("pusher:subscription_succeeded", () => {
    emit({ type: "subscribed", channel: channelName })
    if (channelName.startsWith("presence-")) {
      emit({
        type: "members",
        channel: channelName,
        count: channel.members.count,
        me: channel.members.me,
      })
    }
    sendClientEvents(channel, clientEvents)
  })
  channel.bind("pusher:subscription_error", (error) => {
    emit({ type: "subscription_error", channel: channelName, error: describeError(error) })
  })
  channel.bind("pusher:member_added", (member) => {
    emit({ type: "member_added", channel: channelName, member })
  })
  channel.bind("pusher:member_removed", (member) => {
    emit({ type: "member_removed", channel: channelName, member })
  })
  channel.bind_global((eventName, data) => {
    if (!isProtocolEvent(eventName)) {
      emit({ type: "event", channel: channelName, event: eventName, data })
    }
  })
}

function sendClientEvents(channel, clientEvents) {
  for (const clientEvent of clientEvents) {
    if (clientEvent.channel !== channel.name) {
      continue
    }
    const sent = channel.trigger(clientEvent.event, clientEvent.data)
    emit({ type: "client_event_sent", channel: channel.name, event: clientEvent.event, sent })
  }
}

/** Connects, subscribes and arranges a clean exit on stdin close or a signal. */
function run(config) {
  const client = new Pusher(config.key, clientOptions(config))
  watchConnection(client)
  watchUser(client)
  for (const channelName of config.channels) {
    subscribe(client, channelName, config.client_events)
  }
  if (config.signin) {
    client.signin()
  }

  let stopping = false
  const stop = () => {
    if (stopping) {
      return
    }
    stopping = true
    client.disconnect()
    process.exit(0)
  }
  if (!process.stdin.readableEnded) {
    process.stdin.on("end", stop)
    process.stdin.on("close", stop)
    process.stdin.resume()
  }
  process.on("SIGTERM", stop)
  process.on("SIGINT", stop)
}

/** Reads the first line of stdin as config, keeping stdin open afterwards. */
function readConfigLine(callback) {
  let buffered = ""
  const onData = (chunk) => {
    buffered += chunk
    const newline = buffered.indexOf("\n")
    if (newline !== -1) {
      process.stdin.off("data", onData)
      process.stdin.off("end", onEnd)
      callback(buffered.slice(0, newline))
    }
  }
  // Input without a trailing newline is one config line.
  const onEnd = () => callback(buffered)
  process.stdin.setEncoding("utf8")
  process.stdin.on("data", onData)
  process.stdin.on("end", onEnd)
}

if (process.argv.length > 2) {
  run(parseConfig(process.argv[2]))
} else {
  readConfigLine((line) => run(parseConfig(line)))
}
