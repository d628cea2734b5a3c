"""Embedding triage in a program: assess cases and read the typed result.

Run it with:  python examples/embed.py
"""

import triage

case = {"weeks_pregnant": 31, "leg_cramps": True, "night_cramps": True}
result = triage.assess(case)
print(result.urgency.value, "-", result.action)
for cause in result.causes:
    print("cause:", cause.id, "because", ", ".join(e.describe() for e in cause.evidence))

# For many cases, build one engine and reuse it (safe to share between threads).
engine = triage.Engine()
for answers in ({"lower_back_pain": True}, {"leg_pain": True, "weakness": "severe"}):
    print(answers, "->", engine.assess(answers).urgency.value)

# Invalid answers raise triage.CaseError naming the field.
try:
    triage.assess({"leg_cramp": True})
except triage.CaseError as error:
    print("error:", error)
