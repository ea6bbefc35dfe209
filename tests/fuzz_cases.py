"""Hostile MQTT requests for the fuzz tests: what a broken or malicious unit can send.

Cases are drawn from a seeded generator, so a failing run can be replayed exactly.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass

SITE = "motcua/v1/demo"


@dataclass(frozen=True)
class Case:
    kind: str
    topic: str
    payload: bytes
    response_topic: str | None
    retain: bool = False


def _deep(depth: int, rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return b'{"v":1,"id":"d","op":"ticket.issue","x":' + b"[" * depth + b"]" * depth + b"}"
    return b'{"a":' * depth + b"1" + b"}" * depth


def _surrogate(rng: random.Random) -> bytes:
    lone = rng.choice(["\\udfff", "\\ud800", "\\udbff", "\\udc00"])
    where = rng.choice(["id", "op", "service", "key", "nested"])
    if where == "key":
        return ('{"v":1,"id":"s","op":"ticket.issue","' + lone + '":1}').encode()
    if where == "nested":
        return ('{"v":1,"id":"s","op":"counter.sync","counter":"1","events":[{"number":"'
                + lone + '"}]}').encode()
    fields = {"id": "s", "op": "ticket.issue", "service": "A"}
    fields[where] = "__L__"
    return json.dumps({"v": 1, **fields}).replace('"__L__"', '"x' + lone + '"').encode()


def _junk(rng: random.Random) -> bytes:
    n = rng.choice([0, 1, 7, 100, 5000])
    return bytes(rng.randrange(256) for _ in range(n))


def cases(target: str, n: int, seed: int = 14) -> Iterator[Case]:
    """``n`` hostile requests to ``target`` (``hub`` or ``store``), from dispenser-1 or
    lookup-1 (units the site file knows) and from units it does not."""
    rng = random.Random(seed)
    op = "ticket.issue" if target == "hub" else "dossier.lookup"
    for i in range(n):
        unit = rng.choice(["dispenser-1", "lookup-1", "counter-1", "ghost-9"])
        own = f"{SITE}/unit/{unit}/res"
        topic = f"{SITE}/unit/{unit}/req/{target}"
        kind = rng.choice(["junk", "deep", "huge", "surrogate", "long_id", "wrong_types",
                           "foreign_reply", "wildcard_reply", "no_reply", "retained",
                           "bad_topic", "odd_json"])
        rt: str | None = own
        retain = False
        if kind == "junk":
            payload = _junk(rng)
        elif kind == "deep":
            payload = _deep(rng.choice([17, 100, 1000, 20000]), rng)
        elif kind == "huge":
            size = rng.choice([64 * 1024 + 1, 200_000, 900_000])
            payload = b'{"v":1,"id":"h","op":"' + op.encode() + b'","pad":"' + b"x" * size + b'"}'
        elif kind == "surrogate":
            payload = _surrogate(rng)
        elif kind == "long_id":
            payload = json.dumps({"v": 1, "id": "i" * rng.choice([101, 5000, 60000]),
                                  "op": op, "service": "A"}).encode()
        elif kind == "wrong_types":
            payload = json.dumps({"v": rng.choice([1, "1", None, 2]),
                                  "id": rng.choice([1, None, [], {"a": 1}, "", f"w{i}"]),
                                  "op": rng.choice([op, 5, None, "x" * 300]),
                                  "service": rng.choice([7, "Z", None, ["A"]]),
                                  "code": rng.choice([None, 1, "x" * 500]),
                                  "priority": rng.choice(["yes", 2, None])}).encode()
        elif kind == "foreign_reply":
            rt = rng.choice([f"{SITE}/queue/state", f"{SITE}/site/info",
                             f"{SITE}/unit/counter-2/res", f"{SITE}/unit/{unit}/res/x",
                             f"{SITE}/unit/hub/status", "elsewhere"])
            payload = json.dumps({"v": 1, "id": f"f{i}", "op": op, "service": "A"}).encode()
        elif kind == "wildcard_reply":
            rt = rng.choice([f"{SITE}/unit/+/res", f"{SITE}/#", "+", "#", f"{SITE}/unit/x\0/res"])
            payload = json.dumps({"v": 1, "id": f"c{i}", "op": op, "service": "A"}).encode()
        elif kind == "no_reply":
            rt = None
            payload = json.dumps({"v": 1, "id": f"n{i}", "op": op, "service": "A"}).encode()
        elif kind == "retained":
            retain = True
            payload = rng.choice([_surrogate(rng), _deep(1000, rng),
                                  json.dumps({"v": 1, "id": f"r{i}", "op": op,
                                              "service": "A"}).encode()])
        elif kind == "bad_topic":
            topic = rng.choice([f"{SITE}/unit/{'u' * 300}/req/{target}",
                                f"{SITE}/unit/bad unit!/req/{target}",
                                f"{SITE}/unit/-x/req/{target}"])
            payload = json.dumps({"v": 1, "id": f"t{i}", "op": op, "service": "A"}).encode()
        else:
            payload = rng.choice([b"[]", b"null", b'"v"', b"1e999999", b'{"v":1e400}',
                                  b'{"v":1,"id":"NaN","op":NaN}', b'{"v":1,"v":1,"id":"x"}',
                                  b"{" * 10 + b"}" * 9, b'{"v":1,"id":"\\u0000","op":"x"}'])
        yield Case(kind, topic, payload, rt, retain)
