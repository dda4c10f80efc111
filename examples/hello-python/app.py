"""The smallest Carol machine, in Python: the world of examples/hello-world."""

import wit_world


class WitWorld(wit_world.WitWorld):
    def say(self, message: str) -> str:
        """Answers `hello <message>`."""
        return f"hello {message}"
