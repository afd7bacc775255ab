"""The monitoring package stays usable by the server without pulling in the TUI."""

from __future__ import annotations

import subprocess
import sys


def test_monitoring_never_imports_textual() -> None:
    script = (
        "import sys\n"
        "import warroom.monitoring.alertmanager, warroom.monitoring.poller\n"
        "import warroom.monitoring.prometheus, warroom.monitoring.signals\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] == 'textual'\n"
        "          or m == 'warroom.tui' or m.startswith('warroom.tui.')]\n"
        "assert not loaded, loaded\n"
    )

    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
