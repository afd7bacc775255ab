"""warroom: a terminal war-room console for incident response."""

import sys

__version__ = "0.1.0"

# httpx imports its own command-line client (click, rich, pygments) whenever those are installed,
# and they are (Textual needs rich): a sixth of `warroom serve`'s start-up, for a command warroom
# never runs. A None entry makes that import fail, which httpx handles by leaving `httpx.main`
# a stub. Other packages' rich imports are unaffected.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
