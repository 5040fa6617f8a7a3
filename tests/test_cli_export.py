"""`passage export CONVERSATION` in a real process, over a real conversations file."""
import json
from datetime import datetime, timezone

from app.conversations import ConversationStore, Turn
from passage.models import Answer
from passage.settings import Settings
from tests.cli_driver import run

ASKED = datetime(2025, 3, 1, 9, 30, 0, tzinfo=timezone.utc)
ANSWERED = datetime(2025, 3, 1, 9, 30, 2, tzinfo=timezone.utc)


def saved(data_dir) -> str:
    answer = Answer("Who wrote it?", "The Commission of Inquiry wrote it.", False, (), (), answerer="reader",
                    confidence=0.3)
    turn = Turn("Who wrote it?", ASKED, ANSWERED, answer, version="0.1.0", settings={"k": 5, "mode": "hybrid"})
    return ConversationStore(Settings(data_dir=data_dir).conversations_db).create("The report", [turn]).id


def test_export_prints_markdown_or_json(tmp_path):
    cid = saved(tmp_path)
    markdown = run("export", cid, "--data-dir", str(tmp_path))
    assert markdown.returncode == 0, markdown.stderr
    blocks = markdown.stdout.split("\n\n")
    assert blocks[0] == "# The report"
    assert blocks[2] == "Settings (answered with passage 0.1.0):\n- k: 5\n- mode: hybrid"
    assert blocks[3:6] == ["## Who wrote it?",
                           "Asked 2025-03-01 09:30:00 UTC · answered in 2.0 s · reader · confidence 30% · **Low confidence**: "
                           "the quoted sentence may not answer the question; check the sources.",
                           "The Commission of Inquiry wrote it.\n"]
    as_json = run("export", cid, "--json", "--data-dir", str(tmp_path))
    data = json.loads(as_json.stdout)
    assert (data["id"], data["title"], data["turns"][0]["low_confidence"], data["turns"][0]["asked_at"]) == (
        cid, "The report", True, "2025-03-01T09:30:00Z")


def test_an_unknown_conversation_is_one_line_and_exit_2(tmp_path):
    saved(tmp_path)
    for data_dir in (tmp_path, tmp_path / "empty"):
        result = run("export", "f" * 32, "--data-dir", str(data_dir))
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == ("error: no conversation 'ffffffffffffffffffffffffffffffff'; GET /conversations or the "
                                 "chat's sidebar lists them\n")
    assert not (tmp_path / "empty").exists()  # a read never creates the data folder
