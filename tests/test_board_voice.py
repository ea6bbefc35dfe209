"""The board's voice: Vietnamese wording, real espeak-ng WAVs, one announcement at a time."""

from __future__ import annotations

import array
import itertools
import threading
import wave
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path

import pygame
import pytest

import appliance.board.voice as voice_mod
from appliance.board.bootstrap import build_announcer
from appliance.board.view import Call
from appliance.board.voice import (
    Announcer,
    EspeakSynth,
    announcement_text,
    display_text,
    number_words,
    spoken_number,
)
from appliance.clock import VN_TZ, ManualClock
from appliance.config import parse_unit_config
from appliance.config.board import BoardSection, QuietHours, VoiceSection
from appliance.errors import ConfigError
from drivers.audio import PygameAudio, WavRecorder, wav_seconds

MORNING = datetime(2026, 11, 30, 9, 0, tzinfo=VN_TZ)


@pytest.mark.parametrize(("n", "words"), [
    (0, "không"), (5, "năm"), (10, "mười"), (11, "mười một"), (15, "mười lăm"),
    (20, "hai mươi"), (21, "hai mươi mốt"), (24, "hai mươi tư"), (25, "hai mươi lăm"),
    (101, "một trăm linh một"), (110, "một trăm mười"), (115, "một trăm mười lăm"),
    (999, "chín trăm chín mươi chín"), (1000, "một nghìn"),
    (1005, "một nghìn không trăm linh năm"), (2024, "hai nghìn không trăm hai mươi tư"),
])
def test_numbers_are_read_the_vietnamese_way(n: int, words: str) -> None:
    assert number_words(n) == words


@pytest.mark.parametrize(("number", "counter", "said"), [
    ("A023", "2", "Mời công dân có số a, hai mươi ba, đến quầy số hai"),
    ("B001", "1", "Mời công dân có số bê, một, đến quầy số một"),
    ("C105", "3", "Mời công dân có số xê, một trăm linh năm, đến quầy số ba"),
    ("D010", "12", "Mời công dân có số dê, mười, đến quầy số mười hai"),
    ("A915", "4", "Mời công dân có số a, chín trăm mười lăm, đến quầy số bốn"),
])
def test_announcement_text(number: str, counter: str, said: str) -> None:
    v = VoiceSection()
    assert announcement_text(v, number, counter, f"Quầy {counter}") == said
    assert display_text(v, number, counter, f"Quầy {counter}") == (
        f"Mời công dân có số {number} đến quầy số {counter}")


def test_digit_style_and_configurable_wording() -> None:
    assert spoken_number("A023", "digits") == "a, không hai ba"
    v = VoiceSection(template="Xin mời số {number} tới {counter_name}")
    assert announcement_text(v, "B017", "2", "Quầy Hộ tịch") == (
        "Xin mời số bê, mười bảy, tới Quầy Hộ tịch")


def test_template_without_the_number_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"board\.voice.*\{number\}"):
        parse_unit_config({"site": "demo", "unit": "board-1", "role": "board",
                           "board": {"voice": {"template": "Mời công dân"}}})


def _samples(path: Path) -> array.array:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        data = array.array("h")
        data.frombytes(w.readframes(w.getnframes()))
        return data


def _rms(data: array.array) -> float:
    return (sum(x * x for x in data) / max(1, len(data))) ** 0.5


def test_wav_has_chime_then_speech_of_plausible_length(tmp_path: Path) -> None:
    synth = EspeakSynth(tmp_path, speed=140)
    text = announcement_text(VoiceSection(), "A023", "2", "Quầy 2")
    path = synth.wav(text, "A023-q2")
    seconds = wav_seconds(path)
    assert 3.0 < seconds < 12.0
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
    data = _samples(path)
    chime, speech = data[: int(rate * 1.2)], data[int(rate * 1.5):]
    assert _rms(chime) > 1000  # the ding-dong is audible
    assert _rms(speech) > 300  # and so is the voice
    # cached: asking again does not run espeak-ng
    synth.binary = "/nonexistent/espeak-ng"
    assert synth.wav(text, "A023-q2") == path


def test_no_chime_is_shorter(tmp_path: Path) -> None:
    text = announcement_text(VoiceSection(), "A023", "2", "Quầy 2")
    with_chime = wav_seconds(EspeakSynth(tmp_path / "a").wav(text, "x"))
    without = wav_seconds(EspeakSynth(tmp_path / "b", chime=False).wav(text, "x"))
    assert with_chime - without == pytest.approx(1.45, abs=0.05)


def _call(number: str, counter: str, recall: bool = False) -> Call:
    return Call(number, counter, f"Quầy {counter}", "Chứng thực", MORNING, recall=recall)


@pytest.fixture
def mixer() -> Iterator[PygameAudio]:
    pygame.mixer.quit()
    audio = PygameAudio()
    yield audio
    audio.close()


def test_calls_arriving_together_never_overlap(tmp_path: Path, mixer: PygameAudio) -> None:
    assert mixer.available, mixer.problem
    v = VoiceSection(template="Số {number}", espeak_speed=300, chime=False, gap_s=0.05)
    ann = Announcer(v, mixer, EspeakSynth(tmp_path, speed=300, chime=False),
                    ManualClock(MORNING))
    ann.start()
    try:
        barrier = threading.Barrier(3)

        def press(number: str, counter: str) -> None:
            barrier.wait()
            ann.announce(_call(number, counter))

        threads = [threading.Thread(target=press, args=a)
                   for a in (("A001", "1"), ("B002", "2"), ("C003", "3"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert ann.wait_idle(30)
    finally:
        ann.stop()
    played = ann.history
    assert {p.number for p in played} >= {"A001", "B002", "C003"}
    for a, b in itertools.pairwise(played):
        assert b.started >= a.ended, f"{b.number} started before {a.number} ended"
    # the mixer really played them for their length, not instantly
    first = played[0]
    assert first.path is not None
    assert first.ended - first.started >= wav_seconds(first.path) * 0.9


def test_a_call_already_waiting_is_not_queued_twice(tmp_path: Path) -> None:
    gate = threading.Event()

    class SlowRecorder(WavRecorder):
        def play(self, path: Path, volume: float) -> float:
            gate.wait(10)
            return super().play(path, volume)

    out = SlowRecorder(tmp_path / "out")
    v = VoiceSection(template="Số {number}", chime=False, gap_s=0)
    ann = Announcer(v, out, EspeakSynth(tmp_path / "c", chime=False), ManualClock(MORNING))
    ann.start()
    try:
        assert ann.announce(_call("A001", "1"))
        assert ann.announce(_call("A002", "1"))
        assert not ann.announce(_call("A002", "1"))  # already waiting its turn
        gate.set()
        assert ann.wait_idle(20)
        assert ann.announce(_call("A002", "1", recall=True))  # a recall repeats
        assert ann.wait_idle(20)
    finally:
        ann.stop()
    assert [p.number for p in ann.history] == ["A001", "A002", "A002"]
    assert len(out.written) == 3


def test_quiet_hours_keep_quiet(tmp_path: Path) -> None:
    v = VoiceSection(quiet_hours=[QuietHours(start=time(12), end=time(13)),
                                  QuietHours(start=time(22), end=time(6))])
    clock = ManualClock(MORNING.replace(hour=12, minute=30))
    ann = Announcer(v, WavRecorder(tmp_path), None, clock)
    assert ann.quiet() and not ann.announce(_call("A001", "1"))
    assert ann.status()["skipped_quiet"] == 1
    assert ann.quiet(MORNING.replace(hour=23)) and ann.quiet(MORNING.replace(hour=5))
    assert not ann.quiet(MORNING.replace(hour=13))
    clock.set(MORNING)
    assert not ann.quiet()


def test_no_audio_device_keeps_working_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pygame.mixer.quit()
    monkeypatch.setenv("SDL_AUDIODRIVER", "no_such_sound_card")
    audio = PygameAudio(retry_s=3600)
    assert not audio.available
    assert audio.problem is not None and audio.problem.startswith("no audio device")
    v = VoiceSection(template="Số {number}", chime=False, gap_s=0)
    ann = Announcer(v, audio, EspeakSynth(tmp_path, chime=False), ManualClock(MORNING))
    ann.start()
    try:
        assert ann.announce(_call("A001", "1"))
        assert ann.wait_idle(20)
    finally:
        ann.stop()
    status = ann.status()
    assert status["audio"].startswith("no audio device")
    assert status["announce_failed"] == 1
    assert status["announced"] == 0  # nothing is claimed to have been said


def test_missing_espeak_is_reported_not_fatal(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voice_mod.shutil, "which", lambda name: None)
    ann = build_announcer(BoardSection(), WavRecorder(tmp_path), ManualClock(MORNING),
                          tmp_path / "cache")
    assert ann.synth is None
    assert "espeak-ng" in ann.status()["audio"]


def _record(folder: Path, words: str, speed: int = 250) -> None:
    """A "recorded" clip: espeak-ng says the words into <folder>/<words>.wav."""
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["espeak-ng", "-v", "vi", "-s", str(speed), "-w",
                    str(folder / f"{words}.wav"), "--", words], check=True, timeout=30)


def test_recorded_clips_are_joined_longest_phrase_first(tmp_path: Path) -> None:
    from appliance.board.clips import ClipSynth

    clips = tmp_path / "clips"
    for words in ("mời công dân có số", "đến quầy số", "a", "bê", "hai", "mươi", "ba",
                  "mốt", "một"):
        _record(clips, words)
    _record(clips, "mời")  # a shorter clip that must lose to the whole phrase
    synth = ClipSynth(clips, tmp_path / "cache", chime=False)
    text = announcement_text(VoiceSection(), "A023", "2", "Quầy 2")
    plan = [p.stem for p, _ in synth.plan(text)]
    assert plan == ["mời công dân có số", "a", "hai", "mươi", "ba", "đến quầy số", "hai"]
    path = synth.wav(text, "A023-q2")
    expected = sum(wav_seconds(clips / f"{w}.wav") for w in plan)
    # the clips, the short gaps between words and the longer pause at each comma
    assert expected < wav_seconds(path) < expected + 0.06 * 7 + 0.3 * 2 + 0.05
    with_chime = ClipSynth(clips, tmp_path / "cache2", chime=True).wav(text, "A023-q2")
    assert wav_seconds(with_chime) == pytest.approx(wav_seconds(path) + 1.45, abs=0.02)


def test_a_word_without_a_clip_is_named_not_skipped(tmp_path: Path) -> None:
    from appliance.board.clips import ClipSynth

    clips = tmp_path / "clips"
    for words in ("mời công dân có số", "đến quầy số", "a", "hai", "mươi", "ba"):
        _record(clips, words)
    synth = ClipSynth(clips, tmp_path / "cache")
    text = announcement_text(VoiceSection(), "C105", "3", "Quầy 3")
    with pytest.raises(voice_mod.VoiceError, match="xê, một, trăm, linh, năm"):
        synth.wav(text, "C105-q3")


def test_clips_engine_is_wired_from_config(tmp_path: Path) -> None:
    from appliance.board.clips import ClipSynth

    clips = tmp_path / "clips"
    _record(clips, "a")
    section = BoardSection(voice=VoiceSection(engine="clips", clips_dir=str(clips)))
    ann = build_announcer(section, WavRecorder(tmp_path), ManualClock(MORNING),
                          tmp_path / "cache", clips)
    assert isinstance(ann.synth, ClipSynth) and ann.synth_problem is None
    # the synth is fine; the status still says nobody hears it (a recorder, no speaker)
    assert ann.status()["audio"].startswith("no speaker")
    missing = build_announcer(section, WavRecorder(tmp_path), ManualClock(MORNING),
                              tmp_path / "cache", tmp_path / "nowhere")
    assert missing.synth is None and "not a folder" in missing.status()["audio"]
    with pytest.raises(ConfigError, match="clips_dir"):
        parse_unit_config({"site": "demo", "unit": "board-1", "role": "board",
                           "board": {"voice": {"engine": "clips"}}})


def test_a_wav_recorder_never_reports_a_speaker_that_is_not_there(tmp_path: Path) -> None:
    rec = WavRecorder(tmp_path / "wav")
    assert rec.problem is not None and "WAV" in rec.problem
    ann = Announcer(VoiceSection(), rec, None, ManualClock(MORNING))
    assert ann.status()["audio"] != "ok"
