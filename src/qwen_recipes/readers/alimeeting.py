"""AliMeeting4MUG reader: tab-separated "csv" files with columns ``idx`` and ``content`` (a JSON string).

``content`` keys: ``meeting_key``; ``sentences[]`` {``id``, ``speaker``, ``start_time``, ``end_time``, ``s``};
``paragraph_segment_ids[]`` {``id``} (some rows say ``org_segment_id``); ``topic_segment_ids[]`` {``id``,
``candidate[]`` {``title``, ``key_sentence``}}; session-level ``candidate[]`` {``key_sentence``, ``key_word``}, one per
annotator; ``action_ids[]`` {``id``}. Every id is a 1-based sentence id, ids may be strings or ints, and a
paragraph or topic id marks the LAST sentence of its segment.

A meeting that breaks these facts (sentence ids not 1..N, an empty sentence, segment ids out of range or not
increasing, key sentences or action ids out of range) is rejected with the reason and the rest go on. A
meeting without topic candidates or session candidates is kept: those tasks just get nothing from it. What only
some tasks need (topic ids, paragraph ids) each task checks itself (``MeetingTask.requires`` / ``targets``).
One ``content`` cell can exceed 1 MB, so the csv field size limit is raised.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from qwen_recipes.errors import DataError
from qwen_recipes.readers.common import FileRead, Rejected, find_split_files, read_text


@dataclass
class Sentence:
    id: int
    speaker: str
    text: str
    start: float | None = None
    end: float | None = None


@dataclass
class TopicCandidate:
    title: str
    key_sentences: list[int]


@dataclass
class Topic:
    end: int  # id of the topic's last sentence
    candidates: list[TopicCandidate] = field(default_factory=list)


@dataclass
class SessionCandidate:
    key_sentences: list[int]
    keywords: list[str]


@dataclass
class Meeting:
    key: str
    sentences: list[Sentence]
    paragraph_ends: list[int]
    topics: list[Topic]
    session: list[SessionCandidate]
    action_ids: list[int]
    path: str
    line: int
    idx: str = ""

    @property
    def text(self) -> str:
        return self.key

    label = None

    def paragraphs(self) -> list[list[Sentence]]:
        """Sentences grouped by paragraph (the last paragraph closes at the last sentence)."""
        ends = sorted(set(self.paragraph_ends) | {len(self.sentences)})
        out, start = [], 0
        for end in ends:
            out.append(self.sentences[start:end])
            start = end
        return [p for p in out if p]

    def topic_spans(self) -> list[tuple[int, int]]:
        """(first, last) sentence id of each gold topic."""
        spans, start = [], 1
        for t in self.topics:
            spans.append((start, t.end))
            start = t.end + 1
        return spans


class MeetingError(ValueError):
    """A broken invariant: the meeting is rejected with this reason and field."""

    def __init__(self, reason: str, field_name: str) -> None:
        super().__init__(reason)
        self.field = field_name


def _ids(items: object, name: str, n: int, key: str = "id") -> list[int]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise MeetingError("expected a list", name)
    ids = []
    for i, item in enumerate(items):
        raw = item.get(key) if isinstance(item, dict) else item
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise MeetingError(f"{name}[{i}] is not a sentence id: {raw!r}", name) from None
        if not 1 <= value <= n:
            raise MeetingError(f"{name}[{i}] = {value} is outside sentences 1..{n}", name)
        ids.append(value)
    return ids


def _objects(items: object, name: str) -> list[dict]:
    """A list of annotator objects (``candidate``); anything else breaks the meeting, with the field named."""
    if items is None or items == []:
        return []
    if not isinstance(items, list) or not all(isinstance(c, dict) for c in items):
        shown = type(items).__name__ if not isinstance(items, list) else "a list holding " + ", ".join(
            sorted({type(c).__name__ for c in items if not isinstance(c, dict)}))
        raise MeetingError(f"{name} must be a list of objects, not {shown}", name)
    return items


def _increasing(ids: list[int], name: str) -> list[int]:
    if any(b <= a for a, b in zip(ids, ids[1:], strict=False)):
        raise MeetingError(f"{name} are not strictly increasing", name)
    return ids


def parse_meeting(content: dict, path: str, line: int, idx: str = "") -> Meeting:
    key = content.get("meeting_key")
    if not key:
        raise MeetingError("missing", "meeting_key")
    raw_sentences = content.get("sentences")
    if not isinstance(raw_sentences, list) or not raw_sentences:
        raise MeetingError("no sentences", "sentences")
    sentences = []
    for i, s in enumerate(raw_sentences, start=1):
        if not isinstance(s, dict):
            raise MeetingError(f"sentences[{i - 1}] is not an object", "sentences")
        if str(s.get("id", "")).strip() != str(i):
            raise MeetingError(f"sentence ids must run 1..N; position {i} has id {s.get('id')!r}", "sentences")
        text = str(s.get("s") or "").strip()
        if not text:
            raise MeetingError(f"sentence {i} is empty", "sentences")
        times = [s.get("start_time"), s.get("end_time")]
        try:
            start, end = (float(t) if t not in (None, "") else None for t in times)
        except (TypeError, ValueError):
            raise MeetingError(f"sentence {i} has non-numeric times {times}", "sentences") from None
        sentences.append(Sentence(i, str(s.get("speaker", "")), text, start, end))
    n = len(sentences)
    para_name = "paragraph_segment_ids" if "paragraph_segment_ids" in content else "org_segment_id"
    paragraphs = _increasing(_ids(content.get(para_name), para_name, n), para_name)
    topics = []
    raw_topics = content.get("topic_segment_ids") or []
    ends = _increasing(_ids(raw_topics, "topic_segment_ids", n), "topic_segment_ids")
    for i, (t, end) in enumerate(zip(raw_topics, ends, strict=True)):
        cands = []
        for c in _objects(t.get("candidate") if isinstance(t, dict) else None, f"topic_segment_ids[{i}].candidate"):
            keys = _ids(c.get("key_sentence"), "topic_segment_ids.candidate.key_sentence", n, key="")
            title = c.get("title")
            if title is not None and not isinstance(title, str):
                raise MeetingError(f"topic_segment_ids[{i}].candidate title is not text but {type(title).__name__}",
                                   "topic_segment_ids.candidate.title")
            cands.append(TopicCandidate((title or "").strip(), keys))
        topics.append(Topic(end, cands))
    session = []
    for j, c in enumerate(_objects(content.get("candidate"), "candidate")):
        keys = _ids(c.get("key_sentence"), "candidate.key_sentence", n, key="")
        words = c.get("key_word") or []
        if isinstance(words, str):
            words = [w for w in words.replace("，", ",").split(",")]
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise MeetingError(f"candidate[{j}].key_word is not a string or a list of strings: {words!r}"[:200],
                               "candidate.key_word")
        session.append(SessionCandidate(keys, [w.strip() for w in words if w.strip()]))
    actions = sorted(set(_ids(content.get("action_ids"), "action_ids", n)))
    return Meeting(str(key), sentences, paragraphs, topics, session, actions, path, line, idx)


def read_file(path: str | Path, encoding: str = "utf-8") -> FileRead:
    path = Path(path)
    text = read_text(path, encoding)
    csv.field_size_limit(sys.maxsize)  # one meeting's JSON can exceed a megabyte
    reader = csv.reader(io.StringIO(text), delimiter="\t")
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header[:2]] != ["idx", "content"]:
        raise DataError(f"expected a header 'idx<TAB>content', found {header!r}", path=path, line=1)
    out = FileRead(str(path), "alimeeting4mug:tsv")
    start = reader.line_num + 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < 2:
            out.rejected.append(Rejected(str(path), line, "expected 2 tab-separated columns", None, "\t".join(cells)))
            continue
        try:
            content = json.loads(cells[1])
        except json.JSONDecodeError as err:
            out.rejected.append(Rejected(str(path), line, f"content is not JSON ({err.msg})", "content", cells[1][:60]))
            continue
        if not isinstance(content, dict):
            out.rejected.append(Rejected(str(path), line, "content is not a JSON object", "content", cells[1][:60]))
            continue
        try:
            out.records.append(parse_meeting(content, str(path), line, cells[0]))
        except MeetingError as err:
            out.rejected.append(Rejected(str(path), line, str(err), err.field, str(content.get("meeting_key", ""))))
    return out


def find_files(path: str | Path) -> dict[str, list[Path]]:
    return find_split_files(path, (".csv", ".tsv"), "download with scripts/download_data.py or pass the folder")
