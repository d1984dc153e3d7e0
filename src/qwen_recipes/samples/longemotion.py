"""Self-written LongEmotion Emotion-Summary-format cases for the demo and the tests (no third-party text).

JSONL with the real field names; ``case_description`` and ``consultation_process`` are lists of paragraphs
in most lines and plain strings in some (both occur in the wild). One line lacks a target field, so the
reader's rejection shows up in the demo's report.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from qwen_recipes.io import write_text

SEED = 11
PEOPLE = [("female", 28, "teacher"), ("male", 34, "engineer"), ("female", 45, "nurse"), ("male", 19, "student"),
          ("female", 52, "accountant"), ("male", 41, "driver"), ("female", 23, "designer"), ("male", 60, "retired worker"),
          ("female", 36, "sales manager"), ("male", 30, "programmer"), ("female", 17, "high-school student"),
          ("male", 48, "shop owner")]
PROBLEMS = [
    ("persistent worry about health after a minor illness", "hypochondria and anxiety", "a frightening hospital stay"),
    ("low mood and loss of interest since a job change", "depressive symptoms", "a sudden loss of status at work"),
    ("panic attacks on crowded trains", "panic disorder with avoidance", "an earlier attack in a subway tunnel"),
    ("constant conflict with a teenage child", "family communication problems", "rigid expectations learned at home"),
    ("insomnia and racing thoughts at night", "sleep disturbance with rumination", "unresolved grief for a parent"),
    ("fear of speaking in meetings", "social anxiety", "being mocked by classmates as a child"),
]
METHODS = ["cognitive restructuring", "relaxation training", "graded exposure", "empathic listening",
           "family sessions", "sleep hygiene education", "behavioural activation"]


def _case(rng: random.Random, i: int) -> dict:
    sex, age, job = PEOPLE[i % len(PEOPLE)]
    complaint, diagnosis, origin = PROBLEMS[i % len(PROBLEMS)]
    methods = rng.sample(METHODS, 3)
    sessions = rng.randint(4, 12)
    case = [f"Visitor, {sex}, {age} years old, {job}.",
            f"The visitor came to counseling because of {complaint}, which had lasted about {rng.randint(2, 10)} months."]
    process = [f"In the first session the counselor listened to the visitor's story and learned about {origin}.",
               f"Over {sessions} sessions the counselor used {methods[0]}, {methods[1]} and {methods[2]}.",
               "The visitor practised the exercises at home and reported the results at each meeting."]
    return {
        "id": i + 1,
        "case_description": case if i % 3 else " ".join(case),
        "consultation_process": process if i % 4 else " ".join(process),
        "experience_and_reflection": (f"The counselor reflected that {diagnosis} often hides an older wound, here "
                                      f"{origin}, and that trust had to come before technique."),
        "causes": f"{origin.capitalize()} left the visitor with beliefs that keep {complaint} going.",
        "symptoms": f"{diagnosis.capitalize()}; {complaint}.",
        "treatment_process": f"Building the relationship; {methods[0]}; {methods[1]}; {methods[2]}; review after "
                             f"{sessions} sessions.",
        "characteristics_of_illness": f"{diagnosis.capitalize()} triggered by {origin}, maintained by avoidance.",
        "treatment_effect": f"After {sessions} sessions the visitor reported less {complaint.split()[0]} and better "
                            "daily functioning.",
    }


def build() -> list[dict]:
    rng = random.Random(SEED)
    cases = [_case(rng, i) for i in range(12)]
    del cases[7]["treatment_effect"]  # a line the reader must reject
    return cases


def render() -> dict[str, str]:
    return {"Emotion_Summary_sample.jsonl": "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in build())}


def write(directory: str | Path) -> list[Path]:
    return [write_text(Path(directory) / name, text) for name, text in render().items()]
