// Helpers for Carol machines written in JavaScript, as `carol-guest` has for Rust ones.
//
// `cargo carol build` puts this module beside the machine's `app.js`:
// `import { sign, getJson } from './carol-guest.js';`. It wraps the node's services (the
// `carol:machine/*` interfaces every Carol world includes), which stay importable beside it.

import { sign as blsSign, publicKey as blsPublicKey } from 'carol:machine/bls-sign@0.1.1';
import { fetch as httpFetch } from 'carol:machine/http-fetch@0.1.1';
import { machineId as identityMachineId, params as identityParams } from 'carol:machine/identity@0.1.1';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `message` as bytes: a string is encoded as UTF-8. */
export function bytes(message) {
  return typeof message === 'string' ? encoder.encode(message) : new Uint8Array(message);
}

/**
 * Signs `message` (bytes, or a string as UTF-8) with the node's key. The node signs
 * `machine_id || message`, so the signature names this machine: a 96-byte compressed
 * BLS12-381 G2 point, as a Uint8Array.
 */
export function sign(message) {
  return blsSign(bytes(message));
}

/** The node's BLS12-381 public key: a 48-byte compressed G1 point. */
export function publicKey() {
  return blsPublicKey();
}

/** This machine's id: SHA-256(binary id || params), 32 bytes. */
export function machineId() {
  return identityMachineId();
}

/** The params this machine was created with, as bytes. */
export function params() {
  return identityParams();
}

/** The params as text (UTF-8). */
export function paramsText() {
  return decoder.decode(identityParams());
}

/**
 * Makes a request through the node, within its outbound policy and limits: `{ status, headers,
 * body }`. Throws when there is no response; the thrown value's `payload` is the node's error,
 * `{ tag, val }` (tags `invalid-url`, `denied`, `timeout`, `connection`, `too-large`).
 */
export function fetch(url, { method = 'get', headers = [], body = new Uint8Array() } = {}) {
  return httpFetch({ method, url, headers, body: bytes(body) });
}

/** `GET url` through the node; see `fetch`. */
export function get(url, headers = []) {
  return fetch(url, { headers });
}

/** A response's body as text. */
export function text(response) {
  return decoder.decode(response.body);
}

/** The value of the first header named `name` (case-insensitive), or undefined. */
export function header(response, name) {
  const lower = name.toLowerCase();
  const found = response.headers.find(([key]) => key.toLowerCase() === lower);
  return found ? found[1] : undefined;
}

/**
 * A fetch error (what `fetch` throws, or its `payload`) in words: its WIT case and the node's
 * reason, as the Python helpers say it.
 */
export function describe(error) {
  const e = error && error.payload !== undefined ? error.payload : error;
  return e && e.val !== undefined ? `${e.tag}: ${e.val}` : String(e && e.tag !== undefined ? e.tag : e);
}

/** Why `getJson` has no JSON: `error` (no response), or `status` and `body` (a response). */
export class FetchError extends Error {
  constructor(message, { error, status, body } = {}) {
    super(message);
    this.error = error;
    this.status = status;
    this.body = body;
  }
}

/**
 * `GET url` through the node, asking for JSON, and the answer parsed. Throws a `FetchError`
 * unless the answer is a 2xx response whose body is JSON.
 */
export function getJson(url, headers = []) {
  let response;
  try {
    response = get(url, [['accept', 'application/json'], ...headers]);
  } catch (e) {
    const error = e && e.payload !== undefined ? e.payload : e;
    throw new FetchError(`no answer from ${url}: ${describe(error)}`, { error });
  }
  if (response.status < 200 || response.status >= 300) {
    throw new FetchError(`${url} answered ${response.status}`, response);
  }
  try {
    return JSON.parse(text(response));
  } catch (e) {
    throw new FetchError(`${url} answered with something that is not JSON: ${e.message}`, response);
  }
}
