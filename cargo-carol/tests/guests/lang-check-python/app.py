"""The lang-check test machine in Python."""

import carol_guest
import wit_world
from componentize_py_types import Err
from wit_world import DivisionError_ByZero, DivisionError_Overflow, Point

MIB = 1024 * 1024
PAGE = 4096


class WitWorld(wit_world.WitWorld):
    def sum(self, points):
        labels = [p.label for p in points if p.label is not None]
        return Point(
            x=sum(p.x for p in points),
            y=sum(p.y for p in points),
            label="+".join(labels) if labels else None,
        )

    def divide(self, n, d):
        if d == 0:
            raise Err(DivisionError_ByZero())
        if n == -(2**63) and d == -1:
            raise Err(DivisionError_Overflow(n))
        quotient = abs(n) // abs(d)
        return quotient if (n < 0) == (d < 0) else -quotient

    def reverse(self, data, count):
        taken = data if count is None else data[:count]
        return (bytes(reversed(taken)), len(taken))

    def sign(self, message):
        return carol_guest.sign(message)

    def fetch_text(self, url):
        try:
            response = carol_guest.get(url)
        except Err as e:
            raise Err(carol_guest.describe(e.value)) from None
        return carol_guest.text(response)

    def echo(self, message):
        return message

    def spin(self):
        while True:
            pass

    def allocate(self, megabytes):
        memory = bytearray(megabytes * MIB)
        for page in range(0, len(memory), PAGE):
            memory[page] = 1
        return sum(memory[page] for page in range(0, len(memory), PAGE))

    def fail(self, message):
        raise RuntimeError(message)
