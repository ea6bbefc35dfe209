"""Composition root of the lobby board: `motcua board --config board-1.toml`.

``build_board`` wires the real parts (pygame screen, pygame.mixer, espeak-ng, the MQTT bus);
tests and the demo pass their own screen / audio output / clock instead.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from appliance.board.app import BoardApp
from appliance.board.clips import ClipSynth
from appliance.board.screen import PngScreen, PygameScreen, Screen, kiosk_environment
from appliance.board.voice import Announcer, EspeakSynth, Synth, VoiceError
from appliance.bus import Bus
from appliance.clock import Clock, SystemClock
from appliance.config import UnitConfig
from appliance.config.board import BoardSection
from appliance.errors import MissingDependency
from appliance.health import attach_health
from appliance.i18n import tr
from appliance.runtime import add_common_arguments, load_from_args
from appliance.watchdog import watch
from drivers.audio import AudioOutput, PygameAudio, WavRecorder

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--windowed", action="store_true", help=tr(
        "một cửa sổ thay vì toàn màn hình (máy tính để bàn)",
        "a window instead of full screen (desktop)"))
    parser.add_argument("--headless", metavar=tr("THƯ_MỤC", "DIR"), help=tr(
        "không màn hình, không loa: ghi ảnh PNG và lời gọi số (WAV) vào THƯ_MỤC",
        "no screen or speaker: write PNG frames and announcement WAVs to DIR"))


def section_of(config: UnitConfig) -> BoardSection:
    config.require_role("board")
    return config.board or BoardSection()


def build_announcer(section: BoardSection, output: AudioOutput, clock: Clock,
                    cache_dir: Path, clips_dir: Path | None = None) -> Announcer:
    voice = section.voice
    synth: Synth | None = None
    problem = None
    try:
        if voice.engine == "clips":
            assert clips_dir is not None  # the config requires clips_dir for this engine
            synth = ClipSynth(clips_dir, cache_dir, chime=voice.chime)
        else:
            synth = EspeakSynth(cache_dir, voice=voice.espeak_voice, speed=voice.espeak_speed,
                                chime=voice.chime)
    except (MissingDependency, VoiceError) as exc:
        # The screen matters more than the voice: keep going and say so in status.
        problem = str(exc)
        log.warning("%s", exc)
    return Announcer(voice, output, synth, clock, synth_problem=problem)


def build_board(config: UnitConfig, *, clock: Clock | None = None,
                screen: Screen | None = None, audio: AudioOutput | None = None,
                windowed: bool = False) -> BoardApp:
    section = section_of(config)
    clock = clock or SystemClock()
    bus = Bus(site=config.site, unit=config.unit, role="board", broker=config.broker,
              clock=clock, status_interval_s=config.status_interval_s)
    attach_health(bus, config.data_path)
    if screen is None:
        screen = PygameScreen(section.size, fullscreen=section.fullscreen and not windowed,
                              title=f"motcua {config.unit}")
    audio = audio or PygameAudio()
    voice = section.voice
    cache = config.resolve(voice.cache_dir) if voice.cache_dir else (
        config.data_path / "voice-cache")
    clips = config.resolve(voice.clips_dir) if voice.clips_dir else None
    announcer = build_announcer(section, audio, clock, cache, clips)
    heartbeat = watch(bus, "board-frames", config.data_path)
    return BoardApp(section=section, bus=bus, clock=clock, screen=screen,
                    announcer=announcer, data_dir=config.data_path, beat=heartbeat.beat)


def run(args: argparse.Namespace) -> int:
    config = load_from_args(args)
    section = section_of(config)
    if args.headless:
        out = Path(args.headless)
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        import pygame

        pygame.display.init()
        app = build_board(config, screen=PngScreen(section.size, out),
                          audio=WavRecorder(out))
    else:
        os.environ.update(kiosk_environment())
        app = build_board(config, windowed=args.windowed)
    import signal

    # the handler only asks; the loop (this thread) finishes its frame and leaves
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: app.request_stop())
    app.start()
    try:
        app.run()
    finally:
        app.stop()
    return 0
