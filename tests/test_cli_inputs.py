"""Bad input to the `passage` command gets one line and exit 2, in real processes: an argument
that is not UTF-8, an over-long history entry, URL settings that cannot be read (with the
password kept out of the line), and `serve` on a busy port, refused before anything loads."""
from __future__ import annotations

import os
import socket
import time

import pytest

from tests import cli_driver
from tests.servers import free_port

URL_PROBLEM = ("Value error, the port after the host is no number from 1 to 65535 (percent-encode a / ? # or @ in a "
               "user name or password: / as %2F)")


def one_line(proc) -> str:
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr


@pytest.mark.slow
def test_a_question_that_is_not_utf8_is_one_line(ingested_dir):
    question = os.fsdecode(b"How old was Yeonmi Park when she escaped \xe9?")  # the bytes a Latin-1 terminal sends
    proc = cli_driver.run("ask", question, "--data-dir", str(ingested_dir))
    assert one_line(proc) == "error: the question is not valid UTF-8 text; check the terminal's or the client's encoding\n"
    history = cli_driver.run("ask", "How old was she?", "--history", os.fsdecode(b"Yeonmi \xff"),
                             "--data-dir", str(ingested_dir))
    assert one_line(history) == ("error: history entry 1 is not valid UTF-8 text; check the terminal's or the client's "
                                 "encoding\n")


@pytest.mark.slow
def test_an_over_long_history_entry_is_named_as_such(ingested_dir):
    proc = cli_driver.run("ask", "How old was she?", "--history", "Tell me about Yeonmi Park.", "--history", "x" * 2001,
                          "--data-dir", str(ingested_dir))
    assert one_line(proc) == "error: history entry 2 is too long (2001 characters; the limit is 2000)\n"


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/v1", "http://127.0.0.1:port/v1", "http://ann:hunter2/x@127.0.0.1:8080/v1"])
def test_an_llm_url_that_cannot_be_read_is_one_line(tmp_path, url):
    proc = cli_driver.run("ask", "Anything?", "--answerer", "llm", "--data-dir", str(tmp_path), PASSAGE_LLM_BASE_URL=url)
    assert one_line(proc) == f"error: invalid setting llm_base_url: {URL_PROBLEM}\n"
    assert "hunter2" not in proc.stdout + proc.stderr


def test_a_chroma_url_with_a_slash_in_its_password_is_one_line_without_it(tmp_path):
    proc = cli_driver.run("docs", "list", "--chroma-url", "http://ann:hunter2/x@127.0.0.1:8000", "--data-dir", str(tmp_path))
    assert one_line(proc) == f"error: invalid setting chroma_url: {URL_PROBLEM}\n"
    assert "hunter2" not in proc.stdout + proc.stderr


def test_serve_on_a_busy_port_says_so_at_once(tmp_path):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        began = time.monotonic()
        proc = cli_driver.run("serve", "--port", str(port), "--data-dir", str(tmp_path / "data"))
        seconds = time.monotonic() - began
    assert one_line(proc) == (f"error: cannot listen on 127.0.0.1:{port}: address already in use; stop what uses it or "
                              "choose another --port\n")
    assert seconds < 10  # before the model loads (about 20 s on two busy cores)
    assert not (tmp_path / "data").exists()
