"""The `passage` command's mistakes and secrets, in real processes: every usage error is one
line and exit 2, reading commands never create an index, URL credentials never show."""
import json
import logging

import pytest

from passage.redact import RedactingFilter, redact
from tests import cli_driver
from tests.servers import free_port


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask"], "Missing argument 'question'. Try 'passage ask --help' for help."),
        (["nosuchcmd"], "No such command 'nosuchcmd'. Try 'passage --help' for help."),
        (["ask", "q", "--k", "abc"], "Invalid value for '--k': Input should be a valid integer, unable to parse string "
                                     "as an integer. Try 'passage ask --help' for help."),
        (["ask", "q", "--nope"], "No such option: --nope (Possible options: --mode). Try 'passage ask --help' for help."),
        (["docs"], "Missing command. Try 'passage docs --help' for help."),
        (["eval", "--limit", "0"], "Invalid value for '--limit': Input should be greater than or equal to 1. "
                                   "Try 'passage eval --help' for help."),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, message):
    proc = cli_driver.run(*args)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", f"error: {message}\n")


def test_bare_passage_shows_the_help_and_exits_0():
    proc = cli_driver.run()
    assert proc.returncode == 0 and proc.stderr == ""
    assert "Usage: passage [OPTIONS] COMMAND [ARGS]..." in proc.stdout


def test_an_empty_data_dir_setting_is_refused(tmp_path):
    proc = cli_driver.run("docs", "list", PASSAGE_DATA_DIR="")
    assert (proc.returncode, proc.stderr) == (
        2, "error: invalid setting data_dir: Value error, must not be empty; unset it for the per-user data folder\n")
    assert list(tmp_path.iterdir()) == []  # nothing scattered in the working directory


TESTSET = str(cli_driver.ROOT / "corpus" / "testset.jsonl")


@pytest.mark.parametrize("args", [["ask", "Anything?"], ["docs", "list"], ["docs", "remove", "iccpr"], ["eval", TESTSET, "--limit", "1"]])
def test_reading_a_mistyped_data_dir_creates_nothing(tmp_path, args):
    typo = tmp_path / "dtaa"
    proc = cli_driver.run(*args, "--data-dir", str(typo))
    assert (proc.returncode, proc.stderr) == (2, f"error: no index at {typo}; run `passage ingest {cli_driver.ROOT / 'corpus'}` (or your own folder) first\n")
    assert not typo.exists()


def test_a_store_url_credential_is_masked(tmp_path):
    url = f"http://ann:hunter2@127.0.0.1:{free_port()}"
    proc = cli_driver.run("docs", "list", "--chroma-url", url, "--data-dir", str(tmp_path / "d"))
    assert proc.returncode == 2 and "hunter2" not in proc.stderr + proc.stdout
    assert proc.stderr.startswith(f"error: cannot open the Chroma store at http://ann:***@127.0.0.1:{url.rsplit(':', 1)[1]}: ")
    assert proc.stderr.count("\n") == 1


@pytest.mark.slow
def test_an_llm_url_credential_is_masked_in_the_notice(ingested_dir):
    port = free_port()
    proc = cli_driver.run("ask", "How old was Yeonmi Park when she escaped?", "--answerer", "llm", "--json",
                          "--data-dir", str(ingested_dir), PASSAGE_LLM_BASE_URL=f"http://ann:hunter2@127.0.0.1:{port}/v1",
                          PASSAGE_LLM_API_KEY="sk-also-secret")
    assert proc.returncode == 0, proc.stderr
    assert "hunter2" not in proc.stdout + proc.stderr and "sk-also-secret" not in proc.stdout + proc.stderr
    notice = json.loads(proc.stdout)["notice"]
    assert notice == f"LLM unavailable (cannot reach http://ann:***@127.0.0.1:{port}/v1); showing the extractive answer"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("http://user:secret@host/v1", "http://user:***@host/v1"),
        ("cannot reach https://tok@h:8443/x and http://a:p@ss@h2/y?q=a@b", "cannot reach https://***@h:8443/x and http://a:***@h2/y?q=a@b"),
        ("http://host/v1?mail=a@b and ann@example.org", "http://host/v1?mail=a@b and ann@example.org"),
        ("no url here", "no url here"),
    ],
)
def test_redact_masks_the_userinfo_of_every_url(text, masked):
    assert redact(text) == masked


def test_log_records_are_redacted():
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: POST %s", ("http://u:pw@h/v1/chat",), None)
    assert RedactingFilter().filter(record) and record.getMessage() == "HTTP Request: POST http://u:***@h/v1/chat"
