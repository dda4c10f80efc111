// The lang-check test machine in JavaScript.

import { sign as carolSign, describe, get, text } from './carol-guest.js';

const MIB = 1024 * 1024;
const PAGE = 4096;

export function sum(points) {
  const labels = points.map((p) => p.label).filter((label) => label !== undefined && label !== null);
  return {
    x: points.reduce((total, p) => total + p.x, 0),
    y: points.reduce((total, p) => total + p.y, 0),
    label: labels.length ? labels.join('+') : undefined,
  };
}

export function divide(n, d) {
  // componentize-js 0.23.0 hands s64 arguments over as their unsigned value (docs/machines.md).
  n = BigInt.asIntN(64, n);
  d = BigInt.asIntN(64, d);
  if (d === 0n) {
    throw { tag: 'by-zero' };
  }
  if (n === -(2n ** 63n) && d === -1n) {
    throw { tag: 'overflow', val: n };
  }
  return n / d;
}

export function reverse(data, count) {
  const taken = count === undefined || count === null ? data : data.slice(0, count);
  return [Uint8Array.from(taken).reverse(), taken.length];
}

export function sign(message) {
  return carolSign(message);
}

export function fetchText(url) {
  let response;
  try {
    response = get(url);
  } catch (e) {
    throw describe(e);
  }
  return text(response);
}

export function echo(message) {
  return message;
}

export function spin() {
  for (;;) {}
}

export function allocate(megabytes) {
  const memory = new Uint8Array(megabytes * MIB);
  let written = 0;
  for (let page = 0; page < memory.length; page += PAGE) {
    memory[page] = 1;
    written += memory[page];
  }
  return written;
}

export function fail(message) {
  throw new Error(message);
}
