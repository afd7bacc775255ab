"""The token off the command line: `--token-file` and `WARROOM_TOKEN_FILE`, refused when others
may read the file (as ssh refuses such a key), run as real child processes against a real server."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import AddUser, warroom
from warroom.node import WarroomNode


def _token_file(folder: Path, token: str, mode: int = 0o600) -> Path:
    path = folder / "token"
    path.write_text(token + "\n")
    path.chmod(mode)
    return path


async def test_token_file_flag_connects_without_the_token_in_argv(
    server: WarroomNode, add_user: AddUser, tmp_path: Path
) -> None:
    alice = await add_user("alice")
    path = _token_file(tmp_path, alice)
    argv = ["--server", server.url, "declare", "--title", "DB down", "--sev", "2"]
    declared = await warroom(*argv, "--token-file", str(path))
    assert (declared.code, declared.out, declared.err) == (0, "1\n", "")
    assert alice not in " ".join(argv)


async def test_token_file_from_the_environment(
    server: WarroomNode, add_user: AddUser, tmp_path: Path
) -> None:
    alice = await add_user("alice")
    path = _token_file(tmp_path, alice)
    listing = await warroom(
        "incidents", "--server", server.url, env={"WARROOM_TOKEN_FILE": str(path)}
    )
    assert (listing.code, listing.err) == (0, "")


async def test_a_token_file_others_can_read_is_refused(
    server: WarroomNode, add_user: AddUser, tmp_path: Path
) -> None:
    alice = await add_user("alice")
    for mode in (0o640, 0o604, 0o660):
        path = _token_file(tmp_path, alice, mode)
        refused = await warroom("incidents", "--server", server.url, "--token-file", str(path))
        assert refused.code == 1
        assert refused.err == (
            f"warroom: {path}: token file is accessible by others (mode {mode:04o}); "
            f"run `chmod 600 {path}`\n"
        )
        assert refused.out == ""


async def test_a_missing_or_empty_token_file_is_one_clear_line(
    server: WarroomNode, tmp_path: Path
) -> None:
    missing = await warroom(
        "incidents", "--server", server.url, "--token-file", str(tmp_path / "nope")
    )
    assert missing.err == (
        f"warroom: {tmp_path / 'nope'}: cannot read token file: No such file or directory\n"
    )
    empty = _token_file(tmp_path, "")
    refused = await warroom("incidents", "--server", server.url, "--token-file", str(empty))
    assert refused.err == f"warroom: {empty}: token file is empty\n"


async def test_console_toml_names_the_token_file(
    server: WarroomNode, add_user: AddUser, tmp_path: Path, warroom_home: Path
) -> None:
    alice = await add_user("alice")
    path = _token_file(tmp_path, alice)
    warroom_home.mkdir(parents=True, exist_ok=True)
    (warroom_home / "console.toml").write_text(
        f"server = {server.url!r}\ntoken_file = {str(path)!r}\n"
    )
    declared = await warroom("declare", "--title", "Queue stuck", "--sev", "3")
    assert (declared.code, declared.out, declared.err) == (0, "1\n", "")
