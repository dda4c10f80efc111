// The smallest Carol machine, in JavaScript: the world of examples/hello-world.

/** Answers `hello <message>`. */
export function say(message) {
  return `hello ${message}`;
}
